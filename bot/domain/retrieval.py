"""The retriever: question -> the section that answers it, its excerpt, and a calibrated "not covered".

It wires the stages of `bot.domain.search` together (see that package for each one):

    lexical candidates in the question's language ─┐
                                                   ├─► fusion per concept ─► decision ─► excerpt
    dense candidates over every language's units ──┘   (a section and its translations are one concept)

The embedder is asked only when it can change the outcome: a question in a content language whose best
section covers most of it and leads clearly is settled lexically, and one none of whose words the
content has is declined. Without an embedding model (or while its vectors are still being computed) the
retriever is lexical alone, with the lexical-only decision calibrated for that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bot.domain.content import Article, Block, Library, Section
from bot.domain.search import fusion
from bot.domain.search.concepts import ConceptTable
from bot.domain.search.excerpt import choose_excerpt, slice_spans
from bot.domain.search.lexical import LanguageIndex, LexicalResult
from bot.domain.search.romanize import IDENTITY, MIN_LOANWORD_KEY, Transliterator
from bot.domain.search.semantic import DenseIndex, Embedder, VectorCache, build_units, full_text_slugs
from bot.domain.search.tuning import TUNING, Tuning
from bot.domain.text import analyzer_for

__all__ = ["Found", "Retriever", "SearchResult", "slice_spans"]
MAX_EXCERPT_CHARS = TUNING.max_excerpt_chars
Mode = Literal["hybrid", "lexical"]


@dataclass(frozen=True)
class Found:
    article: Article  # in the answer language where the translation exists
    section: Section
    score: float  # fused (hybrid) or coverage (lexical)


@dataclass(frozen=True)
class SearchResult:
    answered: bool
    best: Found | None  # the best section, even when declined (for diagnostics and admins' choices)
    alternatives: tuple[Found, ...]  # the next best (the engine shows them only with an answer)
    excerpt: tuple[Block, ...] = ()
    mode: Mode = "lexical"
    low_confidence: bool = False  # answered, but close to declining

    @property
    def score(self) -> float:
        return self.best.score if self.best else 0.0


NOTHING = SearchResult(False, None, ())


class Retriever:
    """One lexical index per content language, one dense index over all of them, one concept table."""

    def __init__(
        self,
        library: Library,
        summary_terms: Mapping[str, str] | None = None,
        *,
        embedder: Embedder | None = None,
        vector_cache: VectorCache | None = None,
        tuning: Tuning = TUNING,
    ) -> None:
        self.library = library
        self.tuning = tuning
        terms = summary_terms or {}
        self.indexes = {
            lang: LanguageIndex(library.in_language(lang), analyzer_for(lang), terms.get(lang, ""), tuning)
            for lang in library.languages
        }
        # Translations keep names ("State Farm", "PayScale") that one language may translate or
        # transliterate: a question using the name is not off-topic for missing it here.
        # A word two or more translations share ("state", "farm", "oracle", "aa", "isp") is a name.
        shared = Counter(w for index in self.indexes.values() for w in index.surface_df)
        self.shared_names = frozenset(w for w, count in shared.items() if count >= 2)
        for index in self.indexes.values():
            index.foreign_names = self.shared_names - set(index.surface_df)
        self.concepts = ConceptTable(library)
        self._concept_of = {
            lang: {index.section_id(a, s.index): self.concepts.id_of(a, s) for a in index.articles for s in a.sections}
            for lang, index in self.indexes.items()
        }
        self._article_number = {a.key: i for i, a in enumerate(library.articles)}
        # Built with the snapshot, not on the first question typed in Latin letters (a quarter of a second
        # each at 10,000 articles): only for content written in another script.
        self._transliterators = {
            lang: self._make_transliterator(index) for lang, index in self.indexes.items() if not index.latin_script
        }
        self.dense: DenseIndex | None = None
        if embedder is not None:
            full_text = full_text_slugs(library, tuning.dense_full_text_articles)
            units = build_units(library, self.concepts, self._credited_section, full_text=full_text)
            cache = vector_cache or VectorCache(None, embedder.model_id)
            self.dense = DenseIndex(units, embedder, cache, library, self.concepts)

    def _credited_section(self, article: Article, section: int, block: int) -> int:
        index = self.indexes[article.lang]
        return index.summary_credit.get((index.article_number[article.slug], section, block), section)

    @staticmethod
    def _make_transliterator(index: LanguageIndex) -> Transliterator:
        analyzer = index.analyzer
        return Transliterator(index.surface_df, analyzer.stopwords, analyzer.lang, analyzer.latin_chat_forms)

    def transliterator(self, lang: str) -> Transliterator:
        """For questions typed in Latin letters in `lang`."""
        found = self._transliterators.get(lang)
        if found is None:
            index = self.indexes.get(lang)
            found = self._make_transliterator(index) if index else IDENTITY
            self._transliterators[lang] = found
        return found

    @property
    def mode(self) -> Mode:
        return "hybrid" if self.dense is not None and self.dense.ready else "lexical"

    # -- searching ------------------------------------------------------------------------------------

    def search(
        self,
        question: str,
        lang: str,
        *,
        question_lang: str | None = None,
        lexical_text: str | None = None,
        foreign_stopwords: frozenset[str] = frozenset(),
        limit: int = 4,
        thorough: bool = False,
    ) -> SearchResult:
        """Answer from `lang`'s articles. The question is read lexically in `question_lang` when the
        content has it, as `lexical_text` when it was typed in Latin letters and transliterated. A
        question in a language the content lacks is read in every content language, its evidence pooled
        per concept: names and English terms turn up in some translations and not others (Polish writes
        "leadów", Arabic translates it). Its meaning is matched in every language. `thorough` asks the
        model even where words settle the answer, for the guesses it adds (sections offered to admins)."""
        if lang not in self.indexes:
            return NOTHING
        if question_lang in self.indexes or not question_lang:
            readings: tuple[str, ...] = (question_lang or lang,)
        else:
            readings = (lang, *(other for other in self.indexes if other != lang))
        lexical_lang, lexical, evidence = self._read(lexical_text or question, readings, foreign_stopwords)
        dense = self.dense if self.dense is not None and self.dense.ready else None
        if dense is None or (
            not thorough
            and fusion.lexically_decided(lexical, evidence, self.tuning, own_language=lexical_lang == question_lang)
        ):
            return self._lexical_answer(lexical, lang, limit)
        # The model reads a script better than chat's Latin spelling of it: a transliteration, when made.
        sims, cosines = dense.concept_scores(dense.embedder.query(lexical_text or question))
        # Only what the answer language has: an Arabic question is not answered from an article that exists in
        # Hindi alone (in the seeds every article is in every language; a growing library's are not).
        ranked = fusion.fuse(
            evidence, cosines, self.tuning, reach=self.concepts.reach, allowed=self.concepts.in_language(lang)
        )
        if not ranked:
            return NOTHING
        best = ranked[0]
        found = [self._found(e.concept, e.score, lang, lexical_lang) for e in ranked[: max(limit, 1)]]
        answered = fusion.answers(best, self.tuning)
        excerpt = self._excerpt(found[0], lexical, sims) if answered else ()
        alternatives = tuple(f for f, e in zip(found[1:], ranked[1:], strict=False) if e.lexical or e.dense)
        doubtful = answered and best.score < self.tuning.answer_at + self.tuning.low_confidence_margin
        return SearchResult(answered, found[0], alternatives, excerpt, "hybrid", doubtful)

    def _read(
        self, text: str, readings: Sequence[str], foreign_stopwords: frozenset[str]
    ) -> tuple[str, LexicalResult, dict[int, float]]:
        """The question read in each of `readings`' languages: the reading with the strongest evidence
        (the first on a tie), and every reading's evidence pooled per concept (the best)."""
        pooled: dict[int, float] = {}
        best: tuple[float, str, LexicalResult] | None = None
        for reading in readings:
            index = self.indexes[reading]
            if len(readings) > 1 and reading in self._transliterators:
                # A language the content lacks, read in a translation written in another script: through
                # the words that translation writes as it hears them (Hindi "टेलीसेल्स" for "telesales"); words
                # it writes in Latin letters ("outside" in a link) stay as typed.
                read = self._transliterators[reading].transliterate(text, index.surface_df, MIN_LOANWORD_KEY)
                result = index.search(read, foreign_stopwords)
            else:
                result = index.search(text, foreign_stopwords)
            evidence = fusion.lexical_evidence(result, self._concept_of[reading], self.tuning)
            for concept, value in evidence.items():
                pooled[concept] = max(pooled.get(concept, 0.0), value)
            strongest = max(evidence.values(), default=0.0)
            if best is None or strongest > best[0]:
                best = (strongest, reading, result)
        assert best is not None  # `readings` is never empty
        return best[1], best[2], pooled

    def _lexical_answer(self, lexical: LexicalResult, lang: str, limit: int) -> SearchResult:
        best = lexical.best
        if best is None:
            return NOTHING
        lexical_lang = best.article.lang
        found = [self._found(self.concepts.id_of(m.article, m.section), m.coverage, lang, lexical_lang)
                 for m in lexical.ranked[:limit]]  # fmt: skip
        alternatives = tuple(f for f, m in zip(found[1:], lexical.ranked[1:], strict=False) if m.score and m.coverage)
        if not best.confident(self.tuning):
            return SearchResult(False, found[0], alternatives)
        doubtful = best.coverage < self.tuning.lexical_low_confidence
        return SearchResult(True, found[0], alternatives, self._excerpt(found[0], lexical, None), "lexical", doubtful)

    def _found(self, concept: int, score: float, lang: str, fallback_lang: str) -> Found:
        """The concept's section in the answer language, else in the language the evidence came from,
        else in any language that has it."""
        place = self.concepts.section_in(concept, lang) or self.concepts.section_in(concept, fallback_lang)
        article, section = place or next(self.concepts.sections(concept))
        return Found(article, section, score)

    def _excerpt(self, found: Found, lexical: LexicalResult, sims: np.ndarray | None) -> tuple[Block, ...]:
        article, section = found.article, found.section
        blocks = self._block_evidence(article, section, lexical)
        sentence_cosines = self._sentence_cosines(article, section, sims)
        dense = {b: max(c for _, _, c in spans) for b, spans in sentence_cosines.items()}
        wanted = {k for word in lexical.query for k in word.keys}
        analyzer = analyzer_for(article.lang)

        def score_sentences(b: int, spans: Sequence[tuple[int, int]]) -> list[float]:
            scored = sentence_cosines.get(b, [])
            text = section.blocks[b].text
            return [
                len(wanted.intersection(analyzer.terms(text[start:end])))
                + max((c for s, e, c in scored if s < end and e > start), default=0.0)
                for start, end in spans
            ]

        return choose_excerpt(section, blocks, dense, score_sentences, self.tuning)

    def _block_evidence(
        self, article: Article, section: Section, lexical: LexicalResult
    ) -> dict[int, tuple[float, float]]:
        """block -> lexical evidence; read through the translation the question was matched in, block by
        block, when the answer comes from another language (translations keep the paragraph structure)."""
        index = lexical.index
        source = self.library.article(article.slug, index.analyzer.lang)
        if source is None or section.index >= len(source.sections):
            return {}
        if len(source.sections[section.index].blocks) != len(section.blocks):
            return {}
        return index.block_evidence(index.section_id(source, section.index), lexical)

    def _sentence_cosines(
        self, article: Article, section: Section, sims: np.ndarray | None
    ) -> dict[int, list[tuple[int, int, float]]]:
        """block -> [(start, end, cosine)] of the section's sentences in this article."""
        if sims is None or self.dense is None:
            return {}
        units = self.dense.units
        number = self._article_number[article.key]
        concept = self.concepts.id_of(article, section)
        rows = np.arange(units.concept_starts[concept], _end(units.concept_starts, concept, len(units)))
        rows = rows[(units.article[rows] == number) & (units.section[rows] == section.index) & (units.block[rows] >= 0)]
        found: dict[int, list[tuple[int, int, float]]] = {}
        for row in rows:
            found.setdefault(int(units.block[row]), []).append(
                (int(units.start[row]), int(units.end[row]), float(sims[row]))
            )
        return found


def _end(starts: np.ndarray, concept: int, total: int) -> int:
    return int(starts[concept + 1]) if concept + 1 < len(starts) else total
