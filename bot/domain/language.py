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
Latin letters need more care, because people type more than the content's Latin-script languages in them:
English (a language the articles may lack), and Russian, Hindi or Arabic romanized ("vnutrennie prodazhi
zarplata", "kya hai", "mabi3at"). Each word votes for the languages it belongs to: a Latin content
language's own words, the function words of a language with an interface locale (English), or a
non-Latin content language's words met through their phonetic skeletons (`search.romanize`). Words the
content uses in every language (English slugs such as "inside sales", names such as "Oracle") vote for
none. A question in a language the content lacks is reported as such (`question_language`); the
language it is answered in then comes from the hints, else the default content language.
It never raises.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import regex
from langdetect import DetectorFactory
from langdetect.detector_factory import init_factory
from langdetect.lang_detect_exception import LangDetectException

from bot.domain.search.romanize import MIN_CONTENT_KEY, skeleton, typed
from bot.domain.text import analyzer_for, fold, normalize, words

Method = Literal["only", "script", "letters", "words", "romanized", "foreign", "langdetect", "hint", "default"]

# Languages close enough that a detector trained on one answers with the other.
CLOSE_LANGUAGES: Mapping[str, tuple[str, ...]] = {
    "id": ("ms",), "ms": ("id",), "nb": ("no", "nn"), "nn": ("no", "nb"), "no": ("nb", "nn"),
    "hr": ("bs", "sr"), "sr": ("hr", "bs"), "bs": ("hr", "sr"), "ur": ("hi",), "hi": ("ur", "ne", "mr"),
    "mr": ("hi",), "ne": ("hi",), "fa": ("ar",), "uk": ("ru",), "be": ("ru",), "bg": ("mk",), "mk": ("bg",),
    "zh-cn": ("zh",), "zh-tw": ("zh",), "gl": ("pt",), "ca": ("es",),
}  # fmt: skip
MIN_LETTERS_TO_DETECT = 8  # below this, langdetect is a coin toss: trust the user's hints instead
LETTER_SHARE = 0.002  # a letter is a language's own when it is at least this frequent in its content


FOREIGN_LANGDETECT_MIN = 0.9  # and when no word settles it, langdetect must be this sure
# Stop lists are long ("sup" is an English stop word): one word is not a language, unless it is the one
# the user's Telegram is set to.
FOREIGN_MIN_VOTES = 2
SHORT_FOREIGN_WORD = 2  # letters: a foreign stop-list word this short is half a claim (`_foreign_claim`)
SHORT_FOREIGN_CLAIM = 0.5
ROMANIZED_MIN_VOTES = 1.5  # and twice the runner-up's: typed Latin words collide with other languages'
TERM_CLAIM = 0.5  # a slug's word, as evidence for the language slugs are written in
TERMS_NEED_VOTES = 0.5  # its own words first: a function word shared by at most two languages
TERMS_TO_DETECT = 5  # fewer slug words than this do not tell a language
TERMS_LANGDETECT_MIN = 0.5  # a list of words, not a sentence: langdetect is less sure of it
VOWELLESS_SCRIPTS = frozenset({"ARABIC", "HEBREW"})  # short vowels unwritten: compare function words by skeleton
_QUOTED = regex.compile(r'["“„«][^"“”„«»]*["”»“]')  # a quoted term, in any language's quotation marks
# The Arabic chat alphabet writes letters Latin lacks as digits inside or at the start of words ("ya3ni",
# "bysht8l", "3ala"); no other language's chat does. Names and codes ("B2B", "MP3", "win7", "4G") have the
# digit at the end, a digit the alphabet does not use, or fewer letters.
_CHAT_DIGITS_WORD = regex.compile(r"[a-z][235789]+[a-z]|^[235789][a-z]{2}")


def is_arabic_chat_word(token: str) -> bool:
    return sum(ch.isalpha() for ch in token) >= 3 and bool(_CHAT_DIGITS_WORD.search(token))


@dataclass(frozen=True)
class Detection:
    lang: str  # the content language to answer in
    method: Method
    question_language: str = ""  # what the question is written in ("en" where the content has no English)

    @property
    def written_in(self) -> str:
        return self.question_language or self.lang

    @property
    def romanized(self) -> bool:
        return self.method == "romanized"


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
        foreign: Iterable[str] = (),
        neutral: Iterable[str] = (),
        terms: Iterable[str] = (),
        default_content: str | None = None,
    ) -> None:
        """`samples` maps each content language to a sample of its text (what the detector learns from);
        `foreign` names languages the content lacks but the interface speaks (recognised by their function
        words); `neutral` words vote for no content language (slugs and names every translation uses);
        `terms` are the words of slugs and link targets: when they are written in one of the `foreign`
        languages (English, usually), a question made of them and that language's function words is in it."""
        self.languages = tuple(sorted(samples))
        self.default = default
        self.default_content = default_content if default_content in self.languages else None
        self.neutral = frozenset(neutral)
        self.foreign = tuple(sorted(lang for lang in set(foreign) if lang not in self.languages))
        self._foreign_words = {lang: analyzer_for(lang).stopwords for lang in self.foreign}
        self.aliases = {**CLOSE_LANGUAGES, **(aliases or {})}
        self._script = {lang: dominant_script(text) for lang, text in samples.items()}
        self._letters = {lang: _letter_shares(text) for lang, text in samples.items()}
        self._vocabulary = {
            lang: _typed_without_diacritics(
                frozenset(words(text)) | analyzer_for(lang).stopwords | analyzer_for(lang).chat_forms.keys()
            )
            for lang, text in samples.items()
        }
        # Non-Latin content languages, as people type them in Latin letters.
        self._romanizable = tuple(lang for lang in self.languages if self._script[lang] not in ("LATIN", None))
        self._romanized_function = {
            lang: _romanized_function_words(lang, self._script[lang]) for lang in self._romanizable
        }
        self._romanized_content = {
            lang: frozenset(k for w in words(samples[lang]) if len(k := skeleton(w)) >= MIN_CONTENT_KEY)
            for lang in self._romanizable
        }
        self._seed = seed
        self._factory: DetectorFactory | None = None
        scripts = [self._script[lang] for lang in self.languages]
        if len(set(scripts)) < len(scripts) or self.foreign:
            self._langdetect_factory()  # its profiles take ~0.2 s to load: at start-up, not on a question
        self._terms = frozenset(terms)
        self._terms_language = self._language_of_terms()

    # -- public ---------------------------------------------------------------------------------------

    def detect(self, text: str, hints: Iterable[str | None] = ()) -> Detection:
        try:
            return self._detect(text, hints)
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

    def _detect(self, text: str, codes: Iterable[str | None]) -> Detection:
        """`codes`: the user's languages as given (pinned, Telegram's); `hints` are those the content has,
        `said` all of them (English too)."""
        codes = tuple(codes)
        hints = [h for h in (self.resolve(code) for code in codes) if h]
        said = {code.strip().lower().replace("_", "-").split("-")[0] for code in codes if code}
        normalized = normalize(text)
        letters = [ch for ch in normalized if ch.isalpha()]
        script = dominant_script(normalized)
        candidates = [lang for lang in self.languages if self._script[lang] == script]
        if script == "LATIN" and len(letters) >= MIN_LETTERS_TO_DETECT and (self._romanizable or self.foreign):
            by_letters = self._by_letters(letters, candidates) if len(candidates) > 1 else None
            if by_letters:
                return Detection(by_letters, "letters")
            voted = self._by_votes(text, candidates, hints, said)
            if voted:
                return voted
            return self._from_hints(hints, candidates or list(self.languages), said=said)
        if len(self.languages) == 1:
            return Detection(self.languages[0], "only")
        if len(candidates) == 1:
            return Detection(candidates[0], "script")
        if not candidates or len(letters) < MIN_LETTERS_TO_DETECT:
            # Latin letters alone ("AA-ISP?", "B2B") are names every language writes: any hint goes.
            short_latin = script == "LATIN" and len(letters) < MIN_LETTERS_TO_DETECT
            pool = list(self.languages) if short_latin or not candidates else candidates
            return self._from_hints(hints, pool, prefer=candidates, said=said)
        by_letters = self._by_letters(letters, candidates)
        if by_letters:
            return Detection(by_letters, "letters")
        by_words = self._by_words(text, candidates)
        if by_words:
            return Detection(by_words, "words")
        guess = self._langdetect(text, candidates)
        if guess:
            return Detection(guess, "langdetect")
        return self._from_hints(hints, candidates, said=said)

    def _from_hints(
        self,
        hints: list[str],
        candidates: list[str],
        prefer: Sequence[str] = (),
        said: frozenset[str] | set[str] = frozenset(),
    ) -> Detection:
        """Text that does not tell: the user's own language where the content has it; else the language
        their Telegram speaks, if the interface does ("summary" from an English user is English)."""
        for hint in hints:
            if hint in candidates:
                return Detection(hint, "hint")
        spoken = sorted(code for code in said if code in self.foreign)
        if spoken:
            return Detection(self._answer_language(hints), "hint", spoken[0])
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

    def _by_votes(
        self, text: str, candidates: list[str], hints: list[str], said: frozenset[str] | set[str]
    ) -> Detection | None:
        """Latin letters: each word has one vote, shared among the languages it may belong to (a content
        language's own words, another language's function words, a romanized language's words met by
        their skeletons), in proportion to how sure each claim is. A clear winner settles it; otherwise
        langdetect, restricted to the languages that could be meant, has a say."""
        # A quoted term is what is asked about, not the language asked in: 'co to jest "sales in the cloud"?';
        # but where the other words cannot tell, a quoted phrase is more likely the asker's language than
        # not ('pochemu inside sales nazyvayut "prodazhi v oblake"?').
        unquoted, every = frozenset(words(_QUOTED.sub(" ", text))), frozenset(words(text))
        for tokens in (unquoted, every) if unquoted and unquoted != every else (every,):
            decided = self._decide_by_votes(tokens, candidates, hints, said)
            if decided:
                return decided
        guess = self._langdetect(text, [*candidates, *self.foreign], foreign_min=FOREIGN_LANGDETECT_MIN)
        if guess in self.foreign:
            return Detection(self._answer_language(hints), "foreign", guess)
        return Detection(guess, "langdetect") if guess else None

    def _decide_by_votes(
        self, tokens: frozenset[str], candidates: list[str], hints: list[str], said: frozenset[str] | set[str]
    ) -> Detection | None:
        votes: dict[str, float] = {}
        sure: Counter[str] = Counter()  # words each language claims as written or by a long skeleton
        for token in tokens - self.neutral:
            claims = {lang: 1.0 for lang in candidates if token in self._vocabulary[lang]}
            claims |= {lang: _foreign_claim(token) for lang in self.foreign if token in self._foreign_words[lang]}
            claims |= {lang: weight for lang in self._romanizable if (weight := self._romanized_claim(token, lang))}
            sure.update(lang for lang, weight in claims.items() if weight >= 1.0)
            total = max(sum(claims.values()), 1.0)  # a lone weak claim is half a vote, not a whole one
            for lang, weight in claims.items():
                votes[lang] = votes.get(lang, 0.0) + weight / total
        terms_language = self._terms_language
        if terms_language and votes.get(terms_language, 0.0) >= TERMS_NEED_VOTES:
            # Slug words ("inside sales") are in the language slugs are written in, but Malay or Hindi chat
            # mixes them in too: half a vote each, for that language, once its own function words speak.
            votes[terms_language] += TERM_CLAIM * len(tokens & self._terms)
        ranked = sorted(votes.items(), key=lambda v: (-v[1], v[0]))
        winner, count = ranked[0] if ranked else ("", 0.0)
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if winner in candidates and count - second >= 1:
            return Detection(winner, "words")
        if winner in self.foreign and count - second >= 1 and (count >= FOREIGN_MIN_VOTES or winner in said):
            return Detection(self._answer_language(hints), "foreign", winner)
        # Two words it claims surely ("chto takoe") are enough even when short Arabic function words'
        # skeletons take a share of each.
        enough = count >= ROMANIZED_MIN_VOTES or sure[winner] >= 2
        if winner in self._romanizable and enough and count >= 2 * second:
            return Detection(winner, "romanized", winner)
        # Weak claims (three consonants, a function word's skeleton) spread thin over every short word and
        # dilute the count; words claimed surely do not: "aur", "hai" and "kya" are Hindi.
        surest = [*sure.most_common(2), ("", 0), ("", 0)]
        (sure_winner, sure_count), (_, sure_second) = surest[0], surest[1]
        if sure_count >= 2 and sure_count >= 2 * sure_second:
            if sure_winner in self._romanizable:
                return Detection(sure_winner, "romanized", sure_winner)
            if sure_winner in candidates:  # "bleh tak company outsource inside sales kpd third party"
                return Detection(sure_winner, "words")
        return None

    def _language_of_terms(self) -> str | None:
        """The language the slugs and link targets are written in, when it is one the content lacks
        (English slugs over Malay and Polish articles), by langdetect over all of them at once."""
        if not self.foreign or len(self._terms) < TERMS_TO_DETECT:
            return None
        sample = " ".join(sorted(t for t in self._terms if t.isalpha()))
        guess = self._langdetect(sample, list(self.foreign), foreign_min=TERMS_LANGDETECT_MIN)
        return guess if guess in self.foreign else None

    def _answer_language(self, hints: list[str]) -> str:
        """For a question in a language the content lacks: the user's pinned or Telegram language where
        the content has it, else the default content language."""
        return hints[0] if hints else self.default_content or self._fallback([])

    def _romanized_claim(self, token: str, lang: str) -> float:
        """How surely a Latin-letter word is `lang` typed in Latin letters (0: not at all)."""
        if token in self._romanized_function[lang]:
            return 1.0
        if self._script[lang] == "ARABIC" and is_arabic_chat_word(token):
            return 1.0
        key = skeleton(token)
        if len(key) >= MIN_CONTENT_KEY and key in self._romanized_content[lang]:
            return 1.0 if len(key) > MIN_CONTENT_KEY else 0.5  # three consonants meet many words
        if key and ("~" + key) in self._romanized_function[lang]:
            return 0.5  # a function word's consonants alone ("ma", "heya", "matlab"): weak, words collide
        return 0.0

    def _known_only_in(self, token: str, lang: str, candidates: list[str]) -> bool:
        return token in self._vocabulary[lang] and not any(
            token in self._vocabulary[other] for other in candidates if other != lang
        )

    def _langdetect(self, text: str, candidates: list[str], foreign_min: float = 0.0) -> str | None:
        """langdetect's most probable guess among `candidates`; a language the content lacks only when
        langdetect gives it at least `foreign_min` (short text is easily taken for English)."""
        factory = self._langdetect_factory()
        detector = factory.create()
        detector.append(text)
        try:
            guesses = detector.get_probabilities()
        except LangDetectException:
            return None
        for guess in guesses:  # ranked, most probable first
            if guess.lang in self.foreign and guess.prob < foreign_min:
                continue
            lang = guess.lang if guess.lang in candidates else self.resolve(guess.lang)
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


