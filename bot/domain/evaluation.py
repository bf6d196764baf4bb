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
    """One question's result: the language answered in and the section found (None: declined)."""

    case: Case
    language: str
    found: tuple[str, int] | None  # (article slug, section index)
    answer: Answer | None = None  # the engine's whole answer, for the report's details
    article: str | None = None  # when set, a right section must also be in this article (slug)
    question_language: str = ""  # what the question was found to be written in
    foreign: bool = False  # the case's language is not among the content's: the question's must be found

    @classmethod
    def of(cls, case: Case, answer: Answer, *, article: str | None = None, foreign: bool = False) -> Outcome:
        found = None
        if answer.answered and answer.article is not None and answer.section is not None:
            found = (answer.article.slug, answer.section.index)
        written = answer.question_language or answer.language
        return cls(case, answer.language, found, answer, article, written, foreign)

    @property
    def language_ok(self) -> bool:
        if self.foreign:
            return self.question_language == self.case.language
        return self.language == self.case.language

    @property
    def ok(self) -> bool:
        if self.case.sections is None:
            return self.found is None
        if self.found is None:
            return False
        slug, index = self.found
        return index in self.case.sections and (self.article is None or slug == self.article)


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
    return parse_cases(Path(path).read_text(encoding="utf-8"), source=str(path))


def parse_cases(text: str, *, source: str = "<questions>") -> list[Case]:
    cases: list[Case] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) != 3:
            raise ValueError(f"{source}:{number}: expected 3 tab-separated columns, got {len(parts)}")
        lang, sections, question = (p.strip() for p in parts)
        wanted = None if sections == "-" else frozenset(int(s) for s in sections.split(","))
        cases.append(Case(number, lang, wanted, question))
    return cases


def evaluate(engine: AnswerEngine, cases: Iterable[Case], *, article: str | None = None) -> Report:
    """Answer every case; with `article`, a right section must also come from that article."""
    report = Report()
    content = engine.library.languages
    for case in cases:
        foreign = case.language not in content
        report.outcomes.append(Outcome.of(case, engine.answer(case.question), article=article, foreign=foreign))
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
        assert a is not None  # evaluate() keeps every answer
        want = "decline" if c.sections is None else "section " + ",".join(map(str, sorted(c.sections)))
        got = f"section {a.section.index} ({a.section.heading})" if a.answered and a.section else "declined"
        got_lang = a.question_language if o.foreign else a.language
        lang = "" if o.language_ok else f" LANGUAGE {got_lang} ({a.detection.method}) not {c.language};"
        lines.append(f"  line {c.line} [{c.lang}]{lang} want {want}, got {got}, score {a.score:.2f}: {c.question}")
    return "\n".join(lines)
