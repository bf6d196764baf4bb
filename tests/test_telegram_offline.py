"""The Telegram layer without a network, python-telegram-bot's own way: a `BaseRequest` subclass answers
the Bot API locally and records every call, and updates go straight into `Application.process_update`."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import io
import itertools
import json
import logging
import re
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import AIORateLimiter
from telegram.request import BaseRequest, RequestData

from bot.cli import main as cli_main
from bot.cli import make_engine
from bot.domain.render import TELEGRAM_LIMIT, utf16_length
from bot.environment import Environment
from bot.locales import t
from bot.logs import RedactSecrets
from bot.settings import Settings
from bot.store import Store
from bot.telegram.app import ALLOWED_UPDATES, App, build_application, file_url_for, run, webhook_options
from bot.telegram.keyboards import (
    MAX_CALLBACK_BYTES,
    Feedback,
    OpenSection,
    SetLanguage,
    decode,
    encode,
)
from bot.telegram.ratelimit import Decision, UserRateLimiter
from bot.telegram.uploads import UploadRejected, safe_name

CONTENT = Path(__file__).resolve().parents[1] / "content"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # shaped like a real token, so redaction applies
BOT_ID = 123456789
BOT_USERNAME = "InsideSalesTestBot"
ADMIN = 4242
STRANGER = 777
GROUP = -100500

Json = dict[str, Any]


# --- a Bot API that answers locally -------------------------------------------------------------------


@dataclass
class Call:
    method: str
    params: Json
    files: dict[str, bytes] = field(default_factory=dict)


class OfflineBotAPI(BaseRequest):
    """Answers Bot API calls like Telegram would, records them, and serves uploaded file contents."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile + download
        self.failures: dict[str, tuple[int, str]] = {}  # method -> (error code, description), every call
        self.chat_types: dict[int, str] = {}
        self._ids = itertools.count(5000)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if method == "GET":  # a file download: .../file/bot<token>/<file_path>
            file_id = url.rsplit("/", 1)[-1]
            return 200, self.files[file_id]
        endpoint = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, bytes] = {}
        if request_data and request_data.contains_files:
            for name, part in request_data.multipart_data.items():
                content = part[1]
                files[name] = content if isinstance(content, bytes) else content.read()
        self.calls.append(Call(endpoint, params, files))
        if endpoint in self.failures:
            code, description = self.failures[endpoint]
            return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()
        return 200, json.dumps({"ok": True, "result": self._result(endpoint, params)}).encode()

    def _result(self, endpoint: str, params: Json) -> Any:
        if endpoint == "getMe":
            return {
                "id": BOT_ID, "is_bot": True, "first_name": "Inside Sales", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True,
            }  # fmt: skip
        if endpoint in ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"):
            return self._message(endpoint, params)
        if endpoint == "getFile":
            file_id = str(params["file_id"])
            return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(self.files.get(file_id, b"")),
                    "file_path": f"documents/{file_id}"}  # fmt: skip
        return True

    def _message(self, endpoint: str, params: Json) -> Json:
        chat_id = int(params.get("chat_id", 0))
        chat_type = self.chat_types.get(chat_id, "private" if chat_id > 0 else "group")
        message: Json = {
            "message_id": int(params.get("message_id") or next(self._ids)),
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Inside Sales", "username": BOT_USERNAME},
        }
        if "text" in params:
            message["text"] = params["text"]
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        if endpoint == "sendDocument":
            message["document"] = {"file_id": "sent", "file_unique_id": "sent"}
        return message

    # -- what the tests read ------------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent(self, chat_id: int | None = None) -> list[Json]:
        return [c.params for c in self.of("sendMessage") if chat_id is None or c.params["chat_id"] == chat_id]

    def clear(self) -> None:
        self.calls.clear()


# --- updates ------------------------------------------------------------------------------------------


def user(user_id: int = 1001, language_code: str | None = "en", first_name: str = "Alice") -> Json:
    found: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        found["language_code"] = language_code
    return found


def private_chat(user_id: int = 1001) -> Json:
    return {"id": user_id, "type": "private", "first_name": "Alice"}


