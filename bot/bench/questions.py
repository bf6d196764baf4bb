"""The question set, per-question timing (ours and naive interleaved) and the accuracy of both."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.bench.naive import NaiveBaseline
from bot.bench.timing import percentiles_ms
from bot.domain.engine import AnswerEngine
from bot.domain.evaluation import Case, Outcome, Report, evaluate, parse_cases, read_cases
from bot.domain.render import LinkResolver, render_html

REAL_SLUG = "inside-sales"  # the real articles: questions about them must still find them in a big corpus
DEFAULT_QUESTIONS = Path("../shared/eval/dev.tsv")
DEFAULT_CHAT_QUESTIONS = Path("../shared/eval/chat-dev.tsv")
_BUILTIN = """\
ms\t0,3\tJualan dalaman tu apa?
ms\t1\tApakah penjanaan utama?
ms\t2\tPersatuan industri untuk jualan dalaman
ms\t-\tSiapa perdana menteri Malaysia?
pl\t0,3\tDefinicja sprzedaży wewnętrznej
pl\t1\tNa czym polega generowanie leadów?
pl\t2\tIle płaci State Farm?
pl\t-\tJak zmienić oponę w samochodzie?
ar\t0,3\tعرّف المبيعات الداخلية
ar\t1\tما هو إنشاء العملاء المحتملين؟
ar\t2\tلماذا يحب المستهلكون الشراء عبر الإنترنت؟
ar\t-\tكيف أغير إطار السيارة؟
hi\t0,3\tआंतरिक बिक्री की परिभाषा
hi\t1\tलीड जनरेशन क्या है?
hi\t2\tलोग ऑनलाइन खरीदारी क्यों पसंद करते हैं?
hi\t-\tकार का टायर कैसे बदलें?
ru\t0,3\tОпределение внутренних продаж
ru\t1\tЧто такое лидогенерация?
ru\t2\tПочему покупатели любят покупать онлайн?
ru\t-\tКак поменять колесо у машины?
"""


def builtin_cases() -> list[Case]:
    return parse_cases(_BUILTIN, source="built-in list")


def load_chat_questions(path: Path | None) -> tuple[list[Case], str]:
    """Questions typed the way people chat; none when there is no such set (the benchmark says so)."""
    found = path or (DEFAULT_CHAT_QUESTIONS if DEFAULT_CHAT_QUESTIONS.is_file() else None)
    return (read_cases(found), str(found)) if found else ([], "none")


def load_questions(path: Path | None) -> tuple[list[Case], str]:
    if path is not None:
        return read_cases(path), str(path)
    if DEFAULT_QUESTIONS.is_file():
        return read_cases(DEFAULT_QUESTIONS), str(DEFAULT_QUESTIONS)
    return builtin_cases(), "built-in list"


@dataclass
class QuestionFigures:
    samples: dict[str, list[int]] = field(default_factory=dict)  # name -> nanoseconds
    methods: Counter[str] = field(default_factory=Counter)  # how our detector settled the language
    messages: int = 0

    def add(self, name: str, nanoseconds: int) -> None:
        self.samples.setdefault(name, []).append(nanoseconds)

    def p(self, name: str) -> tuple[float, float]:
        return percentiles_ms(self.samples.get(name, []))


def measure_questions(
    engine: AnswerEngine, naive: NaiveBaseline, cases: Sequence[Case], repeat: int, links: LinkResolver
) -> QuestionFigures:
    """Ours and the naive approach, interleaved question by question so both see the same machine.

    Per question: the whole answer as the bot gives it (engine.answer + render_html), then its parts
    called directly with the same inputs (detector, retriever, render), then the naive approach.
    The first pass runs on cold caches and is reported on its own; the steady figures are the others.
    """
    figures = QuestionFigures()
    snap = engine.snapshot
    clock = time.perf_counter_ns
    for number in range(max(1, repeat)):
        steady = number > 0 or repeat <= 1
        for case in cases:
            question = case.question
            t0 = clock()
            answer = engine.answer(question)
            t1 = clock()
            messages = render_html(answer, links)
            t2 = clock()
            detection = snap.detector.detect(question, ())
            t3 = clock()
            snap.retriever.search(question, detection.lang)
            t4 = clock()
            n0 = clock()
            lang = naive.detect(question)
            n1 = clock()
            naive.search(question, lang)
            n2 = clock()
            if not steady:
                figures.add("cold total", t2 - t0)
                figures.add("cold naive", n2 - n0)
                continue
            figures.add("total", t2 - t0)
            figures.add("answer", t1 - t0)
            figures.add("rendering", t2 - t1)
            figures.add("detection", t3 - t2)
            figures.add("retrieval", t4 - t3)
            figures.add("naive detection", n1 - n0)
            figures.add("naive retrieval", n2 - n1)
            figures.add("naive total", n2 - n0)
            figures.methods[detection.method] += 1
            figures.messages += len(messages)
    return figures


def accuracy_ours(engine: AnswerEngine, cases: Sequence[Case]) -> Report:
    return evaluate(engine, cases, article=REAL_SLUG)


def accuracy_naive(naive: NaiveBaseline, cases: Sequence[Case]) -> Report:
    report = Report()
    for case in cases:
        lang = naive.detect(case.question)
        report.outcomes.append(Outcome(case, lang or "", naive.search(case.question, lang), article=REAL_SLUG))
    return report


def described(outcome: Outcome) -> str:
    """What was answered, for the summary: `ru inside-sales#1` or `ru declined`."""
    if outcome.found is None:
        return f"{outcome.language} declined"
    slug, index = outcome.found
    return f"{outcome.language} {slug}#{index}"
