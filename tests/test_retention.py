"""Old questions are purged at start-up and then periodically (a JobQueue job), and the purging ends with
the bot."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from auxil.offline import CONTENT, make_settings, offline_api
from bot.bootstrap import make_engine
from bot.store import Store
from bot.telegram import app as app_module


class CountingStore(Store):
    """Counts purges; they run in a worker thread, so the event is set through the loop."""

    purges = 0

    def watch(self) -> asyncio.Event:
        self.loop, self.purged_three_times = asyncio.get_running_loop(), asyncio.Event()
        return self.purged_three_times

    def purge_older_than(self, days: int) -> int:
        self.purges += 1
        if self.purges >= 3:
            self.loop.call_soon_threadsafe(self.purged_three_times.set)
        return super().purge_older_than(days)


async def test_purge_runs_repeatedly_until_the_bot_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "PURGE_EVERY_SECONDS", 0.01)
    shutil.copytree(CONTENT, tmp_path / "content")
    store = CountingStore(tmp_path / "bot.sqlite3")
    settings = make_settings(tmp_path, retention_days=30)
    app = app_module.build_application(
        settings, make_engine(settings), store, request=offline_api(), rate_limiter=False
    )
    purged_three_times = store.watch()
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    try:
        await asyncio.wait_for(purged_three_times.wait(), timeout=5)
    finally:
        await app.stop()
        await app.shutdown()
    assert store.purges >= 3
    assert app.job_queue is not None
    assert not app.job_queue.scheduler.running  # stopped with the bot
    purges = store.purges
    await asyncio.sleep(0.05)
    assert store.purges == purges
    store.close()
