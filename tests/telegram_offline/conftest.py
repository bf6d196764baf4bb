"""Fixtures for the Telegram layer without a network: `make_bot(**settings)` and `bot` start the real
Application (build_application) on the offline Bot API; `errors` captures log records."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from auxil.offline import CONTENT, OfflineBot, make_settings, offline_api
from bot.bootstrap import make_engine
from bot.store import Store
from bot.telegram.app import App, build_application


@pytest.fixture
async def make_bot(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    shutil.copytree(CONTENT, tmp_path / "content")
    started: list[tuple[App, Store]] = []

    async def make(**overrides: Any) -> OfflineBot:
        rate_limiter = overrides.pop("rate_limiter", False)
        settings = make_settings(tmp_path, **overrides)
        store = Store.open(":memory:")
        api = offline_api()
        app = build_application(settings, make_engine(settings), store, request=api, rate_limiter=rate_limiter)
        await app.initialize()
        started.append((app, store))
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()  # no updater: tests hand updates to process_update themselves
        return OfflineBot(app, api, store, settings.content_dir)

    yield make
    for app, store in started:
        if app.running:
            await app.stop()
        await app.shutdown()
        store.close()


@pytest.fixture
async def bot(make_bot: Callable[..., Any]) -> OfflineBot:
    found: OfflineBot = await make_bot()
    return found


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]
