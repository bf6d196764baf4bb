"""The real bot (build_application, AIORateLimiter + retries, SQLite store) against the local Bot API
emulator while the API misbehaves: 429s with retry_after, 500s, timeouts, the API process dying and coming
back, a network outage in front of it, and a burst from many chats. Every question must be answered
exactly once.

How "exactly once" is counted: every answered question is logged in the store and its answer carries
feedback buttons with that row's id (v1:f:<id>:…). Each question a test asks targets a different section
(its key: language + heading, worked out with the same engine), so an answer delivered to a chat maps to
exactly one question: in groups through the message it replies to, in private chats through the key of
its store row. lost = questions with no delivered answer, doubled = extra deliveries or store rows.

Figures are printed (run with -s): questions, answered, lost, doubled, faults injected, elapsed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from telegram.request import HTTPXRequest

from bot.bootstrap import make_engine
from bot.domain.engine import AnswerEngine
from bot.locales import t
from bot.settings import Settings
from bot.store import Store, database_path
from bot.telegram.app import App, build_application

from .harness import (
    ApiProxy,
    BotErrors,
    EmulatorServer,
    FakeChat,
    FakeUser,
    Records,
    TelegramUser,
    group_chat,
    polling,
    private_chat,
)

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "content"
LANGUAGE_CODES = ("ru", "pl", "ms", "ar", "hi", "en", None)
Key = tuple[str, str]  # (answer language, section heading)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter


# --- questions with distinct answers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> AnswerEngine:
    settings = Settings(_env_file=None, content_dir=CONTENT)  # type: ignore[call-arg]
    return make_engine(settings)


@pytest.fixture(scope="module")
def questions(engine: AnswerEngine) -> list[tuple[str, Key]]:
    """Section headings as questions, one per distinct answer (section), with that answer's key; only those
    answered the same whatever the asker's Telegram language (a one-word heading can go either way)."""
    found: dict[Key, str] = {}
    for article in engine.library.articles:
        for section in article.sections:
            answers = [engine.answer(section.heading, hints=(code,)) for code in LANGUAGE_CODES]
            keys = {(a.language, a.section.heading) if a.answered and a.section else None for a in answers}
            if len(keys) == 1 and None not in keys:
                found.setdefault(keys.pop(), section.heading)  # type: ignore[arg-type]
    assert len(found) >= 12
    return [(text, key) for key, text in found.items()]


@dataclass(frozen=True)
class Asked:
    chat: FakeChat
    message_id: int
    text: str
    key: Key

    @property
    def group(self) -> bool:
        return self.chat.type != "private"


@dataclass
class Tally:
    asked: int
    answered: int
    lost: list[Asked]
    doubled: list[tuple[Asked, int]]  # (question, how many answers it got)
    extra_rows: int  # store rows beyond one per question: a question processed twice
    stray: int  # answers that match no question
    error_replies: int  # "something went wrong" / rate-limit messages
    send_calls: int
    failed_send_calls: int

    def line(self, name: str, elapsed: float, **more: object) -> str:
        extras = " ".join(f"{k}={v}" for k, v in more.items())
        doubled = sum(n - 1 for _, n in self.doubled) + self.extra_rows
        return (
            f"\n[faults] {name}: questions={self.asked} answered={self.answered} lost={len(self.lost)} "
            f"doubled={doubled} stray={self.stray} sendMessage ok={self.send_calls} "
            f"failed={self.failed_send_calls} elapsed={elapsed:.2f}s {extras}"
        )

    def assert_exactly_once(self) -> None:
        assert not self.lost, f"{len(self.lost)} questions never answered: {[a.text for a in self.lost][:5]}"
        assert not self.doubled, f"answered more than once: {[(a.text, n) for a, n in self.doubled][:5]}"
        assert self.extra_rows == 0, "a question was processed twice"
        assert self.stray == 0, "answers that match no question"
        assert self.error_replies == 0, "the bot told a user something went wrong"
        assert self.answered == self.asked


