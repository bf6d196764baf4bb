"""SIGTERM, as a container runtime sends it: `python -m bot run` (polling, then webhook mode) stops taking
updates, finishes the ones in hand, exits 0, and a restarted process answers nothing a second time.

"In hand" is made certain with a 429 (retry_after 2 s) on the first answer: when the signal arrives both
questions have been fetched (or posted to the webhook) and neither is answered yet.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from .harness import EmulatorServer, FakeChat, TelegramUser, private_chat

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "content"
SECRET = "sigterm-Webhook_secret-42"
Q_RU = "Чем внутренние продажи отличаются от внешних?"
Q_PL = "Jakie są zalety sprzedaży wewnętrznej?"
Q_MS = "Berapakah gaji wakil jualan dalaman?"

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    log: IO[bytes]

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def update_lines(self) -> list[dict[str, Any]]:
        """The structured per-update log lines (LOG_JSON=true)."""
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("event") == "update":
                    lines.append(entry)
        return lines

    async def terminate(self, timeout: float = 10.0) -> tuple[int, float]:  # noqa: ASYNC109
        """SIGTERM; returns (exit code, seconds it took to exit)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        return code, time.monotonic() - started


@asynccontextmanager
async def bot_process(env: dict[str, str], cwd: Path) -> AsyncIterator[BotProcess]:
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        try:
            yield BotProcess(process, log)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


def base_env(emulator: EmulatorServer, user: TelegramUser, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "VECTOR_CACHE_DIR": os.environ["VECTOR_CACHE_DIR"],  # set by tests/conftest.py: embedded once
        "TELEGRAM_BOT_TOKEN": user.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "CONTENT_DIR": str(CONTENT),
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_JSON": "true",
        "USER_RATE_LIMIT": "100",
    }


def answers_to(calls: list[dict[str, Any]], chat: FakeChat) -> int:
    """Complete answers delivered to a chat: the last message of an answer carries the feedback buttons."""

    def has_feedback(params: dict[str, Any]) -> bool:
        rows = (params.get("reply_markup") or {}).get("inline_keyboard", [])
        return any(str(b.get("callback_data", "")).startswith("v1:f:") for row in rows for b in row)

    return sum(
        1 for c in calls if c["ok"] and str(c["params"]["chat_id"]) == str(chat.id) and has_feedback(c["params"])
    )


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def test_sigterm_while_polling_finishes_in_hand_updates_and_a_restart_answers_nothing_twice(
    emulator: EmulatorServer, telegram_user: TelegramUser, tmp_path: Path
) -> None:
    user = telegram_user
    env = base_env(emulator, user, tmp_path)
    first, second, later = (private_chat(user_id=5001 + i, language_code=c) for i, c in enumerate(["ru", "pl", "ms"]))

    async with bot_process(env, tmp_path) as bot:
        await user.wait_for_call("deleteWebhook", timeout=20)  # PTB's bootstrap: polling starts next
        await user.faults({"method": "sendMessage", "kind": "429", "count": 1, "retry_after": 2})
        asked = [await user.send_text(first, Q_RU), await user.send_text(second, Q_PL)]
        wanted = {m["message_id"] for m in asked}

        async def in_hand() -> bool:
            polls = await user.bot_calls("getUpdates")
            fetched = {u["message"]["message_id"] for c in polls if c["ok"] for u in c["result"] if "message" in u}
            refused = [c for c in await user.bot_calls("sendMessage") if c.get("error") == "fault: 429"]
            return wanted <= fetched and bool(refused)

        await until(in_hand)
        assert answers_to(await user.bot_calls("sendMessage"), first) == 0, "not answered yet: in hand"
        code, took = await bot.terminate()
        output = bot.output()
        updates = bot.update_lines()
    calls = await user.bot_calls("sendMessage")
    polls = await user.bot_calls("getUpdates")
    print(
        f"\n[signals] polling: SIGTERM with 2 questions in hand -> exit {code} in {took:.2f}s, "
        f"answered {answers_to(calls, first)}+{answers_to(calls, second)}"
    )

    assert code == 0, output
    assert took < 6.0
    assert '"level": "ERROR"' not in output, output
    assert (answers_to(calls, first), answers_to(calls, second)) == (1, 1), "finished the updates in hand"
    last_update_id = max(u["update_id"] for c in polls if c["ok"] for u in c["result"])
    assert polls[-1]["params"]["offset"] == last_update_id + 1, "the offset was confirmed on the way out"
    assert user.token.split(":")[1] not in output
    # One structured line per update: kind, language, answered, score, latency.
    assert [(u["kind"], u["language"], u["answered"]) for u in updates] == [
        ("question", "ru", True),
        ("question", "pl", True),
    ]
    assert all(isinstance(u["score"], float) and u["latency_ms"] >= 2000 for u in updates[:1])

    # A restarted process: nothing redelivered, nothing answered twice; a new question is answered.
    async with bot_process(env, tmp_path) as bot:
        await until(lambda: _calls_after(user, "getUpdates", len(polls)), timeout=20)
        await user.send_text(later, Q_MS)
        await until(lambda: _answered(user, later))
        await asyncio.sleep(0.3)
        code, took = await bot.terminate()
    calls = await user.bot_calls("sendMessage")
    assert code == 0
    assert [answers_to(calls, chat) for chat in (first, second, later)] == [1, 1, 1]