def group_chat(chat_id: int = GROUP) -> Json:
    return {"id": chat_id, "type": "supergroup", "title": "Sales team"}


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_for(text: str) -> list[Json]:
    found = [
        {"type": "bot_command", "offset": utf16(text[: m.start()]), "length": utf16(m.group())}
        for m in re.finditer(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
    ]
    found += [
        {"type": "mention", "offset": utf16(text[: m.start()]), "length": utf16(m.group())}
        for m in re.finditer(r"(?<![\w/])@[A-Za-z0-9_]{3,32}", text)
    ]
    return sorted(found, key=lambda e: e["offset"])


_message_ids = itertools.count(1)
_update_ids = itertools.count(1)


def message(text: str | None = None, *, sender: Json | None = None, chat: Json | None = None, **extra: Any) -> Json:
    sender = sender or user()
    found: Json = {
        "message_id": next(_message_ids),
        "date": 1_700_000_000,
        "chat": chat or private_chat(sender["id"]),
        "from": sender,
        **extra,
    }
    if text is not None:
        found["text"] = text
        if entities := entities_for(text):
            found["entities"] = entities
    return found


def bot_message(chat: Json, text: str = "an earlier answer") -> Json:
    return message(text, sender={"id": BOT_ID, "is_bot": True, "first_name": "Inside Sales",
                                 "username": BOT_USERNAME}, chat=chat)  # fmt: skip


# --- the bot under test -------------------------------------------------------------------------------


@dataclass
class OfflineBot:
    app: App
    api: OfflineBotAPI
    store: Store
    content: Path

    async def feed(self, **update: Any) -> None:
        """Process one update (its kind as keyword: message=..., callback_query=...), background work too."""
        payload = {"update_id": next(_update_ids), **update}
        await self.app.process_update(Update.de_json(payload, self.app.bot))
        await self.settle()

    async def settle(self) -> None:
        """Wait for non-blocking handlers (reload, upload) that process_update started."""
        current = asyncio.current_task()
        for _ in range(100):
            pending = [t for t in asyncio.all_tasks() if t is not current and "non_blocking" in t.get_name()]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    async def say(self, text: str, **kw: Any) -> list[Json]:
        """Send a message and return what the bot sent back."""
        before = len(self.api.sent())
        await self.feed(message=message(text, **kw))
        return self.api.sent()[before:]

    async def press(self, data: str, *, sender: Json | None = None, chat: Json | None = None,
                    markup: Json | None = None) -> Call:  # fmt: skip
        sender = sender or user()
        under = message("…", sender=sender, chat=chat)
        under["from"] = {"id": BOT_ID, "is_bot": True, "first_name": "Inside Sales"}
        if markup is not None:
            under["reply_markup"] = markup
        before = len(self.api.of("answerCallbackQuery"))
        query = {"id": str(next(_update_ids)), "from": sender, "chat_instance": "1", "data": data, "message": under}
        await self.feed(callback_query=query)
        answers = self.api.of("answerCallbackQuery")[before:]
        assert len(answers) == 1, "every button press is answered exactly once"
        return answers[0]


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "content_dir": tmp_path / "content",
        "data_dir": tmp_path / "data",
        "admin_user_ids": frozenset({ADMIN}),
        "default_language": "en",
        "bot_username": None,
        "link_base_url": "https://example.com",
        "webhook_url": None,
        "user_rate_limit": 50,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def make_bot(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    shutil.copytree(CONTENT, tmp_path / "content")
    started: list[tuple[App, Store]] = []

    async def make(**overrides: Any) -> OfflineBot:
        rate_limiter = overrides.pop("rate_limiter", False)
        settings = make_settings(tmp_path, **overrides)
        store = Store.open(":memory:")
        api = OfflineBotAPI()
        api.chat_types[GROUP] = "supergroup"
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


# --- HTML checks ----------------------------------------------------------------------------------------

TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote",
                 "tg-spoiler", "span"}  # fmt: skip


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"tag Telegram rejects: <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")


def assert_telegram_html(text: str) -> None:
    parser = _Balance()
    parser.feed(text)
    parser.close()
    assert not parser.problems, parser.problems
    assert not parser.stack, f"unclosed tags: {parser.stack}"
    assert 0 < utf16_length(text) <= TELEGRAM_LIMIT
    assert re.search(r"&(?!(?:amp|lt|gt|quot|#\d+);)", text) is None, "a bare '&' Telegram would reject"


def buttons(params: Json) -> list[Json]:
    return [b for row in (params.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def callback_data(params: Json) -> list[str]:
    return [b["callback_data"] for b in buttons(params) if "callback_data" in b]


# --- starting up ------------------------------------------------------------------------------------


def test_no_token_exits_2_with_a_way_forward(tmp_path: Path) -> None:
    stderr = io.StringIO()
    env = Environment(stdout=io.StringIO(), stderr=stderr, settings_factory=lambda: make_settings(
        tmp_path, telegram_bot_token=None))  # fmt: skip
    assert cli_main(["run"], env) == 2
    said = stderr.getvalue()
    assert "TELEGRAM_BOT_TOKEN" in said
    assert "BotFather" in said
    assert "python -m bot ask" in said


def test_build_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, telegram_bot_token=None)
    with pytest.raises(ValueError, match="BotFather"):
        build_application(settings, make_engine(settings.model_copy(update={"content_dir": CONTENT})),
                          Store.open(":memory:"))  # fmt: skip


def test_invalid_webhook_secret_exits_2_without_echoing_it(tmp_path: Path) -> None:
    stderr = io.StringIO()
    settings = make_settings(tmp_path, webhook_url="https://bot.example.com/hook", webhook_secret="bad secret!")
    assert run(settings, Environment(stdout=io.StringIO(), stderr=stderr)) == 2
    assert "WEBHOOK_SECRET" in stderr.getvalue()
    assert "bad secret!" not in stderr.getvalue()


def test_webhook_options_come_from_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, webhook_url="https://bot.example.com/telegram/hook", webhook_listen="0.0.0.0",
        webhook_port=8443, webhook_secret="s3cret_token-1",
    )  # fmt: skip
    options = webhook_options(settings)
    assert options == {
        "listen": "0.0.0.0", "port": 8443, "url_path": "telegram/hook",
        "webhook_url": "https://bot.example.com/telegram/hook", "secret_token": "s3cret_token-1",
        "allowed_updates": ALLOWED_UPDATES,
    }  # fmt: skip
    generated = webhook_options(make_settings(tmp_path, webhook_url="https://bot.example.com/"))
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", generated["secret_token"]), "a secret is made up when unset"
    assert generated["url_path"] == ""