def _feedback_id(params: dict[str, Any]) -> int | None:
    for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            data = str(button.get("callback_data", ""))
            if data.startswith("v1:f:"):
                return int(data.split(":")[2])
    return None


def tally(asked: list[Asked], calls: Iterable[dict[str, Any]], db: Path) -> Tally:
    calls = [c for c in calls if c["method"] == "sendMessage"]
    delivered = [c["params"] for c in calls if c["ok"]]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = {
            row_id: (user_id, (lang, heading))
            for row_id, user_id, lang, heading in conn.execute("SELECT id, user_id, language, heading FROM question")
        }
    errors = {t(lang, "error") for lang in ("en", "ar", "hi", "ms", "pl", "ru")}
    errors |= {t(lang, "rate_limited") for lang in ("en", "ar", "hi", "ms", "pl", "ru")}
    error_replies = sum(1 for p in delivered if any(e in p["text"] for e in errors))

    answers: Counter[tuple[int, object]] = Counter()  # (chat id, message id replied to | key) -> deliveries
    for params in delivered:
        row_id = _feedback_id(params)
        if row_id is None:
            continue  # the first parts of a long private answer; the last part carries the buttons
        chat_id = int(params["chat_id"])
        if chat_id < 0:
            answers[(chat_id, int((params.get("reply_parameters") or {}).get("message_id", 0)))] += 1
        else:
            answers[(chat_id, rows[row_id][1] if row_id in rows else None)] += 1
    expected = {(a.chat.id, a.message_id if a.group else a.key): a for a in asked}
    assert len(expected) == len(asked), "the test asked two questions with one answer in one chat"
    lost = [a for k, a in expected.items() if answers[k] == 0]
    doubled = [(a, answers[k]) for k, a in expected.items() if answers[k] > 1]
    stray = sum(n for k, n in answers.items() if k not in expected)
    per_question = Counter((user_id, key) for user_id, key in rows.values())
    extra_rows = sum(n - 1 for n in per_question.values() if n > 1)
    return Tally(
        asked=len(asked),
        answered=sum(1 for k in expected if answers[k] >= 1),
        lost=lost,
        doubled=doubled,
        extra_rows=extra_rows,
        stray=stray,
        error_replies=error_replies,
        send_calls=len(delivered),
        failed_send_calls=sum(1 for c in calls if not c["ok"]),
    )


# --- the bot under test -----------------------------------------------------------------------------------


