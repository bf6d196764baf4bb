"""Query analysis: which words of a question say what it is about, and how much each says.

Function words and question frames ("mengapa", "what is") say nothing; a word's weight is the IDF of its
stem, so rare words count most. Words the content lacks are looked at twice before they count as
"unknown" (the sign of an off-topic question): a misspelling is corrected against the content's
vocabulary, two words the content writes as one ("cold calling" -> the link slug "coldcalling") are
joined, a name other translations spell is a name, and the function words of the language the question is
written in (English, say) are dropped even when the content is in other languages.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Protocol

from bot.domain.search.tuning import Tuning
from bot.domain.text import Analyzer, fold, words


@dataclass(frozen=True)
class QueryWord:
    surface: str
    keys: tuple[str, ...]
    weight: float  # IDF of its stem: rare words say more about what is asked
    factor: float = 1.0  # less for listed stop words and names
    known: bool = True  # the content has this word (or a close spelling of it)
    corrected: bool = False  # matched through a typo correction, not as written
    share: float = 1.0  # one of the words a typed word or phrase stands for ("outsource" -> three)

    @property
    def boost(self) -> float:
        """How much the word's matches count towards a passage's BM25."""
        return self.factor * self.share


class Vocabulary(Protocol):
    """What query analysis needs to know about one language's content."""

    analyzer: Analyzer
    surface_df: Counter[str]
    foreign_names: frozenset[str]
    passage_count: int
    unknown_idf: float
    tuning: Tuning

    def df(self, key: str) -> int: ...

    def idf(self, key: str) -> float: ...

    def closest_keys(self, token: str) -> tuple[str, ...] | None: ...

    def latin_spelling(self, token: str) -> str | None: ...

    def names_topic(self, word: QueryWord) -> bool: ...

    def completion(self, joined: str) -> str | None: ...


@dataclass(frozen=True)
class _Read:
    """A word as read, and what the asker typed for it: `origin` numbers the typed word or phrase it was
    read from, `typed` how many words that was. A typed word read as several ("outsource" -> "zlecić
    stronie trzeciej") weighs as the one word it was, not as three."""

    word: str
    origin: int
    typed: int = 1


def analyse(
    question: str,
    vocabulary: Vocabulary,
    foreign_stopwords: frozenset[str] = frozenset(),
    unread: list[str] | None = None,
) -> list[QueryWord]:
    """The informative words; `unread` collects short words the content does not know ("кп", "tq"):
    dropped here, but a sign that the words alone may have missed what is asked."""
    typed = set(words(question))  # the rest came from chat's short forms ("tak" -> "tidak")
    reads = _borrowed(_joined(_spelt_out(question, vocabulary), vocabulary), vocabulary, typed)
    informative = _informative_words(reads, typed, vocabulary, foreign_stopwords, [] if unread is None else unread)
    if any(word.known for word in informative):
        return informative
    # Nothing known but the content's common words. Alone ("Jualan dalaman tu apa?"), they are the
    # question: let them speak (the description steers "what is <topic>?" to the introduction). Beside
    # unknown words ("apa maksud jualan dalaman dalam bahasa mudah"), those that name an article's topic
    # speak too: a question naming the topic is not one that names nothing ("आज" of "आज मौसम कैसा है?"
    # names no topic, and stays out).
    # A short form of a function word ("ni" -> "ini") is still a function word: only typed ones come back.
    analyzer = vocabulary.analyzer
    taken = {word.keys[0] for word in informative}
    keys = {
        analyzer.keys(t)
        for t in (read.word for read in reads)
        if t not in analyzer.question_words and (t in typed or fold(t) not in analyzer.folded_stopwords)
    }
    common = [QueryWord(k[0][2:], k, vocabulary.idf(k[0])) for k in sorted(keys) if vocabulary.df(k[0])]
    if not informative:
        return common
    return [*informative, *(w for w in common if w.keys[0] not in taken and vocabulary.names_topic(w))]


def spelt_out(question: str, vocabulary: Vocabulary) -> list[str]:
    """The question's words, chat's short and dialect forms read as the words they stand for ("dlm" ->
    "dalam", "ليش" -> "لماذا"); but a word whose standard form is only listed stop words the content
    never uses ("duit" -> "wang", money: stop lists mix in content words) stays as typed, an unknown
    word, rather than becoming a function word the question would lose."""
    return [read.word for read in _spelt_out(question, vocabulary)]


def _spelt_out(question: str, vocabulary: Vocabulary) -> list[_Read]:
    analyzer = vocabulary.analyzer
    reads: list[_Read] = []
    for origin, token in enumerate(words(question)):
        full = analyzer.chat_forms.get(token)
        if full is None or (
            all(w in analyzer.stopwords and w not in analyzer.question_words for w in full)
            and not any(vocabulary.surface_df.get(w, 0) for w in full)
        ):
            reads.append(_Read(token, origin))
        else:
            reads.extend(_Read(word, origin) for word in full)
    return reads


