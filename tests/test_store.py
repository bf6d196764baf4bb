from __future__ import annotations

import csv
import io
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import (
    MAX_QUESTION_CHARS,
    MIGRATIONS,
    DeclinedCount,
    DeclinedQuestion,
    LanguageStats,
    Store,
    StoreTooNew,
    database_path,
    declined_csv,
    normalize_question,
)

START = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Iterator[Store]:
    with Store(":memory:", clock=clock) as opened:
        yield opened


def ask(
    store: Store,
    question: str = "How do I qualify a lead?",
    *,
    answered: bool = True,
    language: str = "en",
    low_confidence: bool = False,
    user_id: int | None = 42,
    score: float = 0.9,
) -> int:
    return store.log_question(
        user_id=user_id,
        chat_kind="private",
        language=language,
        question=question,
        answered=answered,
        score=score,
        article="qualification.md" if answered else None,
        heading="BANT" if answered else None,
        low_confidence=low_confidence,
    )


def stored_texts(store: Store) -> list[str | None]:
    # Reads the raw table: the privacy rule is about what is on disk, not what the API shows.
    conn = store._conn
    assert conn is not None
    return [row[0] for row in conn.execute("SELECT text FROM question ORDER BY id")]


# -- opening and schema ----------------------------------------------------------------------------


def test_language_preference_persists_across_reopen(tmp_path: Path) -> None:
    path = database_path(tmp_path / "nested" / "data")
    with Store.open(path) as first:
        assert first.get_language(7) is None
        first.set_language(7, "de")
        first.set_language(7, "ru")  # latest choice wins
        first.set_language(8, "en")

    with Store.open(path) as reopened:
        assert reopened.get_language(7) == "ru"
        assert reopened.get_language(8) == "en"
        assert reopened.get_language(9) is None


def test_file_database_uses_wal_and_records_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        conn.close()
    with Store(path) as again:  # migrating an up-to-date database is a no-op
        assert again.schema_version == len(MIGRATIONS)


def test_refuses_database_from_newer_version(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreTooNew, match="newer"):
        Store(path)


def test_closed_store_rejects_calls_and_close_is_idempotent() -> None:
    store = Store(":memory:")
    store.close()
    store.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        store.get_language(1)


def test_default_database_path() -> None:
    assert database_path("data") == Path("data/bot.sqlite3")


# -- question log and privacy ----------------------------------------------------------------------


def test_question_text_is_kept_only_for_declined_or_low_confidence(store: Store) -> None:
    ask(store, "confident question", answered=True)
    ask(store, "declined question", answered=False, score=0.1)
    ask(store, "shaky question", answered=True, low_confidence=True, score=0.4)

    assert stored_texts(store) == [None, "declined question", "shaky question"]
    exported = store.export_declined()
    assert [(q.question, q.answered) for q in exported] == [
        ("declined question", False),
        ("shaky question", True),
    ]
    assert store.stats().total_questions == 3  # the confident one still counts


def test_question_ids_increase_and_long_text_is_capped(store: Store) -> None:
    first = ask(store)
    second = ask(store, "x" * (MAX_QUESTION_CHARS + 500), answered=False)
    assert second > first
    assert stored_texts(store)[1] == "x" * MAX_QUESTION_CHARS


def test_normalize_question_groups_trivial_variants() -> None:
    assert normalize_question("  What is  BANT?! ") == "what is bant"
    assert normalize_question("WHAT is bant") == "what is bant"
    assert normalize_question("Что такое ＢＡＮＴ?") == "что такое bant"  # NFKC folds full-width


# -- stats -----------------------------------------------------------------------------------------


def test_stats_on_empty_store(store: Store) -> None:
    stats = store.stats()
    assert stats.total_questions == 0
    assert stats.answered_rate == 0.0
    assert stats.by_language == ()
    assert stats.top_declined == ()
    assert (stats.feedback_up, stats.feedback_down) == (0, 0)


def test_stats_counts_rates_languages_and_top_declined(store: Store) -> None:
    for _ in range(3):
        ask(store, language="en", answered=True)
    ask(store, "What is a SPIF?", language="en", answered=False)
    ask(store, "what is a spif", language="en", answered=False)
    ask(store, "Was ist ein SPIF?", language="de", answered=False)
    ask(store, "Wie viel?", language="de", answered=True, low_confidence=True)
    ask(store, "what is a spif?!", language="ru", answered=False)

    stats = store.stats(top_declined=2)

    assert stats.total_questions == 8
    assert stats.answered_questions == 4
    assert stats.low_confidence_questions == 1
    assert stats.answered_rate == pytest.approx(0.5)
    assert stats.by_language == (
        LanguageStats("en", questions=5, answered=3),
        LanguageStats("de", questions=2, answered=1),
        LanguageStats("ru", questions=1, answered=0),
    )
    assert stats.by_language[0].answered_rate == pytest.approx(0.6)
    # Low-confidence answers are not "declined"; ties sort by text.
    assert stats.top_declined == (
        DeclinedCount("what is a spif", 3),
        DeclinedCount("was ist ein spif", 1),
    )


def test_stats_and_export_since(store: Store, clock: FakeClock) -> None:
    ask(store, "old", answered=False)
    clock.advance(days=10)
    cutoff = clock.now
    ask(store, "new", answered=False)

    assert store.stats().total_questions == 2
    recent = store.stats(since=cutoff)
    assert recent.total_questions == 1
    assert recent.since == cutoff
    assert [q.question for q in store.export_declined(since=cutoff)] == ["new"]
    # A naive datetime is read as UTC, not as the host's local time.
    assert store.stats(since=cutoff.replace(tzinfo=None)).total_questions == 1