def test_api_base_url_and_file_url(tmp_path: Path) -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    settings = make_settings(tmp_path, telegram_api_base_url="http://127.0.0.1:8081/bot")
    app = build_application(settings, make_engine(settings.model_copy(update={"content_dir": CONTENT})),
                            Store.open(":memory:"))  # fmt: skip
    assert app.bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert app.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    assert isinstance(app.bot.rate_limiter, AIORateLimiter)
    assert app.bot.defaults is not None
    assert app.bot.defaults.parse_mode == "HTML"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_checks_the_secret_and_processes_updates(make_bot: Callable[..., Any]) -> None:
    port = _free_port()
    bot: OfflineBot = await make_bot(webhook_url=f"http://127.0.0.1:{port}/hook", webhook_listen="127.0.0.1",
                                     webhook_port=port, webhook_secret="s3cret")  # fmt: skip
    options = webhook_options(bot.app.bot_data["services"].settings)
    assert bot.app.updater is not None
    await bot.app.updater.start_webhook(**options)  # the fixture started the Application already
    try:
        update = {"update_id": 1, "message": message("Что такое внутренние продажи?", sender=user(language_code="ru"))}
        async with httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{port}/hook"
            refused = await client.post(url, json=update)
            accepted = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
        assert refused.status_code == 403
        assert accepted.status_code == 200
        for _ in range(200):
            if bot.api.sent():
                break
            await asyncio.sleep(0.01)
    finally:
        await bot.app.updater.stop()
    [set_webhook] = bot.api.of("setWebhook")
    assert set_webhook.params["secret_token"] == "s3cret"
    assert set_webhook.params["url"] == f"http://127.0.0.1:{port}/hook"
    assert "внутренние продажи" in bot.api.sent()[0]["text"].lower()


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
    api = OfflineBotAPI()
    api.failures["setMyCommands"] = (400, "Bad Request: chat not found")
    app = build_application(settings, make_engine(settings), Store.open(":memory:"), request=api,
                            rate_limiter=False)  # fmt: skip
    async with app:
        assert app.post_init is not None
        await app.post_init(app)  # does not raise
        api.failures.clear()
        await app.process_update(Update.de_json({"update_id": 1, "message": message("/start")}, app.bot))
    assert len(api.of("setMyCommands")) == 18  # every registration was attempted
    assert any("could not register commands" in r.getMessage() for r in errors.records if r.levelname == "WARNING")
    assert api.of("sendMessage"), "the bot still answers"


# --- private chats ----------------------------------------------------------------------------------


async def test_start_greets_in_the_users_language_with_sections(bot: OfflineBot) -> None:
    [greeting] = await bot.say("/start", sender=user(language_code="ru", first_name="Иван"))
    assert greeting["text"].startswith("Здравствуйте, Иван!")
    assert "Внутри продаж" in greeting["text"]
    labels = [b["text"] for b in buttons(greeting)]
    assert labels[:4] == ["Что такое внутренние продажи?", "Понимание внутренних продаж",
                          "Преимущества внутренних продаж", "Особенности"]  # fmt: skip
    assert all(data.startswith("v1:s:ru:") for data in callback_data(greeting))
    assert_telegram_html(greeting["text"])


async def test_start_without_content_in_the_users_language_offers_the_languages(bot: OfflineBot) -> None:
    [greeting] = await bot.say("/start", sender=user(language_code="de", first_name="<Eve & Co>"))
    assert greeting["text"].startswith("Hello, &lt;Eve &amp; Co&gt;!")  # English strings, name escaped
    languages = [d for d in callback_data(greeting) if d.startswith("v1:l:")]
    assert len(languages) == 4, "the four content languages besides the one shown"
    assert_telegram_html(greeting["text"])


async def test_start_with_a_deep_link_opens_the_article(bot: OfflineBot) -> None:
    [opened] = await bot.say("/start inside-sales", sender=user(language_code="pl"))
    assert opened["text"].startswith("<b>Co to jest sprzedaż wewnętrzna?</b>")
    assert "v1:s:pl:1:inside-sales" in callback_data(opened)
    assert "v1:s:ru:0:inside-sales" in callback_data(opened)  # the same section in another language
    assert_telegram_html(opened["text"])
    [unknown] = await bot.say("/start no-such-article", sender=user(language_code="pl", first_name="Ola"))
    greeting = t("pl", "greeting", name=", Ola", topics="Sprzedaż wewnętrzna")
    assert unknown["text"] == html.escape(greeting, quote=False), "an unknown article: the greeting"


async def test_help_is_in_the_users_language_and_admins_learn_more(bot: OfflineBot) -> None:
    [plain] = await bot.say("/help", sender=user(language_code="ms"))
    assert "/lang" in plain["text"]
    assert f"@{BOT_USERNAME}" in plain["text"]
    assert plain["text"].startswith(html.escape(t("ms", "help", topics="Jualan Dalaman", bot=BOT_USERNAME),
                                                quote=False)[:40])  # fmt: skip
    assert "/reload" not in plain["text"]
    [admin] = await bot.say("/help", sender=user(ADMIN))
    assert "/reload" in admin["text"]


