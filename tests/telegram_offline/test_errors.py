"""Failing handlers and the one log line per update."""

from __future__ import annotations

import html
import io
import logging
import re
from typing import Any

import pytest

from auxil.offline import TOKEN, OfflineBot
from auxil.updates import message, user
from bot.locales import t
from bot.logs import RedactSecrets


async def test_a_failing_handler_is_logged_without_the_token_and_the_user_is_told(
    bot: OfflineBot, monkeypatch: pytest.MonkeyPatch, errors: pytest.LogCaptureFixture
) -> None:
    engine = bot.app.bot_data["services"].engine

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"boom with {TOKEN} inside")

    monkeypatch.setattr(engine, "answer", broken)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets([TOKEN]))  # what configure_logging puts on the root handler
    logging.getLogger().addHandler(handler)
    try:
        await bot.feed(message=message("Berapakah gaji?", sender=user(language_code="ru")))
    finally:
        logging.getLogger().removeHandler(handler)
    [told] = bot.api.sent()
    assert told["text"] == html.escape(t("ru", "error"), quote=False)
    logged = stream.getvalue()
    assert "error while handling update" in logged
    assert "RuntimeError: boom" in logged
    assert TOKEN not in logged
    assert re.search(r"update update_id=\d+ kind=question", logged), "the update still gets its log line"


async def test_a_failing_button_is_answered_once(bot: OfflineBot, monkeypatch: pytest.MonkeyPatch) -> None:
    store = bot.store

    def broken(*_args: Any) -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr(store, "set_language", broken)
    answer = await bot.press("v1:l:ru")
    assert answer.params["text"] == t("en", "error")


async def test_each_handled_update_logs_one_structured_line(bot: OfflineBot, errors: pytest.LogCaptureFixture) -> None:
    errors.clear()
    await bot.say("Berapakah gaji wakil jualan dalaman?")
    lines = [r.getMessage() for r in errors.records if r.name == "bot.telegram.updates"]
    assert len(lines) == 1
    assert re.fullmatch(
        r"update update_id=\d+ kind=question chat_kind=private language=ms answered=true score=[\d.]+ "
        r"latency_ms=[\d.]+",
        lines[0],
    )
    assert "gaji" not in lines[0], "never the user's text"
