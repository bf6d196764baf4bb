"""Language-aware text analysis shared by the detector and the retriever.

Words are stemmed with Snowball where it has the language (Polish, Russian, Arabic, Hindi, Indonesian for
Malay, ...), so "sprzedaży" meets "sprzedaż" and "внутренних" meets "внутренние". A short prefix of each
word is a second, weaker key that still catches inflection where a stemmer is missing or falls short.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import regex
import snowballstemmer
import stopwordsiso

# Letters with their combining marks (Devanagari vowel signs, Arabic harakat) and digits, so that
# "बिक्री" stays one word; internal hyphens and apostrophes split, as users write "AA-ISP" or "AA ISP".
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_ARABIC_DIACRITICS = regex.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTER_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_INVISIBLE = regex.compile(r"[\p{Cf}\p{Cc}]+")

SNOWBALL_NAMES = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ms": "indonesian",
    "ga": "irish", "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
PREFIX_LENGTH = 5


def normalize(text: str) -> str:
    """Case-fold and unify what users type interchangeably (Arabic letter variants, harakat, NFKC)."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub(" ", text)
    text = _ARABIC_DIACRITICS.sub("", text)
    return text.casefold().translate(_ARABIC_LETTER_VARIANTS)


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def fold(word: str) -> str:
    """Drop Latin diacritics ("wewnętrzna" -> "wewnetrzna") for typo-tolerant keys; other scripts keep
    their marks, since Devanagari vowel signs carry meaning."""
    decomposed = unicodedata.normalize("NFD", word)
    if not all(ord(ch) < 0x0370 for ch in decomposed):
        return word
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ł", "l")


class Analyzer:
    """Turns text in one language into index keys: stems ('w:') and folded prefixes ('p:')."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        name = SNOWBALL_NAMES.get(lang)
        self._stemmer = snowballstemmer.stemmer(name) if name else None
        self.stopwords: frozenset[str] = frozenset(
            normalize(w) for w in (stopwordsiso.stopwords(lang) if stopwordsiso.has_lang(lang) else ())
        )
        self.stem = lru_cache(maxsize=200_000)(self._stem)

    def _stem(self, word: str) -> str:
        stem = self._stemmer.stemWord(word) if self._stemmer else word
        return fold(stem) or word

    def keys(self, word: str) -> tuple[str, ...]:
        stem = self.stem(word)
        folded = fold(word)
        if len(folded) > PREFIX_LENGTH + 1:
            return ("w:" + stem, "p:" + folded[:PREFIX_LENGTH])
        return ("w:" + stem,)

    def terms(self, text: str) -> list[str]:
        return [key for word in words(text) for key in self.keys(word)]

    def stems(self, tokens: Iterable[str]) -> list[str]:
        return [self.stem(token) for token in tokens]


@lru_cache(maxsize=64)
def analyzer_for(lang: str) -> Analyzer:
    return Analyzer(lang)