async def _calls_after(user: TelegramUser, method: str, count: int) -> bool:
    return len(await user.bot_calls(method)) > count


async def _answered(user: TelegramUser, chat: FakeChat) -> bool:
    return answers_to(await user.bot_calls("sendMessage"), chat) > 0


async def _pending(emulator: EmulatorServer, token: str) -> int:
    async with httpx.AsyncClient() as client:
        info = (await client.post(f"{emulator.base_url}{token}/getWebhookInfo")).json()["result"]
    return int(info["pending_update_count"])


async def test_sigterm_in_webhook_mode_stops_accepting_drains_and_a_restart_gets_the_rest(
    emulator: EmulatorServer, telegram_user: TelegramUser, tmp_path: Path
) -> None:
    user = telegram_user
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = base_env(emulator, user, tmp_path) | {
        "WEBHOOK_URL": f"{url}/tg/hook",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_SECRET": SECRET,
        "METRICS": "true",
    }
    first, second, during = (private_chat(user_id=6001 + i, language_code=c) for i, c in enumerate(["ru", "pl", "ms"]))

    async with httpx.AsyncClient() as client, bot_process(env, tmp_path) as bot:
        await user.wait_for_call("setWebhook", timeout=20)
        health = await client.get(f"{url}/healthz")
        forged = await client.post(
            f"{url}/tg/hook", json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
        )
        await user.faults({"method": "sendMessage", "kind": "429", "count": 1, "retry_after": 2})
        await user.send_text(first, Q_RU)
        await user.send_text(second, Q_PL)

        async def in_hand() -> bool:
            refused = [c for c in await user.bot_calls("sendMessage") if c.get("error") == "fault: 429"]
            return bool(refused) and await _pending(emulator, user.token) == 0  # both posted and acknowledged

        await until(in_hand)
        started = time.monotonic()
        bot.process.send_signal(signal.SIGTERM)

        async def refused_connections() -> bool:
            async with httpx.AsyncClient() as fresh:  # a new connection each time, not a kept-alive one
                try:
                    await fresh.get(f"{url}/healthz", timeout=1)
                except httpx.ConnectError:
                    return True
            return False

        await until(refused_connections, timeout=5)  # no longer accepting
        await user.send_text(during, Q_MS)  # Telegram keeps it: posts are refused until a process is back
        code = await asyncio.wait_for(bot.process.wait(), 10)
        took = time.monotonic() - started
        output = bot.output()
        pending_while_down = await _pending(emulator, user.token)
    calls = await user.bot_calls("sendMessage")
    print(
        f"\n[signals] webhook: SIGTERM with 2 questions in hand -> exit {code} in {took:.2f}s, answered "
        f"{answers_to(calls, first)}+{answers_to(calls, second)}, 1 sent while stopping kept pending"
    )

    assert code == 0, output
    assert took < 6.0
    assert '"level": "ERROR"' not in output, output
    assert health.status_code == 200
    assert health.json()["articles"] == 5
    assert forged.status_code == 403
    assert (answers_to(calls, first), answers_to(calls, second), answers_to(calls, during)) == (1, 1, 0)
    assert pending_while_down == 1
    assert SECRET not in output
    assert user.token.split(":")[1] not in output
    assert "webhook POST /tg/hook -> 403" in output

    async with httpx.AsyncClient() as client, bot_process(env, tmp_path) as bot:
        await until(lambda: _answered(user, during), timeout=20)
        await asyncio.sleep(0.3)
        metrics = (await client.get(f"{url}/metrics")).text
        code, _ = await bot.terminate()
    calls = await user.bot_calls("sendMessage")
    assert code == 0
    assert [answers_to(calls, chat) for chat in (first, second, during)] == [1, 1, 1]
    assert 'bot_updates_total{kind="question"} 1.0' in metrics
    assert 'bot_questions_total{language="ms",outcome="answered"} 1.0' in metrics
    assert 'bot_webhook_requests_total{status="200"} 1.0' in metrics
