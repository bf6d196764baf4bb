"""The webhook server (bot/telegram/webhook.py) on an ephemeral 127.0.0.1 port, in front of the real
Application (build_application, updater=False) talking to a fake Bot API: the secret-token check, bad and
oversized bodies, /healthz, /metrics, the stop sequence, and that the secret never reaches a log."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram.error import NetworkError, TimedOut

from auxil.offline import OfflineRequest
from auxil.updates import message, user
from bot.bootstrap import make_engine
from bot.logs import RedactSecrets
from bot.settings import Settings
from bot.store import Store
from bot.telegram.app import ALLOWED_UPDATES, App, build_application
from bot.telegram.metrics import BotMetrics
from bot.telegram.retries import should_retry
from bot.telegram.webhook import SECRET_HEADER, WebhookServer, serve

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content"
TOKEN = "123456789:AAwebhookTESTtokenAAAAAAAAAAAAAAAAAA"
SECRET = "wh-S3cret_value-that-must-never-be-logged"
BOT_ID = 123456789
QUESTION = "Что такое внутренние продажи?"
Json = dict[str, Any]

WEBHOOK_BOT: Json = {"id": BOT_ID, "is_bot": True, "first_name": "Bot", "username": "WebhookTestBot"}


def update(update_id: int, text: str = QUESTION, user_id: int = 1001) -> Json:
    return {"update_id": update_id, "message": message(text, sender=user(user_id, language_code="ru"))}


@dataclass
class Running:
    app: App
    api: OfflineRequest
    server: WebhookServer
    url: str
    metrics: BotMetrics | None

    @property
    def hook(self) -> str:
        return f"{self.url}/telegram/hook"

    async def wait_sent(self, count: int, timeout: float = 5.0) -> list[Json]:  # noqa: ASYNC109
        for _ in range(int(timeout / 0.01)):
            if len(self.api.sent()) >= count:
                break
            await asyncio.sleep(0.01)
        return self.api.sent()


def make_app(tmp_path: Path, api: OfflineRequest) -> App:
    if not (tmp_path / "content").exists():
        shutil.copytree(CONTENT, tmp_path / "content")
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "content_dir": tmp_path / "content",
        "data_dir": tmp_path / "data",
        "webhook_url": "https://bot.example.com/telegram/hook",
        "webhook_secret": SECRET,
        "user_rate_limit": 100,
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    return build_application(
        settings, make_engine(settings), Store.open(":memory:"), request=api, rate_limiter=False, updater=False
    )


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    started: list[Running] = []

    async def make(*, metrics: bool = False, max_body_bytes: int = 1 << 20, run_app: bool = True) -> Running:
        api = OfflineRequest(WEBHOOK_BOT)
        app = make_app(tmp_path, api)
        bot_metrics = BotMetrics() if metrics else None
        if bot_metrics is not None:
            bot_metrics.attach(app.bot_data)
        await app.initialize()
        server = WebhookServer(
            app, url_path="/telegram/hook/", secret_token=SECRET, metrics=bot_metrics, max_body_bytes=max_body_bytes
        )
        port = await server.start("127.0.0.1", 0)
        if run_app:
            await app.start()
        running = Running(app, api, server, f"http://127.0.0.1:{port}", bot_metrics)
        started.append(running)
        return running

    yield make
    for running in started:
        await running.server.stop()
        if running.app.running:
            await running.app.stop()
        await running.app.shutdown()


# --- the secret token -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {SECRET_HEADER: ""}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}, {SECRET_HEADER: SECRET + "x"},
     {SECRET_HEADER: SECRET.upper()}, {SECRET_HEADER.lower(): "wrong"}, {SECRET_HEADER: "é".encode() * 8}],
    ids=["missing", "empty", "wrong", "prefix", "longer", "case", "lowercase-header", "non-ascii"],
)  # fmt: skip
async def test_missing_or_wrong_secret_is_refused_and_nothing_is_queued(
    start: Callable[..., Any], headers: dict[str, Any]
) -> None:
    bot: Running = await start(run_app=False)  # nothing consumes the queue: whatever got in stays there
    async with httpx.AsyncClient() as client:
        response = await client.post(bot.hook, json=update(1), headers=headers)
    assert response.status_code == 403
    assert bot.app.update_queue.qsize() == 0
    assert bot.api.sent() == []


async def test_the_right_secret_gets_the_update_to_a_handler(start: Callable[..., Any]) -> None:
    bot: Running = await start()
    async with httpx.AsyncClient() as client:
        response = await client.post(bot.hook, json=update(1), headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    [answer] = await bot.wait_sent(1)
    assert answer["chat_id"] == 1001
    assert "Внутри продаж" in answer["text"] or "внутренн" in answer["text"].lower()


async def test_the_path_is_exact_and_only_post_is_accepted(start: Callable[..., Any]) -> None:
    bot: Running = await start()
    async with httpx.AsyncClient() as client:
        other = await client.post(f"{bot.url}/telegram/hook/x", json=update(1), headers={SECRET_HEADER: SECRET})
        root = await client.post(f"{bot.url}/", json=update(2), headers={SECRET_HEADER: SECRET})
        get = await client.get(bot.hook, headers={SECRET_HEADER: SECRET})
    assert (other.status_code, root.status_code, get.status_code) == (404, 404, 405)
    await asyncio.sleep(0.05)
    assert bot.api.sent() == []


# --- bad bodies ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"{", b"\xff\xfe", b"[]", b"42", b'"text"', b"null", b'{"message": {}}',
     b'{"update_id": "1"}', b'{"update_id": 1, "message": {"chat": 5}}'],
    ids=["empty", "text", "truncated", "not-utf8", "array", "number", "string", "null", "no-update-id",
         "string-update-id", "malformed-message"],
)  # fmt: skip
async def test_bodies_that_are_not_an_update_get_400(start: Callable[..., Any], body: bytes) -> None:
    bot: Running = await start(run_app=False)
    async with httpx.AsyncClient() as client:
        response = await client.post(bot.hook, content=body, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 400
    assert bot.app.update_queue.qsize() == 0


async def test_oversized_bodies_get_413_declared_or_streamed(start: Callable[..., Any]) -> None:
    bot: Running = await start(run_app=False, max_body_bytes=2_000)
    big = json.dumps(update(1, text="x" * 5_000)).encode()

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked transfer encoding
        for start_at in range(0, len(big), 500):
            yield big[start_at : start_at + 500]

    async with httpx.AsyncClient() as client:
        declared = await client.post(bot.hook, content=big, headers={SECRET_HEADER: SECRET})
        streamed = await client.post(bot.hook, content=chunks(), headers={SECRET_HEADER: SECRET})
        small = await client.post(bot.hook, json=update(2, text="hi"), headers={SECRET_HEADER: SECRET})
    assert (declared.status_code, streamed.status_code, small.status_code) == (413, 413, 200)
    assert bot.app.update_queue.qsize() == 1  # only the small one


async def test_an_unauthenticated_oversized_body_gets_403_not_413(start: Callable[..., Any]) -> None:
    bot: Running = await start(run_app=False, max_body_bytes=2_000)
    async with httpx.AsyncClient() as client:
        response = await client.post(bot.hook, content=b"x" * 10_000)
    assert response.status_code == 403


# --- /healthz and /metrics ------------------------------------------------------------------------------


async def test_healthz_is_200_while_running_and_503_otherwise(start: Callable[..., Any]) -> None:
    bot: Running = await start(run_app=False)
    async with httpx.AsyncClient() as client:
        before = await client.get(f"{bot.url}/healthz")
        await bot.app.start()
        running = await client.get(f"{bot.url}/healthz")
        await bot.app.stop()
        after = await client.get(f"{bot.url}/healthz")
    assert (before.status_code, before.json()) == (503, {"status": "unavailable", "running": False, "accepting": True})
    assert running.status_code == 200
    body = running.json()
    assert body["status"] == "ok"
    assert body["articles"] == 5
    assert body["languages"] == ["ar", "hi", "ms", "pl", "ru"]
    assert isinstance(body["uptime_s"], float)
    assert body["uptime_s"] >= 0
    assert (after.status_code, after.json()["running"]) == (503, False)


async def test_metrics_count_updates_questions_latency_and_webhook_statuses(start: Callable[..., Any]) -> None:
    bot: Running = await start(metrics=True)
    async with httpx.AsyncClient() as client:
        await client.post(bot.hook, json=update(1), headers={SECRET_HEADER: "wrong"})
        await client.post(bot.hook, json=update(2), headers={SECRET_HEADER: SECRET})
        await client.post(
            bot.hook, json=update(3, text="car tyre pressure prime minister"), headers={SECRET_HEADER: SECRET}
        )
        await bot.wait_sent(2)
        response = await client.get(f"{bot.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'bot_updates_total{kind="question"} 2.0' in text
    assert 'bot_questions_total{language="ru",outcome="answered"} 1.0' in text
    assert 'outcome="declined"} 1.0' in text
    assert "bot_answer_latency_seconds_count 2.0" in text
    assert 'bot_webhook_requests_total{status="403"} 1.0' in text
    assert 'bot_webhook_requests_total{status="200"} 2.0' in text
    assert SECRET not in text


async def test_metrics_are_off_unless_enabled(start: Callable[..., Any]) -> None:
    bot: Running = await start(metrics=False)
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{bot.url}/metrics")
    assert response.status_code == 404


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = BotMetrics(), BotMetrics()  # the global registry would raise "Duplicated timeseries"
    first.webhook_request(200)
    assert b'status="200"' in first.render()[0]
    assert b'status="200"' not in second.render()[0]


# --- the whole webhook mode: serve() ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_sets_the_webhook_drains_updates_in_hand_on_stop_and_never_logs_the_secret(
    tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    api = OfflineRequest(WEBHOOK_BOT)
    api.hold = asyncio.Event()
    app = make_app(tmp_path, api)
    port = _free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(
            app,
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url="https://bot.example.com/hook",
            secret_token=SECRET,
            allowed_updates=ALLOWED_UPDATES,
            metrics=BotMetrics(),
            stop_signals=(),
            stop=stop,
        )
    )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(500):
            if api.of("setWebhook"):
                break
            await asyncio.sleep(0.01)
        health = await client.get(f"{url}/healthz")
        accepted = [
            (await client.post(f"{url}/hook", json=update(i, user_id=2000 + i), headers={SECRET_HEADER: SECRET}))
            for i in range(1, 4)
        ]
        await client.post(f"{url}/hook", json=update(9), headers={SECRET_HEADER: "nope " + SECRET[:5]})
        await asyncio.sleep(0.05)  # the first answer is in hand (held), two more wait in the queue
        stop.set()
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.ConnectError):  # no longer accepting: Telegram keeps it for the next run
            await client.post(f"{url}/hook", json=update(4), headers={SECRET_HEADER: SECRET})
        assert not task.done(), "still finishing the updates in hand"
        api.hold.set()
        await asyncio.wait_for(task, 10)

    assert health.status_code == 200
    assert [r.status_code for r in accepted] == [200, 200, 200]
    [set_webhook] = [call.params for call in api.of("setWebhook")]
    assert set_webhook["secret_token"] == SECRET
    assert set_webhook["drop_pending_updates"] is False
    assert set_webhook["allowed_updates"] == ALLOWED_UPDATES
    assert sorted(p["chat_id"] for p in api.sent()) == [2001, 2002, 2003], "every update in hand answered once"
    assert not app.running

    def text(records: list[logging.LogRecord]) -> str:
        return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)

    # Our code and tornado never log it; PTB's DEBUG line for setWebhook lists the parameters, and the
    # redaction filter `run()` installs (the secret among the secrets) removes it there.
    own = text([r for r in logs.records if not r.name.startswith("telegram")])
    assert "webhook POST /hook -> 403" in own
    assert SECRET[:12] not in own
    redactor = RedactSecrets([TOKEN, SECRET])
    for record in logs.records:
        redactor.filter(record)
    assert SECRET not in text(logs.records)


# --- which failures the rate limiter retries (bot/telegram/retries.py) ----------------------------------


def _caused(error: Exception, cause: BaseException | None) -> Exception:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("endpoint", "error", "retried"),
    [
        ("sendMessage", _caused(NetworkError("httpx.ConnectError: refused"), httpx.ConnectError("refused")), True),
        ("sendMessage", _caused(TimedOut(), httpx.ConnectTimeout("slow")), True),
        ("sendMessage", _caused(TimedOut(), httpx.PoolTimeout("full")), True),
        ("sendMessage", NetworkError("Internal Server Error"), True),  # Telegram answered 5xx: nothing sent
        ("sendMessage", NetworkError("Bad Gateway"), True),
        ("sendMessage", _caused(TimedOut(), httpx.ReadTimeout("late")), False),  # may have been sent
        (
            "sendMessage",
            _caused(NetworkError("x"), httpx.RemoteProtocolError("Server disconnected without sending a response.")),
            True,
        ),
        (
            "sendMessage",
            _caused(
                NetworkError("x"),
                httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
            ),
            False,
        ),
        ("sendMessage", _caused(NetworkError("x"), httpx.ReadError("connection reset")), False),
        ("editMessageText", _caused(TimedOut(), httpx.ReadTimeout("late")), True),  # repeating is harmless
        ("answerCallbackQuery", _caused(NetworkError("x"), httpx.ReadError("reset")), True),
        ("setWebhook", _caused(NetworkError("x"), httpx.RemoteProtocolError("gone")), True),
    ],
)
def test_which_failures_are_retried(endpoint: str, error: Exception, retried: bool) -> None:
    assert should_retry(endpoint, error) is retried


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter's int retry_after
def test_telegrams_real_answers_are_not_retried() -> None:
    from telegram.error import BadRequest, Forbidden, RetryAfter

    assert not should_retry("sendMessage", BadRequest("message is too long"))
    assert not should_retry("editMessageText", BadRequest("message is not modified"))
    assert not should_retry("sendMessage", Forbidden("bot was blocked by the user"))
    assert not should_retry("sendMessage", RetryAfter(1))  # AIORateLimiter waits these out itself
