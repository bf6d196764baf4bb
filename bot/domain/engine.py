"""The answer engine: content + detector + retriever behind one immutable snapshot.

Everything a question needs is built into a `Snapshot` first and swapped in with one assignment, so a
reload never shows half-loaded content and questions asked during a reload are answered from the old one.

Languages: the detector says what a question is written in (a content language, one typed in Latin
letters, or one the content lacks, such as English); the answer comes from the pinned language, else that
language where the content has it, else the user's Telegram language, else the default content language.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import locales
from bot.domain import vocabulary
from bot.domain.content import Article, Block, Library, Section, load_library
from bot.domain.language import Detection, LanguageDetector
from bot.domain.memory import release_free_memory
from bot.domain.phrasings import MIN_SCORE, Phrasing, PhrasingIndex, content_phrasings
from bot.domain.retrieval import Found, Retriever
from bot.domain.search.lexical import link_words
from bot.domain.search.semantic import Embedder, Progress, SemanticStatus, VectorCache
from bot.domain.text import analyzer_for

log = logging.getLogger(__name__)

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
    question_language: str = ""  # what the question is written in, when not `language` ("en")
    content_languages: tuple[str, ...] = ()  # set when the question's language is not among them
    mode: str = "lexical"  # "hybrid" when the embedding model took part
    low_confidence: bool = False  # answered, but close to declining: worth an admin's look
    phrasing: Phrasing | None = None  # the example phrasing that answered, when one did
    pinned: bool = False  # the answer language is the one the user chose (/lang, --lang)

    @property
    def ui_language(self) -> str:
        """Labels and buttons speak the language the user chose; else the one they wrote in where the
        interface has it (English, though the articles lack it); else the answer's."""
        written = self.question_language or self.language
        return written if not self.pinned and locales.exists(written) else self.language


@dataclass(frozen=True)
class Snapshot:
    library: Library
    detector: LanguageDetector
    retriever: Retriever
    loaded_in: float  # seconds
    content_phrasings: tuple[Phrasing, ...] = ()  # from the articles' front matter
    phrasings: PhrasingIndex = dataclasses.field(default_factory=PhrasingIndex)  # content + taught


@dataclass(frozen=True)
class SemanticSetup:
    """The embedding model (loaded once per process) and where its passage vectors are kept."""

    embedder: Embedder | None
    status: SemanticStatus
    cache_dir: Path | None = None

    def cache(self) -> VectorCache | None:
        return VectorCache(self.cache_dir, self.embedder.model_id) if self.embedder else None


LEXICAL_ONLY = SemanticSetup(None, SemanticStatus(False, "not configured"))


@dataclass(frozen=True)
class LoadReport:
    articles: int
    languages: tuple[str, ...]
    sections: int
    seconds: float
    detected: tuple[Article, ...]  # articles whose language was guessed rather than declared


@dataclass(frozen=True)
class BuildOptions:
    """How a content directory becomes a snapshot: the same at start-up and at every reload."""

    default_language: str = "en"
    aliases: Mapping[str, Sequence[str]] | None = None
    semantic: SemanticSetup = LEXICAL_ONLY
    default_content_language: str | None = None


def build_snapshot(
    content_dir: Path | str, options: BuildOptions = BuildOptions(), *, parallel: bool = False
) -> Snapshot:
    """Load, validate and index a content directory (raises ContentError, touching nothing). Passage
    vectors are not computed here: `embed` does that, now or in the background.

    `parallel` parses large directories in forked worker processes: for start-up and the command line,
    not for a reload inside the running (threaded) bot.
    """
    started = time.perf_counter()
    aliases, semantic = options.aliases, options.semantic
    with _collector_paused():
        library = load_library(content_dir, guess_language=ArticleLanguageGuesser(aliases), parallel=parallel)
        # The highlights are found by the words for "key points" in their own language, and in the
        # interface languages the content lacks (people ask "summary?" in English of any article).
        foreign = [lang for lang in locales.available() if lang not in library.languages]
        summary_terms = {
            lang: " ".join(vocabulary.summary_terms(other) for other in (lang, *foreign)) for lang in library.languages
        }
        # The indexes are built here, one language at a time, not in forked workers: a worker's copy of
        # the heap and the pickled index it sends back cost more memory than the whole build (two
        # workers held ~1.1 GB together at 10,000 articles), and on two cores it was no faster.
        retriever = Retriever(library, summary_terms, embedder=semantic.embedder, vector_cache=semantic.cache())
        detector = LanguageDetector(
            _language_samples(library),
            default=options.default_language,
            aliases=aliases,
            foreign=locales.available(),
            neutral=(terms := _slug_words(library)) | retriever.shared_names,
            terms=terms,
            default_content=options.default_content_language or _largest_language(library),
        )
    # The snapshot lives until the next reload: keep the collector from walking its millions of objects
    # again and again (a full collection over 10,000 articles takes about a second, all threads stopped).
    gc.freeze()
    release_free_memory()  # what the build freed (unpickled transfers, tables of the detector's build)
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


def _slug_words(library: Library) -> set[str]:
    """Words of slugs and link targets, which every language's articles use alike (the English names of
    topics): they say nothing about which content language a question is in."""
    found = {w for a in library.articles for w in link_words(a.slug)}
    found |= {w for a in library.articles for s in a.sections for b in s.blocks for span in b.links
              for w in link_words(span.href)}  # fmt: skip
    return found


