"""A reload while another thread keeps answering: every answer traced to the snapshot it came from."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.bench.timing import percentiles_ms
from bot.domain.content import Article
from bot.domain.engine import Answer, AnswerEngine, Snapshot

RELOAD_PACE = 100.0  # questions a second while reloading: over three times what Telegram lets a bot send


@dataclass(frozen=True)
class ReloadFigures:
    seconds: float
    pace: float | None
    answers_during: int  # answers asked and given while reload() ran
    from_old_during: int  # ... of which from the old snapshot
    answers_total: int
    from_old: int
    from_new: int
    violations: int  # an answer from another snapshot than the one in place before and after it
    mixed: int  # an answer mixing articles of both snapshots
    errors: int
    latency_p50_ms: float
    latency_max_ms: float
    swapped: bool


def _snapshot_articles(snapshot: Snapshot) -> set[int]:
    return {id(article) for article in snapshot.library.articles}


def _answer_articles(answer: Answer) -> list[Article]:
    found = [answer.article] if answer.article is not None else []
    found += [ref.article for ref in (*answer.alternatives, *answer.suggestions)]
    return found


def reload_while_answering(
    engine: AnswerEngine,
    questions: Sequence[str],
    *,
    settle_seconds: float = 0.1,
    pace_per_second: float | None = RELOAD_PACE,
) -> ReloadFigures:
    """A thread answers questions while the main thread reloads; every answer is traced to the snapshot its
    articles belong to (by identity), and checked against the snapshot in place around it.

    The questions come at most `pace_per_second` (a pause of 1/pace after each answer; None: back to back).
    Back to back is a worst case no bot sees (Telegram caps a bot at about 30 messages a second): a thread
    that never waits keeps the GIL, and each of the reload's thousands of file reads waits up to the switch
    interval to get it back."""
    old = engine.snapshot
    old_ids = _snapshot_articles(old)
    # start, end, source, consistent, mixed, the old snapshot still in place after the answer
    records: list[tuple[int, int, str, bool, bool, bool]] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    clock = time.perf_counter_ns

    def answer_forever() -> None:
        number = 0
        while not stop.is_set():
            if pace_per_second:
                # A gap after each answer, not a schedule to keep: a thread that falls behind and answers
                # back to back to catch up would hold the GIL and starve the reload it is meant to watch.
                time.sleep(1 / pace_per_second)
            question = questions[number % len(questions)]
            number += 1
            before = engine.snapshot
            start = clock()
            try:
                answer = engine.answer(question)
            except Exception as exc:  # counted and reported: the point is that there are none
                errors.append(exc)
                continue
            end = clock()
            after = engine.snapshot
            ids = {id(a) for a in _answer_articles(answer)}
            in_old, in_new = bool(ids & old_ids), bool(ids - old_ids)
            source = "old" if in_old and not in_new else "new" if in_new and not in_old else "none"
            consistent = before is not after or source == "none" or (source == "old") == (before is old)
            records.append((start, end, source, consistent, in_old and in_new, after is old))

    worker = threading.Thread(target=answer_forever, name="bench-answering", daemon=True)
    worker.start()
    time.sleep(settle_seconds)
    began = clock()
    engine.reload()
    ended = clock()
    time.sleep(settle_seconds)
    stop.set()
    worker.join()
    new = engine.snapshot
    during = [r for r in records if r[0] >= began and r[1] <= ended and r[5]]  # asked and answered before the swap
    latencies = [r[1] - r[0] for r in during]
    p50 = percentiles_ms(latencies)[0] if latencies else 0.0
    return ReloadFigures(
        seconds=(ended - began) / 1e9,
        pace=pace_per_second,
        answers_during=len(during),
        from_old_during=sum(1 for r in during if r[2] == "old"),
        answers_total=len(records),
        from_old=sum(1 for r in records if r[2] == "old"),
        from_new=sum(1 for r in records if r[2] == "new"),
        violations=sum(1 for r in records if not r[3]),
        mixed=sum(1 for r in records if r[4]),
        errors=len(errors),
        latency_p50_ms=p50,
        latency_max_ms=max(latencies, default=0) / 1e6,
        swapped=new is not old,
    )