def _foreign_claim(token: str) -> float:
    """How surely a word of a foreign language's stop list is that language: its one- and two-letter
    entries (English lists letters and country codes: "fi", "la", "v") are every chat's short words too
    (Arabic "fi", Russian "v", Hindi "ke")."""
    return 1.0 if len(token) > SHORT_FOREIGN_WORD else SHORT_FOREIGN_CLAIM


def _typed_without_diacritics(vocabulary: frozenset[str]) -> frozenset[str]:
    """The words, and as chat types them without diacritics ("sie" for "się", "roznica" for "różnica")."""
    return vocabulary | {fold(w) for w in vocabulary}


def _romanized_function_words(lang: str, script: str | None) -> frozenset[str]:
    """Function words of `lang` as typed in Latin letters, and their skeletons, marked "~": all of them
    for scripts that leave short vowels out ("ما" is typed "ma"), the longer ones for others ("matlab")."""
    analyzer = analyzer_for(lang)
    function_words = analyzer.stopwords
    # How chat spells the language's words in Latin letters ("kyu", "h" for Hindi), where listed.
    typed_words = {typed(w) for w in function_words} | analyzer.latin_chat_forms.keys()
    vowelless = script in VOWELLESS_SCRIPTS
    typed_words |= {"~" + k for w in function_words if (k := skeleton(w)) and (vowelless or len(k) >= MIN_CONTENT_KEY)}
    return frozenset(t for t in typed_words if t)


def _letter_shares(text: str) -> dict[str, float]:
    letters = [ch for ch in normalize(text) if ch.isalpha()]
    total = len(letters) or 1
    return {ch: count / total for ch, count in Counter(letters).items()}
