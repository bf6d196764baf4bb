"""The answer engine: content + detector + retriever behind one immutable snapshot.

Everything a question needs is built into a `Snapshot` first and swapped in with one assignment, so a
reload never shows half-loaded content and questions asked during a reload are answered from the old one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.domain import vocabulary
from bot.domain.content import Article, Block, Library, Section, load_library
from bot.domain.language import Detection, LanguageDetector
from bot.domain.phrasings import MIN_SCORE, Phrasing, PhrasingIndex, content_phrasings
from bot.domain.retrieval import Match, Retriever

DETECTION_SAMPLE_CHARS = 20_000  # per language: plenty to learn its script, letters and common words


@dataclass(frozen=True)
class SectionRef:
    article: Article
    section: Section


@dataclass(frozen=True)
class Answer:
    question: str
    language: str
    detection: Detection
    answered: bool
    article: Article | None
    section: Section | None
    excerpt: tuple[Block, ...]
    score: float
    alternatives: tuple[SectionRef, ...]  # next-best sections when answered
    suggestions: tuple[SectionRef, ...]  # the topics on offer when declined
    phrasing: Phrasing | None = None  # the example phrasing that answered, when one did


@dataclass(frozen=True)
class Snapshot:
    library: Library
    detector: LanguageDetector
    retriever: Retriever
    loaded_in: float  # seconds
    content_phrasings: tuple[Phrasing, ...] = ()  # from the articles' front matter
    phrasings: PhrasingIndex = dataclasses.field(default_factory=PhrasingIndex)  # content + taught


@dataclass(frozen=True)
class LoadReport:
    articles: int
    languages: tuple[str, ...]
    sections: int
    seconds: float
    detected: tuple[Article, ...]  # articles whose language was guessed rather than declared


def build_snapshot(
    content_dir: Path | str,
    *,
    default_language: str = "en",
    aliases: Mapping[str, Sequence[str]] | None = None,
    parallel: bool = False,
) -> Snapshot:
    """Load, validate and index a content directory (raises ContentError, touching nothing).

    `parallel` uses forked worker processes for large directories: for start-up and the command line,
    not for a reload inside the running (threaded) bot.
    """
    started = time.perf_counter()
    with _collector_paused():
        library = load_library(content_dir, guess_language=ArticleLanguageGuesser(aliases), parallel=parallel)
        detector = LanguageDetector(_language_samples(library), default=default_language, aliases=aliases)
        summary_terms = {lang: vocabulary.summary_terms(lang) for lang in library.languages}
        retriever = Retriever(library, summary_terms, parallel=parallel)
    # The snapshot lives until the next reload: keep the collector from walking its millions of objects
    # again and again (a full collection over 10,000 articles takes about a second, all threads stopped).
    gc.freeze()
    authored = content_phrasings(library.articles)
    return Snapshot(library, detector, retriever, time.perf_counter() - started, authored, PhrasingIndex(authored))


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """A build makes millions of long-lived objects and no garbage cycles: the cyclic collector would run
    hundreds of times over the growing heap for nothing, and each run pauses the threads answering."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _language_samples(library: Library) -> dict[str, str]:
    samples: dict[str, list[str]] = {}
    for article in library.articles:
        parts = samples.setdefault(article.lang, [])
        if sum(map(len, parts)) < DETECTION_SAMPLE_CHARS:
            parts.append(article.title)
            parts.extend(s.heading + "\n" + s.text for s in article.sections)
    return {lang: "\n".join(parts)[:DETECTION_SAMPLE_CHARS] for lang, parts in samples.items()}


@dataclass(frozen=True)
class ArticleLanguageGuesser:
    """For articles that declare no language: seeded langdetect, then the close-language aliases
    (langdetect has no Malay: an "Indonesian" article is Malay when the operator says so). A class, not a
    closure, so that parsing in worker processes can take it along."""

    aliases: Mapping[str, Sequence[str]] | None = None

    def __call__(self, text: str) -> str | None:
        from langdetect import DetectorFactory, detect_langs
        from langdetect.lang_detect_exception import LangDetectException

        DetectorFactory.seed = 0
        try:
            best: str = detect_langs(text)[0].lang.split("-")[0]
        except (LangDetectException, IndexError):
            return None
        return next(iter((self.aliases or {}).get(best, ())), best)