@dataclass
class Bot:
    app: App
    store: Store
    db: Path
    errors: BotErrors
    own_errors: Records
    retry_log: Records
    user: TelegramUser
    asked: list[Asked] = field(default_factory=list)
    _chat_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def chats(self, private: int, groups: int) -> list[FakeChat]:
        """Fresh chats: private ones with varied Telegram languages, groups with one asking member each."""
        found: list[FakeChat] = []
        for _ in range(private):
            n = next(self._chat_ids)
            found.append(
                private_chat(
                    user_id=30_000 + n, first_name=f"U{n}", language_code=LANGUAGE_CODES[n % len(LANGUAGE_CODES)]
                )
            )
        for _ in range(groups):
            n = next(self._chat_ids)
            member = FakeUser(60_000 + n, f"M{n}", LANGUAGE_CODES[n % len(LANGUAGE_CODES)])
            found.append(group_chat(chat_id=-(90_000 + n), title=f"Team {n}", member=member))
        return found

    async def ask(self, chat: FakeChat, question: tuple[str, Key]) -> Asked:
        text, key = question
        if chat.type == "private":
            sent = await self.user.send_text(chat, text)
        else:
            sent = await self.user.send_command(chat, f"/ask {text}")
        asked = Asked(chat, int(sent["message_id"]), text, key)
        self.asked.append(asked)
        return asked

    async def ask_each(
        self, chats: list[FakeChat], questions: list[tuple[str, Key]], per_chat: int = 1, offset: int = 0
    ) -> list[Asked]:
        """`per_chat` questions in every chat, all chats at once; a chat's questions differ from each other."""

        async def one_chat(index: int, chat: FakeChat) -> list[Asked]:
            start = offset + index * 7
            return [await self.ask(chat, questions[(start + i) % len(questions)]) for i in range(per_chat)]

        results = await asyncio.gather(*(one_chat(i, chat) for i, chat in enumerate(chats)))
        return [asked for chat_asked in results for asked in chat_asked]

    async def wait_answered(self, timeout: float, calls_before: list[dict[str, Any]] | None = None) -> Tally:  # noqa: ASYNC109
        """Until every question has an answer (or the timeout), then a little longer to catch doubles."""
        deadline = time.monotonic() + timeout
        while True:
            found = tally(self.asked, [*(calls_before or []), *await self.user.bot_calls("sendMessage")], self.db)
            if found.answered == found.asked or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        return tally(self.asked, [*(calls_before or []), *await self.user.bot_calls("sendMessage")], self.db)

    @property
    def retries(self) -> int:
        """Calls our rate limiter retried after a failure (bot/telegram/retries.py logs each)."""
        return sum(1 for r in self.retry_log.records if "retrying in" in r.getMessage())

    def assert_clean(self, *, allow_polling_errors: bool = False) -> None:
        self.errors.assert_clean(allow_polling_errors=allow_polling_errors)
        problems = [r.getMessage() for r in self.own_errors.records]
        assert not problems, f"the bot's own loggers reported errors: {problems}"


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    shutil.copytree(CONTENT, tmp_path / "content")
    return tmp_path / "content"


