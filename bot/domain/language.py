"""Which of the content's languages is a question written in?

Plain `langdetect.detect()` fails here: it has no Malay profile (Malay comes back as Indonesian) and it is
random unless seeded. So the detector only ever chooses among the languages the content has, and asks the
cheap, certain signals first:

1. the Unicode script, when only one content language is written in it (Arabic, Devanagari, Cyrillic);
2. letters only one candidate language uses (Polish "ł", "ż", ...), learned from the content itself;
3. words only one candidate language's content and stop-word list contain;
4. seeded langdetect, its ranked guesses mapped through close-language aliases (id -> ms);
5. for text too short to tell: the caller's hints (saved choice, Telegram `language_code`), then the
   configured default.
It never raises.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from langdetect import DetectorFactory
from langdetect.detector_factory import init_factory
from langdetect.lang_detect_exception import LangDetectException

from bot.domain.text import analyzer_for, normalize, words

Method = Literal["only", "script", "letters", "words", "langdetect", "hint", "default"]

# Languages close enough that a detector trained on one answers with the other.
CLOSE_LANGUAGES: Mapping[str, tuple[str, ...]] = {
    "id": ("ms",), "ms": ("id",), "nb": ("no", "nn"), "nn": ("no", "nb"), "no": ("nb", "nn"),
    "hr": ("bs", "sr"), "sr": ("hr", "bs"), "bs": ("hr", "sr"), "ur": ("hi",), "hi": ("ur", "ne", "mr"),
    "mr": ("hi",), "ne": ("hi",), "fa": ("ar",), "uk": ("ru",), "be": ("ru",), "bg": ("mk",), "mk": ("bg",),
    "zh-cn": ("zh",), "zh-tw": ("zh",), "gl": ("pt",), "ca": ("es",),
}  # fmt: skip
MIN_LETTERS_TO_DETECT = 8  # below this, langdetect is a coin toss: trust the user's hints instead
LETTER_SHARE = 0.002  # a letter is a language's own when it is at least this frequent in its content


@dataclass(frozen=True)
class Detection:
    lang: str
    method: Method


@lru_cache(maxsize=4096)
def script_of(char: str) -> str:
    """'LATIN', 'CYRILLIC', 'ARABIC', 'DEVANAGARI', 'CJK', ... (first word of the Unicode name)."""
    try:
        return unicodedata.name(char).split(" ", 1)[0]
    except ValueError:
        return "UNKNOWN"


def dominant_script(text: str) -> str | None:
    """The script most of the letters are in. Latin counts half in mixed text: brand names ("State
    Farm") in an Arabic or Hindi question should not outvote the question's own script. Combining marks
    count, as Devanagari vowel signs are half of a Hindi word."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha() or unicodedata.category(ch).startswith("M"):
            counts[script_of(ch)] += 1
    if not counts:
        return None
    if len(counts) > 1 and "LATIN" in counts:
        counts["LATIN"] //= 2
    return counts.most_common(1)[0][0]


def parse_aliases(spec: str) -> dict[str, tuple[str, ...]]:
    """'id:ms,nb:no' -> {'id': ('ms',), 'nb': ('no',)} for the LANGUAGE_ALIASES setting."""
    aliases: dict[str, tuple[str, ...]] = {}
    for pair in filter(None, (part.strip() for part in spec.split(","))):
        source, _, target = pair.partition(":")
        if source.strip() and target.strip():
            key = source.strip().lower()
            aliases[key] = (*aliases.get(key, ()), target.strip().lower())
    return aliases


class LanguageDetector:
    def __init__(
        self,
        samples: Mapping[str, str],
        *,
        default: str = "en",
        aliases: Mapping[str, Sequence[str]] | None = None,
        seed: int = 0,
    ) -> None:
        """`samples` maps each content language to a sample of its text (what the detector learns from)."""
        self.languages = tuple(sorted(samples))
        self.default = default
        self.aliases = {**CLOSE_LANGUAGES, **(aliases or {})}
        self._script = {lang: dominant_script(text) for lang, text in samples.items()}
        self._letters = {lang: _letter_shares(text) for lang, text in samples.items()}
        self._vocabulary = {
            lang: frozenset(words(text)) | analyzer_for(lang).stopwords for lang, text in samples.items()
        }
        self._seed = seed
        self._factory: DetectorFactory | None = None
        scripts = [self._script[lang] for lang in self.languages]
        if len(set(scripts)) < len(scripts):
            self._langdetect_factory()  # its profiles take ~0.2 s to load: at start-up, not on a question

    # -- public ---------------------------------------------------------------------------------------

    def detect(self, text: str, hints: Iterable[str | None] = ()) -> Detection:
        try:
            return self._detect(text, [h for h in (self.resolve(hint) for hint in hints) if h])
        except Exception:  # the detector must never take an answer down with it
            return Detection(self._fallback([]), "default")

    def resolve(self, code: str | None) -> str | None:
        """A language code from outside ('pt-BR', 'id') -> one of the content languages, or None."""
        if not code:
            return None
        code = code.strip().lower().replace("_", "-")
        for candidate in (code, code.split("-")[0]):
            if candidate in self.languages:
                return candidate
            for alias in self.aliases.get(candidate, ()):
                if alias in self.languages:
                    return alias
        return None

    # -- the steps ------------------------------------------------------------------------------------

    def _detect(self, text: str, hints: list[str]) -> Detection:
        if len(self.languages) == 1:
            return Detection(self.languages[0], "only")
        normalized = normalize(text)
        letters = [ch for ch in normalized if ch.isalpha()]
        script = dominant_script(normalized)
        candidates = [lang for lang in self.languages if self._script[lang] == script]
        if len(candidates) == 1:
            return Detection(candidates[0], "script")
        if not candidates or len(letters) < MIN_LETTERS_TO_DETECT:
            # Latin letters alone ("AA-ISP?", "B2B") are names every language writes: any hint goes.
            short_latin = script == "LATIN" and len(letters) < MIN_LETTERS_TO_DETECT
            pool = list(self.languages) if short_latin or not candidates else candidates
            return self._from_hints(hints, pool, prefer=candidates)
        by_letters = self._by_letters(letters, candidates)
        if by_letters:
            return Detection(by_letters, "letters")
        by_words = self._by_words(text, candidates)
        if by_words:
            return Detection(by_words, "words")
        guess = self._langdetect(text, candidates)
        if guess:
            return Detection(guess, "langdetect")
        return self._from_hints(hints, candidates)

    def _from_hints(self, hints: list[str], candidates: list[str], prefer: Sequence[str] = ()) -> Detection:
        for hint in hints:
            if hint in candidates:
                return Detection(hint, "hint")
        return Detection(self._fallback(list(prefer) or candidates), "default")

    def _fallback(self, candidates: list[str]) -> str:
        pool = candidates or list(self.languages)
        default = self.resolve(self.default)
        return default if default in pool else pool[0]

    def _by_letters(self, letters: list[str], candidates: list[str]) -> str | None:
        """Letters that occur in just one candidate's content ('ł' is Polish here) settle it."""
        votes: Counter[str] = Counter()
        for ch in set(letters):
            owners = [lang for lang in candidates if self._letters[lang].get(ch, 0.0) >= LETTER_SHARE]
            if len(owners) == 1 and all(ch not in self._letters[lang] for lang in candidates if lang != owners[0]):
                votes[owners[0]] += 1
        if len(votes) == 1:
            return next(iter(votes))
        return None

    def _by_words(self, text: str, candidates: list[str]) -> str | None:
        """Two or more words that only one candidate language knows, and none for the others."""
        tokens = set(words(text))
        votes = Counter(
            {lang: sum(1 for t in tokens if self._known_only_in(t, lang, candidates)) for lang in candidates}
        )
        ranked = votes.most_common(2)
        if ranked[0][1] >= 2 and ranked[1][1] == 0:
            return ranked[0][0]
        return None

    def _known_only_in(self, token: str, lang: str, candidates: list[str]) -> bool:
        return token in self._vocabulary[lang] and not any(
            token in self._vocabulary[other] for other in candidates if other != lang
        )

    def _langdetect(self, text: str, candidates: list[str]) -> str | None:
        factory = self._langdetect_factory()
        detector = factory.create()
        detector.append(text)
        try:
            guesses = detector.get_probabilities()
        except LangDetectException:
            return None
        for guess in guesses:  # ranked, most probable first
            lang = self.resolve(guess.lang)
            if lang in candidates:
                return lang
        return None

    def _langdetect_factory(self) -> DetectorFactory:
        if self._factory is None:
            DetectorFactory.seed = self._seed  # langdetect is random unless seeded
            init_factory()
            from langdetect import detector_factory

            self._factory = detector_factory._factory
        return self._factory


def _letter_shares(text: str) -> dict[str, float]:
    letters = [ch for ch in normalize(text) if ch.isalpha()]
    total = len(letters) or 1
    return {ch: count / total for ch, count in Counter(letters).items()}