class AnswerEngine:
    def __init__(self, snapshot: Snapshot, content_dir: Path | str, *, default_language: str = "en",
                 aliases: Mapping[str, Sequence[str]] | None = None) -> None:  # fmt: skip
        self._snapshot = snapshot
        self.content_dir = Path(content_dir)
        self.default_language = default_language
        self.aliases = aliases
        self._reload_lock = threading.Lock()
        self._swap_lock = threading.Lock()  # a teach or undo and the end of a reload swap one at a time
        self._taught: tuple[Phrasing, ...] = ()

    @classmethod
    def from_directory(
        cls, content_dir: Path | str, *, default_language: str = "en",
        aliases: Mapping[str, Sequence[str]] | None = None, parallel: bool = False,
    ) -> AnswerEngine:  # fmt: skip
        snapshot = build_snapshot(content_dir, default_language=default_language, aliases=aliases, parallel=parallel)
        return cls(snapshot, content_dir, default_language=default_language, aliases=aliases)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def library(self) -> Library:
        return self._snapshot.library

    def report(self, snapshot: Snapshot | None = None) -> LoadReport:
        snap = snapshot or self._snapshot
        lib = snap.library
        detected = tuple(a for a in lib.articles if a.lang_source == "detected")
        return LoadReport(len(lib.articles), lib.languages, lib.section_count, snap.loaded_in, detected)

    def build(self, content_dir: Path | str) -> Snapshot:
        """A snapshot of `content_dir` built the way this engine builds its own (raises ContentError)."""
        return build_snapshot(content_dir, default_language=self.default_language, aliases=self.aliases)

    def reload(self) -> LoadReport:
        """Rebuild from disk and swap atomically; on ContentError the current content stays."""
        with self._reload_lock:  # two admins reloading at once build one after the other
            snapshot = self.build(self.content_dir)
            with self._swap_lock:
                snapshot = _with_taught(snapshot, self._taught)
                self._snapshot = snapshot  # a single reference assignment: atomic for readers
        return self.report(snapshot)

    def detect(self, text: str, hints: Iterable[str | None] = ()) -> Detection:
        return self._snapshot.detector.detect(text, hints)

    def answer(self, question: str, *, lang: str | None = None, hints: Iterable[str | None] = ()) -> Answer:
        """Answer in `lang` when the user pinned one, else in the language the question is written in.

        With a pinned language the question is looked up in that language's content first; when that
        finds nothing and the question is written in another language, it is looked up there and the
        section found is shown from its translation in the pinned language.
        """
        snap = self._snapshot  # one snapshot for the whole answer, even if a reload swaps it meanwhile
        pinned = snap.detector.resolve(lang)
        hints = tuple(hints)
        detection = snap.detector.detect(question, (pinned, *hints) if pinned else hints)
        taught = _phrasing_answer(snap, question, detection, pinned or detection.lang)
        if taught is not None:
            return taught
        if pinned is None or pinned == detection.lang:
            return self._answer(snap, question, detection.lang, detection)
        direct = self._answer(snap, question, pinned, detection)
        if direct.answered:
            return direct
        found = self._answer(snap, question, detection.lang, detection)
        return _translated(found, pinned, snap.library) or direct

    def _answer(self, snap: Snapshot, question: str, lang: str, detection: Detection) -> Answer:
        result = snap.retriever.search(question, lang)
        best = result.best
        if result.answered and best is not None:
            return Answer(
                question, lang, detection, True, best.article, best.section, best.excerpt,
                best.coverage, tuple(_ref(m) for m in result.alternatives), (),
            )  # fmt: skip
        return Answer(question, lang, detection, False, None, None, (), result.score, (), self.topics(lang, snap))

    def topics(self, lang: str, snapshot: Snapshot | None = None, limit: int = 8) -> tuple[SectionRef, ...]:
        library = (snapshot or self._snapshot).library
        refs = (SectionRef(a, s) for a in library.in_language(lang) for s in a.sections)
        return tuple(itertools.islice(refs, limit))  # the first few, not all 10,000 articles' sections

    def section(self, slug: str, lang: str, index: int) -> SectionRef | None:
        article = self._snapshot.library.article(slug, lang)
        if article is None or not 0 <= index < len(article.sections):
            return None
        return SectionRef(article, article.sections[index])

    # -- example phrasings (taught in the chat, or `questions:` in the front matter) ------------------

    def set_taught(self, phrasings: Sequence[Phrasing]) -> None:
        """Make these the taught phrasings at once: a new phrasing index, the same content and indexes."""
        with self._swap_lock:
            self._taught = tuple(phrasings)
            self._snapshot = _with_taught(self._snapshot, self._taught)

    def unmatched_taught(self) -> tuple[Phrasing, ...]:
        """Taught phrasings whose section the current content no longer has (they are ignored)."""
        library = self._snapshot.library
        return tuple(p for p in self._taught if not _section_exists(library, p.slug, p.section))

    def candidates(self, question: str, lang: str, limit: int = 8) -> tuple[SectionRef, ...]:
        """Sections to offer for a question in `lang`: the retriever's best guesses first, then the rest."""
        snap = self._snapshot
        languages = snap.library.languages
        if lang not in languages:
            lang = self.default_language if self.default_language in languages else languages[0]
        result = snap.retriever.search(question, lang, limit=limit)
        guesses = [_ref(m) for m in (result.best, *result.alternatives) if m is not None and m.score > 0]
        rest = (SectionRef(a, s) for a in snap.library.in_language(lang) for s in a.sections)
        refs: dict[tuple[str, int], SectionRef] = {}
        for ref in itertools.chain(guesses, itertools.islice(rest, limit * 4)):  # not all 10,000 articles
            refs.setdefault((ref.article.slug, ref.section.index), ref)
        return tuple(itertools.islice(refs.values(), limit))


