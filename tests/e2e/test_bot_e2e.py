"""The real bot end to end: `build_application` with long polling against the local Bot API emulator
(TELEGRAM_API_BASE_URL pointed at it), the AIORateLimiter on, the SQLite store on disk.

Every test checks what Telegram would have received (HTML that parses, at most 4,096 characters, the
keyboards, what a reply replies to) and that nothing went wrong inside the bot.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from auxil.telegram_html import check_telegram_html
from bot.bootstrap import make_engine
from bot.domain.render import TELEGRAM_LIMIT, utf16_length
from bot.locales import t
from bot.settings import Settings
from bot.store import Store, database_path
from bot.telegram.app import App, build_application

from .harness import (
    BotErrors,
    EmulatorServer,
    FakeUser,
    Records,
    Reply,
    TelegramUser,
    group_chat,
    polling,
    private_chat,
)

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "content"
ADMIN = 4242
STRANGER = 777


@dataclass
class RunningBot:
    app: App
    errors: BotErrors
    own_errors: Records
    store: Store
    settings: Settings

    def assert_clean(self) -> None:
        self.errors.assert_clean()
        assert not [r.getMessage() for r in self.own_errors.records], "the bot's error handler logged"


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


@asynccontextmanager
async def running_bot(
    emulator: EmulatorServer, user: TelegramUser, tmp_path: Path, **overrides: Any
) -> AsyncIterator[RunningBot]:
    values: dict[str, Any] = {
        "telegram_bot_token": user.token,
        "telegram_api_base_url": emulator.base_url,
        "telegram_api_base_file_url": emulator.base_file_url,
        "content_dir": tmp_path / "content",
        "data_dir": tmp_path / "data",
        "admin_user_ids": frozenset({ADMIN}),
        "default_language": "en",
        "bot_username": None,
        "link_base_url": None,
        "webhook_url": None,
    }
    values.update(overrides)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    store = Store.open(database_path(settings.data_dir))
    app = build_application(settings, make_engine(settings), store)
    errors = BotErrors().attach(app)
    own = Records(logging.ERROR)  # the bot's own loggers (its error handler logs under bot.telegram)
    logging.getLogger("bot").addHandler(own)
    try:
        async with polling(app):
            yield RunningBot(app, errors, own, store, settings)
    finally:
        logging.getLogger("bot").removeHandler(own)
        errors.detach()
        store.close()


# --- what Telegram would accept ------------------------------------------------------------------------


def assert_good_html(reply: Reply) -> None:
    text = reply["text"]
    check_telegram_html(text)
    assert 0 < utf16_length(text) <= TELEGRAM_LIMIT
    assert reply["parse_mode"] == "HTML"
    assert reply.message.get("text"), "the emulator parsed the HTML and delivered the message"


def data_of(reply: Reply) -> list[str]:
    return [button["callback_data"] for row in reply.buttons for button in row if "callback_data" in button]


async def replies_until_keyboard(user: TelegramUser, chat_id: int) -> list[Reply]:
    """An answer may take several messages; the last one carries the buttons."""
    replies = [await user.wait_for_reply(chat_id)]
    while not replies[-1].buttons:
        replies.append(await user.wait_for_reply(chat_id))
    return replies


# --- private chats -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("Berapakah gaji wakil jualan dalaman?", "ms", "$45,000"),
        ("Jakie są zalety sprzedaży wewnętrznej?", "pl", "Zalety sprzedaży wewnętrznej"),
        ("ما هي مزايا البيع الداخلي؟", "ar", "مزايا البيع الداخلي"),
        ("आंतरिक बिक्री के लाभ क्या हैं?", "hi", "आंतरिक बिक्री के लाभ"),
        ("Чем внутренние продажи отличаются от внешних?", "ru", "Внутри продаж"),
    ],
    ids=["ms", "pl", "ar", "hi", "ru"],
)
async def test_private_questions_are_answered_in_their_language(
    emulator: EmulatorServer,
    telegram_user: TelegramUser,
    content_copy: Path,
    tmp_path: Path,
    question: str,
    language: str,
    expected: str,
) -> None:
    chat = private_chat(language_code="en")
    async with running_bot(emulator, telegram_user, tmp_path) as bot:
        await telegram_user.send_text(chat, question)
        replies = await replies_until_keyboard(telegram_user, chat.id)
        await telegram_user.assert_no_reply(chat.id, within=0.2)
        title = bot.app.bot_data["services"].engine.library.article("inside-sales", language).title
        logged = bot.store.stats().by_language

    for reply in replies:
        assert_good_html(reply)
        assert "reply_parameters" not in reply
    text = "\n".join(r["text"] for r in replies)
    assert expected in text
    assert html.escape(title, quote=False) in replies[0]["text"]
    data = data_of(replies[-1])
    other_languages = {d.split(":")[2] for d in data if d.startswith("v1:s:")} - {language}
    assert other_languages == {"ar", "hi", "ms", "pl", "ru"} - {language}, "the same section in the others"
    assert [d for d in data if d.startswith("v1:f:")] == data[-2:], "feedback buttons last"
    assert [row.language for row in logged] == [language]
    bot.assert_clean()


async def test_start_greets_and_a_deep_link_opens_the_article(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path
) -> None:
    chat = private_chat(first_name="Aisyah", language_code="ms")
    async with running_bot(emulator, telegram_user, tmp_path) as bot:
        await telegram_user.send_command(chat, "/start")
        greeting = await telegram_user.wait_for_reply(chat.id)
        await telegram_user.send_command(chat, "/start inside-sales")
        opened = await telegram_user.wait_for_reply(chat.id)
        commands = await telegram_user.bot_calls("setMyCommands")

    assert_good_html(greeting)
    assert greeting["text"] == html.escape(t("ms", "greeting", name=", Aisyah", topics="Jualan Dalaman"), quote=False)
    assert [b["text"] for row in greeting.buttons for b in row] == [
        "Apakah Jualan Dalaman?",
        "Memahami Jualan Dalaman",
        "Kelebihan Jualan Dalam",
        "Sorotan",
    ]
    assert_good_html(opened)
    assert opened["text"].startswith("<b>Apakah Jualan Dalaman?</b>")
    assert "v1:s:ms:3:inside-sales" in data_of(opened)
    scopes = {(c["params"].get("language_code"), c["params"]["scope"]["type"]) for c in commands}
    assert {(None, "all_private_chats"), ("ms", "all_group_chats"), ("ru", "chat")} <= scopes
    bot.assert_clean()


async def test_lang_choice_survives_a_restart(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path
) -> None:
    chat = private_chat(language_code="ms")
    async with running_bot(emulator, telegram_user, tmp_path) as first:
        await telegram_user.send_command(chat, "/lang")
        menu = await telegram_user.wait_for_reply(chat.id)
        assert data_of(menu) == ["v1:l:ar", "v1:l:hi", "v1:l:ms", "v1:l:pl", "v1:l:ru", "v1:l:-"]
        await telegram_user.press_button(menu, "v1:l:ru")
        await telegram_user.wait_for_call("answerCallbackQuery")
        edit = await telegram_user.wait_for_call("editMessageText")
        assert edit["text"] == html.escape(t("ru", "language_set", language="Русский"), quote=False)
        first.assert_clean()

    # A new Application and a new Store on the same DATA_DIR: the choice is still there.
    async with running_bot(emulator, telegram_user, tmp_path) as second:
        await telegram_user.send_text(chat, "Berapakah gaji wakil jualan dalaman?")
        answer = (await replies_until_keyboard(telegram_user, chat.id))[0]
        await telegram_user.send_command(chat, "/lang")
        menu_again = await telegram_user.wait_for_reply(chat.id)
        second.assert_clean()

    assert_good_html(answer)
    assert "«Внутри продаж»" in answer["text"], "answered from the Russian article"
    marked = [b["text"] for row in menu_again.buttons for b in row if b["text"].startswith("✓")]
    assert marked == ["✓ Русский"]


async def test_buttons_open_sections_and_take_feedback(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path
) -> None:
    chat = private_chat(language_code="en")
    async with running_bot(emulator, telegram_user, tmp_path) as bot:
        await telegram_user.send_text(chat, "Berapakah gaji wakil jualan dalaman?")
        answer = (await replies_until_keyboard(telegram_user, chat.id))[-1]
        section = next(d for d in data_of(answer) if d.startswith("v1:s:pl:"))
        await telegram_user.press_button(answer, section)
        await telegram_user.wait_for_call("answerCallbackQuery")
        opened = await replies_until_keyboard(telegram_user, chat.id)

        helpful = next(d for d in data_of(answer) if d.startswith("v1:f:") and d.endswith(":1"))
        await telegram_user.press_button(answer, helpful)
        thanks = await telegram_user.wait_for_call("answerCallbackQuery")
        edit = await telegram_user.wait_for_call("editMessageReplyMarkup")
        feedback_up = bot.store.stats().feedback_up

    assert opened[0]["text"].startswith("<b>Zalety sprzedaży wewnętrznej</b>")
    for reply in opened:
        assert_good_html(reply)
    assert thanks["text"] == t("en", "feedback_thanks")
    assert edit["message_id"] == answer.message["message_id"]
    assert not any(
        d.startswith("v1:f:")
        for row in edit["reply_markup"]["inline_keyboard"]
        for d in [b.get("callback_data", "") for b in row]
    )
    assert feedback_up == 1
    bot.assert_clean()


async def test_inline_query_lists_sections(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path
) -> None:
    async with running_bot(emulator, telegram_user, tmp_path) as bot:
        await telegram_user.send_inline_query(FakeUser(1001, "Alice", "pl"), "")
        empty = await telegram_user.wait_for_call("answerInlineQuery")
        await telegram_user.send_inline_query(FakeUser(1001, "Alice", "pl"), "Berapakah gaji wakil jualan dalaman?")
        searched = await telegram_user.wait_for_call("answerInlineQuery")

    assert empty["results"][0]["title"] == "Co to jest sprzedaż wewnętrzna?"
    assert len(empty["results"]) == 4
    assert searched["results"][0]["title"] == "Kelebihan Jualan Dalam"
    assert "$45,000" in searched["results"][0]["input_message_content"]["message_text"]
    bot.assert_clean()


# --- groups ------------------------------------------------------------------------------------------------


async def test_group_ask_is_answered_and_chatter_ignored(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path
) -> None:
    chat = group_chat(chat_type="supergroup")
    username = emulator.bot_username
    async with running_bot(emulator, telegram_user, tmp_path) as bot:
        await telegram_user.send_text(chat, "Berapakah gaji wakil jualan dalaman? anyone?")
        await telegram_user.send_text(chat, "lunch at noon")
        await telegram_user.assert_no_reply(chat.id, within=0.4)
        asked = await telegram_user.send_command(chat, f"/ask@{username} Berapakah gaji wakil jualan dalaman?")
        answer = await telegram_user.wait_for_reply(chat.id)
        mention = await telegram_user.send_text(chat, f"@{username} Чем внутренние продажи отличаются от внешних?")
        second = await telegram_user.wait_for_reply(chat.id)
        await telegram_user.assert_no_reply(chat.id, within=0.2)
        logged = bot.store.stats().total_questions

    assert_good_html(answer)
    assert answer["reply_parameters"]["message_id"] == asked["message_id"]
    assert answer.message["reply_to_message"]["message_id"] == asked["message_id"]
    assert "$45,000" in answer["text"]
    assert all(d.startswith("v1:f:") for d in data_of(answer)), "compact: only feedback buttons"
    assert_good_html(second)
    assert second["reply_parameters"]["message_id"] == mention["message_id"]
    assert logged == 2, "the chatter cost nothing"
    bot.assert_clean()


# --- admins ------------------------------------------------------------------------------------------------


async def test_reload_by_an_admin_and_by_a_stranger(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path
) -> None:
    admin = private_chat(user_id=ADMIN)
    stranger = private_chat(user_id=STRANGER)
    async with running_bot(emulator, telegram_user, tmp_path) as bot:
        await telegram_user.send_command(stranger, "/reload")
        refused = await telegram_user.wait_for_reply(stranger.id)
        await telegram_user.send_command(admin, "/reload")
        done = await telegram_user.wait_for_reply(admin.id)

    assert refused["text"] == html.escape(t("en", "admin_only"), quote=False)
    assert re.fullmatch(r"Content reloaded: 5 articles, 5 languages, 20 sections in \d+\.\d\d s\.", done["text"])
    bot.assert_clean()


async def test_a_broken_file_fails_the_reload_and_the_old_content_stays(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path
) -> None:
    admin = private_chat(user_id=ADMIN, language_code="pl")
    user_chat = private_chat(user_id=1001)
    async with running_bot(emulator, telegram_user, tmp_path) as bot:
        (content_copy / "pl" / "broken.md").write_text("---\nlang: pl\ntitle: Zepsuty\n---\n\n## Pusta\n", "utf-8")
        (content_copy / "notes.txt").write_text("not an article", "utf-8")
        await telegram_user.send_command(admin, "/reload")
        failed = await telegram_user.wait_for_reply(admin.id)
        await telegram_user.send_text(user_chat, "Berapakah gaji wakil jualan dalaman?")
        still = (await replies_until_keyboard(telegram_user, user_chat.id))[0]
        sections = bot.app.bot_data["services"].engine.report().sections

    assert_good_html(failed)
    assert failed["text"].startswith(html.escape(t("pl", "reload_failed"), quote=False))
    assert re.search(r"<code>\S*notes\.txt:0: not a Markdown file", failed["text"])
    assert re.search(r"<code>\S*pl/broken\.md:\d+: ", failed["text"])
    assert "$45,000" in still["text"], "still answering from the last good content"
    assert sections == 20
    bot.assert_clean()


# --- the real entry point ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_python_m_bot_run_serves_and_stops_cleanly(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path, mode: str
) -> None:
    """`python -m bot run` as an operator starts it: settings from the environment only, DEBUG logging
    (where HTTP libraries print request URLs), then Ctrl-C."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "VECTOR_CACHE_DIR": os.environ["VECTOR_CACHE_DIR"],  # set by tests/conftest.py: embedded once
        "TELEGRAM_BOT_TOKEN": telegram_user.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "CONTENT_DIR": str(content_copy),
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "DEBUG",
    }
    if mode == "webhook":
        port = _free_port()
        env |= {
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_SECRET": "e2e-secret",
        }
    chat = private_chat(language_code="ru")
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        try:
            await telegram_user.wait_for_call("deleteWebhook" if mode == "polling" else "setWebhook", timeout=15)
            await telegram_user.send_text(chat, "Чем внутренние продажи отличаются от внешних?")
            answer = (await replies_until_keyboard(telegram_user, chat.id))[0]
            process.send_signal(signal.SIGINT)  # Ctrl-C: PTB stops polling (or its webhook server) cleanly
            code = await asyncio.wait_for(process.wait(), timeout=15)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        log.seek(0)
        output = log.read().decode("utf-8", "replace")

    assert code == 0, output
    assert_good_html(answer)
    assert "Внутри продаж" in answer["text"]
    assert telegram_user.token not in output
    assert telegram_user.token.split(":")[1] not in output, "not even the secret half of the token"
    assert "e2e-secret" not in output
    assert re.search(r"update update_id=\d+ kind=question chat_kind=private language=ru answered=true", output)
    assert (tmp_path / "data" / "bot.sqlite3").exists()
    if mode == "webhook":
        [set_webhook] = await telegram_user.bot_calls("setWebhook")
        assert set_webhook["params"]["secret_token"] == "e2e-secret"