async def test_a_question_gets_excerpt_buttons_and_feedback(bot: OfflineBot) -> None:
    replies = await bot.say("Чем внутренние продажи отличаются от внешних?", sender=user(language_code="en"))
    assert replies
    for sent in replies:
        assert_telegram_html(sent["text"])
        assert "reply_parameters" not in sent  # a private chat: no quoting
    answer = replies[-1]
    assert replies[0]["text"].startswith("<b>")
    assert "«Внутри продаж»" in replies[0]["text"]
    data = callback_data(answer)
    assert any(d.startswith("v1:s:ru:") for d in data), "next-best sections"
    assert {f"v1:s:{lang}:" for lang in ("ar", "hi", "ms", "pl")} <= {d[:8] for d in data}, "other languages"
    assert data[-2:] == [d for d in data if d.startswith("v1:f:")]
    stats = bot.store.stats()
    assert (stats.total_questions, stats.answered_questions) == (1, 1)


async def test_a_weak_answer_is_kept_for_review(bot: OfflineBot, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = bot.app.bot_data["services"].engine
    real = engine.answer

    score = [0.9]

    def scored(question: str, **kwargs: Any) -> Any:
        return dataclasses.replace(real(question, **kwargs), score=score[0])

    monkeypatch.setattr(engine, "answer", scored)
    await bot.say("Berapakah gaji wakil jualan dalaman?")
    assert bot.store.export_declined() == [], "a confident answer's text is not kept"
    score[0] = 0.3
    await bot.say("Berapakah gaji wakil jualan dalaman?")
    assert bot.store.stats().low_confidence_questions == 1
    [kept] = bot.store.export_declined()
    assert (kept.answered, kept.question) == (True, "Berapakah gaji wakil jualan dalaman?")


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Berapakah gaji wakil jualan dalaman?", "ms"),
        ("Jakie są zalety sprzedaży wewnętrznej?", "pl"),
        ("ما المقصود بالمبيعات الداخلية؟", "ar"),
        ("आंतरिक बिक्री के लाभ क्या हैं?", "hi"),
        ("Чем внутренние продажи отличаются от внешних?", "ru"),
    ],
)
async def test_questions_in_each_language_are_answered_in_it(bot: OfflineBot, question: str, language: str) -> None:
    replies = await bot.say(question)
    assert replies
    title = bot.app.bot_data["services"].engine.library.article("inside-sales", language).title
    assert html.escape(title, quote=False) in replies[0]["text"]
    assert bot.store.stats().by_language[0].language == language


async def test_a_declined_question_lists_topics_and_is_kept_for_review(bot: OfflineBot) -> None:
    [declined] = await bot.say("xyzzy?", sender=user(language_code="ms"))  # too short to detect: the hint
    assert html.escape(t("ms", "not_covered"), quote=False) in declined["text"]
    assert callback_data(declined), "the topics as buttons"
    assert not any(d.startswith("v1:f:") for d in callback_data(declined)), "no feedback on a refusal"
    [row] = bot.store.export_declined()
    assert row.question == "xyzzy?"


async def test_html_in_a_question_is_never_echoed(bot: OfflineBot) -> None:
    question = '<b>bold</b> <a href="javascript:alert(1)">x</a> <script>alert(1)</script> & jualan dalaman?'
    replies = await bot.say(question)
    assert replies
    for sent in replies:
        assert_telegram_html(sent["text"])
        assert "<script" not in sent["text"]
        assert "javascript:" not in sent["text"]


async def test_a_4000_character_message_is_answered_within_limits(bot: OfflineBot) -> None:
    question = ("Berapakah gaji wakil jualan dalaman? " * 200)[:4000]
    replies = await bot.say(question)
    assert replies
    for sent in replies:
        assert_telegram_html(sent["text"])
    junk = await bot.say("<" * 4000)
    assert len(junk) == 1
    assert_telegram_html(junk[0]["text"])


# --- things that are not questions --------------------------------------------------------------------


async def test_edited_messages_and_channel_posts_get_no_reply(
    bot: OfflineBot, errors: pytest.LogCaptureFixture
) -> None:
    bot.api.clear()
    await bot.feed(edited_message={**message("/start"), "edit_date": 1_700_000_100})
    await bot.feed(edited_message={**message("Berapakah gaji?"), "edit_date": 1_700_000_100})
    channel = {"id": -1009, "type": "channel", "title": "News"}
    post = {"message_id": 5, "date": 1_700_000_000, "chat": channel, "text": f"@{BOT_USERNAME} /ask hello"}
    await bot.feed(channel_post=post)
    await bot.feed(edited_channel_post={**post, "edit_date": 1_700_000_100})
    assert bot.api.calls == []
    assert error_records(errors) == []


@pytest.mark.parametrize(
    "extra",
    [
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "s",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
        {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}]},
        {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 3}},
        {"text": ""},
        {"text": "   "},
        {"document": {"file_id": "d", "file_unique_id": "d", "file_name": "notes.pdf"}},
    ],
    ids=["sticker", "photo", "voice", "empty-text", "blank-text", "document"],
)
async def test_text_less_private_messages_get_a_hint(
    bot: OfflineBot, extra: Json, errors: pytest.LogCaptureFixture
) -> None:
    sent_before = len(bot.api.sent())
    await bot.feed(message=message(**extra))
    [hint] = bot.api.sent()[sent_before:]
    assert hint["text"] == html.escape(t("en", "non_text"), quote=False)
    assert error_records(errors) == []


