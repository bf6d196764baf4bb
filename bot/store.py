"""Embedded SQLite store: language preferences, the question log, feedback and stats.

Concurrency model: one ``sqlite3`` connection opened with ``check_same_thread=False`` and guarded by a
``threading.Lock``; every public method is one tiny transaction (WAL, ``synchronous=NORMAL``), so a call
takes well under a millisecond and may be made directly from async handlers. Callers that want to keep
even that off the event loop can wrap a call in ``asyncio.to_thread``; the lock makes that safe.

Privacy: only the numeric Telegram user id is kept. The question *text* is stored only when the bot
declined or answered with low confidence (these are the content gaps worth reviewing); for confident
answers only the outcome counters are kept. ``purge_older_than`` removes whole rows past retention.

What operators do to it (see README, "Operations"):
- ``Store.open`` runs ``PRAGMA quick_check``. A file that is not a database or fails the check is moved
  aside (``bot.sqlite3.damaged-<UTC time>``, never deleted) and a fresh store is started; the reason is
  logged once and kept in ``startup_problem`` for /stats. Answering never depends on the store.
- A store written by a newer version of the bot (``user_version`` above ours) is refused with
  ``StoreTooNew``, never migrated backwards.
- A write that fails for want of space or I/O (``SQLITE_FULL``, ``SQLITE_IOERR``, ``SQLITE_READONLY``) is
  dropped: one warning a minute, not one per update, and writes resume by themselves when space returns.
- ``backup_to`` copies the store with SQLite's online backup API while the bot runs.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

from bot.settings import StartupError

__all__ = [
    "DATABASE_FILENAME",
    "MAX_QUESTION_CHARS",
    "BackupReport",
    "DeclinedCount",
    "DeclinedQuestion",
    "LanguageStats",
    "ReviewQuestion",
    "Stats",
    "Store",
    "StoreTooNew",
    "TaughtPhrasing",
    "backup_database",
    "database_path",
    "declined_csv",
    "normalize_question",
]

DATABASE_FILENAME = "bot.sqlite3"
MEMORY = ":memory:"
# Telegram allows 4096 characters; a gap review never needs more than this.
MAX_QUESTION_CHARS = 1000
BUSY_TIMEOUT_MS = 5000

Clock = Callable[[], datetime]
logger = logging.getLogger(__name__)

# A store that is not a database, or whose pages are corrupt: moved aside, never repaired in place.
_DAMAGED = frozenset({sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT})
# Writes that fail because of the disk, not the data: dropped so the bot keeps answering.
_UNWRITABLE = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY})
WRITE_WARNING_INTERVAL = 60.0  # seconds between two "writes are being dropped" warnings

# Each entry upgrades the schema by one version; PRAGMA user_version records how many have run.
# Never edit a released entry: append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE user_language (
            user_id    INTEGER PRIMARY KEY,
            language   TEXT    NOT NULL,
            updated_at REAL    NOT NULL
        )
        """,
        """
        CREATE TABLE question (
            id             INTEGER PRIMARY KEY AUTOINCREMENT,
            asked_at       REAL    NOT NULL,
            user_id        INTEGER,
            chat_kind      TEXT    NOT NULL,
            language       TEXT    NOT NULL,
            answered       INTEGER NOT NULL CHECK (answered IN (0, 1)),
            low_confidence INTEGER NOT NULL CHECK (low_confidence IN (0, 1)),
            score          REAL    NOT NULL,
            article        TEXT,
            heading        TEXT,
            text           TEXT,
            normalized     TEXT
        )
        """,
        "CREATE INDEX question_asked_at ON question (asked_at)",
        "CREATE INDEX question_normalized ON question (normalized) WHERE normalized IS NOT NULL",
        """
        CREATE TABLE feedback (
            question_id INTEGER NOT NULL REFERENCES question (id) ON DELETE CASCADE,
            user_id     INTEGER NOT NULL,
            helpful     INTEGER NOT NULL CHECK (helpful IN (0, 1)),
            voted_at    REAL    NOT NULL,
            PRIMARY KEY (question_id, user_id)
        )
        """,
        "CREATE INDEX feedback_voted_at ON feedback (voted_at)",
    ),
    (  # 2: example phrasings taught from the chat, and declined questions an admin dismissed
        """
        CREATE TABLE taught_phrasing (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            slug       TEXT    NOT NULL,
            section    INTEGER NOT NULL CHECK (section >= 0),
            text       TEXT    NOT NULL,
            normalized TEXT    NOT NULL UNIQUE,
            language   TEXT    NOT NULL,
            admin_id   INTEGER NOT NULL,
            created_at REAL    NOT NULL,
            times_used INTEGER NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE dismissed_question (
            normalized   TEXT    PRIMARY KEY,
            admin_id     INTEGER NOT NULL,
            dismissed_at REAL    NOT NULL
        )
        """,
    ),
)


