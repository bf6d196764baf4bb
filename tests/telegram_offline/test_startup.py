"""Start-up: settings that stop the bot, the Application's wiring, command registration."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import AIORateLimiter

from auxil.offline import ADMIN, CONTENT, TOKEN, OfflineBot, make_settings, offline_api
from auxil.updates import message
from bot.bootstrap import make_engine
from bot.cli import main as cli_main
from bot.environment import Environment
from bot.locales import t
from bot.store import Store
from bot.telegram.app import ALLOWED_UPDATES, build_application, file_url_for, run, webhook_options


def test_no_token_exits_2_with_a_way_forward(tmp_path: Path) -> None:
    stderr = io.StringIO()
    env = Environment(
        stdout=io.StringIO(), stderr=stderr, settings_factory=lambda: make_settings(tmp_path, telegram_bot_token=None)
    )
    assert cli_main(["run"], env) == 2
    said = stderr.getvalue()
    assert "TELEGRAM_BOT_TOKEN" in said
    assert "BotFather" in said
    assert "python -m bot ask" in said


def test_build_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, telegram_bot_token=None)
    with pytest.raises(ValueError, match="BotFather"):
        build_application(
            settings, make_engine(settings.model_copy(update={"content_dir": CONTENT})), Store.open(":memory:")
        )


def test_invalid_webhook_secret_exits_2_without_echoing_it(tmp_path: Path) -> None:
    stderr = io.StringIO()
    settings = make_settings(tmp_path, webhook_url="https://bot.example.com/hook", webhook_secret="bad secret!")
    assert run(settings, Environment(stdout=io.StringIO(), stderr=stderr)) == 2
    assert "WEBHOOK_SECRET" in stderr.getvalue()
    assert "bad secret!" not in stderr.getvalue()


def test_webhook_options_come_from_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        webhook_url="https://bot.example.com/telegram/hook",
        webhook_listen="0.0.0.0",
        webhook_port=8443,
        webhook_secret="s3cret_token-1",
    )
    options = webhook_options(settings)
    assert options == {
        "listen": "0.0.0.0",
        "port": 8443,
        "url_path": "telegram/hook",
        "webhook_url": "https://bot.example.com/telegram/hook",
        "secret_token": "s3cret_token-1",
        "allowed_updates": ALLOWED_UPDATES,
    }
    generated = webhook_options(make_settings(tmp_path, webhook_url="https://bot.example.com/"))
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", generated["secret_token"]), "a secret is made up when unset"
    assert generated["url_path"] == ""


def test_api_base_url_and_file_url(tmp_path: Path) -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    settings = make_settings(tmp_path, telegram_api_base_url="http://127.0.0.1:8081/bot")
    app = build_application(
        settings, make_engine(settings.model_copy(update={"content_dir": CONTENT})), Store.open(":memory:")
    )
    assert app.bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert app.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    assert isinstance(app.bot.rate_limiter, AIORateLimiter)
    assert app.bot.defaults is not None
    assert app.bot.defaults.parse_mode == "HTML"


async def test_commands_are_registered_per_scope_and_language(bot: OfflineBot) -> None:
    calls = [c.params for c in bot.api.of("setMyCommands")]
    seen = {(c.get("language_code"), c["scope"]["type"], c["scope"].get("chat_id")) for c in calls}
    for code in (None, "ar", "hi", "ms", "pl", "ru"):
        assert (code, "all_private_chats", None) in seen
        assert (code, "all_group_chats", None) in seen
        assert (code, "chat", ADMIN) in seen
    admin_ru = next(c for c in calls if c.get("language_code") == "ru" and c["scope"]["type"] == "chat")
    names = [command["command"] for command in admin_ru["commands"]]
    assert names == ["start", "help", "lang", "reload", "stats", "declined", "taught"]
    assert admin_ru["commands"][0]["description"] == t("ru", "cmd_start")
    group = next(c for c in calls if c.get("language_code") is None and c["scope"]["type"] == "all_group_chats")
    assert [command["command"] for command in group["commands"]] == ["ask", "help", "lang"]


async def test_a_failed_command_registration_never_stops_the_bot(
    make_bot: Callable[..., Any], errors: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    api = offline_api()
    api.failures["setMyCommands"] = (400, "Bad Request: chat not found")
    app = build_application(settings, make_engine(settings), Store.open(":memory:"), request=api, rate_limiter=False)
    async with app:
        assert app.post_init is not None
        await app.post_init(app)  # does not raise
        api.failures.clear()
        await app.process_update(Update.de_json({"update_id": 1, "message": message("/start")}, app.bot))
    assert len(api.of("setMyCommands")) == 18  # every registration was attempted
    assert any("could not register commands" in r.getMessage() for r in errors.records if r.levelname == "WARNING")
    assert api.of("sendMessage"), "the bot still answers"