def _largest_language(library: Library) -> str | None:
    counts = Counter(a.lang for a in library.articles)
    return min(counts, key=lambda lang: (-counts[lang], lang)) if counts else None


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
    def __init__(
        self,
        snapshot: Snapshot,
        content_dir: Path | str,
        options: BuildOptions = BuildOptions(),
    ) -> None:
        self._snapshot = snapshot
        self.content_dir = Path(content_dir)
        self.options = options
        self.semantic = options.semantic
        self._reload_lock = threading.Lock()
        self._swap_lock = threading.Lock()  # a teach or undo and the end of a reload swap one at a time
        self._taught: tuple[Phrasing, ...] = ()

    @classmethod
    def from_directory(
        cls,
        content_dir: Path | str,
        *,
        default_language: str = "en",
        aliases: Mapping[str, Sequence[str]] | None = None,
        parallel: bool = False,
        semantic: SemanticSetup = LEXICAL_ONLY,
        default_content_language: str | None = None,
        embed: bool = True,
    ) -> AnswerEngine:
        """`embed`: compute passage vectors before returning (False: the caller embeds, e.g. in the
        background with `embed_in_background`)."""
        options = BuildOptions(default_language, aliases, semantic, default_content_language)
        engine = cls(build_snapshot(content_dir, options, parallel=parallel), content_dir, options)
        if embed:
            engine.embed()
        return engine

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def library(self) -> Library:
        return self._snapshot.library

    # -- meaning ----------------------------------------------------------------------------------------

    def embed(self, snapshot: Snapshot | None = None, report: Callable[[Progress], None] | None = None) -> bool:
        """Compute the snapshot's passage vectors (cached ones are read, not computed); False if there is
        no model or a newer reload cancelled it."""
        dense = (snapshot or self._snapshot).retriever.dense
        return dense.fill(report) if dense is not None else False

    def embed_in_background(self, report: Callable[[Progress], None] | None = None) -> threading.Thread | None:
        """Answer lexically from the first second, hybrid once the vectors are ready."""
        if self._snapshot.retriever.dense is None:
            return None
        thread = threading.Thread(target=self.embed, args=(self._snapshot, report), name="embed", daemon=True)
        thread.start()
        return thread

    @property
    def mode(self) -> str:
        return self._snapshot.retriever.mode

    def semantic_progress(self) -> Progress | None:
        dense = self._snapshot.retriever.dense
        return dense.progress if dense is not None else None

    # -- content ----------------------------------------------------------------------------------------

    def report(self, snapshot: Snapshot | None = None) -> LoadReport:
        snap = snapshot or self._snapshot
        lib = snap.library
        detected = tuple(a for a in lib.articles if a.lang_source == "detected")
        return LoadReport(len(lib.articles), lib.languages, lib.section_count, snap.loaded_in, detected)

    def build(self, content_dir: Path | str) -> Snapshot:
        """A snapshot of `content_dir` built the way this engine builds its own (raises ContentError);
        its passage vectors are not computed yet (`embed`)."""
        return build_snapshot(content_dir, self.options)

    def reload(self) -> LoadReport:
        """Rebuild from disk and swap atomically; on ContentError the current content stays. Vectors of
        unchanged passages come from the cache, so only what changed is embedded before the swap."""
        with self._reload_lock:  # two admins reloading at once build one after the other
            snapshot = self.build(self.content_dir)
            old = self._snapshot.retriever.dense
            if old is not None:
                old.cancelled.set()  # a background embedding of the old content is wasted work now
            self.embed(snapshot)
            with self._swap_lock:
                snapshot = _with_taught(snapshot, self._taught)
                self._snapshot = snapshot  # a single reference assignment: atomic for readers
        return self.report(snapshot)

    # -- answering --------------------------------------------------------------------------------------

    def detect(self, text: str, hints: Iterable[str | None] = ()) -> Detection:
        return self._snapshot.detector.detect(text, hints)

    def answer(self, question: str, *, lang: str | None = None, hints: Iterable[str | None] = ()) -> Answer:
        """Answer in `lang` when the user pinned one, else in the language the question is written in,
        else (a language the content lacks) in the hinted or default content language.

        The question is read in the language it is written in (transliterated first when typed in
        Latin letters) and matched by meaning in every language; the section found is shown from the
        answer language's translation.
        """
        snap = self._snapshot  # one snapshot for the whole answer, even if a reload swaps it meanwhile
        pinned = snap.detector.resolve(lang)
        hints = tuple(hints)
        detection = snap.detector.detect(question, (pinned, *hints) if pinned else hints)
        answer_lang = pinned or detection.lang
        taught = _phrasing_answer(snap, question, detection, answer_lang)
        if taught is not None:
            return taught
        written = detection.written_in
        content = snap.library.languages
        retriever = snap.retriever
        native = retriever.transliterator(written).transliterate(question) if detection.romanized else None
        result = retriever.search(
            question,
            answer_lang,
            question_lang=written,
            lexical_text=native,
            foreign_stopwords=analyzer_for(written).function_words if written not in content else frozenset(),
        )
        best = result.best
        foreign = () if written in content else content
        if result.answered and best is not None:
            return Answer(
                question, best.article.lang, detection, True, best.article, best.section, result.excerpt,
                best.score, tuple(_ref(f) for f in result.alternatives), (), written, foreign, result.mode,
                result.low_confidence, pinned=pinned is not None,
            )  # fmt: skip
        return Answer(
            question, answer_lang, detection, False, None, None, (), result.score, (),
            self.topics(answer_lang, snap), written, foreign, result.mode, pinned=pinned is not None,
        )  # fmt: skip

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
            default = self.options.default_language
            lang = default if default in languages else languages[0]
        result = snap.retriever.search(question, lang, limit=limit, thorough=True)
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
            written = detection.written_in
            foreign = () if written in snap.library.languages else snap.library.languages
            return Answer(
                question, article.lang, detection, True, article, section, section.blocks, found.score, (), (),
                written, foreign, phrasing=phrasing,
            )  # fmt: skip
    return None


def _ref(found: Found) -> SectionRef:
    return SectionRef(found.article, found.section)