async def test_service_messages_get_no_reply(bot: OfflineBot, errors: pytest.LogCaptureFixture) -> None:
    bot.api.clear()
    await bot.feed(message=message(new_chat_members=[user(99)], chat=group_chat()))
    await bot.feed(message=message(left_chat_member=user(99), chat=group_chat()))
    await bot.feed(message=message(new_chat_title="Renamed", chat=group_chat()))
    await bot.feed(message=message(pinned_message=bot_message(private_chat())))
    await bot.feed(message=message(sticker={"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1,
                                            "is_animated": False, "is_video": False, "type": "regular"},
                                   chat=group_chat()))  # fmt: skip
    assert bot.api.calls == []
    assert error_records(errors) == []


async def test_unknown_commands_in_private_get_the_help(bot: OfflineBot) -> None:
    [sent] = await bot.say("/frobnicate")
    assert "/lang" in sent["text"]


# --- /lang and buttons ----------------------------------------------------------------------------------


async def test_lang_pins_and_unpins_the_answer_language(bot: OfflineBot) -> None:
    [menu] = await bot.say("/lang", sender=user(language_code="ms"))
    assert callback_data(menu) == ["v1:l:ar", "v1:l:hi", "v1:l:ms", "v1:l:pl", "v1:l:ru", "v1:l:-"]
    assert buttons(menu)[-1]["text"] == "✓ " + t("ms", "language_auto")

    await bot.press("v1:l:ru", sender=user(language_code="ms"))
    assert bot.store.get_language(1001) == "ru"
    [edit] = [c.params for c in bot.api.of("editMessageText")]
    assert edit["text"] == html.escape(t("ru", "language_set", language="Русский"), quote=False)
    [answer] = await bot.say("Berapakah gaji wakil jualan dalaman?", sender=user(language_code="ms"))
    assert "«Внутри продаж»" in answer["text"], "answers now come from the Russian article"

    await bot.press("v1:l:-")
    assert bot.store.get_language(1001) is None
    replies = await bot.say("Berapakah gaji wakil jualan dalaman?")
    assert "Jualan Dalaman" in replies[0]["text"]


async def test_opening_a_section_from_a_button(bot: OfflineBot) -> None:
    answer = await bot.press("v1:s:hi:3:inside-sales")
    assert "text" not in answer.params
    [section] = bot.api.sent()
    assert section["text"].startswith("<b>हाइलाइट्स</b>")
    assert "v1:s:hi:0:inside-sales" in callback_data(section)
    assert_telegram_html(section["text"])


@pytest.mark.parametrize("data", ["v0:s:ru:0:inside-sales", "v1:s:ru:99:inside-sales", "v1:s:xx:0:nope",
                                  "garbage", "", "v1:l:zz", "v1:f:abc:1"])  # fmt: skip
async def test_stale_or_foreign_buttons_are_answered_politely(
    bot: OfflineBot, data: str, errors: pytest.LogCaptureFixture
) -> None:
    answer = await bot.press(data)
    assert answer.params["text"] == t("en", "button_expired")
    assert bot.api.sent() == []
    assert error_records(errors) == []


async def test_feedback_is_recorded_and_the_buttons_go(bot: OfflineBot) -> None:
    [answer] = (await bot.say("Berapakah gaji wakil jualan dalaman?"))[-1:]
    up = next(d for d in callback_data(answer) if d.startswith("v1:f:") and d.endswith(":1"))
    pressed = await bot.press(up, markup=answer["reply_markup"])
    assert pressed.params["text"] == t("en", "feedback_thanks")
    assert bot.store.stats().feedback_up == 1
    [edit] = [c.params for c in bot.api.of("editMessageReplyMarkup")]
    assert not any(d.startswith("v1:f:") for d in callback_data(edit))
    assert any(d.startswith("v1:s:") for d in callback_data(edit))
    # A vote in a group keeps the buttons for the others.
    await bot.press(up, sender=user(5), chat=group_chat(), markup=answer["reply_markup"])
    assert len(bot.api.of("editMessageReplyMarkup")) == 1
    assert bot.store.stats().feedback_up == 2


@given(
    slug=st.from_regex(r"[\w][\w-]{0,63}", fullmatch=True).filter(lambda s: ":" not in s),
    lang=st.from_regex(r"[a-z]{2}", fullmatch=True),
    index=st.integers(0, 10_000),
    question_id=st.integers(0, 2**62),
)
def test_callback_data_round_trips_within_64_bytes(slug: str, lang: str, index: int, question_id: int) -> None:
    for action in (OpenSection(slug, lang, index), SetLanguage(lang), SetLanguage(None),
                   Feedback(question_id, True), Feedback(question_id, False)):  # fmt: skip
        data = encode(action)
        assert len(data.encode()) <= MAX_CALLBACK_BYTES
        assert decode(data, [slug, "other"]) == action


# --- inline mode -------------------------------------------------------------------------------------------


