"""Language-aware text analysis shared by the detector and the retriever.

Words are stemmed with Snowball where it has the language (Polish, Russian, Arabic, Hindi, Indonesian for
Malay, ...), so "sprzedaży" meets "sprzedaż" and "внутренних" meets "внутренние". A short prefix of each
word is a second, weaker key that still catches inflection where a stemmer is missing or falls short.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cached_property, lru_cache

import regex
import snowballstemmer
import stopwordsiso
from rapidfuzz import fuzz, process

from bot.domain import vocabulary

# Letters with their combining marks (Devanagari vowel signs, Arabic harakat) and digits, so that
# "बिक्री" stays one word; internal hyphens and apostrophes split, as users write "AA-ISP" or "AA ISP".
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_ARABIC_DIACRITICS = regex.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTER_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_INVISIBLE = regex.compile(r"[\p{Cf}\p{Cc}]+")
_ARABIC_VARIANT = regex.compile(r"[أإآٱىة]")
_NOT_LATIN = regex.compile(r"[^\u0000-\u036f\u1e00-\u1eff]")
_COMBINING = regex.compile(r"\p{Mn}+")

SNOWBALL_NAMES = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ms": "indonesian",
    "ga": "irish", "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
PREFIX_LENGTH = 5
SHORT_PREFIX_SCRIPTS = ("\u0600", "\u0900")  # Arabic and Devanagari pack more into a character
ARABIC_PROCLITICS = ("وال", "فال", "بال", "كال", "لل", "ال")
# Function words of languages close enough to share them (Malay and Indonesian).
STOPWORD_SIBLINGS = {"ms": ("id",), "id": ("ms",), "nb": ("no",), "nn": ("no",)}


def normalize(text: str) -> str:
    """Case-fold and unify what users type interchangeably (Arabic letter variants, harakat, NFKC)."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub(" ", text)
    text = _ARABIC_DIACRITICS.sub("", text).casefold()
    return text.translate(_ARABIC_LETTER_VARIANTS) if _ARABIC_VARIANT.search(text) else text


def words(text: str) -> list[str]:
    found: list[str] = _WORD.findall(normalize(text))
    return found


def in_latin_script(word: str) -> bool:
    """Latin letters, with or without diacritics ("się", "sales")."""
    return not _NOT_LATIN.search(word)


def fold(word: str) -> str:
    """Drop Latin diacritics ("wewnętrzna" -> "wewnetrzna") for typo-tolerant keys; other scripts keep
    their marks, since Devanagari vowel signs carry meaning."""
    if word.isascii() or _NOT_LATIN.search(word):
        return word
    folded: str = _COMBINING.sub("", unicodedata.normalize("NFD", word))
    return folded.replace("ł", "l")


