"""What operators do, end to end: `python -m bot run` processes against the emulator (issue 10).

- kill -9 during a burst, then a restart: the store passes integrity_check, no question is answered
  twice, and the languages people pinned are still there;
- a second process polling with the same token (the emulator answers the older of two concurrent
  getUpdates with 409 Conflict, as Telegram does), and a 409 injected on demand: logged as what it is, and
  the bot stops with exit status 3 after CONFLICT_GRACE_SECONDS instead of retrying forever;
- a second process on the same DATA_DIR refuses to start (exit 2) and the first keeps answering.

Each test prints what the user and the operator saw, for the closing note.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from bot.store import database_path

from .harness import EmulatorServer, FakeChat, TelegramUser, private_chat
from .test_signals import Q_MS, Q_PL, Q_RU, BotProcess, answers_to, base_env, bot_process, until

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

POLISH_TITLE = "Sprzedaż wewnętrzna"  # content/pl/inside-sales.md
GRACE = "2"  # CONFLICT_GRACE_SECONDS in these tests


def store_rows(data_dir: Path, query: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(database_path(data_dir))
    try:
        return list(conn.execute(query))
    finally:
        conn.close()


async def pin(user: TelegramUser, chat: FakeChat, lang: str) -> None:
    """/lang, then the language's button: what a user does to pin the answer language."""
    await user.send_command(chat, "/lang")
    menu = await user.wait_for_reply(chat.id, timeout=10)
    await user.press_button(menu, f"v1:l:{lang}")
    await user.wait_for_call("editMessageText", lambda p: str(p.get("chat_id")) == str(chat.id), timeout=10)


async def exit_code(bot: BotProcess, timeout: float = 30.0) -> tuple[int, float]:  # noqa: ASYNC109
    started = time.monotonic()
    code = await asyncio.wait_for(bot.process.wait(), timeout)
    return code, time.monotonic() - started


