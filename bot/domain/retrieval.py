"""Question -> best section, the passage in it that answers, and a calibrated "not covered".

How it works, per content language:
- Every heading, paragraph, quote and list item is a passage in an inverted index of Snowball stems and
  folded word prefixes, weighted by BM25 (numpy posting arrays: scoring touches only the postings of
  the question's words, so 10,000 articles cost about what five do).
- Passages add up to sections (best passage plus a share of the rest). Headings weigh more. A highlight
  bullet is a summary of body text, so its score goes to the section it summarises, which answers with
  context; the highlights section itself is found by its heading and its role ("key points").
- The few best sections are re-ranked with rapidfuzz (typos) and scored by *coverage*: the share of the
  question's informative words, IDF-weighted, that the section contains. Questions whose best coverage is
  under a threshold calibrated on held-out questions are declined as "not covered".
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import regex
from rapidfuzz import fuzz, process

from bot.domain.content import Article, Block, Library, Section, Span
from bot.domain.text import Analyzer, analyzer_for, fold, words

K1, B = 1.2, 0.75
HEADING_WEIGHT = 1.5
DESCRIPTION_WEIGHT = 0.5  # a tie-breaker towards the introduction, not a rival to the body text
PASSAGE_WEIGHTS = {-1: HEADING_WEIGHT, -2: DESCRIPTION_WEIGHT}
PREFIX_WEIGHT = 0.5  # a shared prefix is weaker evidence than a shared stem
OTHER_PASSAGES_SHARE = 0.25
STOPWORD_DF_SHARE = 0.2  # a listed stop word is ignored when this common in the content (or absent)
STOPWORD_WEIGHT = 0.3  # lists mix function words with content words ("jualan"): keep the latter, lightly
NAME_WEIGHT = 0.3
FUZZY_CUTOFF = 82  # rapidfuzz ratio for a misspelt word to count as the content's word
CANDIDATES = 8
# Calibrated on dev.tsv (`python -m bot eval --calibrate`): a question that names the article's topic
# (a word of its title, description or keywords) needs less of itself covered than one that does not.
# Two or more words the content has never seen, and none of its topic, is how off-topic questions look
# ("car tyre", "prime minister"): those need most of themselves covered.
MIN_COVERAGE = 0.35
MIN_COVERAGE_ON_TOPIC = 0.3
MIN_COVERAGE_UNKNOWN_WORDS = 0.6
SUMMARY_SOURCE_MIN = 0.2  # a highlight bullet is credited to a body section this similar to it
MAX_EXCERPT_CHARS = 700
_SENTENCE_END = regex.compile(r"(?<=[.!?।؟])\s+")


@dataclass(frozen=True)
class Passage:
    article: int
    section: int  # the section this passage belongs to
    credit: int  # the section its score counts for (a highlight bullet counts for its source)
    block: int  # -1 for the heading, -2 for the article's description
    kind: str


@dataclass(frozen=True)
class Match:
    article: Article
    section: Section
    score: float
    coverage: float
    excerpt: tuple[Block, ...]
    on_topic: bool = False  # the question names the article's topic
    unknown_words: int = 0  # informative words found nowhere in this language's content

    @property
    def confident(self) -> bool:
        if self.on_topic:
            needed = MIN_COVERAGE_ON_TOPIC
        else:
            needed = MIN_COVERAGE_UNKNOWN_WORDS if self.unknown_words >= 2 else MIN_COVERAGE
        return self.score > 0 and self.coverage >= needed


@dataclass(frozen=True)
class SearchResult:
    answered: bool
    best: Match | None  # the best section, even when declined (for diagnostics)
    alternatives: tuple[Match, ...]

    @property
    def score(self) -> float:
        return self.best.coverage if self.best else 0.0


@dataclass(frozen=True)
class QueryWord:
    surface: str
    keys: tuple[str, ...]
    weight: float  # IDF of its stem: rare words say more about what is asked
    factor: float = 1.0  # less for listed stop words
    known: bool = True  # the content has this word (or a close spelling of it)


class LanguageIndex:
    """The inverted index of one language's articles."""

    def __init__(self, articles: Sequence[Article], analyzer: Analyzer, summary_terms: str = "") -> None:
        self.articles = tuple(articles)
        self.analyzer = analyzer
        self.sections: list[tuple[int, int]] = []  # section id -> (article index, section index)
        self.passages: list[Passage] = []
        section_ids: dict[tuple[int, int], int] = {}
        passage_terms: list[Counter[str]] = []
        self.section_keys: list[frozenset[str]] = []
        self.section_words: list[list[str]] = []
        self.section_passages: list[tuple[int, int]] = []  # section id -> its passages' id range
        for a, article in enumerate(self.articles):
            first = len(self.sections)
            for s in range(len(article.sections)):
                section_ids[(a, s)] = len(self.sections)
                self.sections.append((a, s))
            sources = self._summary_sources(article, first)
            for s, section in enumerate(article.sections):
                sid = first + s
                heading = section.heading + (" " + summary_terms if section.is_summary else "")
                keys: set[str] = set()
                first_passage = len(self.passages)
                texts = [(heading, -1, "heading")] + [(b.text, i, b.kind) for i, b in enumerate(section.blocks)]
                if s == 0 and article.description:
                    # The front-matter description summarises the introduction: a question that only
                    # names the topic ("what is inside sales?") lands on the first section through it.
                    texts.append((article.title + ". " + article.description, -2, "description"))
                for text, block_index, kind in texts:
                    terms = Counter(analyzer.terms(text))
                    keys.update(terms)
                    credit = sources.get((s, block_index), sid)
                    self.passages.append(Passage(a, sid, credit, block_index, kind))
                    passage_terms.append(terms)
                self.section_keys.append(frozenset(keys))
                self.section_passages.append((first_passage, len(self.passages)))
                self.section_words.append(sorted({fold(w) for w in words(section.heading + " " + section.text)}))
        self._build_postings(passage_terms)
        self.surface_df: Counter[str] = Counter()
        for article in self.articles:
            for section in article.sections:
                for text in (section.heading, *(b.text for b in section.blocks)):
                    self.surface_df.update(set(words(text)))
        # A word whose stem is a function word's ("أغير" -> "غير") is as uninformative as one.
        self.stopword_keys = frozenset(analyzer.keys(w)[0] for w in analyzer.stopwords)
        self.foreign_names: frozenset[str] = frozenset()
        self.title_keys = [frozenset(analyzer.terms(a.title)) for a in self.articles]
        self.topic_keys = [
            frozenset(analyzer.terms(" ".join((a.title, a.description, *a.keywords)))) for a in self.articles
        ]
        self.passage_section = np.array([p.credit for p in self.passages], dtype=np.int32)
        self.passage_weight = np.array([PASSAGE_WEIGHTS.get(p.block, 1.0) for p in self.passages], dtype=np.float32)
        self._vocabulary_by_length: dict[int, list[str]] = defaultdict(list)
        for word in {w for ws in self.section_words for w in ws}:
            self._vocabulary_by_length[len(word)].append(word)

    def _summary_sources(self, article: Article, first: int) -> dict[tuple[int, int], int]:
        """Map each highlight bullet to the body section it summarises (by shared stems)."""
        body = [(s, set(self.analyzer.terms(sec.text))) for s, sec in enumerate(article.sections)]
        sources: dict[tuple[int, int], int] = {}
        for s, section in enumerate(article.sections):
            if not section.is_summary:
                continue
            for b, block in enumerate(section.blocks):
                terms = set(self.analyzer.terms(block.text))
                scored = [
                    (len(terms & keys) / (len(terms) or 1), other)
                    for other, keys in body
                    if other != s and not article.sections[other].is_summary
                ]
                if scored:
                    similarity, source = max(scored)
                    if similarity >= SUMMARY_SOURCE_MIN:
                        sources[(s, b)] = first + source
        return sources

    def _build_postings(self, passage_terms: list[Counter[str]]) -> None:
        lengths = np.array([sum(c.values()) for c in passage_terms], dtype=np.float32)
        average = float(lengths.mean()) if len(lengths) else 1.0
        ids: dict[str, list[int]] = defaultdict(list)
        tfs: dict[str, list[float]] = defaultdict(list)
        for pid, terms in enumerate(passage_terms):
            norm = K1 * (1 - B + B * lengths[pid] / average)
            for term, tf in terms.items():
                ids[term].append(pid)
                tfs[term].append(tf * (K1 + 1) / (tf + norm))
        n = len(passage_terms)
        self.passage_count = n
        self.postings = {t: (np.array(ids[t], dtype=np.int32), np.array(tfs[t], dtype=np.float32)) for t in ids}
        self.idf = {t: math.log(1 + (n - len(ids[t]) + 0.5) / (len(ids[t]) + 0.5)) for t in ids}
        # An unknown word weighs as much as the rarest known one: it may be a synonym the content lacks.
        self.unknown_idf = math.log(1 + (n - 0.5) / 1.5)

    # -- querying -------------------------------------------------------------------------------------

    def query_words(self, question: str) -> list[QueryWord]:
        informative = self._informative_words(question)
        if informative:
            return informative
        # Nothing but the topic's own common words ("Jualan dalaman tu apa?"): the question is the topic
        # itself, so let those words speak (the description steers it to the introduction).
        known = {self.analyzer.keys(t) for t in words(question)}
        return [QueryWord(k[0][2:], k, self.idf[k[0]]) for k in known if k[0] in self.postings]

    def _informative_words(self, question: str) -> list[QueryWord]:
        result: list[QueryWord] = []
        seen: set[str] = set()
        for token in words(question):
            keys = self.analyzer.keys(token)
            if keys[0] in seen:
                continue
            seen.add(keys[0])
            listed = token in self.analyzer.stopwords or keys[0] in self.stopword_keys
            surface_df = self.surface_df.get(token, 0)
            common = surface_df == 0 or surface_df > STOPWORD_DF_SHARE * self.passage_count or len(token) < 3
            if token in self.analyzer.question_words or (listed and common):
                continue  # a function word ("mengapa", "the"): says nothing about the topic
            known = keys[0] in self.postings
            if not known and len(token) <= 2:
                continue  # short unknown tokens are particles and abbreviations ("tu", "ya")
            if not known and not any(k in self.postings for k in keys[1:]):
                keys = self._fuzzy_keys(token) or keys
            factor = STOPWORD_WEIGHT if listed else 1.0
            name = not known and fold(token) in self.foreign_names
            if name:
                factor = NAME_WEIGHT  # a name the translations spell, this language transliterates
            weight = self.idf.get(keys[0], self.unknown_idf) * factor
            found = name or any(k in self.postings for k in keys)
            result.append(QueryWord(token, keys, weight, factor, found))
        return result

    def _fuzzy_keys(self, token: str) -> tuple[str, ...] | None:
        folded = fold(token)
        if len(folded) < 5:  # short words are one letter away from too many others
            return None
        pool = [w for n in range(len(folded) - 2, len(folded) + 3) for w in self._vocabulary_by_length.get(n, ())]
        found = process.extractOne(folded, pool, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if found is None or found[0] in self.analyzer.stopwords:
            return None
        return self.analyzer.keys(found[0])

    def search(self, question: str, limit: int = 4) -> SearchResult:
        query = self.query_words(question)
        if not query or not self.passages:
            return SearchResult(False, None, ())
        passage_scores = np.zeros(self.passage_count, dtype=np.float32)
        for word in query:
            for i, key in enumerate(word.keys):
                posting = self.postings.get(key)
                if posting is not None:
                    boost = (1.0 if i == 0 else PREFIX_WEIGHT) * word.factor
                    passage_scores[posting[0]] += self.idf[key] * boost * posting[1]
        passage_scores *= self.passage_weight
        section_best = np.zeros(len(self.sections), dtype=np.float32)
        section_sum = np.zeros(len(self.sections), dtype=np.float32)
        np.maximum.at(section_best, self.passage_section, passage_scores)
        np.add.at(section_sum, self.passage_section, passage_scores)
        section_scores = section_best + OTHER_PASSAGES_SHARE * (section_sum - section_best)
        count = min(CANDIDATES, len(section_scores))
        top = np.argpartition(-section_scores, count - 1)[:count]
        ranked = sorted(
            (self._rerank(int(sid), float(section_scores[sid]), query, passage_scores) for sid in top),
            key=lambda m: (m.coverage * m.score, m.score),
            reverse=True,
        )
        best = ranked[0]
        if self._names_only_title(query, best):  # "what is <topic>?": the introduction answers it
            best = self._rerank(self._first_section(best), float(section_scores.max()), query, passage_scores)
            ranked = [best] + [m for m in ranked if m.section is not best.section]
        answered = best.confident
        alternatives = tuple(m for m in ranked[1:limit] if m.score > 0 and m.coverage > 0)
        return SearchResult(answered, best, alternatives)

    def _article_number(self, match: Match) -> int:
        return next(i for i, a in enumerate(self.articles) if a is match.article)

    def _names_only_title(self, query: list[QueryWord], match: Match) -> bool:
        title = self.title_keys[self._article_number(match)]
        return all(word.keys[0] in title for word in query)

    def _first_section(self, match: Match) -> int:
        article = self._article_number(match)
        return next(sid for sid, (a, _) in enumerate(self.sections) if a == article)

    def _rerank(self, sid: int, score: float, query: list[QueryWord], passage_scores: np.ndarray) -> Match:
        keys = self.section_keys[sid]
        vocabulary = self.section_words[sid]
        total = matched = 0.0
        for word in query:
            total += word.weight
            if word.keys[0] in keys:
                matched += word.weight
            elif any(k in keys for k in word.keys[1:]):
                matched += 0.8 * word.weight
            elif len(word.surface) >= 4 and vocabulary:
                found = process.extractOne(fold(word.surface), vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
                if found:
                    matched += 0.8 * word.weight * found[1] / 100
        coverage = matched / total if total else 0.0
        a, s = self.sections[sid]
        article = self.articles[a]
        on_topic = any(k in self.topic_keys[a] for word in query for k in word.keys[:1])
        excerpt = self._excerpt(sid, query, passage_scores)
        unknown = sum(1 for word in query if not word.known)
        return Match(article, article.sections[s], score, coverage, excerpt, on_topic, unknown)

    def _excerpt(self, sid: int, query: list[QueryWord], passage_scores: np.ndarray) -> tuple[Block, ...]:
        a, s = self.sections[sid]
        section = self.articles[a].sections[s]
        if section.is_summary:
            return section.blocks  # the highlights are short: show them all
        own = [
            (float(passage_scores[pid]), self.passages[pid].block)
            for pid in range(*self.section_passages[sid])
            if self.passages[pid].block >= 0
        ]
        best_score, best_block = max(own, default=(0.0, 0))
        block = section.blocks[best_block if best_score > 0 else 0]
        return (self._trim(block, query),)

    def _trim(self, block: Block, query: list[QueryWord]) -> Block:
        """A long paragraph is cut to the sentences around the best match, links kept."""
        text = block.text
        if len(text) <= MAX_EXCERPT_CHARS:
            return block
        wanted = {k for w in query for k in w.keys}
        bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
        sentences = [piece for span in itertools.pairwise(bounds) for piece in _word_pieces(text, *span)]
        hits = [len(wanted.intersection(self.analyzer.terms(text[a:b]))) for a, b in sentences]
        best = max(range(len(sentences)), key=lambda i: hits[i])
        start, end = sentences[best]
        left, right = best - 1, best + 1
        while True:  # grow around the best sentence while it fits, preferring sentences that match
            options = [i for i in (left, right) if 0 <= i < len(sentences)]
            options = [
                i for i in options if max(end, sentences[i][1]) - min(start, sentences[i][0]) <= MAX_EXCERPT_CHARS
            ]
            if not options:
                break
            pick = max(options, key=lambda i: (hits[i], -i))
            start, end = min(start, sentences[pick][0]), max(end, sentences[pick][1])
            left, right = (left - 1, right) if pick == left else (left, right + 1)
        return Block(block.kind, slice_spans(block.spans, start, end), block.line)


def _word_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A sentence too long for an excerpt, cut at spaces into pieces of at most half the excerpt."""
    if end - start <= MAX_EXCERPT_CHARS:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    while end - start > MAX_EXCERPT_CHARS // 2:
        cut = text.rfind(" ", start + 1, start + MAX_EXCERPT_CHARS // 2)
        cut = cut + 1 if cut > start else start + MAX_EXCERPT_CHARS // 2
        pieces.append((start, cut))
        start = cut
    return [*pieces, (start, end)]


def slice_spans(spans: Sequence[Span], start: int, end: int) -> tuple[Span, ...]:
    """The spans covering text[start:end], cut at the edges, links kept on the pieces."""
    result: list[Span] = []
    offset = 0
    for span in spans:
        lo, hi = max(start, offset), min(end, offset + len(span.text))
        if lo < hi:
            result.append(Span(span.text[lo - offset : hi - offset], span.href))
        offset += len(span.text)
    if result:
        result[0] = Span(result[0].text.lstrip(), result[0].href)
        result[-1] = Span(result[-1].text.rstrip(), result[-1].href)
    return tuple(s for s in result if s.text)


class Retriever:
    """One index per content language; questions are matched in the language they were asked in."""

    def __init__(self, library: Library, summary_terms: Mapping[str, str] | None = None) -> None:
        terms = summary_terms or {}
        self.indexes = {
            lang: LanguageIndex(library.in_language(lang), analyzer_for(lang), terms.get(lang, ""))
            for lang in library.languages
        }
        # Translations keep names ("State Farm", "PayScale") that one language may translate or
        # transliterate: a question using the name is not off-topic for missing it here.
        # A word two or more translations share ("state", "farm", "oracle", "aa", "isp") is a name.
        shared = Counter(w for index in self.indexes.values() for w in index.surface_df)
        names = {w for w, count in shared.items() if count >= 2}
        for index in self.indexes.values():
            index.foreign_names = frozenset(names - set(index.surface_df))

    def search(self, question: str, lang: str, limit: int = 4) -> SearchResult:
        index = self.indexes.get(lang)
        if index is None:
            return SearchResult(False, None, ())
        return index.search(question, limit)
