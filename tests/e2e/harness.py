"""End-to-end harness: real python-telegram-bot against a local Bot API emulator.

`EmulatorServer` runs tests/emulator/server.js (telegram-test-api plus our compatibility layer),
`TelegramUser` plays the user over its test routes, and `polling()` / `BotErrors` run a PTB Application
inside the test's event loop and collect what went wrong inside it. Tests isolate themselves by using a
fresh bot token each: the emulator keeps all state per token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx
from telegram.ext import Application, ApplicationBuilder, ContextTypes

EMULATOR_DIR = Path(__file__).resolve().parents[1] / "emulator"
DEFAULT_BOT_USERNAME = "InsideSalesTestBot"

Json = dict[str, Any]


class EmulatorError(RuntimeError):
    """The emulator could not start, or refused a test request."""


def new_token() -> str:
    """A fresh, well-formed bot token; its numeric prefix becomes the bot's id in getMe."""
    return f"{uuid.uuid4().int % 10**9 + 10**9}:TEST{uuid.uuid4().hex}"


class EmulatorServer:
    """The Node emulator as a subprocess on 127.0.0.1.

    start() picks a free port the first time and reuses it afterwards, so restart() makes the API go away
    and come back at the same address, as a running bot would see it.
    """

    def __init__(self, *, bot_username: str = DEFAULT_BOT_USERNAME, start_timeout: float = 10.0) -> None:
        self.bot_username = bot_username
        self.start_timeout = start_timeout
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        # stderr goes to a file: a pipe nobody reads fills up and then blocks Node's (synchronous) logging.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server object

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmulatorError("the emulator has not been started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder.base_url()."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ApplicationBuilder.base_file_url()."""
        return f"{self.url}/file/bot"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        node = shutil.which("node")
        if node is None:
            raise EmulatorError("node is not on PATH; the e2e tests need Node 20")
        if not (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
            raise EmulatorError("the emulator's packages are missing: run npm ci --prefix tests/emulator")
        command = [node, "server.js", "--port", str(self.port or 0), "--bot-username", self.bot_username]
        # --watch-stdin: Node exits when our end of stdin closes, so a killed pytest leaves no orphan.
        self._proc = subprocess.Popen(
            [*command, "--watch-stdin"],
            cwd=EMULATOR_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,  # its own process group, so stop() can end the whole tree
        )
        try:
            ready = self._read_ready_line()
        except EmulatorError:
            self.stop()
            raise
        self.port = int(ready["port"])

    def _read_ready_line(self) -> Json:
        assert self._proc is not None
        assert self._proc.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timeout = self.start_timeout
                    raise EmulatorError(f"the emulator did not start in {timeout} s\n{self.log_text()}")
                if selector.select(remaining):
                    chunk = os.read(self._proc.stdout.fileno(), 4096)
                    if not chunk:
                        raise EmulatorError(f"the emulator exited while starting\n{self.log_text()}")
                    buffer += chunk
        line = json.loads(buffer.split(b"\n", 1)[0])
        if not line.get("ready"):
            raise EmulatorError(f"unexpected first line from the emulator: {line}")
        return dict(line)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()

    def restart(self, downtime: float = 0.0) -> None:
        """Stops and starts on the same port (blocking: inside async tests prefer stop/await sleep/start)."""
        self.stop()
        time.sleep(downtime)
        self.start()

    def log_text(self) -> str:
        """What the emulator wrote to stderr so far, for debugging a failed test."""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user the test plays."""

    id: int
    first_name: str
    language_code: str | None = "en"
    username: str | None = None

    def to_api(self) -> Json:
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        if self.username:
            user["username"] = self.username
        return user


@dataclass(frozen=True)
class FakeChat:
    """A chat; `member` is who sends the messages and presses the buttons when the test acts in it."""

    id: int
    type: str
    member: FakeUser
    title: str | None = None

    def to_api(self) -> Json:
        if self.type == "private":
            chat: Json = {"id": self.id, "type": "private", "first_name": self.member.first_name}
            if self.member.username:
                chat["username"] = self.member.username
            return chat
        return {"id": self.id, "type": self.type, "title": self.title or "Test group"}


def private_chat(
    user_id: int = 1001,
    first_name: str = "Alice",
    language_code: str | None = "en",
    username: str | None = None,
) -> FakeChat:
    user = FakeUser(user_id, first_name, language_code, username)
    return FakeChat(id=user_id, type="private", member=user)


def group_chat(
    chat_id: int = -4242,
    title: str = "Sales team",
    member: FakeUser | None = None,
    chat_type: str = "group",
) -> FakeChat:
    if chat_id >= 0:
        raise ValueError("group chat ids are negative")
    return FakeChat(id=chat_id, type=chat_type, member=member or FakeUser(2002, "Bob"), title=title)


def command_entities(text: str) -> list[Json]:
    """bot_command entities as Telegram computes them (offsets in UTF-16 code units)."""

    def utf16_len(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in re.finditer(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
    ]


class Reply(dict[str, Any]):
    """The params of a bot call (a plain dict), plus the recorded call and the Message the bot got back."""

    def __init__(self, call: Json) -> None:
        super().__init__(call["params"])
        self.call = call

    @property
    def message(self) -> Json:
        return dict(self.call.get("result") or {})

    @property
    def buttons(self) -> list[list[Json]]:
        """The inline keyboard's rows, or []."""
        return list((self.get("reply_markup") or {}).get("inline_keyboard", []))


class TelegramUser:
    """Plays the user(s) talking to one bot (one token) through the emulator's test routes."""

    def __init__(self, emulator: EmulatorServer, token: str | None = None, *, poll_interval: float = 0.02) -> None:
        self.emulator = emulator
        self.token = token or new_token()
        self.bot_username = emulator.bot_username
        self.poll_interval = poll_interval
        self._client = httpx.AsyncClient(timeout=10)
        self._consumed: set[int] = set()  # calls already returned by wait_for_*, so each is returned once
        self._chats: dict[int, FakeChat] = {}  # chats the test acted in: who presses buttons there

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def _post(self, path: str, payload: Json) -> Any:
        response = await self._client.post(f"{self.emulator.url}{path}", json=payload)
        data = response.json()
        if not data.get("ok"):
            raise EmulatorError(f"{path} refused: {data.get('description') or data}")
        return data["result"]

    def _message(self, chat: FakeChat, text: str, sender: FakeUser | None, reply_to: Mapping[str, Any] | None) -> Json:
        self._chats[chat.id] = chat
        message: Json = {
            "botToken": self.token,
            "from": (sender or chat.member).to_api(),
            "chat": chat.to_api(),
            "date": int(time.time()),
            "text": text,
        }
        if entities := command_entities(text):
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to.message if isinstance(reply_to, Reply) else dict(reply_to)
        return message

    async def send_text(
        self,
        chat: FakeChat,
        text: str,
        *,
        reply_to: Mapping[str, Any] | None = None,
        sender: FakeUser | None = None,
    ) -> Json:
        """Sends a message; returns it as the bot will receive it (with message_id)."""
        update = await self._post("/sendMessage", self._message(chat, text, sender, reply_to))
        return dict(update["message"])

    async def send_command(
        self,
        chat: FakeChat,
        text: str,
        *,
        sender: FakeUser | None = None,
        reply_to: Mapping[str, Any] | None = None,
    ) -> Json:
        """Sends e.g. "/start payload" or "/help@BotName"; the bot_command entities are computed."""
        if not text.startswith("/"):
            raise ValueError(f"a command starts with '/': {text!r}")
        update = await self._post("/sendCommand", self._message(chat, text, sender, reply_to))
        return dict(update["message"])

    async def press_button(self, message: Mapping[str, Any], data: str, *, sender: FakeUser | None = None) -> Json:
        """Presses the inline button with this callback_data under a message the bot sent.

        `message` is a Reply from wait_for_reply() or a Message dict. Returns the callback_query.
        """
        sent = message.message if isinstance(message, Reply) else dict(message)
        keyboard = (sent.get("reply_markup") or {}).get("inline_keyboard", [])
        offered = [button.get("callback_data") for row in keyboard for button in row]
        if data not in offered:
            raise AssertionError(f"no button with callback_data {data!r} under the message: {offered}")
        chat = self._chats.get(sent["chat"]["id"])
        presser = sender or (chat.member if chat else FakeUser(sent["chat"]["id"], "User"))
        payload = {"botToken": self.token, "from": presser.to_api(), "message": sent, "data": data}
        update = await self._post("/sendCallback", payload)
        return dict(update["callback_query"])

    async def send_inline_query(
        self, user: FakeUser, query: str, *, offset: str = "", chat_type: str = "private"
    ) -> Json:
        inline_query = {"from": user.to_api(), "query": query, "offset": offset, "chat_type": chat_type}
        update = await self.inject_update({"inline_query": inline_query})
        return dict(update["inline_query"])

    async def inject_update(self, update: Mapping[str, Any]) -> Json:
        """Queues a raw Update (update_id is assigned; message_id/date are filled in when missing)."""
        return dict(await self._post("/test/injectUpdate", {"botToken": self.token, "update": dict(update)}))

    async def bot_calls(self, method: str | None = None, *, include_get_updates: bool = False) -> list[Json]:
        """Every call the bot made: {seq, method, params, time, ok, result | error}; getUpdates left out."""
        payload: Json = {"token": self.token, "include_get_updates": include_get_updates}
        if method:
            payload["method"] = method
        return list(await self._post("/test/botCalls", payload))

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Json], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for polling the record, not an I/O timeout
    ) -> Reply:
        """Waits for the next successful call of `method` (params matching `predicate`) not yet returned."""
        deadline = time.monotonic() + timeout
        while True:
            for call in await self.bot_calls(method):
                fresh = call["ok"] and call["seq"] not in self._consumed
                if fresh and (predicate is None or predicate(call["params"])):
                    self._consumed.add(call["seq"])
                    return Reply(call)
            if time.monotonic() > deadline:
                seen = [(c["method"], c["params"], c.get("error")) for c in await self.bot_calls()]
                raise AssertionError(f"no {method} call within {timeout} s; the bot called: {seen}")
            await asyncio.sleep(self.poll_interval)

    async def wait_for_reply(
        self,
        chat_id: int,
        predicate: Callable[[Json], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - as in wait_for_call
    ) -> Reply:
        """Waits for the next delivered sendMessage to `chat_id`; returns its params (a Reply)."""

        def matches(params: Json) -> bool:
            return str(params.get("chat_id")) == str(chat_id) and (predicate is None or predicate(params))

        return await self.wait_for_call("sendMessage", matches, timeout=timeout)

    async def assert_no_reply(self, chat_id: int, within: float = 0.3) -> None:
        """Fails if the bot sends (another) message to `chat_id` within `within` seconds."""
        await asyncio.sleep(within)
        extra = [
            c["params"]
            for c in await self.bot_calls("sendMessage")
            if c["ok"] and c["seq"] not in self._consumed and str(c["params"].get("chat_id")) == str(chat_id)
        ]
        assert not extra, f"unexpected messages to {chat_id}: {extra}"

    async def faults(self, *rules: Mapping[str, Any]) -> None:
        """Makes the next matching bot calls fail, replacing earlier rules; no rules clears them.

        A rule: {"method": "sendMessage" | "getUpdates" | "*", "kind": "429" | "500" | "409" | "timeout",
        "count": 1, "retry_after": 1 (for 429), "seconds": 30 (for timeout: how long to hold the request)}.
        """
        await self._post("/test/faults", {"token": self.token, "rules": [dict(rule) for rule in rules]})


class ApiProxy:
    """A TCP proxy on 127.0.0.1 between the bot and the emulator that can make the API go away and come back
    without the emulator losing anything (unlike EmulatorServer.stop(), which forgets every queued update).

    cut(): stop listening (new connections are refused) and reset every open connection, as a network
    outage looks to the bot. restore(): listen again on the same port. The user side keeps talking to the
    emulator directly, so messages sent during an outage wait in the emulator's queue, as at Telegram.
    """

    def __init__(self, emulator: EmulatorServer) -> None:
        self.emulator = emulator
        self.port: int | None = None
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.connections = 0  # accepted since start, for the test's figures

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmulatorError("the proxy has not been started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def up(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port or 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        if server is not None:
            await server.wait_closed()

    async def restore(self) -> None:
        await self.start()

    async def aclose(self) -> None:
        await self.cut()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        assert self.emulator.port is not None
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.emulator.port)
        except OSError:
            client_writer.transport.abort()
            return
        self._open |= {client_writer, upstream_writer}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while chunk := await reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()  # one side finished: so is the other

        try:
            await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
        finally:
            self._open -= {client_writer, upstream_writer}
            for writer in (client_writer, upstream_writer):
                writer.transport.abort()


def app_builder(emulator: EmulatorServer, token: str) -> ApplicationBuilder:  # type: ignore[type-arg]
    """An ApplicationBuilder pointed at the emulator; add handlers, defaults, a rate limiter as needed."""
    builder = Application.builder().token(token)
    return builder.base_url(emulator.base_url).base_file_url(emulator.base_file_url)


@asynccontextmanager
async def polling(
    app: Application,  # type: ignore[type-arg]
    *,
    poll_timeout: int = 5,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Runs `app` as run_polling() would (post_init included), but inside the test's event loop.

    Long polling with poll_interval 0: the emulator holds getUpdates until an update arrives, so replies
    are fast and the CPU stays idle; stopping cancels the held request at once.
    """
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
        await app.start()
        yield app
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


class Records(logging.Handler):
    """Keeps the log records at `level` and above (attach it to the loggers to watch)."""

    def __init__(self, level: int = logging.ERROR) -> None:
        super().__init__(level=level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class BotErrors(logging.Handler):
    """What went wrong inside PTB: exceptions in handlers (via an error handler) and ERROR logs.

    Checking only what the emulator received is not enough: a handler can send its reply and crash right
    after, or PTB can fail to parse an answer. Attach this and call assert_clean() at the end of a test.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.handler_errors: list[BaseException] = []
        self.records: list[logging.LogRecord] = []

    def attach(self, app: Application) -> Self:  # type: ignore[type-arg]
        app.add_error_handler(self._on_error)
        logging.getLogger("telegram").addHandler(self)
        return self

    def detach(self) -> None:
        logging.getLogger("telegram").removeHandler(self)

    async def _on_error(self, _update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            self.handler_errors.append(context.error)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def polling_errors(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.name == "telegram.ext.Updater"]

    def assert_clean(self, *, allow_polling_errors: bool = False) -> None:
        """No handler raised and nothing was logged at ERROR (polling errors optionally allowed)."""
        records = [r for r in self.records if not (allow_polling_errors and r.name == "telegram.ext.Updater")]
        problems = [repr(e) for e in self.handler_errors] + [
            f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else f"{r.name}: {r.getMessage()}"
            for r in records
        ]
        assert not problems, "errors inside the bot:\n" + "\n".join(problems)


__all__ = [
    "DEFAULT_BOT_USERNAME",
    "ApiProxy",
    "BotErrors",
    "EmulatorError",
    "EmulatorServer",
    "FakeChat",
    "FakeUser",
    "Reply",
    "TelegramUser",
    "app_builder",
    "command_entities",
    "group_chat",
    "new_token",
    "polling",
    "private_chat",
]