async def until_quiet(user: TelegramUser, quiet: float = 1.5, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Until the bot has sent nothing new for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(await user.bot_calls("sendMessage"))
        if count != seen:
            seen, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the bot never went quiet")


def operator_lines(output: str, *needles: str) -> list[str]:
    return [line for line in output.splitlines() if any(needle in line for needle in needles)]


async def test_kill_9_during_a_burst_then_restart_loses_no_store_and_answers_nothing_twice(
    emulator: EmulatorServer, telegram_user: TelegramUser, tmp_path: Path
) -> None:
    user = telegram_user
    env = base_env(emulator, user, tmp_path)
    data = Path(env["DATA_DIR"])
    polish, russian = private_chat(user_id=7001, language_code="en"), private_chat(user_id=7002, language_code="en")
    burst = [private_chat(user_id=7100 + i, language_code="en") for i in range(60)]
    questions = [Q_RU, Q_PL, Q_MS]

    async with bot_process(env, tmp_path) as bot:
        await user.wait_for_call("deleteWebhook", timeout=20)
        await pin(user, polish, "pl")
        await pin(user, russian, "ru")

        async def ask_all() -> None:
            for i, chat in enumerate(burst):
                await user.send_text(chat, questions[i % 3])

        asking = asyncio.create_task(ask_all())

        async def some_answered() -> bool:
            calls = await user.bot_calls("sendMessage")
            return sum(answers_to(calls, chat) for chat in burst) >= 10

        await until(some_answered)
        bot.process.send_signal(signal.SIGKILL)
        code = await bot.process.wait()
        await asyncio.sleep(0)
        calls = await user.bot_calls("sendMessage")
        before_kill = sum(answers_to(calls, chat) for chat in burst)
        still_asking = not asking.done()
        await asking
    assert code == -signal.SIGKILL
    assert still_asking, "the kill came during the burst"
    integrity_after_kill = store_rows(data, "PRAGMA integrity_check")

    async with bot_process(env, tmp_path) as bot:
        await user.wait_for_call("deleteWebhook", timeout=20)

        await until_quiet(user)  # every question left is answered, or lost with the killed process
        await user.send_text(polish, Q_MS)  # asked in Malay: the pinned Polish answers
        pinned_answer = await user.wait_for_reply(polish.id, lambda p: POLISH_TITLE in p.get("text", ""), timeout=10)
        code_after, _ = await bot.terminate()
        output = bot.output()

    calls = await user.bot_calls("sendMessage")
    counts = [answers_to(calls, chat) for chat in burst]
    pinned = dict(store_rows(data, "SELECT user_id, language FROM user_language"))
    print(
        f"\n[operator] kill -9 after {before_kill} of {len(burst)} answers (exit {code}); after restart "
        f"answered once: {counts.count(1)}, twice or more: {sum(c > 1 for c in counts)}, never (lost with the "
        f"killed process): {counts.count(0)}; integrity after kill: {integrity_after_kill}; pinned: {pinned}; "
        f"restart exit {code_after}"
    )
    assert integrity_after_kill == [("ok",)]
    assert store_rows(data, "PRAGMA integrity_check") == [("ok",)]
    assert max(counts) == 1, "nothing is answered twice"
    assert counts.count(1) >= before_kill
    assert pinned == {7001: "pl", 7002: "ru"}, "the languages people pinned are still there"
    assert POLISH_TITLE in pinned_answer["text"]
    assert code_after == 0, output
    assert "damaged" not in output, "a store that survived a crash is not mistaken for a damaged one"


async def test_a_second_process_polling_with_the_same_token_stops_both_with_status_3(
    emulator: EmulatorServer, telegram_user: TelegramUser, tmp_path: Path
) -> None:
    user = telegram_user
    first_env = base_env(emulator, user, tmp_path) | {"CONFLICT_GRACE_SECONDS": GRACE, "LOG_JSON": "false"}
    second_env = first_env | {"DATA_DIR": str(tmp_path / "elsewhere")}  # another machine, as far as locks go
    chat = private_chat(user_id=7301, language_code="ms")

    async with bot_process(first_env, tmp_path) as first:
        await user.wait_for_call("deleteWebhook", timeout=20)
        await user.send_text(chat, Q_MS)
        await user.wait_for_reply(chat.id, timeout=10)  # the first one works alone
        async with bot_process(second_env, tmp_path) as second:
            (code_1, took_1), (code_2, took_2) = await asyncio.gather(exit_code(first), exit_code(second))
            outputs = [first.output(), second.output()]
    conflicts = [c for c in await user.bot_calls("getUpdates") if "Conflict" in str(c.get("error"))]
    print(
        f"\n[operator] two processes, one token: exits {code_1} and {code_2} after {took_1:.1f} / {took_2:.1f} s "
        f"({len(conflicts)} getUpdates answered 409); the first logged:"
    )
    for line in operator_lines(outputs[0], "409", "stopping"):
        print("   ", line)
    assert (code_1, code_2) == (3, 3)
    assert conflicts
    for output in outputs:
        [seen] = operator_lines(output, "Telegram answered getUpdates with 409 Conflict")
        assert "another process is polling with this bot token; stopping in 2 s if it goes on" in seen
        assert len(operator_lines(output, "stopping: another process has kept polling with this bot token")) == 1
        assert "Traceback" not in output, output
        assert user.token.split(":")[1] not in output


async def test_a_409_on_demand_is_survived_briefly_and_stops_the_bot_when_it_lasts(
    emulator: EmulatorServer, telegram_user: TelegramUser, tmp_path: Path
) -> None:
    user = telegram_user
    env = base_env(emulator, user, tmp_path) | {"CONFLICT_GRACE_SECONDS": GRACE, "LOG_JSON": "false"}
    chat = private_chat(user_id=7401, language_code="ru")

    async with bot_process(env, tmp_path) as bot:
        await user.wait_for_call("deleteWebhook", timeout=20)
        await user.faults({"method": "getUpdates", "kind": "409", "count": 1})  # a brief overlap
        await user.send_text(chat, Q_RU)
        await user.wait_for_reply(chat.id, timeout=15)
        assert bot.process.returncode is None, "a single 409 does not stop the bot"

        await user.faults({"method": "getUpdates", "kind": "409", "count": 10_000})  # it goes on
        code, took = await exit_code(bot)
        await user.faults()
        output = bot.output()
    print(f"\n[operator] 409 on every getUpdates: exit {code} after {took:.1f} s; logged:")
    for line in operator_lines(output, "409", "stopping"):
        print("   ", line)
    assert code == 3
    # One line per episode: 409s less than EPISODE_GAP_SECONDS apart are one episode, the grace counts from
    # its first (here the brief one), so the bot stops at the first 409 past the grace.
    assert len(operator_lines(output, "Telegram answered getUpdates with 409 Conflict")) == 1
    assert len(operator_lines(output, "stopping: another process has kept polling")) == 1


async def test_a_second_process_on_the_same_data_dir_refuses_to_start(
    emulator: EmulatorServer, telegram_user: TelegramUser, tmp_path: Path
) -> None:
    user = telegram_user
    env = base_env(emulator, user, tmp_path)
    chat = private_chat(user_id=7501, language_code="pl")

    async with bot_process(env, tmp_path) as first:
        await user.wait_for_call("deleteWebhook", timeout=20)
        async with bot_process(env, tmp_path) as second:
            code, took = await exit_code(second)
            refused = second.output()
        await user.send_text(chat, Q_PL)
        await user.wait_for_reply(chat.id, timeout=10)
        assert first.process.returncode is None
        code_first, _ = await first.terminate()
    print(f"\n[operator] second process on one DATA_DIR: exit {code} after {took:.1f} s: {refused.strip()}")
    assert code == 2
    assert refused == (
        f"configuration error: DATA_DIR={env['DATA_DIR']!r} is in use by another bot process (it holds the lock "
        f"on {Path(env['DATA_DIR']) / 'bot.lock'}): stop that process first, or give this one a DATA_DIR of its own\n"
    )
    assert code_first == 0