def inline_query(query: str, language_code: str = "ru") -> Json:
    return {"id": str(next(_update_ids)), "from": user(language_code=language_code), "query": query, "offset": ""}


async def test_empty_inline_query_lists_the_sections(bot: OfflineBot) -> None:
    await bot.feed(inline_query=inline_query(""))
    [call] = bot.api.of("answerInlineQuery")
    results = call.params["results"]
    assert [r["title"] for r in results] == ["Что такое внутренние продажи?", "Понимание внутренних продаж",
                                             "Преимущества внутренних продаж", "Особенности"]  # fmt: skip
    assert call.params["is_personal"] is True
    assert len({r["id"] for r in results}) == len(results)
    for result in results:
        assert result["description"].startswith("Внутри продаж — ")
        assert "\n" not in result["description"]
        assert_telegram_html(result["input_message_content"]["message_text"])
        assert result["input_message_content"]["parse_mode"] == "HTML"


async def test_inline_query_puts_the_best_section_first(bot: OfflineBot) -> None:
    await bot.feed(inline_query=inline_query("Berapakah gaji wakil jualan dalaman?", "en"))
    [call] = bot.api.of("answerInlineQuery")
    best = call.params["results"][0]
    assert best["title"] == "Kelebihan Jualan Dalam"
    content = best["input_message_content"]["message_text"]
    assert "$45,000" in content
    assert_telegram_html(content)
    assert len(call.params["results"]) >= 2


async def test_inline_query_with_html_and_chosen_result(bot: OfflineBot, errors: pytest.LogCaptureFixture) -> None:
    await bot.feed(inline_query=inline_query("<i>unclosed & jualan"))
    for result in bot.api.of("answerInlineQuery")[0].params["results"]:
        assert_telegram_html(result["input_message_content"]["message_text"])
    chosen = {"result_id": "a:ms:2:inside-sales", "from": user(), "query": "gaji"}
    bot.api.clear()
    await bot.feed(chosen_inline_result=chosen)
    assert bot.api.calls == []
    assert error_records(errors) == []


# --- groups ------------------------------------------------------------------------------------------------


async def test_group_ask_replies_to_the_question(bot: OfflineBot) -> None:
    ask = message(f"/ask@{BOT_USERNAME} Berapakah gaji wakil jualan dalaman?", chat=group_chat())
    await bot.feed(message=ask)
    [sent] = bot.api.sent(GROUP)
    assert sent["reply_parameters"]["message_id"] == ask["message_id"]
    assert "$45,000" in sent["text"]
    assert all(d.startswith("v1:f:") for d in callback_data(sent)), "groups get compact answers"
    assert_telegram_html(sent["text"])


async def test_group_chatter_is_ignored_and_costs_nothing(bot: OfflineBot) -> None:
    bot.api.clear()
    for text in ["Berapakah gaji wakil jualan dalaman?", "/ask@SomeOtherBot hello", "lunch?", "@someone hi"]:
        await bot.feed(message=message(text, chat=group_chat()))
    await bot.feed(message=message("a reply", chat=group_chat(), reply_to_message=message("x", chat=group_chat())))
    assert bot.api.calls == []
    assert bot.store.stats().total_questions == 0


async def test_group_mentions_and_replies_to_the_bot_are_questions(bot: OfflineBot) -> None:
    mention = message(f"@{BOT_USERNAME} Berapakah gaji wakil jualan dalaman?", chat=group_chat())
    await bot.feed(message=mention)
    reply = message("Чем внутренние продажи отличаются от внешних?", chat=group_chat(),
                    reply_to_message=bot_message(group_chat()))  # fmt: skip
    await bot.feed(message=reply)
    first, second = bot.api.sent(GROUP)
    assert first["reply_parameters"]["message_id"] == mention["message_id"]
    assert "$45,000" in first["text"]
    assert second["reply_parameters"]["message_id"] == reply["message_id"]
    assert "Внутри продаж" in second["text"]


async def test_bare_ask_answers_the_message_it_replies_to(bot: OfflineBot) -> None:
    question = message("Berapakah gaji wakil jualan dalaman?", sender=user(55, first_name="Bob"), chat=group_chat())
    await bot.feed(message=message("/ask", chat=group_chat(), reply_to_message=question))
    [sent] = bot.api.sent(GROUP)
    assert sent["reply_parameters"]["message_id"] == question["message_id"]
    assert "$45,000" in sent["text"]
    await bot.feed(message=message("/ask", chat=group_chat()))
    usage = bot.api.sent(GROUP)[-1]
    assert usage["text"] == html.escape(t("en", "ask_usage"), quote=False)


async def test_one_user_cannot_flood_a_group(make_bot: Callable[..., Any]) -> None:
    bot: OfflineBot = await make_bot(user_rate_limit=2, user_rate_window_seconds=60)
    flooder = user(66)
    for _ in range(5):
        await bot.feed(message=message("/ask Berapakah gaji wakil jualan dalaman?", sender=flooder, chat=group_chat()))
    texts = [m["text"] for m in bot.api.sent(GROUP)]
    assert len(texts) == 3  # two answers, then one notice, then silence
    assert texts[2] == html.escape(t("en", "rate_limited"), quote=False)
    assert bot.store.stats().total_questions == 2
    await bot.feed(message=message("/ask Berapakah gaji wakil jualan dalaman?", sender=user(67), chat=group_chat()))
    assert "$45,000" in bot.api.sent(GROUP)[-1]["text"], "other users are not affected"


