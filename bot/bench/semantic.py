"""Hybrid retrieval beside an e5-only peer: the same passages embedded with the same model, the closest one
wins (no words, no language detection, no decision but a cosine threshold), per question and for accuracy.

Ours is measured twice: on the first pass, with an empty question-vector cache (every question that
needs the model pays for it), and steady (what repeat questions cost). The peer embeds every question.
Every pass empties the cache, so the first-pass figure has as many samples as the peer's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.bench.questions import REAL_SLUG
from bot.bench.timing import percentiles_ms
from bot.domain.engine import AnswerEngine
from bot.domain.evaluation import Case, Outcome, Report, evaluate
from bot.domain.search.semantic import DenseIndex, E5Embedder

# The peer's decline: below the lowest best-cosine of an on-topic dev.tsv question (0.83; off-topic ones reach
# 0.83 too, which is why a cosine alone cannot decide well).
E5_ONLY_THRESHOLD = 0.83


class E5Only:
    """Every passage embedded, the closest one wins; declined below E5_ONLY_THRESHOLD."""

    def __init__(self, dense: DenseIndex) -> None:
        assert dense.vectors is not None
        assert isinstance(dense.embedder, E5Embedder)
        self.dense = dense
        self.embedder = dense.embedder.uncached()

    def answer(self, question: str) -> tuple[str, int, str] | None:
        """(slug, section, language) of the closest passage, or None."""
        vectors = self.dense.vectors
        assert vectors is not None
        sims = vectors @ self.embedder.query(question)
        best = int(sims.argmax())
        if float(sims[best]) < E5_ONLY_THRESHOLD:
            return None
        units, library = self.dense.units, self.dense.library
        article = library.articles[int(units.article[best])]
        concept = self.dense.concepts.concepts[int(units.concept[best])]
        return concept.slug, concept.index, article.lang


@dataclass
class SemanticFigures:
    model: str
    units: int
    samples: dict[str, list[int]] = field(default_factory=dict)  # name -> nanoseconds
    embedded_share: float = 0.0  # questions for which ours asked the model (first pass)
    ours: dict[str, Report] = field(default_factory=dict)  # question set -> accuracy
    peer: dict[str, Report] = field(default_factory=dict)

    def p(self, name: str) -> tuple[float, float]:
        return percentiles_ms(self.samples.get(name, []))

    def mean_ms(self, name: str) -> float:
        values = self.samples.get(name, [])
        return sum(values) / len(values) / 1e6 if values else 0.0


def measure_semantic(engine: AnswerEngine, question_sets: Mapping[str, Sequence[Case]], repeat: int) -> SemanticFigures:
    dense = engine.snapshot.retriever.dense
    assert dense is not None
    assert dense.ready
    assert isinstance(dense.embedder, E5Embedder)
    figures = SemanticFigures(engine.semantic.status.detail, len(dense.units))
    peer = E5Only(dense)
    questions = [case.question for cases in question_sets.values() for case in cases]
    clock = time.perf_counter_ns
    # Every pass starts with an empty question-vector cache, and each question is timed three ways back
    # to back (ours with the cache empty, ours again with it warm, the peer), so all three see the same
    # machine and have as many samples: one first pass on a shared machine is too noisy to compare.
    for number in range(max(1, repeat)):
        dense.embedder.forget_queries()
        asked = dense.embedder.queries_embedded
        for question in questions:
            t0 = clock()
            engine.answer(question)
            t1 = clock()
            engine.answer(question)
            t2 = clock()
            peer.answer(question)
            t3 = clock()
            figures.samples.setdefault("ours first pass", []).append(t1 - t0)
            figures.samples.setdefault("ours steady", []).append(t2 - t1)
            figures.samples.setdefault("e5-only", []).append(t3 - t2)
        if number == 0:
            figures.embedded_share = (dense.embedder.queries_embedded - asked) / max(1, len(questions))
    for name, cases in question_sets.items():
        figures.ours[name] = evaluate(engine, cases, article=REAL_SLUG)
        report = Report()
        for case in cases:
            found = peer.answer(case.question)
            language = found[2] if found else ""
            report.outcomes.append(Outcome(case, language, found[:2] if found else None, article=REAL_SLUG))
        figures.peer[name] = report
    return figures
