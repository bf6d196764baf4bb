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
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import regex
from rapidfuzz import fuzz, process

from bot.domain.content import Article, Block, Library, Section, Span, fork_pool, worker_count
from bot.domain.text import Analyzer, analyzer_for, fold, words

K1, B = 1.2, 0.75
HEADING_WEIGHT = 1.5
DESCRIPTION_WEIGHT = 0.5  # a tie-breaker towards the introduction, not a rival to the body text
PASSAGE_WEIGHTS = {-1: HEADING_WEIGHT, -2: DESCRIPTION_WEIGHT}
PREFIX_WEIGHT = 0.5  # a shared prefix is weaker evidence than a shared stem
PAIR_WEIGHT = 0.5  # two question words side by side in the text: a phrase, not a coincidence
OTHER_PASSAGES_SHARE = 0.25
STOPWORD_DF_SHARE = 0.2  # a listed stop word is ignored when this common in the content (or absent)
STOPWORD_WEIGHT = 0.3  # lists mix function words with content words ("jualan"): keep the latter, lightly
NAME_WEIGHT = 0.3
FUZZY_CUTOFF = 82  # rapidfuzz ratio for a misspelt word to count as the content's word
CANDIDATES = 8
# Read off the dev.tsv distribution (`python -m bot eval` prints the misses): a question that names the article's topic
# (a word of its title, description or keywords) needs less of itself covered than one that does not.
# Two or more words the content has never seen, and none of its topic, is how off-topic questions look
# ("car tyre", "prime minister"): those need most of themselves covered.
MIN_COVERAGE = 0.35
MIN_COVERAGE_ON_TOPIC = 0.3
MIN_COVERAGE_UNKNOWN_WORDS = 0.6
MIN_EXACT_COVERAGE = 0.2
FUZZY_SHARE = 0.8  # a corrected spelling counts for less than the word as written
PREFIX_MATCH = 0.8  # a shared stem prefix ("покупка"/"покупатели") counts for most of a shared stem
TIE_BREAK = 1e-9
SUMMARY_SOURCE_MIN = 0.2  # a highlight bullet is credited to a body section this similar to it
MAX_EXCERPT_CHARS = 700
_SENTENCE_END = regex.compile(r"(?<=[.!?।؟])\s+")


@dataclass(frozen=True)
class Match:
    article: Article
    section: Section
    score: float
    coverage: float
    excerpt: tuple[Block, ...]
    on_topic: bool = False  # the question names the article's topic
    unknown_words: int = 0  # informative words found nowhere in this language's content
    exact_coverage: float = 0.0  # the coverage by words as written (no typo correction)

    @property
    def confident(self) -> bool:
        if self.on_topic:
            needed = MIN_COVERAGE_ON_TOPIC
        else:
            needed = MIN_COVERAGE_UNKNOWN_WORDS if self.unknown_words >= 2 else MIN_COVERAGE
        # Typo corrections alone never make an answer: in a large vocabulary every word has a near miss.
        return self.score > 0 and self.coverage >= needed and self.exact_coverage >= MIN_EXACT_COVERAGE


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
    corrected: bool = False  # matched through a typo correction, not as written