async def test_buttons_and_commands_count_towards_the_limit(make_bot: Callable[..., Any]) -> None:
    bot: OfflineBot = await make_bot(user_rate_limit=1, user_rate_window_seconds=60)
    await bot.say("/help")
    pressed = await bot.press("v1:s:ru:0:inside-sales")
    assert pressed.params["text"] == t("en", "rate_limited")
    assert len(bot.api.sent()) == 1
    await bot.press("v1:s:ru:0:inside-sales")  # answered (the spinner stops), silently
    assert await bot.say("/help") == []


async def test_an_admin_upload_in_a_group_is_ignored(bot: OfflineBot) -> None:
    upload = document_message("cold-calling.md", GOOD_ARTICLE.encode(), bot.api)
    upload["chat"] = group_chat()
    bot.api.clear()
    await bot.feed(message=upload)
    assert bot.api.calls == []
    assert not (bot.content / "cold-calling.md").exists()


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = UserRateLimiter(2, 10, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(4)] == [Decision.ALLOW, Decision.ALLOW, Decision.WARN, Decision.DROP]
    assert limiter.check(2) is Decision.ALLOW
    now[0] = 10.0
    assert limiter.check(1) is Decision.ALLOW
    for uid in range(3000):
        limiter.check(uid)
    now[0] = 10_000.0
    for _ in range(2048):
        limiter.check(1)
    assert len(limiter._hits) < 10, "idle users are forgotten"


# --- admins ------------------------------------------------------------------------------------------------


async def test_reload_is_for_admins_only(bot: OfflineBot) -> None:
    [refused] = await bot.say("/reload", sender=user(STRANGER))
    assert refused["text"] == html.escape(t("en", "admin_only"), quote=False)
    [done] = await bot.say("/reload", sender=user(ADMIN))
    assert done["text"].startswith("Content reloaded: 5 articles, 5 languages, 20 sections in ")


async def test_a_broken_reload_lists_problems_and_keeps_serving(bot: OfflineBot) -> None:
    (bot.content / "ms" / "broken.md").write_text("---\ntitle: [unclosed\n---\n# x\n", encoding="utf-8")
    replies = await bot.say("/reload", sender=user(ADMIN, language_code="ru"))
    text = "\n".join(r["text"] for r in replies)
    assert html.escape(t("ru", "reload_failed"), quote=False) in text
    assert re.search(r"<code>\S*ms/broken\.md:\d+: front matter is not valid YAML", text)
    for sent in replies:
        assert_telegram_html(sent["text"])
    answer = await bot.say("Berapakah gaji wakil jualan dalaman?")
    assert "$45,000" in answer[0]["text"]


async def test_questions_are_answered_while_a_reload_runs(bot: OfflineBot, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = bot.app.bot_data["services"].engine
    release = asyncio.Event()
    loop = asyncio.get_running_loop()
    original = engine.reload

    def slow_reload() -> Any:
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=5)
        return original()

    monkeypatch.setattr(engine, "reload", slow_reload)
    for text, sender in [("/reload", ADMIN), ("Berapakah gaji wakil jualan dalaman?", 1001)]:
        payload = {"update_id": next(_update_ids), "message": message(text, sender=user(sender))}
        await bot.app.process_update(Update.de_json(payload, bot.app.bot))  # the reload does not block
    [answer] = bot.api.sent(1001)
    assert "$45,000" in answer["text"]
    assert bot.api.sent(ADMIN) == [], "the reload is still running"
    release.set()
    await bot.settle()
    assert bot.api.sent(ADMIN)[-1]["text"].startswith("Content reloaded")


GOOD_ARTICLE = """---
title: Cold calling
lang: pl
description: Dzwonienie do klientów bez wcześniejszego kontaktu.
---

# Cold calling

## Czym jest cold calling?

Cold calling to dzwonienie do potencjalnych klientów, którzy wcześniej nie mieli kontaktu z firmą.
"""


def document_message(name: str, data: bytes, api: OfflineBotAPI, sender: int = ADMIN, size: int | None = None) -> Json:
    file_id = f"doc{next(_message_ids)}"
    api.files[file_id] = data
    document = {"file_id": file_id, "file_unique_id": file_id, "file_name": name,
                "file_size": len(data) if size is None else size}  # fmt: skip
    return message(sender=user(sender), document=document)


async def test_an_admin_uploads_a_new_article(bot: OfflineBot) -> None:
    await bot.feed(message=document_message("cold-calling.md", GOOD_ARTICLE.encode(), bot.api))
    [saved] = bot.api.sent(ADMIN)
    assert saved["text"].startswith("Saved cold-calling.md and reloaded: 6 articles")
    assert (bot.content / "cold-calling.md").read_text(encoding="utf-8") == GOOD_ARTICLE
    assert not list(bot.content.rglob(".upload-*")), "no temporary file left behind"
    answer = await bot.say("Czym jest cold calling?")
    assert "potencjalnych klientów" in answer[0]["text"]


