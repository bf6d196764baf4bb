"""A synthetic library for measuring scale: N articles per language in the seeds' form.

    python -m bot.corpus OUT_DIR --articles-per-language 2000 [--seeds content/] [--seed 0]

For every language of the seed directory (`<seeds>/<lang>/*.md`) it copies the real articles verbatim and
writes `N - len(real)` synthetic ones, `OUT/<lang>/synthetic-00001.md` and on, each with front matter
(title, description, keywords), a `# ` title, 3-5 `## ` sections of 1-4 paragraphs (some with a block quote
and site-relative links) and a final highlights section of 3 bullets that paraphrase the body, under the
real article's own highlights heading.

It looks like a library, not like word salad from one article:
- every synthetic article has a topic of its own: 2-3 made-up topic words that no other article has,
  repeated through its title, headings and text the way a real article repeats its subject (other
  articles name it only where they link to it);
- all articles share the language's function words (stop-list words the real text uses, at their real
  frequencies), a few dozen everyday business words (company, customer, price, ...), a general vocabulary
  of made-up words, and heading frames taken from the real headings ("Understanding ...");
- the real articles' other words (telemarketing, salary, ...) appear only now and then: in a small share
  of the synthetic articles, once or twice each, as other articles of a sales library mention them.
Made-up words are built from the real words' syllables, so each language keeps its script, letters and
word shapes, and none of them equals or stems to a real word (`analyzer_for(lang).keys`, prefix keys too):
a question about the real article meets synthetic articles only through shared words.
Everything is seeded: the same arguments write the same bytes.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import shutil
import sys
import time
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import regex
import stopwordsiso
import yaml

from bot.domain.text import Analyzer, analyzer_for, words

SYNTHETIC_PREFIX = "synthetic-"
DEFAULT_VOCABULARY = 20_000  # the library's general made-up words per language
FUNCTION_WORDS = 150  # at most: the listed stop words the real text uses, at their real frequencies
ZIPF_OFFSET = 2.7  # Zipf-Mandelbrot for the general words: flattens the very top, as real lists do
# Shares of running text (the rest are the topic's words): about 40% function words, as in real prose.
FUNCTION_SHARE = 0.42
EVERYDAY_SHARE = 0.08
GENERAL_SHARE = 0.43
TOPIC_PHRASE_SHARE = 0.6  # of topic slots: the 2-word topic phrase rather than one topic word
FRAME_SHARE = 0.35  # of headings: a real heading's frame around the topic ("Understanding <topic>")
RARE_ARTICLE_SHARE = 0.15  # articles that mention real words beyond the everyday ones
LINK_SHARE = 0.12  # of sentences: a site-relative link
QUOTE_SHARE = 0.25  # of sections: a block quote
KEYWORDS = (
    "Business", "Small Business", "Marketing", "Sales", "Economics", "Personal Finance", "Investing",
    "Management", "Entrepreneurship", "Customer Service", "Technology", "Careers",
)  # fmt: skip
LINK_TARGETS = ("outside-sales", "customer", "coldcalling", "telemarketing", "add-on-sales", "lead-generation")
# Everyday business words every article of a business library uses: company, customer, product, service,
# market, price, business, work, time, year, money, manager, department, team, order, buyer, contract,
# partner, report, plan, result, process, employee, project, cost, profit, income, quality, deal. Some are
# also the real article's words (customer, product), as in a real library; the rest of its words are rare.
EVERYDAY_WORDS = {
    "ar": "شركة عميل منتج خدمة سوق سعر أعمال عمل وقت سنة مال مدير قسم فريق طلب مشتري عقد شريك تقرير خطة "
    "نتيجة عملية موظف مشروع تكلفة ربح دخل جودة صفقة",
    "hi": "कंपनी ग्राहक उत्पाद सेवा बाज़ार कीमत व्यापार काम समय साल पैसा प्रबंधक विभाग टीम ऑर्डर खरीदार अनुबंध "
    "साझेदार रिपोर्ट योजना परिणाम प्रक्रिया कर्मचारी परियोजना लागत लाभ आय गुणवत्ता सौदा",
    "ms": "syarikat pelanggan produk perkhidmatan pasaran harga perniagaan kerja masa tahun wang pengurus "
    "jabatan pasukan pesanan pembeli kontrak rakan laporan rancangan hasil proses pekerja projek kos "
    "keuntungan pendapatan kualiti urusniaga",
    "pl": "firma klient produkt usługa rynek cena biznes praca czas rok pieniądze menedżer dział zespół "
    "zamówienie kupujący umowa partner raport plan wynik proces pracownik projekt koszt zysk przychód jakość "
    "transakcja",
    "ru": "компания клиент продукт услуга рынок цена бизнес работа время год деньги менеджер отдел команда "
    "заказ покупатель договор партнёр отчёт план результат процесс сотрудник проект стоимость прибыль доход "
    "качество сделка",
}
ARABIC_ARTICLE = "ال"
_TOPIC_PHRASE, _TOPIC_ASPECT, _TOPIC_WORD = "\0phrase", "\0aspect", "\0word"  # the article's own, drawn late

_WORD = regex.compile(r"[\p{L}\p{M}]+")
_PLAIN_WORD = regex.compile(r"^[\p{L}\p{M}]+$")
_GRAPHEME = regex.compile(r"\X")
_FRONT_MATTER = regex.compile(r"\A---\n.*?\n---\n", regex.DOTALL)
_TITLE = regex.compile(r"^# (.+)$", regex.MULTILINE)
_HEADING = regex.compile(r"^## (.+)$", regex.MULTILINE)
_LINK = regex.compile(r"\[([^\]]*)\]\([^)]*\)")
_PLAIN_TEXT = regex.compile(r"^[\p{L}\p{M}]+(?: [\p{L}\p{M}]+[,،]?)* [\p{L}\p{M}]+[.।?؟]?$")


@dataclass(frozen=True)
class Punctuation:
    stop: str = "."
    comma: str = ","
    question: str = "?"


PUNCTUATION = {"ar": Punctuation(".", "،", "؟"), "hi": Punctuation("।", ",", "?")}


@dataclass(frozen=True)
class LanguageStats:
    lang: str
    real: int
    synthetic: int
    vocabulary: int  # words the generator could draw from (topic words included)
    distinct_words: int  # distinct words actually written (synthetic articles)


@dataclass(frozen=True)
class CorpusStats:
    out_dir: Path
    languages: tuple[LanguageStats, ...]
    bytes_written: int
    seconds: float

    @property
    def articles(self) -> int:
        return sum(s.real + s.synthetic for s in self.languages)


def synthetic_slug(lang: str, number: int) -> str:
    """Each language's made-up articles are its own topics, not translations of one another's, so their
    slugs differ by language: articles that share a slug are translations (and pool their evidence)."""
    return f"{SYNTHETIC_PREFIX}{lang}-{number:05d}"


def default_seeds_dir() -> Path:
    here = Path("content")
    return here if here.is_dir() else Path(__file__).resolve().parents[1] / "content"


def generate_corpus(
    out_dir: Path | str,
    articles_per_language: int,
    *,
    seeds_dir: Path | str | None = None,
    seed: int = 0,
    vocabulary_size: int = DEFAULT_VOCABULARY,
) -> CorpusStats:
    """Write the corpus (stale `synthetic-*.md` files in OUT/<lang>/ are removed first) and describe it."""
    started = time.perf_counter()
    out = Path(out_dir)
    seeds = Path(seeds_dir) if seeds_dir is not None else default_seeds_dir()
    real_by_lang = _seed_articles(seeds)
    if not real_by_lang:
        raise ValueError(f"{seeds}: no seed articles found (expected <lang>/*.md)")
    written = 0
    stats: list[LanguageStats] = []
    for lang, real in sorted(real_by_lang.items()):
        target = out / lang
        target.mkdir(parents=True, exist_ok=True)
        for stale in target.glob(SYNTHETIC_PREFIX + "*.md"):
            stale.unlink()
        for path in real:
            shutil.copyfile(path, target / path.name)
            written += path.stat().st_size
        synthetic = max(0, articles_per_language - len(real))
        texts = [p.read_text(encoding="utf-8-sig") for p in real]
        library = LanguageLibrary(lang, texts, synthetic, seed=seed, vocabulary_size=vocabulary_size)
        for number in range(1, synthetic + 1):
            data = library.article(number).encode("utf-8")
            (target / f"{synthetic_slug(lang, number)}.md").write_bytes(data)
            written += len(data)
        stats.append(LanguageStats(lang, len(real), synthetic, library.vocabulary_size, len(library.used)))
    return CorpusStats(out, tuple(stats), written, time.perf_counter() - started)


def _seed_articles(seeds: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    if not seeds.is_dir():
        return found
    for directory in sorted(p for p in seeds.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in directory.glob("*.md") if not p.name.startswith(SYNTHETIC_PREFIX))
        if files:
            found[directory.name] = files
    return found


def _stable_seed(seed: int, *parts: str | int) -> int:
    return (seed * 1_000_003 + zlib.crc32("/".join(map(str, parts)).encode("utf-8"))) & 0xFFFFFFFF


def _script_of(word: str) -> str:
    """The script of a word's first letter: 'LATIN', 'CYRILLIC', 'ARABIC', 'DEVANAGARI', ..."""
    for ch in word:
        if ch.isalpha():
            return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]
    return "UNKNOWN"


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


