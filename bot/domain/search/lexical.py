"""Lexical candidates: BM25 over one language's articles, and coverage of the question per section.

- Every heading, paragraph, quote and list item is a passage in an inverted index of Snowball stems and
  folded word prefixes, weighted by BM25 (numpy posting arrays: scoring touches only the postings of the
  question's words, so 10,000 articles cost about what five do).
- Link targets are words too: "[panggilan dingin](/coldcalling)" also says "coldcalling", and an article's
  slug ("inside-sales") names its topic, so English terms people mix in meet the articles that translate
  them.
- Passages add up to sections (best passage plus a share of the rest). Headings weigh more. A highlight
  bullet is a summary of body text, so its score goes to the section it summarises, which answers with
  context; the highlights section itself is found by its heading and its role ("key points").
- The few best sections are re-ranked with rapidfuzz (typos) and scored by *coverage*: the share of the
  question's informative words, IDF-weighted, that the section contains.
"""

from __future__ import annotations

import bisect
import itertools
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import urlsplit

import numpy as np
from rapidfuzz import fuzz, process

from bot.domain.content import Article, Section
from bot.domain.memory import release_free_memory
from bot.domain.search.query import QueryWord, analyse
from bot.domain.search.romanize import MIN_CONTENT_KEY, is_latin_word, skeleton
from bot.domain.search.tuning import TUNING, Tuning
from bot.domain.text import Analyzer, fold, in_latin_script, words

TIE_BREAK = 1e-9
MIN_COMPLETION = 7  # two words typed apart, joined: shorter pairs complete to too many words
COMPLETION_EXTRA = 4  # letters the content's word may have beyond the pair ("coldcall" -> "coldcalling")
_NONE = np.zeros(0, dtype=np.int32)


@dataclass(frozen=True)
class Match:
    """One section's lexical evidence."""

    article: Article
    section: Section
    sid: int  # the section's number in its language index
    score: float  # BM25, summed over the section's passages
    coverage: float  # IDF-weighted share of the question's informative words the section has
    on_topic: bool = False  # the question names the article's topic
    unknown_words: int = 0  # informative words found nowhere in this language's content
    exact_coverage: float = 0.0  # the coverage by words as written (no typo correction)

    def confident(self, tuning: Tuning = TUNING) -> bool:
        """The lexical-only decision, for when there is no embedding model."""
        if self.on_topic:
            needed = tuning.min_coverage_on_topic
        else:
            needed = tuning.min_coverage_unknown_words if self.unknown_words >= 2 else tuning.min_coverage
        # Typo corrections alone never make an answer: in a large vocabulary every word has a near miss.
        return self.score > 0 and self.coverage >= needed and self.exact_coverage >= tuning.min_exact_coverage


@dataclass(frozen=True)
class LexicalResult:
    index: LanguageIndex
    query: tuple[QueryWord, ...]
    ranked: tuple[Match, ...]  # best first
    topic_only: bool = False  # every word of the question is the best article's topic ("what is X?")
    passage_scores: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    cover: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    unread: tuple[str, ...] = ()  # short words the content does not know, left out of `query`

    @property
    def best(self) -> Match | None:
        return self.ranked[0] if self.ranked else None

    @property
    def known_share(self) -> float:
        """The IDF-weighted share of the question's words this language's content knows."""
        total = sum(w.weight for w in self.query)
        return sum(w.weight for w in self.query if w.known) / total if total else 0.0


def link_words(href: str | None) -> list[str]:
    """The words of a site-relative link's target ("/outside-sales" -> outside, sales, outsidesales)."""
    if not href:
        return []
    try:
        parts = urlsplit(href)
    except ValueError:
        return []
    if parts.scheme or parts.netloc:
        return []  # an outside page's address names a site, not the linked words
    found = words(parts.path.replace("-", " ").replace("_", " "))
    return [*found, "".join(found)] if len(found) > 1 else found


