"""Phonetic skeletons: the same word typed in its own script or in Latin letters meets on one key.

People type Russian, Hindi and Arabic in Latin letters in chats ("vnutrennie prodazhi zarplata", "inside
sales ke fayde kya hain", "ma heya al mabi3at"). Such spellings are not standardised, but their consonants
are stable: the key of a word is its ASCII transliteration (anyascii, every script) with the chat-alphabet
digits read as letters, the vowels dropped and doubled letters merged. "внутренние" and "vnutrennie" both
become "vntrn"; "मतलब" and "matlab" become "mtlb"; "مبيعات" and "mabi3at" become "mbt".
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from functools import lru_cache

import regex
from anyascii import anyascii
from rapidfuzz import fuzz

from bot.domain.text import ARABIC_PROCLITICS, words

# Arabic chat alphabet: digits that stand for letters Latin lacks (3 = ع, 7 = ح, 5 = خ, 2 = ء, 9 = ق).
_CHAT_DIGITS = str.maketrans({"2": "", "3": "", "5": "kh", "6": "t", "7": "h", "8": "gh", "9": "q"})
_DIGRAPHS = (
    ("ph", "f"),
    ("sh", "s"),
    ("ch", "c"),
    ("zh", "z"),
    ("w", "v"),
    ("q", "k"),
    ("c", "k"),
    ("x", "ks"),
    ("j", "z"),
)
_NOT_CONSONANT = regex.compile(r"[^bcdfghjklmnpqrstvwxz]")
_REPEATS = regex.compile(r"(.)\1+")
_DIGIT = regex.compile(r"\d")
MIN_CONTENT_KEY = 3  # shorter skeletons ("k", "mn") are shared by too many words to name one
# An English word read as a loanword a translation writes as it hears it ("telemarketing" ->
# "टेलीमार्केटिंग") needs more: three consonants meet unrelated words across languages ("bread" and
# "البريد", mail, are both "brd"). Shorter English terms are read through the vocabulary tables.
MIN_LOANWORD_KEY = 4


@lru_cache(maxsize=200_000)
def skeleton(word: str) -> str:
    """The consonant skeleton of a word in any script ('' when it has no consonants)."""
    latin: str = anyascii(word).lower()
    if _DIGIT.search(latin) and regex.search(r"[a-z]", latin):
        latin = latin.translate(_CHAT_DIGITS)  # only inside words: "B2B" and "2021" stay themselves
    for pair, single in _DIGRAPHS:
        latin = latin.replace(pair, single)
    latin = latin.rstrip("h") if len(latin) > 3 else latin  # a final "h" is a vowel ending (ة, ह) or not
    return str(_REPEATS.sub(r"\1", _NOT_CONSONANT.sub("", latin)))


@lru_cache(maxsize=65_536)
def is_latin_word(word: str) -> bool:
    return word.isascii() or anyascii(word) == word


class Transliterator:
    """Latin-letter words -> the content's own words in another script, through skeletons: function
    words by how they are typed ("kya" -> "क्या"; Arabic ones by their consonants, "ma" -> "ما"), content
    words by skeleton ("zarplata" -> "зарплата", the most frequent content word with that skeleton; an
    Arabic word also without its article, which chat spells apart: "al dakhiliya"). Words with no
    counterpart stay as typed."""

    def __init__(
        self,
        vocabulary: Mapping[str, int],
        function_words: Iterable[str],
        lang: str = "",
        chat_spellings: Mapping[str, str] | None = None,
    ) -> None:
        """`chat_spellings`: how chat writes some words in Latin letters ("kyu" -> "क्यों")."""
        self._articles = TYPED_ARTICLES.get(lang, ())
        by_skeleton: dict[str, list[tuple[int, str, str]]] = {}
        for word, count in vocabulary.items():
            if is_latin_word(word):
                continue  # names and English terms the content uses: nothing to transliterate to
            for form in {word, *(word[len(p) :] for p in ARABIC_PROCLITICS if self._articles and word.startswith(p))}:
                key = skeleton(form)
                if len(key) >= MIN_CONTENT_KEY:
                    by_skeleton.setdefault(key, []).append((count, word, form))
        # A large library has many words per skeleton ("sls": सेल्स, and made-up ones): the most frequent
        # few are kept, and the one spelt most like what was typed wins among them.
        self._content = {
            key: [
                (count, word, _letters_typed(form))
                for count, word, form in sorted(found, reverse=True)[:SPELLINGS_KEPT]
            ]
            for key, found in by_skeleton.items()
        }
        self._function = {typed(word): word for word in sorted(function_words)}
        # By consonants too: a script without short vowels is typed with any vowels ("ma" for "ما"),
        # and long function words are typed as said ("matlab" for "मतलब", which anyascii spells "mtlb").
        self._function |= {
            "~" + key: word
            for word in sorted(function_words)
            if (key := skeleton(word)) and (self._articles or len(key) >= MIN_CONTENT_KEY)
        }
        self._function |= dict(chat_spellings or {})

    def transliterate(self, text: str, keep: Container[str] = (), shortest_key: int = MIN_CONTENT_KEY) -> str:
        """`keep`: words that stay as typed (those the content itself writes in Latin letters);
        `shortest_key`: the fewest consonants a content word is met by."""
        out = []
        for token in words(text):
            if not is_latin_word(token) or token in keep:
                out.append(token)
            elif token in self._articles:
                continue  # the article is part of the next word in the script: the skeleton finds it
            elif token in self._function:
                out.append(self._function[token])
            elif len(key := skeleton(token)) >= shortest_key and key in self._content:
                out.append(self._closest(token, self._content[key]))
            else:
                out.append(self._function.get("~" + key, token))
        return " ".join(out)

    @staticmethod
    def _closest(token: str, spellings: list[tuple[int, str, str]]) -> str:
        """The content word typed most like `token` (ties: the more frequent, listed first). Arabic words
        are compared without their article, as the article is typed apart ("al mabi3at")."""
        if len(spellings) == 1:
            return spellings[0][1]
        typed_token = _letters_typed(token.translate(_CHAT_DIGITS))
        scores = [fuzz.ratio(typed_token, typed_form) for _, _, typed_form in spellings]
        return spellings[scores.index(max(scores))][1]


SPELLINGS_KEPT = 8  # per skeleton: the most frequent words are the likely ones; more is noise
_NOT_LETTER = regex.compile(r"[^a-z]")


def _letters_typed(word: str) -> str:
    return str(_NOT_LETTER.sub("", typed(word)))


# How chat spells the definite article that the script writes as part of the word.
TYPED_ARTICLES = {"ar": ("al", "el", "il")}
IDENTITY = Transliterator({}, ())


def typed(word: str) -> str:
    """How a word is typed in Latin letters in chats (anusvara as "n": "हैं" -> "hain")."""
    latin: str = anyascii(word.replace("\u0902", "n").replace("\u0901", "n"))
    # anyascii marks the soft and hard signs (ь, ъ) with quotes, which nobody types: "skolko", not "skol'ko"
    return latin.lower().replace("'", "").replace('"', "")