class LanguageIndex:
    """The inverted index of one language's articles.

    Postings live in flat numpy arrays (CSR by term hash), not in per-term Python objects, so 10,000
    articles cost tens of megabytes and build in seconds: each passage is tokenised once.
    """

    def __init__(self, articles: Sequence[Article], analyzer: Analyzer, summary_terms: str = "") -> None:
        self.articles = tuple(articles)
        self.analyzer = analyzer
        self.summary_terms = summary_terms
        section_article: list[int] = []
        section_number: list[int] = []
        passage_owner: list[int] = []
        passage_credit: list[int] = []
        passage_block: list[int] = []
        self.surface_df: Counter[str] = Counter()
        self._make_caches()
        stem_hashes: array[int] = array("q")
        prefix_hashes: array[int] = array("q")
        token_passages: array[int] = array("i")
        for a, article in enumerate(self.articles):
            first = len(section_article)
            passages = [
                (s, b, tokens, list(map(self._token_hashes, tokens)))
                for s, b, tokens in self._article_passages(article)
            ]
            sources = self._summary_sources(article, passages)
            for s, block_index, tokens, hashed in passages:
                if s >= len(section_article) - first:
                    section_article.append(a)
                    section_number.append(s)
                pid = len(passage_owner)
                passage_owner.append(first + s)
                passage_credit.append(first + sources.get((s, block_index), s))
                passage_block.append(block_index)
                if block_index >= -1:
                    self.surface_df.update(set(tokens))
                if hashed:
                    stems, prefixes = zip(*hashed, strict=True)
                    stem_hashes.extend(stems)
                    prefix_hashes.extend(prefixes)
                    token_passages.extend(itertools.repeat(pid, len(tokens)))
        self.section_article = np.array(section_article, dtype=np.int32)
        self.section_number = np.array(section_number, dtype=np.int32)
        self.passage_owner = np.array(passage_owner, dtype=np.int32)
        self.passage_credit = np.array(passage_credit, dtype=np.int32)
        self.passage_block = np.array(passage_block, dtype=np.int32)
        self.passage_weight = np.array([PASSAGE_WEIGHTS.get(b, 1.0) for b in passage_block], dtype=np.float32)
        # Passages are stored section by section: a section's passages are one contiguous range.
        self.section_start = np.searchsorted(self.passage_owner, np.arange(len(section_article)), side="left")
        self.section_end = np.searchsorted(self.passage_owner, np.arange(len(section_article)), side="right")
        self.article_first_section = np.searchsorted(self.section_article, np.arange(len(self.articles)))
        self.passage_count = len(passage_owner)
        self._build_postings(stem_hashes, prefix_hashes, token_passages)
        # A word whose stem is a function word's ("أغير" -> "غير") is as uninformative as one.
        self.stopword_keys = frozenset(analyzer.keys(w)[0] for w in analyzer.stopwords)
        self.foreign_names: frozenset[str] = frozenset()
        self.topic_keys = [
            frozenset(analyzer.terms(" ".join((a.title, a.description, *a.keywords)))) for a in self.articles
        ]
        # Misspelt words are looked up among words of about their length that start alike (sorted, so
        # that ties resolve the same way in every process).
        self._vocabulary: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted({fold(w) for w in self.surface_df}):
            self._vocabulary[(word[:1], len(word))].append(word)

    # -- moving between processes ---------------------------------------------------------------------

    def __getstate__(self) -> dict[str, object]:
        """Arrays and counts only: the articles and the analyzer are the receiving process's own."""
        state = dict(self.__dict__)
        for name in ("articles", "analyzer", "_token_hashes", "_section_words", "_fuzzy_keys"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    def attach(self, articles: Sequence[Article], analyzer: Analyzer) -> LanguageIndex:
        self.articles = tuple(articles)
        self.analyzer = analyzer
        self._make_caches()
        return self

    def _make_caches(self) -> None:
        self._token_hashes = lru_cache(maxsize=400_000)(self._hashes_of_token)
        self._section_words = lru_cache(maxsize=4096)(self._words_of_section)
        self._fuzzy_keys = lru_cache(maxsize=16_384)(self._closest_keys)

    # -- building -------------------------------------------------------------------------------------

    def _article_passages(self, article: Article) -> Iterator[tuple[int, int, list[str]]]:
        """(section, block, tokens) for every passage: block -1 is the heading, -2 the description."""
        for s, section in enumerate(article.sections):
            heading = section.heading + (" " + self.summary_terms if section.is_summary else "")
            texts = [(heading, -1)] + [(b.text, i) for i, b in enumerate(section.blocks)]
            if s == 0 and article.description:
                # The front-matter description summarises the introduction: a question that only names
                # the topic ("what is inside sales?") lands on the first section through it.
                texts.append((article.title + ". " + article.description, -2))
            for text, block_index in texts:
                yield s, block_index, words(text)

    def _hashes_of_token(self, token: str) -> tuple[int, int]:
        """The hashes of a word's stem key and prefix key (0: no prefix key)."""
        keys = self.analyzer.keys(token)
        return hash(keys[0]), hash(keys[1]) if len(keys) > 1 else 0

    def _summary_sources(
        self, article: Article, passages: list[tuple[int, int, list[str], list[tuple[int, int]]]]
    ) -> dict[tuple[int, int], int]:
        """Map each highlight bullet to the body section it summarises (by shared stems)."""
        summaries = {s for s, section in enumerate(article.sections) if section.is_summary}
        if not summaries:
            return {}
        body: dict[int, set[int]] = defaultdict(set)
        for s, block_index, _, hashed in passages:
            if s not in summaries and block_index >= 0:
                body[s].update(h[0] for h in hashed)
        sources: dict[tuple[int, int], int] = {}
        for s, block_index, _, hashed in passages:
            if s in summaries and block_index >= 0 and body:
                stems = {h[0] for h in hashed}
                similarity, source = max((len(stems & other) / (len(stems) or 1), o) for o, other in body.items())
                if similarity >= SUMMARY_SOURCE_MIN:
                    sources[(s, block_index)] = source
        return sources

    def _build_postings(self, stem_hashes: array[int], prefix_hashes: array[int], passages: array[int]) -> None:
        """Token streams -> CSR postings, all in numpy: keys are stem, prefix and neighbour-pair hashes."""
        stems = np.frombuffer(stem_hashes, dtype=np.int64)
        prefixes = np.frombuffer(prefix_hashes, dtype=np.int64)
        pids = np.frombuffer(passages, dtype=np.int32)
        neighbours = pids[1:] == pids[:-1]
        has_prefix = prefixes != 0
        keys = np.concatenate([stems, prefixes[has_prefix], pair_hashes(stems[:-1], stems[1:])[neighbours]])
        owners = np.concatenate([pids, pids[has_prefix], pids[1:][neighbours]])
        order = np.argsort(keys, kind="stable")  # stable: each key's passages stay in passage order
        keys, owners = keys[order], owners[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = (keys[1:] != keys[:-1]) | (owners[1:] != owners[:-1])
        starts = np.flatnonzero(first)
        tf = np.diff(np.append(starts, len(keys))).astype(np.float32)
        keys, self._pids = keys[starts], owners[starts]
        length = np.bincount(pids, minlength=self.passage_count).astype(np.float32)
        average = float(length.mean()) if len(length) else 1.0
        norm = K1 * (1 - B + B * length[self._pids] / max(average, 1.0))
        self._weights = (tf * (K1 + 1) / (tf + norm)).astype(np.float32)  # BM25's saturated term frequency
        self._terms, term_starts = np.unique(keys, return_index=True)
        self._offsets = np.append(term_starts, len(keys)).astype(np.int64)
        # An unknown word weighs as much as the rarest known one: it may be a synonym the content lacks.
        self.unknown_idf = math.log(1 + (self.passage_count - 0.5) / 1.5)

    # -- postings ---------------------------------------------------------------------------------------

    def _posting(self, key: str | int) -> tuple[int, int]:
        h = key if isinstance(key, int) else hash(key)
        i = int(np.searchsorted(self._terms, h))
        if i < len(self._terms) and self._terms[i] == h:
            return int(self._offsets[i]), int(self._offsets[i + 1])
        return 0, 0

    def _section_has(self, sid: int, key: str) -> bool:
        """Whether any passage of the section has `key`: a binary search in the key's postings."""
        start, end = self._posting(key)
        if end == start:
            return False
        pids = self._pids[start:end]  # a term's postings are in passage order
        i = int(np.searchsorted(pids, self.section_start[sid]))
        return i < len(pids) and pids[i] < self.section_end[sid]

    def df(self, key: str) -> int:
        start, end = self._posting(key)
        return end - start

    def idf(self, key: str) -> float:
        df = self.df(key)
        if not df:
            return self.unknown_idf
        return math.log(1 + (self.passage_count - df + 0.5) / (df + 0.5))

    # -- querying -------------------------------------------------------------------------------------

    def query_words(self, question: str) -> list[QueryWord]:
        informative = self._informative_words(question)
        if informative:
            return informative
        # Nothing but the topic's own common words ("Jualan dalaman tu apa?"): the question is the topic
        # itself, so let those words speak (the description steers it to the introduction).
        known = {self.analyzer.keys(t) for t in words(question)}
        return [QueryWord(k[0][2:], k, self.idf(k[0])) for k in known if self.df(k[0])]

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
            known = self.df(keys[0]) > 0
            if not known and len(token) <= 2:
                continue  # short unknown tokens are particles and abbreviations ("tu", "ya")
            corrected = False
            if not known and not any(self.df(k) for k in keys[1:]):
                closest = self._fuzzy_keys(token)
                keys, corrected = (closest, True) if closest else (keys, False)
            factor = STOPWORD_WEIGHT if listed else 1.0
            name = not known and fold(token) in self.foreign_names
            if name:
                factor = NAME_WEIGHT  # a name the translations spell, this language transliterates
            found = name or (not corrected and any(self.df(k) for k in keys))
            weight = (self.unknown_idf if corrected else self.idf(keys[0])) * factor
            result.append(QueryWord(token, keys, weight, factor, found, corrected))
        return result

    def _closest_keys(self, token: str) -> tuple[str, ...] | None:
        folded = fold(token)
        if len(folded) < 5:  # short words are one letter away from too many others
            return None
        pool = [w for n in range(len(folded) - 2, len(folded) + 3) for w in self._vocabulary.get((folded[:1], n), ())]
        found = process.extractOne(folded, pool, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if found is None or found[0] in self.analyzer.stopwords:
            return None
        return self.analyzer.keys(found[0])

    def _score_passages(self, query: list[QueryWord]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 per passage, and each passage's coverage (IDF of the question words it contains)."""
        scores = np.zeros(self.passage_count, dtype=np.float32)
        cover = np.zeros(self.passage_count, dtype=np.float32)
        for word in query:
            for i, key in enumerate(word.keys):
                pids = self._add(scores, key, (1.0 if i == 0 else PREFIX_WEIGHT) * word.factor)
                cover[pids] += word.weight * (1.0 if i == 0 else PREFIX_WEIGHT)
        for left, right in itertools.pairwise(query):  # neighbours in the question, neighbours in the text
            pair = int(pair_hashes(np.array([hash(left.keys[0])]), np.array([hash(right.keys[0])]))[0])
            self._add(scores, pair, PAIR_WEIGHT * min(left.factor, right.factor))
        return scores * self.passage_weight, cover

    def _add(self, scores: np.ndarray, key: str | int, boost: float) -> np.ndarray:
        start, end = self._posting(key)
        pids = self._pids[start:end]
        if end > start:
            idf = math.log(1 + (self.passage_count - (end - start) + 0.5) / (end - start + 0.5))
            scores[pids] += np.float32(idf * boost) * self._weights[start:end]
        return pids

    def search(self, question: str, limit: int = 4) -> SearchResult:
        query = self.query_words(question)
        if not query or not self.passage_count:
            return SearchResult(False, None, ())
        passage_scores, cover = self._score_passages(query)
        hit = np.flatnonzero(passage_scores)
        if not len(hit):
            return SearchResult(False, self._rerank(0, 0.0, query, passage_scores, cover), ())
        credit = self.passage_credit[hit]
        section_sum = np.bincount(credit, weights=passage_scores[hit], minlength=len(self.section_article))
        section_best = np.zeros(len(self.section_article), dtype=np.float64)
        np.maximum.at(section_best, credit, passage_scores[hit])
        section_scores = section_best + OTHER_PASSAGES_SHARE * (section_sum - section_best)
        # Exact ties (the same highlights heading in many articles) go to the earlier article, so an
        # answer never depends on argpartition's order.
        section_scores -= np.arange(len(section_scores)) * TIE_BREAK
        count = min(CANDIDATES, len(section_scores))
        top = np.argpartition(-section_scores, count - 1)[:count]
        ranked = sorted(
            (self._rerank(int(sid), float(section_scores[sid]), query, passage_scores, cover) for sid in top),
            key=lambda m: (m.coverage * m.score, m.score),
            reverse=True,
        )
        best = ranked[0]
        if self._names_only_title(query, best):  # "what is <topic>?": the introduction answers it
            first = int(self.article_first_section[self._article_number(best)])
            best = self._rerank(first, float(section_scores.max()), query, passage_scores, cover)
            ranked = [best] + [m for m in ranked if m.section is not best.section]
        answered = best.confident
        alternatives = tuple(m for m in ranked[1:limit] if m.score > 0 and m.coverage > 0)
        return SearchResult(answered, best, alternatives)

    def _article_number(self, match: Match) -> int:
        return next(i for i, a in enumerate(self.articles) if a is match.article)

    def _names_only_title(self, query: list[QueryWord], match: Match) -> bool:
        """Every word of the question is the article's own topic (its title or description, inflected)."""
        topic = self.topic_keys[self._article_number(match)]
        return all(any(k in topic for k in word.keys) for word in query)

    def _words_of_section(self, sid: int) -> list[str]:
        """The section's folded words, for typo matching (computed for the few candidates only)."""
        section = self._section(sid)
        heading = section.heading + (" " + self.summary_terms if section.is_summary else "")
        return sorted({fold(t) for t in words(heading + "\n" + section.text)})

    def _section(self, sid: int) -> Section:
        return self.articles[int(self.section_article[sid])].sections[int(self.section_number[sid])]

    def _rerank(
        self, sid: int, score: float, query: list[QueryWord], passage_scores: np.ndarray, cover: np.ndarray
    ) -> Match:
        total = matched = exact = 0.0
        for word in query:
            total += word.weight
            if self._section_has(sid, word.keys[0]):
                found = word.weight
            elif any(self._section_has(sid, k) for k in word.keys[1:]):
                found = PREFIX_MATCH * word.weight
            else:
                matched += self._fuzzy_match(sid, word)
                continue
            matched += FUZZY_SHARE * found if word.corrected else found
            exact += 0.0 if word.corrected else found
        coverage = matched / total if total else 0.0
        a = int(self.section_article[sid])
        article = self.articles[a]
        on_topic = any(word.factor == 1.0 and word.keys[0] in self.topic_keys[a] for word in query)
        excerpt = self._excerpt(sid, query, passage_scores, cover)
        unknown = sum(1 for word in query if not word.known)
        exact_share = exact / total if total else 0.0
        return Match(article, self._section(sid), score, coverage, excerpt, on_topic, unknown, exact_share)

    def _fuzzy_match(self, sid: int, word: QueryWord) -> float:
        """A misspelt word against the section's own words (rapidfuzz), as a share of its weight."""
        if len(word.surface) < 4:
            return 0.0
        vocabulary = self._section_words(sid)
        found = process.extractOne(fold(word.surface), vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return FUZZY_SHARE * word.weight * found[1] / 100 if found else 0.0

    def _excerpt(
        self, sid: int, query: list[QueryWord], passage_scores: np.ndarray, cover: np.ndarray
    ) -> tuple[Block, ...]:
        section = self._section(sid)
        if section.is_summary:
            return section.blocks  # the highlights are short: show them all
        # The passage that answers covers the question's rarest words, not just the most frequent ones.
        own = [
            (float(cover[pid]), float(passage_scores[pid]), block)
            for pid in range(int(self.section_start[sid]), int(self.section_end[sid]))
            if (block := int(self.passage_block[pid])) >= 0 and passage_scores[pid] > 0
        ]
        _, _, best_block = max(own, default=(0.0, 0.0, 0))
        return (self._trim(section.blocks[best_block], query),)

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


def _index_of(articles: Sequence[Article], lang: str, summary_terms: str) -> LanguageIndex:
    return LanguageIndex(articles, analyzer_for(lang), summary_terms)


def pair_hashes(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Keys for neighbouring words, from their stem keys' hashes (int64 arithmetic wraps by design)."""
    combined: np.ndarray = (left * np.int64(1_000_003)) ^ right ^ np.int64(0x5BD1E995)
    return combined


class Retriever:
    """One index per content language; questions are matched in the language they were asked in."""

    def __init__(
        self, library: Library, summary_terms: Mapping[str, str] | None = None, *, parallel: bool = False
    ) -> None:
        terms = summary_terms or {}
        languages = library.languages
        workers = min(worker_count(len(library.articles)), len(languages)) if parallel else 1
        if workers > 1:  # one language per worker process; the articles stay the library's own objects
            with fork_pool(workers) as pool:
                built = pool.map(_index_of, [library.in_language(lang) for lang in languages], languages,
                                 [terms.get(lang, "") for lang in languages])  # fmt: skip
                self.indexes = {
                    lang: index.attach(library.in_language(lang), analyzer_for(lang))
                    for lang, index in zip(languages, built, strict=True)
                }
        else:
            self.indexes = {
                lang: LanguageIndex(library.in_language(lang), analyzer_for(lang), terms.get(lang, ""))
                for lang in languages
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