async def test_an_upload_with_the_name_of_an_article_replaces_it(bot: OfflineBot) -> None:
    original = (bot.content / "pl" / "inside-sales.md").read_text(encoding="utf-8")
    changed = original.replace("## Co to jest sprzedaż wewnętrzna?", "## Czym jest sprzedaż wewnętrzna?")
    await bot.feed(message=document_message("inside-sales.md", changed.encode(), bot.api))
    [saved] = bot.api.sent(ADMIN)
    assert saved["text"].startswith("Saved pl/inside-sales.md and reloaded: 5 articles")
    assert (bot.content / "pl" / "inside-sales.md").read_text(encoding="utf-8") == changed
    assert not (bot.content / "inside-sales.md").exists()


async def test_a_broken_upload_is_rejected_with_its_problems(bot: OfflineBot) -> None:
    before = sorted(p.relative_to(bot.content) for p in bot.content.rglob("*"))
    await bot.feed(message=document_message("broken.md", b"---\nlang: pl\n---\n\nno headings at all\n", bot.api))
    text = "\n".join(m["text"] for m in bot.api.sent(ADMIN))
    assert text.startswith(html.escape(t("en", "upload_rejected", reason=t("en", "upload_invalid")), quote=False))
    assert "<code>broken.md:" in text, "paths are relative to the content directory"
    assert sorted(p.relative_to(bot.content) for p in bot.content.rglob("*")) == before


@pytest.mark.parametrize("name", ["../evil.md", "..\\evil.md", "sub/evil.md", ".hidden.md", "notes.txt", "a..md",
                                  "evil.md\u202e", None])  # fmt: skip
async def test_unsafe_upload_names_are_rejected(bot: OfflineBot, name: str | None) -> None:
    before = sorted(p.relative_to(bot.content) for p in bot.content.rglob("*"))
    msg = document_message(name or "x", GOOD_ARTICLE.encode(), bot.api)
    if name is None:
        del msg["document"]["file_name"]
    await bot.feed(message=msg)
    [sent] = bot.api.sent(ADMIN)
    assert sent["text"] == html.escape(t("en", "upload_rejected", reason=t("en", "upload_bad_name")), quote=False)
    assert not bot.api.of("getFile"), "nothing is downloaded"
    assert sorted(p.relative_to(bot.content) for p in bot.content.rglob("*")) == before
    assert not (bot.content.parent / "evil.md").exists()


async def test_too_big_uploads_are_rejected(make_bot: Callable[..., Any]) -> None:
    bot: OfflineBot = await make_bot(max_upload_bytes=1000)
    await bot.feed(message=document_message("big.md", GOOD_ARTICLE.encode() * 10, bot.api))
    assert bot.api.of("getFile") == [], "refused by the announced size, before downloading"
    # A file whose announced size lies is caught after the download.
    await bot.feed(message=document_message("big.md", GOOD_ARTICLE.encode() * 10, bot.api, size=10))
    first, second = bot.api.sent(ADMIN)
    expected = html.escape(t("en", "upload_rejected", reason=t("en", "upload_too_big", limit="1,000")), quote=False)
    assert first["text"] == second["text"] == expected
    assert not (bot.content / "big.md").exists()


async def test_strangers_cannot_upload(bot: OfflineBot) -> None:
    await bot.feed(message=document_message("cold-calling.md", GOOD_ARTICLE.encode(), bot.api, sender=STRANGER))
    [sent] = bot.api.sent(STRANGER)
    assert sent["text"] == html.escape(t("en", "admin_only"), quote=False)
    assert not (bot.content / "cold-calling.md").exists()
    assert not bot.api.of("getFile")


def test_safe_names() -> None:
    assert safe_name("Cold Calling.md") == "Cold Calling.md"
    assert safe_name("статья.MD") == "статья.MD"
    for bad in ["", ".md", "../a.md", "a/b.md", "a\\b.md", ".a.md", "a.txt", "a.md ", "a\x00.md", "x" * 200 + ".md"]:
        with pytest.raises(UploadRejected):
            safe_name(bad)


async def test_stats_and_declined_export(bot: OfflineBot) -> None:
    await bot.say("Berapakah gaji wakil jualan dalaman?")
    await bot.say('=HYPERLINK("http://x") zzz qqq')
    [refused] = await bot.say("/stats", sender=user(STRANGER))
    assert refused["text"] == html.escape(t("en", "admin_only"), quote=False)
    [stats] = await bot.say("/stats", sender=user(ADMIN))
    assert "Questions: 2, answered: 1 (50%)" in stats["text"]
    assert_telegram_html(stats["text"])
    await bot.say("/declined csv", sender=user(ADMIN))
    [document] = bot.api.of("sendDocument")
    [content] = document.files.values()
    csv_text = content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("id,asked_at,language")
    assert "'=HYPERLINK" in csv_text, "spreadsheet formulas are neutralised"
    await bot.say("/declined csv", sender=user(STRANGER))
    assert len(bot.api.of("sendDocument")) == 1


async def test_stats_are_not_shown_in_groups(bot: OfflineBot) -> None:
    bot.api.clear()
    await bot.feed(message=message(f"/stats@{BOT_USERNAME}", sender=user(ADMIN), chat=group_chat()))
    await bot.feed(message=message(f"/declined@{BOT_USERNAME}", sender=user(ADMIN), chat=group_chat()))
    assert bot.api.calls == []


# --- errors ------------------------------------------------------------------------------------------------


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