@asynccontextmanager
async def running_bot(
    api_base: str,
    user: TelegramUser,
    tmp_path: Path,
    *,
    get_updates_read_timeout: float | None = None,
    read_timeout: float | None = None,
    poll_timeout: int = 5,
) -> AsyncIterator[Bot]:
    """The real bot, polling `api_base` (the emulator, or the proxy in front of it)."""
    values: dict[str, Any] = {
        "telegram_bot_token": user.token,
        "telegram_api_base_url": api_base,
        "telegram_api_base_file_url": api_base.replace("/bot", "/file/bot"),
        "content_dir": tmp_path / "content",
        "data_dir": tmp_path / "data",
        "user_rate_limit": 10_000,
        "bot_username": None,
        "webhook_url": None,
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    store = Store.open(database_path(settings.data_dir))
    request = get_updates = None
    if get_updates_read_timeout is not None or read_timeout is not None:
        request = HTTPXRequest(connection_pool_size=8, read_timeout=read_timeout or 5.0)
        get_updates = HTTPXRequest(read_timeout=get_updates_read_timeout or 5.0)
    app = build_application(settings, make_engine(settings), store, request=request, get_updates_request=get_updates)
    errors = BotErrors().attach(app)
    own, retry_log = Records(logging.ERROR), Records(logging.WARNING)
    logging.getLogger("bot").addHandler(own)
    logging.getLogger("bot.telegram.retries").addHandler(retry_log)
    try:
        async with polling(app, poll_timeout=poll_timeout):
            yield Bot(app, store, database_path(settings.data_dir), errors, own, retry_log, user)
    finally:
        logging.getLogger("bot").removeHandler(own)
        logging.getLogger("bot.telegram.retries").removeHandler(retry_log)
        errors.detach()
        store.close()


def _faults_seen(calls: list[dict[str, Any]]) -> Counter[str]:
    return Counter(f"{c['method']}:{c['error']}" for c in calls if str(c.get("error", "")).startswith("fault"))


# --- 429, 5xx, timeouts -------------------------------------------------------------------------------------


async def test_429_with_retry_after_on_send_message(
    emulator: EmulatorServer,
    telegram_user: TelegramUser,
    content_dir: Path,
    tmp_path: Path,
    questions: list[tuple[str, Key]],
) -> None:
    """Four 429s in a row (retry_after 1 s; PTB's default would give up after 3 here): each is waited out,
    nothing lost or doubled."""
    await telegram_user.faults({"method": "sendMessage", "kind": "429", "count": 4, "retry_after": 1})
    started = time.monotonic()
    async with running_bot(emulator.base_url, telegram_user, tmp_path) as bot:
        await bot.ask_each(bot.chats(private=6, groups=2), questions, per_chat=2)
        result = await bot.wait_answered(timeout=20)
        elapsed = time.monotonic() - started
        faults = _faults_seen(await telegram_user.bot_calls())
        print(result.line("429 retry_after=1 x4 on sendMessage", elapsed, faults=dict(faults)))
        result.assert_exactly_once()
        assert faults == {"sendMessage:fault: 429": 4}
        assert elapsed >= 4.0, "retry_after was honoured"
        bot.assert_clean()


async def test_500s_on_get_updates_and_send_message(
    emulator: EmulatorServer,
    telegram_user: TelegramUser,
    content_dir: Path,
    tmp_path: Path,
    questions: list[tuple[str, Key]],
) -> None:
    """getUpdates 500 x2 (PTB's polling loop backs off) and sendMessage 500 x2 (our retries back off)."""
    await telegram_user.faults(
        {"method": "getUpdates", "kind": "500", "count": 2},
        {"method": "sendMessage", "kind": "500", "count": 2},
    )
    started = time.monotonic()
    async with running_bot(emulator.base_url, telegram_user, tmp_path) as bot:
        await bot.ask_each(bot.chats(private=5, groups=3), questions, per_chat=2)
        result = await bot.wait_answered(timeout=20)
        elapsed = time.monotonic() - started
        faults = _faults_seen(await telegram_user.bot_calls(include_get_updates=True))
        print(
            result.line(
                "HTTP 500 x2 on getUpdates, x2 on sendMessage", elapsed, faults=dict(faults), retries=bot.retries
            )
        )
        result.assert_exactly_once()
        assert bot.retries == 2
        assert faults == {"getUpdates:fault: 500": 2, "sendMessage:fault: 500": 2}
        assert result.failed_send_calls == 2
        bot.assert_clean(allow_polling_errors=True)  # PTB logs each failed getUpdates at ERROR


async def test_timeouts_on_get_updates(
    emulator: EmulatorServer,
    telegram_user: TelegramUser,
    content_dir: Path,
    tmp_path: Path,
    questions: list[tuple[str, Key]],
) -> None:
    """Two getUpdates that never answer (PTB's read timeout fires, it polls again with the same offset)."""
    await telegram_user.faults({"method": "getUpdates", "kind": "timeout", "count": 2, "seconds": 10})
    started = time.monotonic()
    async with running_bot(
        emulator.base_url, telegram_user, tmp_path, get_updates_read_timeout=0.5, poll_timeout=1
    ) as bot:
        await bot.ask_each(bot.chats(private=5, groups=3), questions, per_chat=2)
        result = await bot.wait_answered(timeout=20)
        elapsed = time.monotonic() - started
        faults = _faults_seen(await telegram_user.bot_calls(include_get_updates=True))
        print(result.line("getUpdates timeout x2 (read timeout 1.5 s)", elapsed, faults=dict(faults)))
        result.assert_exactly_once()
        assert faults == {"getUpdates:fault: timeout": 2}
        assert elapsed >= 3.0, "each held getUpdates was waited out"
        bot.assert_clean(allow_polling_errors=True)


async def test_an_ambiguous_send_message_timeout_is_not_retried(
    emulator: EmulatorServer,
    telegram_user: TelegramUser,
    content_dir: Path,
    tmp_path: Path,
    questions: list[tuple[str, Key]],
) -> None:
    """A sendMessage whose answer never comes may have reached Telegram: it is not sent again (at most once,
    never twice); the next question is answered normally. The one unavoidable loss, and it is logged."""
    await telegram_user.faults({"method": "sendMessage", "kind": "timeout", "count": 1, "seconds": 5})
    started = time.monotonic()
    async with running_bot(emulator.base_url, telegram_user, tmp_path, read_timeout=1.0) as bot:
        [first, second] = bot.chats(private=2, groups=0)
        await bot.ask(first, questions[0])
        await bot.ask(second, questions[1])
        await telegram_user.wait_for_reply(second.id, timeout=5)  # after the first one's timeout
        result = await bot.wait_answered(timeout=0)
        elapsed = time.monotonic() - started
        not_retried = [r for r in bot.retry_log.records if "not retried" in r.getMessage()]
    print(result.line("sendMessage read timeout x1 (ambiguous)", elapsed, not_retried=len(not_retried)))
    assert [a.text for a in result.lost] == [questions[0][0]]
    assert not result.doubled
    assert result.answered == 1
    assert result.failed_send_calls == 1, "sent once, never repeated"
    assert len(not_retried) == 1


async def test_a_connection_dropped_without_an_answer_is_retried(
    emulator: EmulatorServer,
    telegram_user: TelegramUser,
    content_dir: Path,
    tmp_path: Path,
    questions: list[tuple[str, Key]],
) -> None:
    """The API closes the connection of two sendMessage calls without answering (after 0.3 s): the request
    was never carried out, so it is sent again; each question is answered once."""
    await telegram_user.faults({"method": "sendMessage", "kind": "timeout", "count": 2, "seconds": 0.3})
    started = time.monotonic()
    async with running_bot(emulator.base_url, telegram_user, tmp_path) as bot:
        await bot.ask_each(bot.chats(private=3, groups=1), questions)
        result = await bot.wait_answered(timeout=10)
        elapsed = time.monotonic() - started
        print(result.line("sendMessage connection closed with no answer x2", elapsed, retries=bot.retries))
        result.assert_exactly_once()
        assert result.failed_send_calls == 2
        assert bot.retries == 2
        bot.assert_clean()


# --- the API going away -----------------------------------------------------------------------------------


async def _fetched_message_ids(user: TelegramUser) -> set[int]:
    calls = await user.bot_calls("getUpdates")
    return {int(u["message"]["message_id"]) for c in calls if c["ok"] for u in c["result"] if "message" in u}


async def _until(condition: Any, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def test_the_api_process_dies_and_comes_back(
    content_dir: Path, tmp_path: Path, questions: list[tuple[str, Key]]
) -> None:
    """The emulator is killed while answers are in hand (fetched, waiting out a 429), stays down 2 s and
    restarts on the same port with no memory; more questions come after. In-hand answers are retried
    until it is back; nothing is lost or doubled."""
    with EmulatorServer() as emulator:  # its own: a restart would disturb other tests
        async with TelegramUser(emulator) as user:
            started = time.monotonic()
            async with running_bot(emulator.base_url, user, tmp_path, poll_timeout=2) as bot:
                before = await bot.ask_each(bot.chats(private=3, groups=1), questions)
                assert (await bot.wait_answered(timeout=10)).answered == len(before)

                await user.faults({"method": "sendMessage", "kind": "429", "count": 1, "retry_after": 1})
                in_hand = await bot.ask_each(bot.chats(private=4, groups=2), questions, offset=3)
                wanted = {a.message_id for a in in_hand}

                async def all_fetched() -> bool:
                    return wanted <= await _fetched_message_ids(user)

                await _until(all_fetched)
                calls_before = await user.bot_calls("sendMessage")  # the dead process's record dies with it
                emulator.stop()
                await asyncio.sleep(2.0)
                emulator.start()
                after = await bot.ask_each(bot.chats(private=4, groups=2), questions, offset=9)
                result = await bot.wait_answered(timeout=20, calls_before=calls_before)
                elapsed = time.monotonic() - started
                print(
                    result.line(
                        "API process killed for 2 s and restarted",
                        elapsed,
                        before=len(before),
                        in_hand=len(in_hand),
                        after_restart=len(after),
                        retries=bot.retries,
                    )
                )
                result.assert_exactly_once()
                assert bot.retries >= 1, "the answer in hand met the dead API and was retried"
                bot.assert_clean(allow_polling_errors=True)


async def test_a_network_outage_with_questions_queued_meanwhile(
    emulator: EmulatorServer,
    telegram_user: TelegramUser,
    content_dir: Path,
    tmp_path: Path,
    questions: list[tuple[str, Key]],
) -> None:
    """The API becomes unreachable for 2 s (a proxy refuses and resets connections) while answers are in
    hand, and users keep asking: those questions wait at the API and are fetched when it is back."""
    proxy = ApiProxy(emulator)
    await proxy.start()
    try:
        started = time.monotonic()
        async with running_bot(proxy.base_url, telegram_user, tmp_path, poll_timeout=2) as bot:
            before = await bot.ask_each(bot.chats(private=3, groups=1), questions)
            assert (await bot.wait_answered(timeout=10)).answered == len(before)

            await telegram_user.faults({"method": "sendMessage", "kind": "429", "count": 1, "retry_after": 1})
            in_hand = await bot.ask_each(bot.chats(private=3, groups=2), questions, offset=3)
            wanted = {a.message_id for a in in_hand}

            async def all_fetched() -> bool:
                return wanted <= await _fetched_message_ids(telegram_user)

            await _until(all_fetched)
            await proxy.cut()
            during = await bot.ask_each(bot.chats(private=4, groups=2), questions, offset=7)
            await asyncio.sleep(2.0)
            await proxy.restore()
            after = await bot.ask_each(bot.chats(private=2, groups=1), questions, offset=11)
            result = await bot.wait_answered(timeout=20)
            elapsed = time.monotonic() - started
            refused = sum(1 for c in await telegram_user.bot_calls("sendMessage") if not c["ok"])
            print(
                result.line(
                    "API unreachable for 2 s (connections refused and reset)",
                    elapsed,
                    before=len(before),
                    in_hand=len(in_hand),
                    sent_during_outage=len(during),
                    after=len(after),
                    failed_at_api=refused,
                    retries=bot.retries,
                )
            )
            result.assert_exactly_once()
            assert bot.retries >= 1, "the answer in hand met the outage and was retried"
            bot.assert_clean(allow_polling_errors=True)
    finally:
        await proxy.aclose()


# --- a burst ------------------------------------------------------------------------------------------------


async def test_a_burst_from_thirty_chats_is_answered_exactly_once(
    emulator: EmulatorServer,
    telegram_user: TelegramUser,
    content_dir: Path,
    tmp_path: Path,
    questions: list[tuple[str, Key]],
) -> None:
    """300 questions, 10 from each of 20 private chats and 10 groups (/ask), all at once: questions in the 5
    content languages from users whose Telegram is set to 7 different languages (or none). The rate is
    Telegram's flood limit (30 messages/s overall, enforced by AIORateLimiter), not the bot's."""
    async with running_bot(emulator.base_url, telegram_user, tmp_path) as bot:
        chats = bot.chats(private=20, groups=10)
        started = time.monotonic()
        await bot.ask_each(chats, questions, per_chat=10)
        sent_in = time.monotonic() - started
        result = await bot.wait_answered(timeout=28)
        elapsed = time.monotonic() - started - 0.5  # wait_answered's final look for doubles
        languages = Counter(a.key[0] for a in bot.asked)
        print(
            result.line(
                "burst: 300 questions from 30 chats",
                elapsed,
                sent_in=f"{sent_in:.2f}s",
                answers_per_s=f"{result.answered / elapsed:.1f}",
                languages=dict(languages),
            )
        )
        result.assert_exactly_once()
        assert result.asked == 300
        assert len(languages) == 5
        bot.assert_clean()
