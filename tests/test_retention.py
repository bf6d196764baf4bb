"""Old questions are purged at start-up and then periodically, and the purge task ends with the bot."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.domain.engine import AnswerEngine
from bot.settings import Settings
from bot.store import Store
from bot.telegram import app as app_module
from bot.telegram.context import Services
from bot.telegram.ratelimit import UserRateLimiter


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


async def test_purge_runs_repeatedly_until_cancelled(
    tmp_path: Path, engine: AnswerEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "PURGE_EVERY_SECONDS", 0.01)
    store = CountingStore(tmp_path / "bot.sqlite3")
    settings = Settings(_env_file=None, retention_days=30)  # type: ignore[call-arg]
    services = Services(settings, engine, store, UserRateLimiter(5, 10.0), None)
    purged_three_times = store.watch()
    task = asyncio.create_task(app_module._purge_old_questions(services))
    await asyncio.wait_for(purged_three_times.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.purges >= 3
    store.close()
