"""A synthetic content directory for measuring scale: N articles per language in the seeds' form.

    python -m bot.corpus OUT_DIR --articles-per-language 2000 [--seeds content/] [--seed 0]

For every language of the seed directory (`<seeds>/<lang>/*.md`) it copies the real articles verbatim and
writes `N - len(real)` synthetic ones, `OUT/<lang>/synthetic-00001.md` and on, each with front matter
(title, description, keywords), a `# ` title, 3-5 `## ` sections of 1-4 paragraphs (some with a block quote
and site-relative links) and a final highlights section of 3 bullets that paraphrase the body.

Words are drawn with Zipf-distributed frequencies from a vocabulary per language: the language's function
words (stop-word list, most frequent first), the real articles' words scattered through the ranks, and tens
of thousands of pseudo-words built from the real words' syllables, so every language keeps its script,
letters and word shapes. Everything is seeded: the same arguments write the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import regex
import stopwordsiso
import yaml

SYNTHETIC_PREFIX = "synthetic-"
DEFAULT_VOCABULARY = 40_000
FUNCTION_WORDS = 150  # the top ranks: what makes up about 40% of running text, as in real prose
ZIPF_EXPONENT = 1.0
ZIPF_OFFSET = 2.7  # Zipf-Mandelbrot: flattens the very top a little, as real frequency lists do
KEYWORDS = (
    "Business", "Small Business", "Marketing", "Sales", "Economics", "Personal Finance", "Investing",
    "Management", "Entrepreneurship", "Customer Service", "Technology", "Careers",
)  # fmt: skip
LINK_TARGETS = ("outside-sales", "customer", "coldcalling", "telemarketing", "add-on-sales", "lead-generation")

_WORD = regex.compile(r"[\p{L}\p{M}]+")
_PLAIN_WORD = regex.compile(r"^[\p{L}\p{M}]+$")
_GRAPHEME = regex.compile(r"\X")
_FRONT_MATTER = regex.compile(r"\A---\n.*?\n---\n", regex.DOTALL)
_HEADING = regex.compile(r"^## (.+)$", regex.MULTILINE)


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
    vocabulary: int  # words the generator could draw from
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
        texts = [p.read_text(encoding="utf-8-sig") for p in real]
        synthetic = max(0, articles_per_language - len(real))
        writer = _ArticleWriter(lang, texts, seed=seed, vocabulary_size=vocabulary_size)
        for number in range(1, synthetic + 1):
            data = writer.article(number, synthetic).encode("utf-8")
            (target / f"{SYNTHETIC_PREFIX}{number:05d}.md").write_bytes(data)
            written += len(data)
        stats.append(LanguageStats(lang, len(real), synthetic, len(writer.vocabulary), len(writer.used)))
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


def _stable_seed(seed: int, lang: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(lang.encode("utf-8"))) & 0xFFFFFFFF


def _script_of(word: str) -> str:
    """The script of a word's first letter: 'LATIN', 'CYRILLIC', 'ARABIC', 'DEVANAGARI', ..."""
    for ch in word:
        if ch.isalpha():
            return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]
    return "UNKNOWN"


def _dominant_script(words: Sequence[str]) -> str:
    counts = Counter(_script_of(w) for w in words)
    return counts.most_common(1)[0][0] if counts else "UNKNOWN"


def _lower(word: str) -> str:
    return word.lower()


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