# -- feedback --------------------------------------------------------------------------------------


def test_feedback_one_vote_per_user_and_revote_replaces(store: Store) -> None:
    question = ask(store)
    assert store.record_feedback(question, user_id=1, helpful=True)
    assert store.record_feedback(question, user_id=2, helpful=True)
    assert store.record_feedback(question, user_id=1, helpful=False)  # replaces user 1's vote

    stats = store.stats()
    assert (stats.feedback_up, stats.feedback_down) == (1, 1)


def test_feedback_for_unknown_question_is_rejected(store: Store) -> None:
    assert store.record_feedback(12345, user_id=1, helpful=True) is False
    assert store.stats().feedback_up == 0


# -- export ----------------------------------------------------------------------------------------


def declined(question: str, **overrides: object) -> DeclinedQuestion:
    fields: dict[str, object] = {
        "id": 1,
        "asked_at": START,
        "language": "en",
        "chat_kind": "group",
        "question": question,
        "answered": False,
        "score": 0.25,
        "article": None,
        "heading": None,
    }
    fields.update(overrides)
    return DeclinedQuestion(**fields)  # type: ignore[arg-type]


def test_declined_csv_escapes_and_round_trips() -> None:
    tricky = 'He said "hi", then\nleft; price, discount'
    text = declined_csv([declined(tricky, article="a,b.md", heading='The "best" one')])

    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "id",
        "asked_at",
        "language",
        "chat_kind",
        "outcome",
        "score",
        "article",
        "heading",
        "question",
    ]
    assert rows[1] == [
        "1",
        "2025-01-01T12:00:00+00:00",
        "en",
        "group",
        "declined",
        "0.250",
        "a,b.md",
        'The "best" one',
        tricky,
    ]
    assert '"He said ""hi"", then\nleft; price, discount"' in text  # RFC 4180 quoting on the wire
    assert text.endswith("\r\n")


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd"])
def test_declined_csv_neutralises_formula_injection(dangerous: str) -> None:
    text = declined_csv([declined(dangerous, heading=dangerous, answered=True)])
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[4] == "low_confidence"
    assert row[7] == "'" + dangerous
    assert row[8] == "'" + dangerous


def test_declined_csv_from_store(store: Store) -> None:
    ask(store, "=cmd|' /C calc'!A0", answered=False)
    ask(store, "confident", answered=True)
    rows = list(csv.reader(io.StringIO(declined_csv(store.export_declined()))))
    assert len(rows) == 2
    assert rows[1][8] == "'=cmd|' /C calc'!A0"


# -- retention -------------------------------------------------------------------------------------


def test_purge_removes_old_questions_and_their_feedback(store: Store, clock: FakeClock) -> None:
    old = ask(store, "old declined", answered=False)
    store.record_feedback(old, user_id=5, helpful=False)
    ask(store, "old confident")
    clock.advance(days=60)
    ask(store, "recent declined", answered=False)
    clock.advance(days=31)  # the first two are now 91 days old, the last one 31

    assert store.purge_older_than(90) == 2
    assert [q.question for q in store.export_declined()] == ["recent declined"]
    stats = store.stats()
    assert stats.total_questions == 1
    assert (stats.feedback_up, stats.feedback_down) == (0, 0)
    assert store.record_feedback(old, user_id=5, helpful=True) is False
    assert store.purge_older_than(90) == 0


def test_purge_keeps_language_preferences(store: Store, clock: FakeClock) -> None:
    store.set_language(1, "de")
    clock.advance(days=365)
    store.purge_older_than(90)
    assert store.get_language(1) == "de"


def test_purge_rejects_negative_days(store: Store) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        store.purge_older_than(-1)


# -- concurrency -----------------------------------------------------------------------------------


def test_concurrent_use_from_threads(tmp_path: Path) -> None:
    threads_count, per_thread = 8, 50
    errors: list[BaseException] = []
    with Store(tmp_path / "bot.sqlite3") as store:

        def worker(worker_id: int) -> None:
            try:
                for i in range(per_thread):
                    question = ask(store, f"q {worker_id} {i}", answered=i % 2 == 0, user_id=worker_id)
                    store.record_feedback(question, user_id=worker_id, helpful=True)
                    store.set_language(worker_id, f"l{i}")
                    store.stats()
            except BaseException as error:  # surfaced below; a thread's exception is otherwise lost
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        stats = store.stats()
        assert stats.total_questions == threads_count * per_thread
        assert stats.answered_questions == threads_count * per_thread // 2
        assert stats.feedback_up == threads_count * per_thread
        assert len(store.export_declined()) == threads_count * per_thread // 2
        assert {store.get_language(n) for n in range(threads_count)} == {f"l{per_thread - 1}"}


def test_two_connections_to_one_file_see_each_other(tmp_path: Path) -> None:
    # e.g. an admin CLI exporting while the bot runs.
    path = tmp_path / "bot.sqlite3"
    with Store(path) as bot_process, Store(path) as cli_process:
        ask(bot_process, "gap", answered=False)
        assert [q.question for q in cli_process.export_declined()] == ["gap"]


def test_clear_language_returns_to_automatic(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "bot.sqlite3")
    store.set_language(7, "pl")
    store.clear_language(7)
    assert store.get_language(7) is None
    store.close()