def _joined(reads: list[_Read], vocabulary: Vocabulary) -> list[_Read]:
    """Neighbours the content writes as one word become that word: "cold calling" -> "coldcalling", and
    so do their inflected or shortened forms ("cold calls", "cold call")."""
    result: list[_Read] = []
    i = 0
    while i < len(reads):
        if i + 1 < len(reads):
            first, second = reads[i].word, reads[i + 1].word
            pair = first + second
            apart = vocabulary.surface_df.get(first, 0) and vocabulary.surface_df.get(second, 0)
            whole = None
            if not apart:
                whole = pair if vocabulary.surface_df.get(pair, 0) else vocabulary.completion(pair)
            if whole:
                result.append(_Read(whole, reads[i].origin, _typed(reads[i : i + 2])))
                i += 2
                continue
        result.append(reads[i])
        i += 1
    return result


def _borrowed(reads: list[_Read], vocabulary: Vocabulary, typed: set[str]) -> list[_Read]:
    """English words and phrases the content does not write ("salary", "cold calls") read as the words it
    writes for them (`Analyzer.borrowed`), the longest phrase first, a misspelt word too ("salry"); what they
    become counts as typed."""
    analyzer, cutoff = vocabulary.analyzer, vocabulary.tuning.fuzzy_cutoff
    result: list[_Read] = []
    i = 0
    while i < len(reads):
        for length in range(min(analyzer.longest_borrowed, len(reads) - i), 0, -1):
            phrase = tuple(read.word for read in reads[i : i + length])
            own = analyzer.borrowed.get(phrase)
            if own and not all(vocabulary.surface_df.get(word, 0) for word in phrase):
                break
        else:
            length = 1
            token = reads[i].word
            own = None if vocabulary.surface_df.get(token, 0) else analyzer.misspelt_borrowed(token, cutoff)
        if own:
            result.extend(_Read(word, reads[i].origin, _typed(reads[i : i + length])) for word in own)
            typed.update(own)
        else:
            result.append(reads[i])
        i += length
    return result


def _typed(reads: list[_Read]) -> int:
    """How many typed words a run of read words stands for."""
    return sum({read.origin: read.typed for read in reads}.values())


def _informative_words(
    reads: list[_Read], typed: set[str], vocabulary: Vocabulary, foreign_stopwords: frozenset[str], unread: list[str]
) -> list[QueryWord]:
    """`reads`: the question's words as read (short forms spelt out, split compounds joined, English terms
    in the content's words); `typed`: those the asker typed or meant as written."""
    analyzer, tuning = vocabulary.analyzer, vocabulary.tuning
    result: list[tuple[QueryWord, _Read]] = []
    seen: set[str] = set()
    for read in reads:
        token = read.word
        keys = analyzer.keys(token)
        if keys[0] in seen:
            continue
        seen.add(keys[0])
        folded = fold(token)
        surface_df = vocabulary.surface_df.get(token, 0)
        listed = folded in analyzer.folded_stopwords or keys[0] in analyzer.stopword_keys
        if listed and not surface_df and token in analyzer.content_words:
            listed = False  # a subject the content never names ("minyak", oil): an unknown word, not a function word
        common = surface_df == 0 or surface_df > tuning.stopword_df_share * vocabulary.passage_count or len(token) < 3
        # A short form of a function word is a function word, however rare its full form in the content.
        if folded in analyzer.folded_question_words or (listed and (common or token not in typed)):
            continue  # a function word ("mengapa", "the"): says nothing about the topic
        if token in foreign_stopwords and not surface_df:
            continue  # a function word of the language the question is written in ("what", "does")
        known = vocabulary.df(keys[0]) > 0
        if not known and (latin := vocabulary.latin_spelling(token)):
            # A name or English term the content writes in Latin letters, typed in the question's script
            # ("оракле" is Oracle, "स्टेट फार्म" State Farm, "инсайд" the slug's "inside").
            token, folded, keys = latin, latin, analyzer.keys(latin)
            known = vocabulary.df(keys[0]) > 0
        if not known and len(token) <= 2:
            unread.append(token)
            continue  # short unknown tokens are particles and abbreviations ("tu", "ya", "tq")
        corrected = False
        if not known and not any(vocabulary.df(k) for k in keys[1:]):
            closest = vocabulary.closest_keys(token)
            keys, corrected = (closest, True) if closest else (keys, False)
        factor = tuning.stopword_weight if listed else 1.0
        name = not known and folded in vocabulary.foreign_names
        if name:
            factor = tuning.name_weight  # a name the translations spell, this language transliterates
        found = name or (not corrected and any(vocabulary.df(k) for k in keys))
        weight = (vocabulary.unknown_idf if corrected else vocabulary.idf(keys[0])) * factor
        result.append((QueryWord(token, keys, weight, factor, found, corrected), read))
    # The informative words read from one typed word or phrase share its weight.
    informative = Counter(read.origin for _, read in result)
    return [
        word
        if (share := min(1.0, read.typed / informative[read.origin])) == 1.0
        else replace(word, weight=word.weight * share, share=share)
        for word, read in result
    ]