class LanguageIndex:
    """The inverted index of one language's articles.

    Postings live in flat numpy arrays (CSR by term hash), not in per-term Python objects, so 10,000
    articles cost tens of megabytes and build in seconds: each passage is tokenised once.
    """

    def __init__(
        self, articles: Sequence[Article], analyzer: Analyzer, summary_terms: str = "", tuning: Tuning = TUNING
    ) -> None:
        self.articles = tuple(articles)
        self.analyzer = analyzer
        self.summary_terms = summary_terms
        self.tuning = tuning
        self.summary_credit: dict[tuple[int, int, int], int] = {}  # (article, section, bullet) -> section
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
        # Build-time only: kept on the index, 400,000 cached words would outlive the build.
        token_hashes = lru_cache(maxsize=400_000)(self._hashes_of_token)
        for a, article in enumerate(self.articles):
            first = len(section_article)
            passages = [
                (s, b, tokens, list(map(token_hashes, tokens))) for s, b, tokens in self._article_passages(article)
            ]
            sources = self._summary_sources(article, passages)
            self.summary_credit.update(((a, s, b), source) for (s, b), source in sources.items())
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
        weights = {-1: tuning.heading_weight, -2: tuning.description_weight}
        self.passage_weight = np.array([weights.get(b, 1.0) for b in passage_block], dtype=np.float32)
        # Passages are stored section by section: a section's passages are one contiguous range.
        self.section_start = np.searchsorted(self.passage_owner, np.arange(len(section_article)), side="left")
        self.section_end = np.searchsorted(self.passage_owner, np.arange(len(section_article)), side="right")
        self.article_first_section = np.searchsorted(self.section_article, np.arange(len(self.articles)))
        self.passage_count = len(passage_owner)
        self._build_postings(stem_hashes, prefix_hashes, token_passages)
        del stem_hashes, prefix_hashes, token_passages, token_hashes
        self.foreign_names: frozenset[str] = frozenset()
        sample = list(itertools.islice(self.surface_df, 500))
        self.latin_script = 2 * sum(map(in_latin_script, sample)) >= len(sample)
        self.article_number = {a.slug: i for i, a in enumerate(self.articles)}
        # Topic key (title, description, keywords, slug) or skeleton (the topic's English name as this
        # language transliterates it: "इनसाइड सेल्स", "инсайд сейлз") -> the articles it names.
        named: dict[str, list[int]] = defaultdict(list)
        for a, article in enumerate(self.articles):
            topic = " ".join((article.title, article.description, *article.keywords, *link_words(article.slug)))
            skeletons = (k for w in link_words(article.slug) if len(k := skeleton(w)) >= MIN_CONTENT_KEY)
            for key in {*analyzer.terms(topic), *skeletons}:
                named[key].append(a)
        self._articles_named = {key: np.array(found, dtype=np.int32) for key, found in named.items()}
        # Misspelt words are looked up among words of about their length that start alike (sorted, so
        # that ties resolve the same way in every process).
        self._vocabulary: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted({fold(w) for w in self.surface_df}):
            self._vocabulary[(word[:1], len(word))].append(word)
        # Latin-letter words in order, for completing two words typed apart into the one the content writes.
        self._latin_words = sorted(filter(_latin_letters, self.surface_df))
        # The build ran every word of the content through the analyzer's caches; questions need few of
        # them (pure functions: clearing changes no result).
        analyzer.stem.cache_clear()
        analyzer.keys.cache_clear()
        release_free_memory()  # the build's temporaries, before the next language's build

    def _make_caches(self) -> None:
        self._section_words = lru_cache(maxsize=4096)(self._words_of_section)
        self.closest_keys = lru_cache(maxsize=16_384)(self._closest_keys)
        self._latin_by_skeleton: dict[str, str] | None = None

    # -- building -------------------------------------------------------------------------------------

    def _article_passages(self, article: Article) -> Iterator[tuple[int, int, list[str]]]:
        """(section, block, tokens) for every passage: block -1 is the heading, -2 the description."""
        topic = link_words(article.slug)  # the topic's name in English ("inside-sales"), people mix it in
        for s, section in enumerate(article.sections):
            heading = section.heading + (" " + self.summary_terms if section.is_summary else "")
            yield s, -1, words(heading) + topic  # every section is about the article's topic, alike
            for b, block in enumerate(section.blocks):
                yield s, b, words(block.text) + [w for span in block.links for w in link_words(span.href)]
            if s == 0 and article.description:
                # The front-matter description summarises the introduction: a question that only names
                # the topic ("what is inside sales?") lands on the first section through it.
                yield s, -2, words(article.title + ". " + article.description) + topic

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
                if similarity >= self.tuning.summary_source_min:
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
        k1, b = self.tuning.k1, self.tuning.b
        # BM25's saturated term frequency is computed when a term is scored, from its postings' counts
        # (one byte each) and their passages' length norms: a float per posting would cost four.
        self._passage_norm = (k1 * (1 - b + b * length / max(average, 1.0))).astype(np.float32)
        self._tf = tf.astype(np.min_scalar_type(int(tf.max()) if len(tf) else 0))
        # `keys` is sorted already: its runs are the terms (np.unique would sort a copy again).
        new_term = np.ones(len(keys), dtype=bool)
        new_term[1:] = keys[1:] != keys[:-1]
        term_starts = np.flatnonzero(new_term)
        self._terms = keys[term_starts]
        # int32 offsets: a language's postings are counted in millions, never billions.
        self._offsets = np.append(term_starts, len(keys)).astype(np.int32)
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

    def query_words(
        self, question: str, foreign_stopwords: frozenset[str] = frozenset(), unread: list[str] | None = None
    ) -> list[QueryWord]:
        return analyse(question, self, foreign_stopwords, unread)

    def _closest_keys(self, token: str) -> tuple[str, ...] | None:
        folded = fold(token)
        if len(folded) < 5:  # short words are one letter away from too many others
            return None
        pool = [w for n in range(len(folded) - 2, len(folded) + 3) for w in self._vocabulary.get((folded[:1], n), ())]
        found = process.extractOne(folded, pool, scorer=fuzz.ratio, score_cutoff=self.tuning.fuzzy_cutoff)
        if found is None or found[0] in self.analyzer.stopwords:
            return None
        return self.analyzer.keys(found[0])

    def completion(self, joined: str) -> str | None:
        """The one content word that two question words typed apart make, inflected or cut short: the
        content writes a slug's English compound as one word ("coldcalling"), chat types "cold call",
        "cold calls", "cold calle". Latin letters only; None when no word or several do."""
        if not joined.isascii() or len(joined) < MIN_COMPLETION:
            return None
        words, stem = self._latin_words, joined[:-1]
        found: set[str] = set()
        for word in itertools.islice(words, bisect.bisect_left(words, stem), None):
            if not word.startswith(stem) or len(found) > 1:
                break
            if len(word) <= len(joined) + COMPLETION_EXTRA:
                found.add(word)
        return found.pop() if len(found) == 1 else None

    def latin_spelling(self, token: str) -> str | None:
        """The content's Latin-letter word (a name, a slug's English word) that a word typed in another
        script spells, by consonant skeleton; None when none or several do."""
        if in_latin_script(token) or len(key := skeleton(token)) < MIN_CONTENT_KEY:
            return None
        if self._latin_by_skeleton is None:  # built on first use: most questions never need it
            spellings: dict[str, set[str]] = defaultdict(set)
            for word in (*self._latin_words, *filter(_latin_letters, self.foreign_names)):
                if len(k := skeleton(word)) >= MIN_CONTENT_KEY:
                    spellings[k].add(word)
            self._latin_by_skeleton = {k: next(iter(found)) for k, found in spellings.items() if len(found) == 1}
        return self._latin_by_skeleton.get(key)

    def _score_passages(
        self, query: Sequence[QueryWord], named: Sequence[np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """BM25 per passage, each passage's coverage (IDF of the question words it contains), and the
        BM25 of the words that name articles' topics (`named[i]`: the articles word i names), kept apart
        and left out of the first."""
        tuning = self.tuning
        scores = np.zeros(self.passage_count, dtype=np.float32)
        cover = np.zeros(self.passage_count, dtype=np.float32)
        topical: list[tuple[np.ndarray, np.ndarray]] = []
        for word, articles in zip(query, named, strict=True):
            target = np.zeros(self.passage_count, dtype=np.float32) if len(articles) else scores
            for i, key in enumerate(word.keys):
                share = 1.0 if i == 0 else tuning.prefix_weight
                pids = self._add(target, key, share * word.boost)
                cover[pids] += word.weight * share
            if len(articles):
                topical.append((articles, target * self.passage_weight))
        for (left, right), (a, b) in zip(itertools.pairwise(query), itertools.pairwise(named), strict=True):
            # neighbours in the question, neighbours in the text
            pair = int(pair_hashes(np.array([hash(left.keys[0])]), np.array([hash(right.keys[0])]))[0])
            both = np.intersect1d(a, b, assume_unique=True) if len(a) and len(b) else _NONE
            target = np.zeros(self.passage_count, dtype=np.float32) if len(both) else scores
            self._add(target, pair, tuning.pair_weight * min(left.boost, right.boost))
            if len(both):
                topical.append((both, target * self.passage_weight))
        return scores * self.passage_weight, cover, topical

    def _add(self, scores: np.ndarray, key: str | int, boost: float) -> np.ndarray:
        start, end = self._posting(key)
        pids = self._pids[start:end]
        if end > start:
            idf = math.log(1 + (self.passage_count - (end - start) + 0.5) / (end - start + 0.5))
            scores[pids] += np.float32(idf * boost) * self._saturated(start, end, pids)
        return pids

    def names_topic(self, word: QueryWord) -> bool:
        return len(self._topic_articles(word)) > 0

    def _articles_naming(self, word: QueryWord) -> np.ndarray:
        """The articles whose topic (title, description, keywords, slug) the word names, as a topic word:
        listed stop words and names do not count."""
        return self._topic_articles(word) if word.factor == 1.0 else _NONE

    def _topic_articles(self, word: QueryWord) -> np.ndarray:
        """The articles whose topic the word names (its stem, or its skeleton when typed in the content's
        own script)."""
        found = [self._articles_named[k] for k in word.keys if k in self._articles_named]
        if not is_latin_word(word.surface) and (k := skeleton(word.surface)) in self._articles_named:
            found.append(self._articles_named[k])
        if len(found) <= 1:
            return found[0] if found else _NONE
        return np.unique(np.concatenate(found))

    def _section_scores(self, passage_scores: np.ndarray) -> np.ndarray:
        """A section is its best passage plus a share of the rest (highlights credited to their source)."""
        hit = np.flatnonzero(passage_scores)
        credit = self.passage_credit[hit]
        section_sum = np.bincount(credit, weights=passage_scores[hit], minlength=len(self.section_article))
        section_best = np.zeros(len(self.section_article), dtype=np.float64)
        np.maximum.at(section_best, credit, passage_scores[hit])
        scores: np.ndarray = section_best + self.tuning.other_passages_share * (section_sum - section_best)
        return scores

    def _add_topic(self, section_scores: np.ndarray, topical: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """An article's topic words say which article, not which of its sections: within the article,
        every section gets their score in its best section. In a large library they are rare, so their
        BM25 would otherwise choose among the article's sections by how often each repeats the title."""
        for articles, passage_scores in topical:
            per_section = self._section_scores(passage_scores)
            best_in_article = np.maximum.reduceat(per_section, self.article_first_section)  # every article has sections
            named = np.zeros(len(self.articles), dtype=bool)
            named[articles] = True
            levelled = named[self.section_article]
            per_section[levelled] = best_in_article[self.section_article[levelled]]
            section_scores += per_section

    def _saturated(self, start: int, end: int, pids: np.ndarray) -> np.ndarray:
        """BM25's saturated term frequency of postings start:end (float32, as when it was stored)."""
        k1 = self.tuning.k1
        tf = self._tf[start:end].astype(np.float32)
        weights: np.ndarray = tf * (k1 + 1) / (tf + self._passage_norm[pids])
        return weights

    def search(self, question: str, foreign_stopwords: frozenset[str] = frozenset()) -> LexicalResult:
        """The best few sections by BM25, re-ranked by coverage; no decision (that is fusion's)."""
        unread: list[str] = []
        query = tuple(self.query_words(question, foreign_stopwords, unread))
        if not query or not self.passage_count:
            return LexicalResult(self, query, (), unread=tuple(unread))
        named = [self._articles_naming(w) for w in query]
        passage_scores, cover, topical = self._score_passages(query, named)
        section_scores = self._section_scores(passage_scores)
        self._add_topic(section_scores, topical)
        passage_scores += sum((scores for _, scores in topical), np.zeros_like(passage_scores))
        if not np.any(section_scores > 0):
            return LexicalResult(self, query, (), False, passage_scores, cover, tuple(unread))
        # Exact ties (the same highlights heading in many articles) go to the earlier article, so an
        # answer never depends on argpartition's order.
        section_scores -= np.arange(len(section_scores)) * TIE_BREAK
        count = min(self.tuning.candidates, len(section_scores))
        top = np.argpartition(-section_scores, count - 1)[:count]
        ranked = sorted(
            (
                self._rerank(int(sid), float(section_scores[sid]), query, named)
                for sid in top
                if section_scores[sid] > 0
            ),
            key=lambda m: (m.coverage * m.score, m.score),
            reverse=True,
        )
        topic_only = bool(ranked) and self._names_only_title(query, ranked[0])
        if topic_only:  # "what is <topic>?": the introduction answers it, whichever words it uses
            first = int(self.article_first_section[self.article_number[ranked[0].article.slug]])
            intro = self._rerank(first, float(section_scores.max()), query, named)
            covered = max(m.coverage for m in ranked)
            intro = replace(
                intro, coverage=max(intro.coverage, covered), exact_coverage=max(intro.exact_coverage, covered)
            )
            ranked = [intro] + [m for m in ranked if m.section is not intro.section]
        return LexicalResult(self, query, tuple(ranked), topic_only, passage_scores, cover, tuple(unread))

    def _names_only_title(self, query: Sequence[QueryWord], match: Match) -> bool:
        """Every word of the question is the article's own topic (its title or description, inflected)."""
        a = self.article_number[match.article.slug]
        return all(a in self._topic_articles(word) for word in query)

    def _words_of_section(self, sid: int) -> list[str]:
        """The section's folded words, for typo matching (computed for the few candidates only)."""
        section = self.section(sid)
        heading = section.heading + (" " + self.summary_terms if section.is_summary else "")
        return sorted({fold(t) for t in words(heading + "\n" + section.text)})

    def section(self, sid: int) -> Section:
        return self.articles[int(self.section_article[sid])].sections[int(self.section_number[sid])]

    def section_id(self, article: Article, index: int) -> int:
        return int(self.article_first_section[self.article_number[article.slug]]) + index

    def _rerank(self, sid: int, score: float, query: Sequence[QueryWord], named: Sequence[np.ndarray]) -> Match:
        """`named[i]`: the articles query word i names as a topic word (`_articles_naming`)."""
        tuning = self.tuning
        total = matched = exact = 0.0
        a = int(self.section_article[sid])
        for word, articles in zip(query, named, strict=True):
            total += word.weight
            if self._section_has(sid, word.keys[0]) or a in articles:
                found = word.weight
            elif any(self._section_has(sid, k) for k in word.keys[1:]):
                found = tuning.prefix_match * word.weight
            else:
                matched += self._fuzzy_match(sid, word)
                continue
            matched += tuning.fuzzy_share * found if word.corrected else found
            exact += 0.0 if word.corrected else found
        coverage = matched / total if total else 0.0
        on_topic = any(a in articles for articles in named)
        unknown = sum(1 for word in query if not word.known)
        exact_share = exact / total if total else 0.0
        return Match(self.articles[a], self.section(sid), sid, score, coverage, on_topic, unknown, exact_share)

    def _fuzzy_match(self, sid: int, word: QueryWord) -> float:
        """A misspelt word against the section's own words (rapidfuzz), as a share of its weight."""
        if len(word.surface) < 4:
            return 0.0
        vocabulary = self._section_words(sid)
        cutoff = self.tuning.fuzzy_cutoff
        found = process.extractOne(fold(word.surface), vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff)
        return self.tuning.fuzzy_share * word.weight * found[1] / 100 if found else 0.0

    def block_evidence(self, sid: int, result: LexicalResult) -> dict[int, tuple[float, float]]:
        """block -> (coverage, BM25) of the section's own passages, for choosing the excerpt."""
        if not len(result.passage_scores):
            return {}
        return {
            block: (float(result.cover[pid]), float(result.passage_scores[pid]))
            for pid in range(int(self.section_start[sid]), int(self.section_end[sid]))
            if (block := int(self.passage_block[pid])) >= 0 and result.passage_scores[pid] > 0
        }


def _latin_letters(word: str) -> bool:
    return word.isascii() and word.isalpha()


def pair_hashes(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Keys for neighbouring words, from their stem keys' hashes (int64 arithmetic wraps by design)."""
    combined: np.ndarray = (left * np.int64(1_000_003)) ^ right ^ np.int64(0x5BD1E995)
    return combined
