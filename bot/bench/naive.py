"""The naive approach the design card describes, measured beside ours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from langdetect import DetectorFactory, detect
from langdetect.lang_detect_exception import LangDetectException
from rapidfuzz import fuzz, process, utils

from bot.domain.content import Library

NAIVE_SCORE_CUTOFF = 60.0  # WRatio below this: the naive approach says "not covered"


class NaiveBaseline:
    """The design card taken literally: seeded langdetect (id -> ms), then rapidfuzz `extractOne` with
    WRatio over the headings and highlight bullets of that language; below NAIVE_SCORE_CUTOFF, declined."""

    def __init__(self, library: Library, aliases: Mapping[str, Sequence[str]]) -> None:
        DetectorFactory.seed = 0
        self.aliases = aliases
        self.choices: dict[str, list[str]] = {}
        self.targets: dict[str, list[tuple[str, int]]] = {}
        for article in library.articles:
            choices = self.choices.setdefault(article.lang, [])
            targets = self.targets.setdefault(article.lang, [])
            for section in article.sections:
                choices.append(section.heading)
                targets.append((article.slug, section.index))
                if section.is_summary:
                    for block in section.blocks:
                        choices.append(block.text)
                        targets.append((article.slug, section.index))

    def detect(self, question: str) -> str | None:
        try:
            code = str(detect(question)).split("-")[0]
        except LangDetectException:
            return None
        if code in self.choices:
            return code
        return next((alias for alias in self.aliases.get(code, ()) if alias in self.choices), code)

    def search(self, question: str, lang: str | None) -> tuple[str, int] | None:
        choices = self.choices.get(lang or "")
        if not choices or lang is None:
            return None
        found = process.extractOne(
            question, choices, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=NAIVE_SCORE_CUTOFF
        )
        return self.targets[lang][found[2]] if found else None
