"""What operators do to the store and the settings (issue 10), short of a running Telegram: a damaged store,
a store from a newer bot, wrong directories and settings, a full disk, a backup while writing, a second
process on one DATA_DIR. The end-to-end cases (kill -9, 409 Conflict) are in tests/e2e/test_operator_faults.py.
"""

from __future__ import annotations

import html
import io
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import bot.settings
from auxil.offline import ADMIN, CONTENT, STRANGER, OfflineBot, make_settings, offline_api
from auxil.updates import user
from bot.bootstrap import make_engine
from bot.cli import main
from bot.environment import Environment
from bot.instance_lock import AlreadyRunning, InstanceLock
from bot.locales import t
from bot.settings import Settings
from bot.store import MIGRATIONS, Store, _WriteFailures, backup_database, database_path
from bot.telegram.app import build_application
from bot.telegram.conflict import ConflictWatch

REPO = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
NOT_A_DATABASE = b"half of a restored backup, or any bytes that are not SQLite\n" * 40


def cli(argv: list[str], monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str, str]:
    """`python -m bot ARGV` in this process with only these settings in the environment."""
    for name in list(os.environ):
        if name in Settings.model_fields or name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out, err = io.StringIO(), io.StringIO()
    environment = Environment(stdout=out, stderr=err, settings_factory=lambda: Settings(_env_file=None))  # type: ignore[call-arg]
    code = main(argv, environment)
    return code, out.getvalue(), err.getvalue()


def log_question(store: Store, user_id: int = 1, text: str = "zzz qqq?") -> int | None:
    return store.log_question(
        user_id=user_id, chat_kind="private", language="en", question=text, answered=False, score=0.1,
        article=None, heading=None,
    )  # fmt: skip


def integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


# --- a damaged store ------------------------------------------------------------------------------------


def damaged_pages(path: Path) -> None:
    """A real store whose b-tree pages were overwritten: a bad disk, a copy cut short and patched."""
    with Store.open(path) as store:
        for i in range(2000):
            log_question(store, i, "q" * 400)
    data = bytearray(path.read_bytes())
    data[8192 : 8192 + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))
    for side in ("-wal", "-shm"):
        path.with_name(path.name + side).unlink(missing_ok=True)


