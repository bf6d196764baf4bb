"""Concepts: a section and its translations are one thing to find.

Articles that share a slug are translations whose sections align by position, so "section 2 of
inside-sales" is one concept whatever the language. Evidence from every language is pooled per concept,
then the answer is read from the asker's language's text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from bot.domain.content import Article, Library, Section


@dataclass(frozen=True)
class Concept:
    slug: str
    index: int  # the section's position in the article


class ConceptTable:
    def __init__(self, library: Library) -> None:
        self.library = library
        keys = sorted({(a.slug, s.index) for a in library.articles for s in a.sections})
        self.concepts = tuple(Concept(slug, index) for slug, index in keys)
        self._ids = {(c.slug, c.index): i for i, c in enumerate(self.concepts)}
        # Articles in library order: the first one of a slug breaks ties between equal concepts.
        first: dict[str, int] = {}
        for number, article in enumerate(library.articles):
            first.setdefault(article.slug, number)
        self.article_order = tuple(first[c.slug] for c in self.concepts)
        # The share of the library's languages a concept is published in: the library's own measure of
        # which articles matter most (an article worth translating into every language is a main one).
        languages = max(len(library.languages), 1)
        counts = {(slug, index): 0 for slug, index in keys}
        for article in library.articles:
            for section in article.sections:
                counts[(article.slug, section.index)] += 1
        self._in_language: dict[str, np.ndarray] = {}
        self.reach = np.array([counts[(c.slug, c.index)] / languages for c in self.concepts], dtype=np.float32)

    def in_language(self, lang: str) -> np.ndarray:
        """A mask of the concepts `lang`'s articles have (built on first use, one per language)."""
        mask = self._in_language.get(lang)
        if mask is None:
            mask = np.zeros(len(self.concepts), dtype=bool)
            for article in self.library.in_language(lang):
                for section in article.sections:
                    mask[self._ids[(article.slug, section.index)]] = True
            self._in_language[lang] = mask
        return mask

    def __len__(self) -> int:
        return len(self.concepts)

    def id_of(self, article: Article, section: Section) -> int:
        return self._ids[(article.slug, section.index)]

    def section_in(self, concept_id: int, lang: str) -> tuple[Article, Section] | None:
        """The concept's section in `lang`, if that translation exists and has the section."""
        concept = self.concepts[concept_id]
        article = self.library.article(concept.slug, lang)
        if article is None or concept.index >= len(article.sections):
            return None
        return article, article.sections[concept.index]

    def sections(self, concept_id: int) -> Iterator[tuple[Article, Section]]:
        """The concept's section in every language that has it, in library order."""
        concept = self.concepts[concept_id]
        for article in self.library.translations(concept.slug).values():
            if concept.index < len(article.sections):
                yield article, article.sections[concept.index]