class _ArticleWriter:
    """One language's vocabulary, Zipf sampler and article templates."""

    def __init__(self, lang: str, real_texts: Sequence[str], *, seed: int, vocabulary_size: int) -> None:
        self.lang = lang
        self.punct = PUNCTUATION.get(lang, Punctuation())
        self.random = random.Random(_stable_seed(seed, lang))
        self.rng = np.random.default_rng(_stable_seed(seed, lang))
        bodies = [_FRONT_MATTER.sub("", text) for text in real_texts]
        headings = [h for body in bodies for h in _HEADING.findall(body)]
        self.highlights_heading = headings[-1].strip() if headings else "Highlights"
        counts = Counter(_lower(w) for body in bodies for w in _WORD.findall(body))
        self.vocabulary = self._build_vocabulary(counts, vocabulary_size)
        ranks = np.arange(len(self.vocabulary), dtype=np.float64)
        weights = 1.0 / np.power(ranks + ZIPF_OFFSET, ZIPF_EXPONENT)
        self._cumulative = np.cumsum(weights / weights.sum())
        self._content_from = min(FUNCTION_WORDS, len(self.vocabulary) - 1)
        self.used: set[str] = set()

    # -- vocabulary -----------------------------------------------------------------------------------

    def _build_vocabulary(self, counts: Counter[str], size: int) -> list[str]:
        listed = stopwordsiso.stopwords(self.lang) if stopwordsiso.has_lang(self.lang) else set()
        listed = {_lower(w) for w in listed if _PLAIN_WORD.match(w)}
        # Function words are the listed words the real text uses: ISO lists also hold content words
        # (Malay's has "industri", "menteri", "malaysia"), which real prose does not repeat everywhere.
        function = sorted((w for w in listed if w in counts), key=lambda w: (-counts[w], w))[:FUNCTION_WORDS]
        content = sorted((w for w in counts if w not in set(function)), key=lambda w: (-counts[w], w))
        pseudo = self._pseudo_words(list(counts), max(0, size - len(function) - len(content)), set(counts))
        tail: list[str] = list(pseudo)
        # The real words land anywhere in the long tail: some common, most rare, as topic words are.
        for word in content:
            tail.insert(self.random.randrange(len(tail) + 1), word)
        return function + tail

    def _pseudo_words(self, real: list[str], wanted: int, taken: set[str]) -> list[str]:
        """Words made of the real words' syllables (grapheme pairs): the language's script and shapes."""
        onsets: list[str] = []
        middles: list[str] = []
        ends: list[str] = []
        script = _dominant_script(real)
        for word in sorted(real):
            if _script_of(word) != script:
                continue  # "PayScale" in the Hindi article: its letters do not make Hindi syllables
            graphemes = _GRAPHEME.findall(word)
            if len(graphemes) < 3:
                continue
            onsets.append("".join(graphemes[:2]))
            ends.append("".join(graphemes[-2:]))
            middles.extend("".join(graphemes[i : i + 2]) for i in range(1, len(graphemes) - 2))
        if not onsets or not middles:
            return []
        result: list[str] = []
        seen = set(taken)
        attempts = 0
        while len(result) < wanted and attempts < wanted * 20:
            attempts += 1
            parts = [self.random.choice(onsets)]
            parts += [self.random.choice(middles) for _ in range(self.random.choice((0, 1, 1, 1, 2, 2, 3)))]
            parts.append(self.random.choice(ends))
            word = "".join(parts)
            if word not in seen:
                seen.add(word)
                result.append(word)
        return result

    def _draw(self, count: int, *, content: bool = False) -> list[str]:
        low = float(self._cumulative[self._content_from - 1]) if content else 0.0
        points = low + self.rng.random(count) * (1.0 - low)
        indexes = np.minimum(np.searchsorted(self._cumulative, points), len(self.vocabulary) - 1)
        drawn = [self.vocabulary[int(i)] for i in indexes]
        self.used.update(drawn)
        return drawn

    # -- text -----------------------------------------------------------------------------------------

    def sentence(self, low: int = 7, high: int = 18, links: Sequence[str] = ()) -> str:
        tokens = self._draw(self.random.randint(low, high))
        if self.random.random() < 0.35 and len(tokens) > 8:
            at = self.random.randrange(3, len(tokens) - 3)
            tokens[at] += self.punct.comma
        for target in links:  # a link over one or two words, as the seeds link a term to its article
            at = self.random.randrange(len(tokens))
            span = 2 if at + 1 < len(tokens) and self.random.random() < 0.4 else 1
            text = " ".join(tokens[at : at + span]).rstrip(self.punct.comma)
            tokens[at : at + span] = [f"[{text}](/{target})"]
        tokens[0] = _cap(tokens[0])
        return " ".join(tokens) + self.punct.stop

    def heading(self) -> str:
        words = self._draw(self.random.randint(1, 4), content=True)
        if self.random.random() < 0.3:
            return _cap(" ".join(self._draw(1) + words)) + self.punct.question
        return _cap(" ".join(words))

    def paragraph(self, total: int) -> str:
        sentences = self.random.randint(2, 6)
        linked = [i for i in range(sentences) if self.random.random() < 0.12]
        return " ".join(
            self.sentence(links=[self._link_target(total)] if i in linked else ()) for i in range(sentences)
        )

    def _link_target(self, total: int) -> str:
        if total and self.random.random() < 0.6:
            return f"{SYNTHETIC_PREFIX}{self.random.randint(1, total):05d}"
        return self.random.choice(LINK_TARGETS)

    def paraphrase(self, sentence: str) -> str:
        """A highlight bullet: a body sentence with a few words dropped or swapped, links removed."""
        plain = regex.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", sentence).rstrip(self.punct.stop)
        tokens = [t for t in plain.split() if self.random.random() > 0.2] or plain.split()
        for i in range(len(tokens)):
            if self.random.random() < 0.15:
                tokens[i] = self._draw(1)[0]
        return _cap(" ".join(tokens)) + self.punct.stop

    def article(self, number: int, total: int) -> str:
        title = _cap(" ".join(self._draw(self.random.randint(1, 4), content=True)))
        if self.lang == "ms":
            title = " ".join(_cap(w) for w in title.split())
        description = self.sentence(12, 26)
        keywords = ",".join(self.random.sample(KEYWORDS, self.random.randint(1, 3)))
        lines = ["---", f"keywords: {keywords}", f"title: {_yaml(title)}", f"description: {_yaml(description)}"]
        lines += ["---", ""]
        lines += [f"# {title}"]
        body_sentences: list[str] = []
        for _ in range(self.random.randint(3, 5)):
            lines += [f"## {self.heading()}", ""]
            for _ in range(self.random.randint(1, 4)):
                paragraph = self.paragraph(total)
                body_sentences.append(paragraph.split(self.punct.stop + " ")[0] + self.punct.stop)
                lines += [paragraph, ""]
            if self.random.random() < 0.25:
                lines += [f"> {self.sentence(10, 20)}", "", ">", ""]
        lines += [f"## {self.highlights_heading}", ""]
        for source in self.random.sample(body_sentences, min(3, len(body_sentences))):
            lines += [f"- {self.paraphrase(source)}", ""]
        return "\n".join(lines)


def _yaml(value: str) -> str:
    """Plain like the seeds' front matter, quoted when YAML would read it as something else."""
    try:
        plain = yaml.safe_load(f"v: {value}")
    except yaml.YAMLError:
        plain = None
    return value if isinstance(plain, dict) and plain.get("v") == value else json.dumps(value, ensure_ascii=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.corpus", description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--articles-per-language", type=int, required=True)
    parser.add_argument("--seeds", type=Path, help="directory of real articles, <lang>/*.md (default: content/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vocabulary", type=int, default=DEFAULT_VOCABULARY, help="words per language")
    args = parser.parse_args(argv)
    stats = generate_corpus(
        args.out_dir, args.articles_per_language, seeds_dir=args.seeds, seed=args.seed,
        vocabulary_size=args.vocabulary,
    )  # fmt: skip
    for s in stats.languages:
        print(f"{s.lang}: {s.real} real + {s.synthetic} synthetic articles, "
              f"{s.distinct_words:,} distinct words written (vocabulary {s.vocabulary:,})")  # fmt: skip
    print(f"{stats.articles:,} articles, {stats.bytes_written / 1e6:.1f} MB in {stats.out_dir} "
          f"({stats.seconds:.1f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