@pytest.mark.parametrize("damage", ["not a database", "corrupt pages"])
def test_a_damaged_store_is_kept_aside_and_a_fresh_one_started(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = database_path(tmp_path)
    if damage == "not a database":
        path.write_bytes(NOT_A_DATABASE)
    else:
        damaged_pages(path)
    original = path.read_bytes()
    caplog.set_level(logging.INFO, logger="bot.store")

    with Store.open(path) as store:
        [kept] = tmp_path.glob("bot.sqlite3.damaged-*")
        assert kept.read_bytes() == original, "the damaged file is renamed, byte for byte, never deleted"
        assert kept.name[len("bot.sqlite3.damaged-") :].endswith("Z"), "a UTC timestamp in the name"
        store.set_language(1, "pl")
        assert store.get_language(1) == "pl", "the fresh store works"
        assert store.startup_problem is not None
        assert kept.name in store.startup_problem
    [logged] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged.levelno == logging.ERROR
    assert "\n" not in logged.getMessage(), "one line"
    assert "damaged" in logged.getMessage()
    assert kept.name in logged.getMessage()
    assert integrity(path) == ["ok"]

    with Store.open(path) as again:  # the next start finds a healthy store: nothing more is moved
        assert again.startup_problem is None
        assert again.get_language(1) == "pl"
    assert len(list(tmp_path.glob("bot.sqlite3.damaged-*"))) == 1


def test_a_store_from_a_newer_bot_is_refused_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    conn = sqlite3.connect(database_path(data))
    conn.execute("CREATE TABLE from_the_future (x)")
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    before = database_path(data).read_bytes()

    code, _, err = cli(["run"], monkeypatch, TELEGRAM_BOT_TOKEN=TOKEN, DATA_DIR=str(data), CONTENT_DIR=str(CONTENT))

    assert code == 2
    [line] = err.splitlines()
    known = len(MIGRATIONS)  # every merged feature that adds tables adds a migration
    assert f"written by a newer version of the bot (schema version 7; this version knows up to {known})" in line
    assert "Traceback" not in err
    assert database_path(data).read_bytes() == before, "never migrated backwards, never moved"
    assert not list(data.glob("*.damaged-*"))


@pytest.fixture
async def make_file_bot(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """An offline Application (tests/auxil/offline.py) over a store in a real file."""
    shutil.copytree(CONTENT, tmp_path / "content")
    started: list[tuple[Any, Store]] = []

    async def make(store: Store) -> OfflineBot:
        settings = make_settings(tmp_path)
        api = offline_api()
        app = build_application(settings, make_engine(settings), store, request=api, rate_limiter=False)
        await app.initialize()
        started.append((app, store))
        await app.start()
        return OfflineBot(app, api, store, settings.content_dir)

    yield make
    for app, store in started:
        await app.stop()
        await app.shutdown()
        store.close()


async def test_admins_see_the_replaced_store_in_stats(tmp_path: Path, make_file_bot: Callable[..., Any]) -> None:
    path = database_path(tmp_path / "data")
    path.parent.mkdir()
    path.write_bytes(NOT_A_DATABASE)
    bot: OfflineBot = await make_file_bot(Store.open(path))

    [answer] = await bot.say("Berapakah gaji wakil jualan dalaman?")
    assert "Jualan Dalaman" in answer["text"], "answering never depended on the store"
    [stats] = await bot.say("/stats", sender=user(ADMIN))
    assert "Questions: 1, answered: 1" in stats["text"]
    assert "⚠️ Store problem at start-up: the store" in stats["text"]
    assert "bot.sqlite3.damaged-" in stats["text"]
    [refused] = await bot.say("/stats", sender=user(STRANGER))
    assert "damaged" not in refused["text"]
    assert refused["text"] == html.escape(t("en", "admin_only"), quote=False)


# --- configuration errors -------------------------------------------------------------------------------


def config_cases(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    content = str(CONTENT)
    yield (
        "DATA_DIR is a file",
        {"DATA_DIR": str(a_file), "CONTENT_DIR": content},
        (f"configuration error: DATA_DIR={str(a_file)!r} is a file, not a directory"),
    )
    under = a_file / "data"
    yield (
        "DATA_DIR under a file",
        {"DATA_DIR": str(under), "CONTENT_DIR": content},
        (f"configuration error: DATA_DIR={str(under)!r} cannot be created: {a_file} is a file"),
    )
    missing = tmp_path / "no-content"
    yield (
        "CONTENT_DIR missing",
        {"DATA_DIR": str(tmp_path / "d"), "CONTENT_DIR": str(missing)},
        (f"configuration error: CONTENT_DIR={str(missing)!r} does not exist"),
    )
    yield (
        "CONTENT_DIR is a file",
        {"DATA_DIR": str(tmp_path / "d"), "CONTENT_DIR": str(a_file)},
        (f"configuration error: CONTENT_DIR={str(a_file)!r} is a file, not a directory"),
    )
    yield (
        "RETENTION_DAYS=0",
        {"RETENTION_DAYS": "0", "CONTENT_DIR": content},
        ("configuration error: RETENTION_DAYS='0' is invalid: input should be greater than or equal to 1"),
    )
    yield (
        "ADMIN_USER_IDS not numeric",
        {"ADMIN_USER_IDS": "@alice", "CONTENT_DIR": content},
        ("configuration error: ADMIN_USER_IDS='@alice' is invalid: must be numeric Telegram user ids, comma-separated"),
    )
    yield (
        "WEBHOOK_PORT not a number",
        {"WEBHOOK_PORT": "https", "CONTENT_DIR": content},
        (
            "configuration error: WEBHOOK_PORT='https' is invalid: input should be a valid integer, unable to parse "
            "string as an integer"
        ),
    )


# Which commands need which setting: all of them read the settings; run needs both directories.
COMMANDS = {
    "run": ["run"],
    "ask": ["ask", "what is inside sales?"],
    "check-content": ["check-content"],
    "eval": ["eval", str(REPO / "tests" / "data" / "dev.tsv")],
    "backup": ["backup", "copy.sqlite3"],
}
USES = {"DATA_DIR": {"run", "backup"}, "CONTENT_DIR": {"run", "ask", "check-content", "eval"}}


def test_configuration_errors_are_one_line_exit_2_and_the_same_in_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for case, env, expected in config_cases(tmp_path):
        setting = expected.split(":")[1].split("=")[0].strip()
        for command, argv in COMMANDS.items():
            if setting in USES and command not in USES[setting]:
                continue
            code, out, err = cli(argv, monkeypatch, TELEGRAM_BOT_TOKEN=TOKEN, **env)
            assert (code, err, out) == (2, expected + "\n", ""), f"{case}: python -m bot {command}"


def test_a_configuration_error_from_the_real_process_has_no_traceback(tmp_path: Path) -> None:
    a_file = tmp_path / "data"
    a_file.write_text("")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "TELEGRAM_BOT_TOKEN": TOKEN,
           "DATA_DIR": str(a_file), "CONTENT_DIR": str(CONTENT)}  # fmt: skip
    for argv in (["run"], ["check-content", str(a_file)]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2
        what = "DATA_DIR" if argv == ["run"] else "DIR"
        assert done.stderr == f"configuration error: {what}={str(a_file)!r} is a file, not a directory\n"


def test_a_data_dir_that_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "read-only"
    data.mkdir()
    data.chmod(0o555)
    if os.access(data, os.W_OK):  # root writes anyway: make the write fail as a read-only mount would
        real = bot.settings.tempfile.TemporaryFile

        def refused(*args: Any, **kwargs: Any) -> Any:
            if Path(kwargs.get("dir", "")) == data:
                raise PermissionError(13, "Permission denied")
            return real(*args, **kwargs)

        monkeypatch.setattr(bot.settings.tempfile, "TemporaryFile", refused)
    try:
        code, _, err = cli(["run"], monkeypatch, TELEGRAM_BOT_TOKEN=TOKEN, DATA_DIR=str(data), CONTENT_DIR=str(CONTENT))
    finally:
        data.chmod(0o755)
    assert (code, err) == (2, f"configuration error: DATA_DIR={str(data)!r} is not writable: Permission denied\n")


def test_the_token_is_never_echoed_in_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = cli(["ask", "x"], monkeypatch, TELEGRAM_BOT_TOKEN=TOKEN, RETENTION_DAYS="-5")
    assert code == 2
    assert TOKEN not in err


# --- a full disk ----------------------------------------------------------------------------------------


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fill_up(store: Store) -> None:
    """SQLite's own limit stands in for a full disk: the database may not grow by another page, and the
    question log fills the room left in its pages, so the next question cannot be kept."""
    conn = store._conn
    assert conn is not None
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    conn.execute(f"PRAGMA max_page_count = {pages}")
    logger = logging.getLogger("bot.store")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # filling up is not the test
    try:
        for text in ("x" * 900, "x" * 50, None):
            while store.log_question(
                user_id=1, chat_kind="private", language="en", question=text or "answered", answered=text is None,
                score=0.5, article=None, heading=None,
            ) is not None:  # fmt: skip
                pass
    finally:
        logger.setLevel(level)
    store._write_failures = _WriteFailures()


def make_room(store: Store) -> None:
    conn = store._conn
    assert conn is not None
    conn.execute("PRAGMA max_page_count = 1073741823")


def test_a_full_disk_drops_writes_with_one_warning_a_minute_and_writing_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Monotonic()
    caplog.set_level(logging.INFO, logger="bot.store")
    with Store.open(database_path(tmp_path)) as store:
        store.set_language(7, "ru")
        fill_up(store)
        store._write_failures = _WriteFailures(clock=clock)

        results = [log_question(store, i, f"question {i} " + "x" * 900) for i in range(200)]
        store.set_language(8, "pl")  # other tables may still have room in their pages; never raises
        store.record_feedback(1, 8, helpful=True)
        assert results == [None] * 200, "the disk is full: every write is dropped, none raises"
        assert store.get_language(7) == "ru", "reads go on"
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, "one warning, not one per update"
        assert "database or disk is full" in warnings[0]

        clock.now += 61
        log_question(store, 999, "y" * 900)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 2, "a minute later: one more"
        assert "write(s) dropped" in warnings[1]

        make_room(store)
        question_id = log_question(store, 1000)
        assert question_id is not None, "writing resumes by itself when there is room"
        assert "writing works again" in caplog.records[-1].getMessage()
        store.set_language(8, "pl")
        assert store.get_language(8) == "pl"
    assert integrity(database_path(tmp_path)) == ["ok"]


async def test_a_full_disk_never_costs_a_user_the_answer(
    tmp_path: Path, make_file_bot: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(database_path(tmp_path / "data"))
    bot: OfflineBot = await make_file_bot(store)
    fill_up(store)
    caplog.set_level(logging.INFO)
    caplog.clear()
    for i in range(30):
        replies = await bot.say("Berapakah gaji wakil jualan dalaman?" + " ?" * i, sender=user(2000 + i))
        assert "Jualan Dalaman" in replies[0]["text"]
    await bot.say("/lang", sender=user(2000))
    await bot.press("v1:l:pl", sender=user(2000))  # answered exactly once (asserted by press)
    assert bot.api.of("editMessageText"), "the choice is confirmed even though it could not be kept"
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in problems] == ["bot.store"], "one warning from the store, no error, no traceback"


# --- backup ---------------------------------------------------------------------------------------------


def test_backup_while_the_bot_writes_is_consistent_and_restores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    live = Store.open(database_path(data))
    for uid in range(50):
        live.set_language(uid, "pl")
    stop = threading.Event()
    written = [0]

    def keep_writing() -> None:  # what a busy bot does meanwhile, on a connection of its own
        while not stop.is_set():
            log_question(live, written[0], "q" * 300)
            written[0] += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while written[0] < 200:
            time.sleep(0.01)
        (tmp_path / "backups").mkdir()
        code, out, err = cli(["backup", str(tmp_path / "backups")], monkeypatch, DATA_DIR=str(data))
        during = written[0]
    finally:
        stop.set()
        writer.join()
        live.close()
    assert (code, err) == (0, "")
    [copy] = (tmp_path / "backups").glob("bot-*.sqlite3")
    assert out.startswith(f"backed up {database_path(data)} to {copy}: ")
    assert "integrity ok" in out
    assert integrity(copy) == ["ok"]
    assert not list((tmp_path / "backups").glob(".*partial")), "no half-written copy left behind"
    assert not copy.with_name(copy.name + "-wal").exists(), "one self-contained file"

    # Restore (README): stop the bot, put the copy in place of bot.sqlite3 (without the old -wal/-shm), start.
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(copy, database_path(restored))
    with Store.open(database_path(restored)) as store:
        assert store.startup_problem is None
        assert all(store.get_language(uid) == "pl" for uid in range(50))
        assert 200 <= store.stats().total_questions <= during + 1


def test_backup_refuses_the_store_itself_and_reports_a_missing_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    code, _, err = cli(["backup", str(tmp_path / "x.sqlite3")], monkeypatch, DATA_DIR=str(data))
    assert (code, err) == (
        1,
        f"nothing to back up: there is no store at {database_path(data)} (DATA_DIR={str(data)!r})\n",
    )
    Store.open(database_path(data)).close()
    code, _, err = cli(["backup", str(database_path(data))], monkeypatch, DATA_DIR=str(data))
    assert (code, err) == (2, f"{database_path(data)} is the store itself: choose another file\n")
    nowhere = tmp_path / "nowhere" / "x.sqlite3"
    code, _, err = cli(["backup", str(nowhere)], monkeypatch, DATA_DIR=str(data))
    assert (code, err) == (2, f"cannot write {nowhere}: {nowhere.parent} is not a directory\n")
    report = backup_database(database_path(data), tmp_path / "x.sqlite3")
    assert report.pages > 0
    assert integrity(report.target) == ["ok"]


# --- a second process on one DATA_DIR -------------------------------------------------------------------


def test_a_second_process_on_one_data_dir_refuses_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with InstanceLock(data):
        with pytest.raises(AlreadyRunning):
            InstanceLock(data).acquire()
        code, _, err = cli(["run"], monkeypatch, TELEGRAM_BOT_TOKEN=TOKEN, DATA_DIR=str(data), CONTENT_DIR=str(CONTENT))
    assert code == 2
    assert err == (
        f"configuration error: DATA_DIR={str(data)!r} is in use by another bot process (it holds the lock on "
        f"{data / 'bot.lock'}): stop that process first, or give this one a DATA_DIR of its own\n"
    )
    with InstanceLock(data) as lock:  # released: the next start gets it
        assert lock.held


def test_the_lock_of_a_killed_process_is_free_again(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from bot.instance_lock import InstanceLock; from pathlib import Path;"
         "lock = InstanceLock(Path(sys.argv[1])).acquire(); print('held', flush=True); time.sleep(60)", str(tmp_path)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(AlreadyRunning):
            InstanceLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with InstanceLock(tmp_path) as lock:  # kill -9 leaves no stale lock behind
        assert lock.held


# --- 409 Conflict: the watch's clock (end to end in tests/e2e/test_operator_faults.py) --------------------


def test_conflicts_stop_the_bot_only_when_they_last_the_grace(caplog: pytest.LogCaptureFixture) -> None:
    clock = Monotonic()
    watch = ConflictWatch(grace_seconds=30, clock=clock)
    caplog.set_level(logging.INFO, logger="bot.telegram.conflict")
    for step in (0, 1, 1.5, 2.25, 3.4, 5.1, 7.6):  # PTB's backoff between retries
        clock.now += step
        assert watch.conflict("Conflict: terminated by other getUpdates request") is False
    clock.now += 11.4
    assert watch.conflict("Conflict: terminated by other getUpdates request") is True
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "another process is polling with this bot token; stopping in 30 s if it goes on" in messages[0]
    assert messages[1].startswith("stopping: another process has kept polling with this bot token for 32 s")

    brief = ConflictWatch(grace_seconds=30, clock=clock)
    assert brief.conflict("x") is False
    clock.now += 60  # a new episode, long after the first: the grace starts over
    assert brief.conflict("x") is False