class Analyzer:
    """Turns text in one language into index keys: stems ('w:') and folded prefixes ('p:')."""

    def __init__(
        self,
        lang: str,
        question_words: Iterable[str] = (),
        chat_forms: Mapping[str, tuple[str, ...]] | None = None,
        borrowed_terms: Mapping[str, str] | None = None,
        content_words: Iterable[str] = (),
    ) -> None:
        self.lang = lang
        # Read as questions are (case, Arabic letter variants), so that an entry meets what people type.
        self.chat_forms = {
            typed[0]: tuple(word for part in full for word in words(part))
            for short, full in (chat_forms or {}).items()
            if len(typed := words(short)) == 1
        }
        # English words and phrases chat mixes in, keyed by their words: ("cold", "calling") -> the words
        # this language writes for them.
        self.borrowed: dict[tuple[str, ...], tuple[str, ...]] = {}
        for english, own in (borrowed_terms or {}).items():
            if (key := tuple(words(english))) and (value := tuple(words(own))):
                self.borrowed[key] = value
        self.longest_borrowed = max(map(len, self.borrowed), default=0)
        self._borrowed_words = sorted(key[0] for key in self.borrowed if len(key) == 1)
        name = SNOWBALL_NAMES.get(lang)
        self._stemmer = snowballstemmer.stemmer(name) if name else None
        listed = [w for code in (lang, *STOPWORD_SIBLINGS.get(lang, ())) for w in _stopword_list(code)]
        # Question frames ("what is", "why", "article") never say what is asked about, even where a
        # heading uses them ("What is inside sales?"); document stop lists mix in content words.
        self.question_words: frozenset[str] = frozenset(w for text in question_words for w in words(text))
        self.stopwords: frozenset[str] = self.question_words | frozenset(w for t in listed for w in words(t))
        # The listed words that name a subject: some stop lists are a news corpus's frequent words (Malay
        # lists "minyak", "harga"; Russian "деньги").
        self.content_words: frozenset[str] = frozenset(w for text in content_words for w in words(text))
        self.function_words: frozenset[str] = self.stopwords - self.content_words
        self.stem = lru_cache(maxsize=200_000)(self._stem)
        self.keys = lru_cache(maxsize=200_000)(self._keys)
        self.misspelt_borrowed = lru_cache(maxsize=4096)(self._misspelt_borrowed)

    def _stem(self, word: str) -> str:
        if self.lang == "ar":  # Snowball stems "المبيعات" and "مبيعات" apart; strip the article first
            for proclitic in ARABIC_PROCLITICS:
                if word.startswith(proclitic) and len(word) - len(proclitic) >= 3:
                    word = word[len(proclitic) :]
                    break
        stem = self._stemmer.stemWord(word) if self._stemmer else word
        return fold(stem) or word

    def _keys(self, word: str) -> tuple[str, ...]:
        """The stem, plus a prefix of it that still meets other derivations ("покупка"/"покупатели")."""
        stem = self.stem(word)
        length = PREFIX_LENGTH - 1 if stem[:1] >= SHORT_PREFIX_SCRIPTS[0] else PREFIX_LENGTH
        if len(stem) < 3:
            return ("w:" + stem,)
        return ("w:" + stem, "p:" + stem[:length])

    def _misspelt_borrowed(self, token: str, cutoff: float) -> tuple[str, ...] | None:
        """The English word of `borrowed` that `token` misspells ("salry", "salery": salary), as the words
        this language writes for it; None for short words (one letter from too many others) and no match."""
        if len(token) < 5 or not token.isascii():
            return None
        found = process.extractOne(token, self._borrowed_words, scorer=fuzz.ratio, score_cutoff=cutoff)
        return self.borrowed[(found[0],)] if found else None

    @cached_property
    def latin_chat_forms(self) -> dict[str, str]:
        """The chat forms that spell a word of another script in Latin letters ("kyu" -> "क्यों")."""
        return {short: " ".join(full) for short, full in self.chat_forms.items() if short.isascii()}

    @cached_property
    def folded_stopwords(self) -> frozenset[str]:
        """The function words as chat types them, without diacritics ("sie" for "się", "ze" for "że")."""
        return frozenset(fold(w) for w in self.stopwords)

    @cached_property
    def folded_question_words(self) -> frozenset[str]:
        return frozenset(fold(w) for w in self.question_words)

    @cached_property
    def stopword_keys(self) -> frozenset[str]:
        """Stems of the function words: a word with one's stem ("أغير" -> "غير") says as little."""
        return frozenset(self.keys(w)[0] for w in self.stopwords)

    def terms(self, text: str) -> list[str]:
        return [key for word in words(text) for key in self.keys(word)]


def _stopword_list(lang: str) -> Iterable[str]:
    return stopwordsiso.stopwords(lang) if stopwordsiso.has_lang(lang) else ()


@lru_cache(maxsize=64)
def analyzer_for(lang: str) -> Analyzer:
    # "why", "how much": document stop lists lack them; chat's short forms ("зп") no dictionary has
    return Analyzer(
        lang,
        vocabulary.question_words(lang),
        vocabulary.chat_forms(lang),
        vocabulary.borrowed_terms(lang),
        vocabulary.listed_content_words(lang),
    )


_SENTENCE_END = regex.compile(r"(?<=[.!?।؟])\s+")


def sentence_bounds(text: str, longest: int = 350, shortest: int = 0) -> list[tuple[int, int]]:
    """Sentence spans of `text`; a sentence longer than `longest` is cut at spaces into pieces of at most
    half of it, and one shorter than `shortest` is joined to the next ("Ia juga." says little alone)."""
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    spans: list[tuple[int, int]] = []
    for start, end in itertools.pairwise(bounds):
        if end <= start:
            continue
        if spans and spans[-1][1] - spans[-1][0] < shortest:
            start = spans.pop()[0]
        spans.extend(_word_pieces(text, start, end, longest))
    return spans


def _word_pieces(text: str, start: int, end: int, longest: int) -> list[tuple[int, int]]:
    if end - start <= longest:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    while end - start > longest // 2:
        cut = text.rfind(" ", start + 1, start + longest // 2)
        cut = cut + 1 if cut > start else start + longest // 2
        pieces.append((start, cut))
        start = cut
    return [*pieces, (start, end)]