@dataclass(frozen=True)
class Topic:
    """An article's subject: its phrase (what its title says) and an aspect word some headings add."""

    words: tuple[str, ...]

    @property
    def phrase(self) -> str:
        return " ".join(self.words[:2])

    @property
    def aspect(self) -> str:
        return self.words[-1]


class _Pool:
    """Words with weights, drawn by cumulative weight (bisect), so drawing is cheap at any size."""

    def __init__(self, items: Sequence[str], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.weights = list(weights)
        self.cumulative = list(itertools.accumulate(weights))

    def __bool__(self) -> bool:
        return bool(self.items)

    def draw(self, rng: random.Random) -> str:
        point = rng.random() * self.cumulative[-1]
        return self.items[min(bisect.bisect_right(self.cumulative, point), len(self.items) - 1)]


class LanguageLibrary:
    """One language's vocabulary (shared, topic and real rare words) and its article templates."""

    def __init__(self, lang: str, real_texts: Sequence[str], articles: int, *, seed: int, vocabulary_size: int) -> None:
        self.lang = lang
        self.seed = seed
        self.articles = articles
        self.punct = PUNCTUATION.get(lang, Punctuation())
        self.analyzer: Analyzer = analyzer_for(lang)
        bodies = [_FRONT_MATTER.sub("", text) for text in real_texts]
        titles = [t.strip() for body in bodies for t in _TITLE.findall(body)]
        headings = [h.strip() for body in bodies for h in _HEADING.findall(body)]
        self.highlights_heading = headings[-1] if headings else "Highlights"
        surface = Counter(w for body in bodies for w in _WORD.findall(_LINK.sub(r"\1", body)))
        counts: Counter[str] = Counter()
        for word, count in surface.items():
            counts[word.lower()] += count
        self.real_keys = {key for text in real_texts for word in words(text) for key in self.analyzer.keys(word)}

        listed = stopwordsiso.stopwords(lang) if stopwordsiso.has_lang(lang) else set()
        listed = {w.lower() for w in listed if _PLAIN_WORD.match(w)}
        # Function words are the listed words the real text uses: ISO lists also hold content words
        # (Malay's has "industri", "menteri", "malaysia"), which real prose does not repeat everywhere.
        # Nor the real subject's words: Malay's list has "jualan" (sales), the commonest word of its article
        # (but Hindi's "की" in "अंदर की बिक्री" stays: short title words are the function words).
        everyday = EVERYDAY_WORDS.get(lang, "").split()
        subject = {w.lower() for title in titles for w in _WORD.findall(title) if len(w) > 3} | set(everyday)
        function = sorted((w for w in listed if w in counts and w not in subject), key=lambda w: (-counts[w], w))
        function = function[:FUNCTION_WORDS]
        self.function = _Pool(function, [counts[w] for w in function])
        self.everyday = _Pool(everyday, [1.0 / (rank + ZIPF_OFFSET) for rank in range(len(everyday))])
        self.frames = self._heading_frames(titles, headings[:-1])
        framing = [self.highlights_heading, *(part for frame in self.frames for part in frame)]
        shared_keys = {key for word in (*function, *everyday, *framing) for key in self._keys(word)}
        # The real words a library shares only now and then, weighted by how often the real text uses them.
        rare = Counter[str]()
        for word, count in sorted(surface.items()):
            if len(word) < 3 or word.lower() in function or shared_keys.intersection(self._keys(word)):
                continue  # "b", "com": pieces of "B2B", "PayScale.com"
            rare[word if any(ch.isupper() for ch in word[1:]) else word.lower()] += count
        self.rare = _Pool(sorted(rare), [rare[w] for w in sorted(rare)])

        self.random = random.Random(_stable_seed(seed, lang))
        self._syllables = self._syllables_of(list(counts))
        self._taken = self.real_keys | shared_keys
        general = self._pseudo_words(vocabulary_size)
        self.general = _Pool(general, [1.0 / (rank + ZIPF_OFFSET) for rank in range(len(general))])
        sizes = [self.random.choice((2, 2, 3)) for _ in range(articles)]
        topic_words = self._pseudo_words(sum(sizes))
        if len(topic_words) < sum(sizes):
            raise ValueError(f"{lang}: the seed articles are too short to make up {articles:,} topics")
        starts = list(itertools.accumulate(sizes, initial=0))
        self.topics = [Topic(tuple(topic_words[starts[i] : starts[i + 1]])) for i in range(articles)]
        self._running_text = self._mixture()
        self.vocabulary_size = len(function) + len(everyday) + len(self.rare.items) + len(general)
        self.vocabulary_size += len(topic_words)
        self.used: set[str] = set()

    # -- vocabulary -----------------------------------------------------------------------------------

    def _keys(self, word: str) -> tuple[str, ...]:
        return tuple(key for w in words(word) for key in self.analyzer.keys(w))

    def _syllables_of(self, real: list[str]) -> tuple[list[str], list[str], list[str]]:
        """Grapheme pairs that start, continue and end the real words: the language's script and shapes."""
        onsets: list[str] = []
        middles: list[str] = []
        ends: list[str] = []
        script = Counter(_script_of(w) for w in real).most_common(1)[0][0] if real else "UNKNOWN"
        for word in sorted(real):
            if _script_of(word) != script:
                continue  # "PayScale" in the Hindi article: its letters do not make Hindi syllables
            graphemes = _GRAPHEME.findall(word)
            if len(graphemes) < 3:
                continue
            onsets.append("".join(graphemes[:2]))
            ends.append("".join(graphemes[-2:]))
            middles.extend("".join(graphemes[i : i + 2]) for i in range(1, len(graphemes) - 2))
        return onsets, middles, ends

    def _pseudo_words(self, wanted: int) -> list[str]:
        """New made-up words: none stems (or prefix-keys) to a real or shared word, nor to another made-up
        word, so each is a term of its own in the index."""
        onsets, middles, ends = self._syllables
        if not onsets or not middles:
            return []
        result: list[str] = []
        attempts = 0
        while len(result) < wanted and attempts < wanted * 50:
            attempts += 1
            parts = [self.random.choice(onsets)]
            parts += [self.random.choice(middles) for _ in range(self.random.choice((0, 1, 1, 1, 2, 2, 3)))]
            parts.append(self.random.choice(ends))
            word = "".join(parts)
            keys = self._keys(word)
            if not keys or word in self.analyzer.stopwords or self._taken.intersection(keys):
                continue
            self._taken.add(keys[0])  # its stem: unique among made-up words
            if len(keys) > 1 and keys[1] in self.real_keys:
                continue
            result.append(word)
        return result

    def _heading_frames(self, titles: Sequence[str], headings: Sequence[str]) -> list[tuple[str, str]]:
        """Real headings with the title's words cut out ("Memahami Jualan Dalaman" -> "Memahami", ""):
        the frames a library repeats around each article's subject."""
        function = set(self.function.items)  # not the stop list: Malay's has "jualan", the subject
        title_keys = {key for title in titles for w in words(title) if w not in function
                      for key in self.analyzer.keys(w)}  # fmt: skip
        frames: list[tuple[str, str]] = []
        for heading in headings:
            tokens = heading.split()
            marked = [i for i, token in enumerate(tokens) if title_keys.intersection(self._keys(token))]
            if not marked:
                continue
            first, last = marked[0], marked[-1]
            tail = regex.sub(r"^[\p{L}\p{M}\p{N}]+", "", tokens[last])  # keep "?" after the subject
            frames.append((" ".join(tokens[:first]), (tail + " " + " ".join(tokens[last + 1 :])).strip()))
        return frames

    # -- text -----------------------------------------------------------------------------------------

    def _word(self, rng: random.Random, topic: Topic, point: float) -> str:
        if point < FUNCTION_SHARE and self.function:
            return self.function.draw(rng)
        point -= FUNCTION_SHARE
        if point < EVERYDAY_SHARE and self.everyday:
            word = self.everyday.draw(rng)
            return ARABIC_ARTICLE + word if self.lang == "ar" and rng.random() < 0.5 else word
        point -= EVERYDAY_SHARE
        if point < GENERAL_SHARE and self.general:
            return self.general.draw(rng)
        if rng.random() < TOPIC_PHRASE_SHARE:
            return topic.phrase
        return topic.aspect if rng.random() < 0.5 else rng.choice(topic.words)

    def _mixture(self) -> _Pool:
        """All of running text's words in one pool, each pool's weights scaled to its share (the topic's
        by placeholders), so a sentence is one `choices` call: what makes 10,000 articles take seconds."""
        everyday = _Pool([], [])
        for word, weight in zip(self.everyday.items, self.everyday.weights, strict=True):
            forms = (word, ARABIC_ARTICLE + word) if self.lang == "ar" else (word,)  # "شركة", "الشركة"
            everyday.items += forms
            everyday.weights += [weight / len(forms)] * len(forms)
        items: list[str] = []
        weights: list[float] = []
        for pool, share in ((self.function, FUNCTION_SHARE), (everyday, EVERYDAY_SHARE), (self.general, GENERAL_SHARE)):
            total = sum(pool.weights)
            items += pool.items
            weights += [share * weight / total for weight in pool.weights]
        topic = max(0.0, 1 - FUNCTION_SHARE - EVERYDAY_SHARE - GENERAL_SHARE)
        single = topic * (1 - TOPIC_PHRASE_SHARE) / 2
        items += [_TOPIC_PHRASE, _TOPIC_ASPECT, _TOPIC_WORD]
        weights += [topic * TOPIC_PHRASE_SHARE, single, single]
        return _Pool(items, weights)

    def _tokens(self, rng: random.Random, topic: Topic, low: int, high: int) -> list[str]:
        pool = self._running_text
        drawn = rng.choices(pool.items, cum_weights=pool.cumulative, k=rng.randint(low, high))
        return [self._topic_word(rng, topic, w) if w.startswith("\0") else w for w in drawn]

    @staticmethod
    def _topic_word(rng: random.Random, topic: Topic, placeholder: str) -> str:
        if placeholder == _TOPIC_PHRASE:
            return topic.phrase
        return topic.aspect if placeholder == _TOPIC_ASPECT else rng.choice(topic.words)

    def _sentence(self, rng: random.Random, tokens: Sequence[str]) -> str:
        tokens = list(tokens)
        if rng.random() < 0.35 and len(tokens) > 8:
            tokens[rng.randrange(3, len(tokens) - 3)] += self.punct.comma
        tokens[0] = _cap(tokens[0])
        return " ".join(tokens) + self.punct.stop

    def _link(self, rng: random.Random, number: int) -> tuple[str, str | None]:
        """A link target and the words it names: another article's subject, or a real article's slug."""
        if self.articles > 1 and rng.random() < 0.6:
            other = rng.randrange(1, self.articles)
            other += other >= number  # never itself
            return synthetic_slug(self.lang, other), self.topics[other - 1].phrase
        return rng.choice(LINK_TARGETS), None

    def _heading(self, rng: random.Random, topic: Topic) -> str:
        if self.frames and rng.random() < FRAME_SHARE:
            before, after = rng.choice(self.frames)
            return " ".join(part for part in (before, topic.phrase, after) if part).replace(" ?", "?")
        # Otherwise the subject (or its aspect word) with a shared word or two, in either order.
        shared = FUNCTION_SHARE + (EVERYDAY_SHARE + GENERAL_SHARE) * rng.random()
        extra = [self._word(rng, topic, shared) for _ in range(rng.randint(0, 2))]
        subject = topic.aspect if rng.random() < 0.5 else topic.phrase
        return _cap(" ".join([subject, *extra] if rng.random() < 0.5 else [*extra, subject]))

    def _paraphrase(self, rng: random.Random, tokens: Sequence[str], topic: Topic) -> str:
        """A highlight bullet: a body sentence with a few words dropped or swapped."""
        kept = [t for t in tokens if rng.random() > 0.2] or list(tokens)
        kept = [self._word(rng, topic, rng.random()) if rng.random() < 0.15 else t for t in kept]
        return _cap(" ".join(kept)) + self.punct.stop

    def article(self, number: int) -> str:
        """Synthetic article `number` (from 1): the same text for the same library and number."""
        rng = random.Random(_stable_seed(self.seed, self.lang, number))
        topic = self.topics[number - 1]
        title = topic.phrase if rng.random() < 0.7 else " ".join(topic.words)
        title = " ".join(_cap(w) for w in title.split()) if self.lang == "ms" else _cap(title)
        description = self._sentence(rng, [topic.phrase, *self._tokens(rng, topic, 10, 22)])
        keywords = ",".join(rng.sample(KEYWORDS, rng.randint(1, 3)))
        # Sections as lists of paragraphs as lists of sentences (token lists): real words go in afterwards.
        sections: list[tuple[str, list[list[list[str]]], bool]] = []
        for _ in range(rng.randint(3, 5)):
            paragraphs = [
                [self._tokens(rng, topic, 7, 18) for _ in range(rng.randint(2, 6))] for _ in range(rng.randint(1, 4))
            ]
            # A section opens on its subject, the first one with it ("Inside sales means ...").
            opening = paragraphs[0][0]
            opening.insert(0 if not sections else rng.randrange(len(opening)), topic.phrase)
            sections.append((self._heading(rng, topic), paragraphs, rng.random() < QUOTE_SHARE))
        sentences = [s for _, paragraphs, _ in sections for p in paragraphs for s in p]
        highlights = [self._paraphrase(rng, s, topic) for s in rng.sample(sentences, min(3, len(sentences)))]
        if self.rare and rng.random() < RARE_ARTICLE_SHARE:
            for _ in range(rng.randint(1, 2)):
                word = self.rare.draw(rng)
                for _ in range(rng.randint(1, 2)):
                    sentence = rng.choice(sentences)
                    sentence[rng.randrange(len(sentence))] = word
        lines = ["---", f"keywords: {keywords}", f"title: {_yaml(title)}", f"description: {_yaml(description)}"]
        lines += ["---", "", f"# {title}"]
        for heading, paragraphs, quoted in sections:
            lines += [f"## {heading}", ""]
            for paragraph in paragraphs:
                written: list[str] = []
                for tokens in paragraph:
                    target, named = self._link(rng, number) if rng.random() < LINK_SHARE else (None, None)
                    if named is not None:
                        tokens = [*tokens[: len(tokens) // 2], named, *tokens[len(tokens) // 2 :]]
                    written.append(self._sentence(rng, tokens))
                    if target is not None:
                        written[-1] = self._linked(written[-1], named, target, rng)
                lines += [" ".join(written), ""]
            if quoted:
                lines += [f"> {self._sentence(rng, self._tokens(rng, topic, 10, 20))}", "", ">", ""]
        lines += [f"## {self.highlights_heading}", ""]
        for bullet in highlights:
            lines += [f"- {bullet}", ""]
        text = "\n".join(lines)
        self.used.update(_WORD.findall(text.lower()))
        return text

    def _linked(self, sentence: str, named: str | None, target: str, rng: random.Random) -> str:
        if named is not None and named in sentence:
            return sentence.replace(named, f"[{named}](/{target})", 1)
        words_ = sentence.split(" ")
        at = rng.randrange(len(words_) - 1) if len(words_) > 1 else 0
        words_[at] = f"[{words_[at].rstrip(self.punct.comma)}](/{target})"
        return " ".join(words_)


def _yaml(value: str) -> str:
    """Plain like the seeds' front matter, quoted when YAML would read it as something else."""
    if _PLAIN_TEXT.match(value):  # words and sentence punctuation: YAML reads it back as written
        return value
    try:
        plain = yaml.safe_load(f"v: {value}")
    except yaml.YAMLError:
        plain = None
    return value if isinstance(plain, dict) and plain.get("v") == value else json.dumps(value, ensure_ascii=False)


def word_lists(texts: Iterable[str]) -> list[set[str]]:
    """The distinct lower-cased words of each text (for checking a library's properties)."""
    return [{w.lower() for w in _WORD.findall(_LINK.sub(r"\1", text))} for text in texts]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.corpus", description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--articles-per-language", type=int, required=True)
    parser.add_argument("--seeds", type=Path, help="directory of real articles, <lang>/*.md (default: content/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vocabulary", type=int, default=DEFAULT_VOCABULARY, help="general made-up words per language")
    args = parser.parse_args(argv)
    try:
        stats = generate_corpus(
            args.out_dir, args.articles_per_language, seeds_dir=args.seeds, seed=args.seed,
            vocabulary_size=args.vocabulary,
        )  # fmt: skip
    except ValueError as error:
        print(f"python -m bot.corpus: {error}", file=sys.stderr)
        return 2
    for s in stats.languages:
        print(f"{s.lang}: {s.real} real + {s.synthetic} synthetic articles, "
              f"{s.distinct_words:,} distinct words written (vocabulary {s.vocabulary:,})")  # fmt: skip
    print(f"{stats.articles:,} articles, {stats.bytes_written / 1e6:.1f} MB in {stats.out_dir} "
          f"({stats.seconds:.1f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