@dataclass(frozen=True, slots=True)
class LanguageStats:
    language: str
    questions: int
    answered: int

    @property
    def answered_rate(self) -> float:
        return self.answered / self.questions if self.questions else 0.0


@dataclass(frozen=True, slots=True)
class DeclinedCount:
    normalized_text: str
    count: int


@dataclass(frozen=True, slots=True)
class Stats:
    since: datetime | None
    total_questions: int
    answered_questions: int
    low_confidence_questions: int
    by_language: tuple[LanguageStats, ...]
    top_declined: tuple[DeclinedCount, ...]
    feedback_up: int
    feedback_down: int

    @property
    def answered_rate(self) -> float:
        return self.answered_questions / self.total_questions if self.total_questions else 0.0


@dataclass(frozen=True, slots=True)
class DeclinedQuestion:
    """A question whose text was kept: declined (``answered=False``) or answered with low confidence."""

    id: int
    asked_at: datetime
    language: str
    chat_kind: str
    question: str
    answered: bool
    score: float
    article: str | None
    heading: str | None


class StoreTooNew(StartupError):
    """The store was written by a newer version of the bot; it is left untouched."""


class _DamagedStore(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class BackupReport:
    target: Path
    pages: int
    bytes: int
    seconds: float


def _error_code(exc: sqlite3.Error) -> int:
    """SQLite's primary result code (SQLITE_IOERR_WRITE -> SQLITE_IOERR); -1 when there is none."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else -1


class _WriteFailures:
    """Dropped writes, reported at most once per interval, and once more when writing works again."""

    def __init__(self, interval: float = WRITE_WARNING_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last_warning: float | None = None
        self._unreported = 0
        self.dropped = 0  # since writing last worked

    def failed(self, exc: sqlite3.Error) -> None:
        self.dropped += 1
        self._unreported += 1
        now = self._clock()
        if self._last_warning is None or now - self._last_warning >= self.interval:
            logger.warning(
                "store: cannot write (%s): %d write(s) dropped; answering continues, writes resume when the "
                "disk has room again (this warning repeats at most once every %.0f s)",
                exc, self._unreported, self.interval,
            )  # fmt: skip
            self._last_warning = now
            self._unreported = 0

    def succeeded(self) -> None:
        # The warning clock is not reset: a disk at the edge, where some writes fit and some do not, still
        # gets one warning a minute.
        if self.dropped:
            logger.info("store: writing works again; %d write(s) were dropped meanwhile", self.dropped)
            self.dropped = 0


@dataclass(frozen=True, slots=True)
class TaughtPhrasing:
    """A question an admin assigned to a section (article slug, section position): an example phrasing."""

    id: int
    slug: str
    section: int
    text: str
    language: str
    admin_id: int
    created_at: datetime
    times_used: int  # later questions it answered


@dataclass(frozen=True, slots=True)
class ReviewQuestion:
    """Questions with the same normalized text, still to review: the latest one stands for them all."""

    id: int  # the latest question's id (buttons carry it)
    question: str
    language: str
    count: int
    answered: bool  # the latest was answered with low confidence rather than declined
    last_asked: datetime


def database_path(data_dir: str | os.PathLike[str]) -> Path:
    """Where the bot keeps its database inside DATA_DIR."""
    return Path(data_dir) / DATABASE_FILENAME


def normalize_question(text: str) -> str:
    """Fold case, width and punctuation so near-identical questions group together in stats."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(char if char.isalnum() else " " for char in folded)
    return " ".join(kept.split())


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _timestamp(moment: datetime) -> float:
    # Naive datetimes are taken as UTC rather than local time, so results do not depend on the host TZ.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class Store:
    """Thread-safe store over one SQLite connection. Use ``Store(":memory:")`` in tests."""

    def __init__(self, path: str | os.PathLike[str], *, clock: Clock = _utc_now) -> None:
        self.path = str(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._write_failures = _WriteFailures()
        # Set by open() when the store found at start-up was damaged and replaced: shown to admins in /stats.
        self.startup_problem: str | None = None
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (see _transaction), never implicit.
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
        )
        try:
            self._refuse_newer(self._conn)  # before _configure, which would already change the file (WAL)
            self._configure(self._conn)
            self._migrate(self._conn)
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, clock: Clock = _utc_now) -> Self:
        """The store at `path`, checked; a damaged file is moved aside and a fresh store started.

        Raises StoreTooNew for a store from a newer version of the bot (left untouched).
        """
        try:
            return cls._checked(path, clock)
        except _DamagedStore as damaged:
            moved = _move_aside(Path(path), clock())
            problem = (
                f"the store {path} was damaged ({damaged.reason}); it was moved to {moved.name} and an empty "
                "store started: language choices, the question log and feedback start over (restore a backup "
                "to get them back, see README)"
            )
            logger.error("%s", problem)
            store = cls(path, clock=clock)
            store.startup_problem = problem
            return store

    @classmethod
    def _checked(cls, path: str | os.PathLike[str], clock: Clock) -> Self:
        try:
            store = cls(path, clock=clock)
        except sqlite3.DatabaseError as exc:
            if _error_code(exc) in _DAMAGED:
                raise _DamagedStore(str(exc)) from exc
            raise
        if str(path) == MEMORY:
            return store
        try:
            with store._transaction() as conn:
                problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            store.close()
            if _error_code(exc) in _DAMAGED:
                raise _DamagedStore(str(exc)) from exc
            raise
        if problems != ["ok"]:
            store.close()
            found = [line for row in problems for line in row.splitlines() if line and not line.startswith("***")]
            more = f" and {len(found) - 1} more problems" if len(found) > 1 else ""
            raise _DamagedStore(f"quick_check: {found[0] if found else 'failed'}{more}")
        return store

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._transaction() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    # -- language preference -------------------------------------------------------------------

    def get_language(self, user_id: int) -> str | None:
        with self._transaction() as conn:
            row = conn.execute("SELECT language FROM user_language WHERE user_id = ?", (user_id,)).fetchone()
        return None if row is None else str(row[0])

    def set_language(self, user_id: int, lang: str) -> None:
        with self._write() as conn:
            conn.execute(
                """
                INSERT INTO user_language (user_id, language, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,
                                                    updated_at = excluded.updated_at
                """,
                (user_id, lang, self._now()),
            )

    def clear_language(self, user_id: int) -> None:
        """Back to automatic: answers follow the language of each question."""
        with self._write() as conn:
            conn.execute("DELETE FROM user_language WHERE user_id = ?", (user_id,))

    # -- question log and feedback -------------------------------------------------------------

    def log_question(
        self,
        *,
        user_id: int | None,
        chat_kind: str,
        language: str,
        question: str,
        answered: bool,
        score: float,
        article: str | None,
        heading: str | None,
        low_confidence: bool = False,
    ) -> int | None:
        """Record one question's outcome and return its id (for feedback buttons); None when the write
        was dropped (disk full).

        The text is kept only when the question was declined or ``low_confidence`` is set by the caller.
        """
        keep_text = not answered or low_confidence
        text = question[:MAX_QUESTION_CHARS] if keep_text else None
        normalized = normalize_question(text) if text is not None else None
        question_id: int | None = None
        with self._write() as conn:
            cursor = conn.execute(
                """
                INSERT INTO question (asked_at, user_id, chat_kind, language, answered, low_confidence,
                                      score, article, heading, text, normalized)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    self._now(),
                    user_id,
                    chat_kind,
                    language,
                    int(answered),
                    int(low_confidence),
                    float(score),
                    article,
                    heading,
                    text,
                    normalized,
                ),
            )
            question_id = cursor.lastrowid
        return question_id

    def record_feedback(self, question_id: int, user_id: int, helpful: bool) -> bool:
        """Record a vote; a second vote by the same user replaces the first.

        Returns False when the question no longer exists (e.g. purged) or the write was dropped, so the
        caller can say so.
        """
        recorded = False
        with self._write() as conn:
            cursor = conn.execute(
                """
                INSERT INTO feedback (question_id, user_id, helpful, voted_at)
                SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM question WHERE id = ?)
                ON CONFLICT (question_id, user_id) DO UPDATE SET helpful = excluded.helpful,
                                                                 voted_at = excluded.voted_at
                """,
                (question_id, user_id, int(helpful), self._now(), question_id),
            )
            recorded = cursor.rowcount > 0
        return recorded

    # -- reporting -----------------------------------------------------------------------------

    def stats(self, since: datetime | None = None, *, top_declined: int = 10) -> Stats:
        start = _timestamp(since) if since is not None else float("-inf")
        with self._transaction() as conn:
            total, answered, low_confidence = conn.execute(
                """
                SELECT COUNT(*), COALESCE(SUM(answered), 0), COALESCE(SUM(low_confidence), 0)
                FROM question WHERE asked_at >= ?
                """,
                (start,),
            ).fetchone()
            by_language = tuple(
                LanguageStats(language=language, questions=count, answered=answered_count)
                for language, count, answered_count in conn.execute(
                    """
                    SELECT language, COUNT(*), SUM(answered) FROM question WHERE asked_at >= ?
                    GROUP BY language ORDER BY COUNT(*) DESC, language
                    """,
                    (start,),
                )
            )
            declined = tuple(
                DeclinedCount(normalized_text=text, count=count)
                for text, count in conn.execute(
                    """
                    SELECT normalized, COUNT(*) FROM question
                    WHERE asked_at >= ? AND answered = 0 AND normalized IS NOT NULL AND normalized != ''
                    GROUP BY normalized ORDER BY COUNT(*) DESC, normalized LIMIT ?
                    """,
                    (start, top_declined),
                )
            )
            up, down = conn.execute(
                """
                SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0)
                FROM feedback WHERE voted_at >= ?
                """,
                (start,),
            ).fetchone()
        return Stats(
            since=since,
            total_questions=total,
            answered_questions=answered,
            low_confidence_questions=low_confidence,
            by_language=by_language,
            top_declined=declined,
            feedback_up=up,
            feedback_down=down,
        )

    def export_declined(self, since: datetime | None = None) -> list[DeclinedQuestion]:
        """Every question whose text was kept (declined or low confidence), oldest first."""
        start = _timestamp(since) if since is not None else float("-inf")
        with self._transaction() as conn:
            rows = conn.execute(
                """
                SELECT id, asked_at, language, chat_kind, text, answered, score, article, heading
                FROM question WHERE asked_at >= ? AND text IS NOT NULL ORDER BY asked_at, id
                """,
                (start,),
            ).fetchall()
        return [
            DeclinedQuestion(
                id=row_id,
                asked_at=datetime.fromtimestamp(asked_at, UTC),
                language=language,
                chat_kind=chat_kind,
                question=text,
                answered=bool(answered),
                score=score,
                article=article,
                heading=heading,
            )
            for row_id, asked_at, language, chat_kind, text, answered, score, article, heading in rows
        ]

    # -- retention -----------------------------------------------------------------------------

    def purge_older_than(self, days: int) -> int:
        """Delete questions (with their text, user id and feedback) older than ``days``; return how many."""
        if days < 0:
            raise ValueError(f"retention days must be >= 0, got {days}")
        cutoff = self._now() - timedelta(days=days).total_seconds()
        purged = 0
        with self._write() as conn:
            purged = conn.execute("DELETE FROM question WHERE asked_at < ?", (cutoff,)).rowcount
        return purged

    # -- internals -----------------------------------------------------------------------------

    def _now(self) -> float:
        return _timestamp(self._clock())

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise sqlite3.ProgrammingError("Store is closed")
            # IMMEDIATE takes the write lock up front, so a second process waits on busy_timeout
            # instead of failing mid-transaction; reads inside it see one consistent snapshot.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction whose failure for want of disk is dropped (and reported once a minute);
        code after the ``with`` block runs either way."""
        try:
            with self._transaction() as conn:
                yield conn
        except sqlite3.Error as exc:
            if _error_code(exc) not in _UNWRITABLE:
                raise
            self._write_failures.failed(exc)
        else:
            self._write_failures.succeeded()

    @staticmethod
    def _configure(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode = WAL")  # ":memory:" silently stays in "memory" mode
        conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; commits skip fsync
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    @staticmethod
    def _refuse_newer(conn: sqlite3.Connection) -> None:
        current = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if current > len(MIGRATIONS):
            raise StoreTooNew(
                f"the store {_database_name(conn)} was written by a newer version of the bot (schema "
                f"version {current}; this version knows up to {len(MIGRATIONS)}) and is left untouched: "
                "run the newer version, or move the file away to start with an empty store"
            )

    @classmethod
    def _migrate(cls, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            cls._refuse_newer(conn)  # again inside the transaction: another process may have migrated
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for version, statements in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in statements:
                    conn.execute(statement)
                # PRAGMA takes no bound parameters; version is an int we computed.
                conn.execute(f"PRAGMA user_version = {version}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise

    # -- taught phrasings and the review of declined questions (migration 2) ----------------------

    def review_questions(self, limit: int = 10) -> list[ReviewQuestion]:
        """Kept questions not yet taught, most often asked first; a dismissed one returns when asked again."""
        with self._transaction() as conn:
            rows = conn.execute(
                """
                SELECT q.id, q.text, q.language, counts.n, q.answered, q.asked_at
                FROM (
                    SELECT question.normalized, COUNT(*) AS n, MAX(question.id) AS last_id
                    FROM question LEFT JOIN dismissed_question AS d ON d.normalized = question.normalized
                    WHERE question.normalized IS NOT NULL AND question.normalized != ''
                      AND question.normalized NOT IN (SELECT normalized FROM taught_phrasing)
                      AND (d.dismissed_at IS NULL OR question.asked_at > d.dismissed_at)
                    GROUP BY question.normalized
                ) AS counts JOIN question AS q ON q.id = counts.last_id
                ORDER BY counts.n DESC, q.asked_at DESC, q.id DESC LIMIT ?
                """,
                (limit,),
            ).fetchall()
        return [
            ReviewQuestion(row_id, text, language, count, bool(answered), datetime.fromtimestamp(asked_at, UTC))
            for row_id, text, language, count, answered, asked_at in rows
        ]

    def kept_question(self, question_id: int) -> ReviewQuestion | None:
        """One kept question by id, with how often it was asked (None once purged or when not kept)."""
        with self._transaction() as conn:
            row = conn.execute(
                """
                SELECT q.id, q.text, q.language, (SELECT COUNT(*) FROM question WHERE normalized = q.normalized),
                       q.answered, q.asked_at
                FROM question AS q WHERE q.id = ? AND q.text IS NOT NULL
                """,
                (question_id,),
            ).fetchone()
        if row is None:
            return None
        row_id, text, language, count, answered, asked_at = row
        return ReviewQuestion(row_id, text, language, count, bool(answered), datetime.fromtimestamp(asked_at, UTC))

    def dismiss_question(self, question_id: int, admin_id: int) -> bool:
        """Hide this question (and its repeats so far) from the review; False when it no longer exists."""
        with self._transaction() as conn:
            cursor = conn.execute(
                """
                INSERT INTO dismissed_question (normalized, admin_id, dismissed_at)
                SELECT normalized, ?, ? FROM question WHERE id = ? AND normalized IS NOT NULL
                ON CONFLICT (normalized) DO UPDATE SET admin_id = excluded.admin_id,
                                                       dismissed_at = excluded.dismissed_at
                """,
                (admin_id, self._now(), question_id),
            )
            return cursor.rowcount > 0

    def teach_phrasing(self, text: str, language: str, slug: str, section: int, admin_id: int) -> TaughtPhrasing:
        """Store `text` as an example phrasing of the section; teaching the same text again moves it."""
        text = text[:MAX_QUESTION_CHARS]
        with self._transaction() as conn:
            row = conn.execute(
                """
                INSERT INTO taught_phrasing (slug, section, text, normalized, language, admin_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (normalized) DO UPDATE SET slug = excluded.slug, section = excluded.section,
                    text = excluded.text, language = excluded.language, admin_id = excluded.admin_id,
                    created_at = excluded.created_at, times_used = 0
                RETURNING id, slug, section, text, language, admin_id, created_at, times_used
                """,
                (slug, section, text, normalize_question(text), language, admin_id, self._now()),
            ).fetchone()
        return _taught(row)

    def taught_phrasings(self) -> list[TaughtPhrasing]:
        """Every taught phrasing, newest first."""
        with self._transaction() as conn:
            rows = conn.execute(
                """
                SELECT id, slug, section, text, language, admin_id, created_at, times_used
                FROM taught_phrasing ORDER BY created_at DESC, id DESC
                """
            ).fetchall()
        return [_taught(row) for row in rows]

    def remove_taught_phrasing(self, phrasing_id: int) -> TaughtPhrasing | None:
        """Undo: the removed phrasing, or None when it was already gone."""
        with self._transaction() as conn:
            row = conn.execute(
                """
                DELETE FROM taught_phrasing WHERE id = ?
                RETURNING id, slug, section, text, language, admin_id, created_at, times_used
                """,
                (phrasing_id,),
            ).fetchone()
        return None if row is None else _taught(row)

    def count_phrasing_use(self, phrasing_id: int) -> None:
        """A later question was answered through this phrasing."""
        with self._transaction() as conn:
            conn.execute("UPDATE taught_phrasing SET times_used = times_used + 1 WHERE id = ?", (phrasing_id,))


def _taught(row: tuple[int, str, int, str, str, int, float, int]) -> TaughtPhrasing:
    row_id, slug, section, text, language, admin_id, created_at, times_used = row
    created = datetime.fromtimestamp(created_at, UTC)
    return TaughtPhrasing(row_id, slug, section, text, language, admin_id, created, times_used)


def backup_database(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> BackupReport:
    """A consistent copy of the store at `source`, made while the bot keeps running (`python -m bot backup`).

    SQLite's online backup API, on a connection of its own: it copies pages in steps and starts over when
    the bot commits a change to a page already copied, so the copy is one committed state. The copy is
    written next to `target` and renamed into place only after ``PRAGMA integrity_check`` passes, as a
    single file (no WAL) that can be restored by copying it back.
    """
    started = time.perf_counter()
    source, target = Path(source), Path(target)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    copy = sqlite3.connect(partial, isolation_level=None)
    try:
        reader.backup(copy, pages=256)
        copy.execute("PRAGMA journal_mode = DELETE")
        checked = [str(row[0]) for row in copy.execute("PRAGMA integrity_check")]
        if checked != ["ok"]:
            raise sqlite3.DatabaseError(f"the copy failed integrity_check: {'; '.join(checked[:3])}")
        pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
    except BaseException:
        copy.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        reader.close()
    copy.close()
    os.replace(partial, target)
    return BackupReport(target, pages, target.stat().st_size, time.perf_counter() - started)


def _database_name(conn: sqlite3.Connection) -> str:
    for _seq, name, filename in conn.execute("PRAGMA database_list"):
        if name == "main":
            return str(filename) or MEMORY
    return MEMORY


def _move_aside(path: Path, moment: datetime) -> Path:
    """Rename a damaged database (and its -wal/-shm files) with a UTC timestamp; nothing is deleted."""
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = path.with_name(f"{path.name}.damaged-{stamp}")
    suffix = 1
    while moved.exists():
        suffix += 1
        moved = path.with_name(f"{path.name}.damaged-{stamp}-{suffix}")
    for extra in ("-wal", "-shm"):
        side = path.with_name(path.name + extra)
        if side.exists():
            side.rename(moved.with_name(moved.name + extra))
    path.rename(moved)
    return moved


def _spreadsheet_safe(cell: str) -> str:
    # A leading = + - @ (or tab/CR) makes Excel/Sheets evaluate the cell as a formula (CSV injection).
    return "'" + cell if cell.startswith(("=", "+", "-", "@", "\t", "\r")) else cell


DECLINED_CSV_HEADER = (
    "id",
    "asked_at",
    "language",
    "chat_kind",
    "outcome",
    "score",
    "article",
    "heading",
    "question",
)


def declined_csv(questions: Iterable[DeclinedQuestion]) -> str:
    """Render questions as RFC 4180 CSV that is also safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(DECLINED_CSV_HEADER)
    safe = _spreadsheet_safe
    for item in questions:
        writer.writerow(
            (
                item.id,
                item.asked_at.isoformat(timespec="seconds"),
                safe(item.language),
                safe(item.chat_kind),
                "low_confidence" if item.answered else "declined",
                f"{item.score:.3f}",  # our own number, not user text: left numeric
                safe(item.article or ""),
                safe(item.heading or ""),
                safe(item.question),
            )
        )
    return buffer.getvalue()
