"""Score the engine on a TSV of questions: `lang <TAB> sections <TAB> question`.

`sections` lists the acceptable section positions (0-based among the article's sections, comma-separated)
or "-" for an off-topic question the engine should decline. Lines starting with '#' are comments.

`lang` is the language the answer must come from; "xx?" marks a question typed in Latin letters or mixed,
where the xx article is preferred and any language's article counts; a language the content lacks ("en")
must be recognised as the question's language, and any language's article counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.engine import Answer, AnswerEngine


@dataclass(frozen=True)
class Case:
    line: int
    lang: str
    sections: frozenset[int] | None  # None: off-topic
    question: str

    @property
    def language(self) -> str:
        return self.lang.rstrip("?")


@dataclass(frozen=True)
class Outcome:
    case: Case
    answer: Answer
    foreign: bool = False  # the case's language is not among the content's

    @property
    def language_ok(self) -> bool:
        if self.foreign:
            return self.answer.question_language == self.case.language
        return self.answer.language == self.case.language

    @property
    def ok(self) -> bool:
        if self.case.sections is None:
            return not self.answer.answered
        return (
            self.answer.answered and self.answer.section is not None and self.answer.section.index in self.case.sections
        )


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def _share(self, hits: Iterable[bool]) -> tuple[int, int]:
        values = list(hits)
        return sum(values), len(values)

    @property
    def language(self) -> tuple[int, int]:
        return self._share(o.language_ok for o in self.outcomes)

    @property
    def sections(self) -> tuple[int, int]:
        return self._share(o.ok for o in self.outcomes if o.case.sections is not None)

    @property
    def declined(self) -> tuple[int, int]:
        return self._share(o.ok for o in self.outcomes if o.case.sections is None)

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not (o.ok and o.language_ok)]


def read_cases(path: Path | str) -> list[Case]:
    cases: list[Case] = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) != 3:
            raise ValueError(f"{path}:{number}: expected 3 tab-separated columns, got {len(parts)}")
        lang, sections, question = (p.strip() for p in parts)
        wanted = None if sections == "-" else frozenset(int(s) for s in sections.split(","))
        cases.append(Case(number, lang, wanted, question))
    return cases


def evaluate(engine: AnswerEngine, cases: Iterable[Case]) -> Report:
    report = Report()
    content = engine.library.languages
    for case in cases:
        report.outcomes.append(Outcome(case, engine.answer(case.question), case.language not in content))
    return report


def _percent(pair: tuple[int, int]) -> str:
    hits, total = pair
    return f"{hits}/{total} = {100 * hits / total:.1f}%" if total else "n/a"


def format_report(report: Report) -> str:
    lines = [
        f"language accuracy:  {_percent(report.language)}",
        f"section accuracy:   {_percent(report.sections)} (on-topic questions answered with an acceptable section)",
        f"off-topic declined: {_percent(report.declined)}",
    ]
    misses = report.misses
    lines.append(f"misses: {len(misses)}")
    for o in misses:
        a, c = o.answer, o.case
        want = "decline" if c.sections is None else "section " + ",".join(map(str, sorted(c.sections)))
        got = f"section {a.section.index} ({a.section.heading})" if a.answered and a.section else "declined"
        got_lang = a.question_language if o.foreign else a.language
        lang = "" if o.language_ok else f" LANGUAGE {got_lang} ({a.detection.method}) not {c.language};"
        lines.append(f"  line {c.line} [{c.lang}]{lang} want {want}, got {got}, score {a.score:.2f}: {c.question}")
    return "\n".join(lines)