def _with_taught(snapshot: Snapshot, taught: Sequence[Phrasing]) -> Snapshot:
    valid = [p for p in taught if _section_exists(snapshot.library, p.slug, p.section)]
    index = PhrasingIndex((*snapshot.content_phrasings, *valid)).warm(snapshot.library.languages)
    return dataclasses.replace(snapshot, phrasings=index)


def _section_exists(library: Library, slug: str, index: int) -> bool:
    return any(index < len(article.sections) for article in library.translations(slug).values())


def _phrasing_answer(snap: Snapshot, question: str, detection: Detection, lang: str) -> Answer | None:
    """The seam for example phrasings: a question close enough to one is answered from its section, in
    `lang` when the article has that translation (else in the phrasing's language). None: ask the retriever."""
    found = snap.phrasings.best(question, detection.lang, min_score=MIN_SCORE)
    if found is None:
        return None
    phrasing = found.phrasing
    for article in (snap.library.article(phrasing.slug, lang), snap.library.article(phrasing.slug, phrasing.language)):
        if article is not None and phrasing.section < len(article.sections):
            section = article.sections[phrasing.section]
            return Answer(question, article.lang, detection, True, article, section, section.blocks, found.score,
                          (), (), phrasing)  # fmt: skip
    return None


def _ref(match: Match) -> SectionRef:
    return SectionRef(match.article, match.section)


def _translated(answer: Answer, lang: str, library: Library) -> Answer | None:
    """The same answer from the article's translation into `lang` (same section, same paragraphs)."""
    if not answer.answered or answer.article is None or answer.section is None:
        return None
    target = library.article(answer.article.slug, lang)
    if target is None or answer.section.index >= len(target.sections):
        return None
    source, section = answer.section, target.sections[answer.section.index]
    lines = {block.line for block in answer.excerpt}  # a trimmed excerpt keeps its block's line
    positions = [i for i, block in enumerate(source.blocks) if block.line in lines]
    # Translations keep the paragraph structure; where one does not, the whole section is shown.
    same_shape = positions and len(section.blocks) == len(source.blocks)
    excerpt = tuple(section.blocks[i] for i in positions) if same_shape else section.blocks
    alternatives = tuple(
        SectionRef(target, target.sections[ref.section.index])
        for ref in answer.alternatives
        if ref.article.slug == target.slug and ref.section.index < len(target.sections)
    )
    return dataclasses.replace(
        answer, language=lang, article=target, section=section, excerpt=excerpt, alternatives=alternatives
    )
