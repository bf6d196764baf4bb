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
        # Which concepts each language has, and the share of the library's languages each concept is
        # published in: the library's own measure of which articles matter most (an article worth
        # translating into every language is a main one).
        self._in_language: dict[str, np.ndarray] = {}
        for lang in library.languages:
            mask = np.zeros(len(self.concepts), dtype=bool)
            mask[[self._ids[(a.slug, s.index)] for a in library.in_language(lang) for s in a.sections]] = True
            self._in_language[lang] = mask
        shares = [mask.astype(np.float32) for mask in self._in_language.values()]
        self.reach = np.mean(shares, axis=0) if shares else np.zeros(len(self.concepts), dtype=np.float32)

    def in_language(self, lang: str) -> np.ndarray:
        """A mask of the concepts `lang`'s articles have (none for a language the library lacks)."""
        found = self._in_language.get(lang)
        return found if found is not None else np.zeros(len(self.concepts), dtype=bool)

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
