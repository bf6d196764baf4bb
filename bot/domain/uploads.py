"""Installing an article file (an admin's upload): checked by name, validated together with the rest of
the content in a scratch copy (built as the engine builds its own), then written into CONTENT_DIR
atomically and loaded.

A domain operation: the Telegram admin handler downloads the bytes and reports the outcome.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bot.domain.content import ContentError, Problem
from bot.domain.engine import AnswerEngine, LoadReport

MAX_NAME_BYTES = 128
_uploads = threading.Lock()  # one upload at a time: each validates against the content the last one left


class UploadRejected(Exception):
    """The file cannot be used; `reason` is a locale key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Installed:
    path: Path  # relative to the content directory
    report: LoadReport


def safe_name(name: str | None) -> str:
    """A plain `*.md` file name, or UploadRejected: no folders, no parent references, no hidden files."""
    if not name:
        raise UploadRejected("upload_bad_name")
    name = unicodedata.normalize("NFC", name)
    unsafe = (
        "/" in name
        or "\\" in name
        or ".." in name
        or name.startswith(".")
        or not name.lower().endswith(".md")
        or name.lower() == ".md"
        or len(name.encode()) > MAX_NAME_BYTES
        or any(unicodedata.category(ch).startswith("C") for ch in name)  # control, format, unassigned
        or name != name.strip()
    )
    if unsafe:
        raise UploadRejected("upload_bad_name")
    return name


def install(engine: AnswerEngine, name: str, data: bytes) -> Installed:
    """Validate `data` as `name` with the rest of the content, then save and reload (ContentError if bad).

    A file with the slug and language of an existing article replaces that article's file (wherever it
    is); otherwise it is added at the top of the content directory.
    """
    name = safe_name(name)
    root = engine.content_dir
    with _uploads, tempfile.TemporaryDirectory(prefix="upload-") as scratch:
        target = _target(engine, name, data, Path(scratch) / "alone")
        staged = Path(scratch) / "content"
        shutil.copytree(root, staged, symlinks=True)
        (staged / target).parent.mkdir(parents=True, exist_ok=True)
        (staged / target).write_bytes(data)
        try:
            engine.build(staged)
        except ContentError as exc:
            raise _relative(exc, staged) from None
        destination = root / target
        if not destination.resolve().is_relative_to(root.resolve()):  # belt and braces: the name is plain
            raise UploadRejected("upload_bad_name")
        atomic_write(destination, data)
    try:
        return Installed(target, engine.reload())
    except ContentError as exc:  # someone changed the directory meanwhile; the engine kept the old content
        raise _relative(exc, root) from None


def _target(engine: AnswerEngine, name: str, data: bytes, alone: Path) -> Path:
    """Where the file goes: over the article it is a new version of, else at the top level."""
    alone.mkdir()
    (alone / name).write_bytes(data)
    try:
        snapshot = engine.build(alone)
    except ContentError as exc:
        raise _relative(exc, alone) from None
    [article] = snapshot.library.articles
    existing = engine.library.article(article.slug, article.lang)
    root = engine.content_dir
    if existing is not None and existing.path.name == name:
        with contextlib.suppress(ValueError):
            return existing.path.relative_to(root)
    return Path(name)


def _relative(error: ContentError, base: Path) -> ContentError:
    """Problems named relative to the content directory, not the scratch copy's temporary path."""

    def rel(path: Path) -> Path:
        try:
            return path.relative_to(base)
        except ValueError:
            return path

    return ContentError([Problem(rel(p.path), p.line, p.message) for p in error.problems])


def atomic_write(path: Path, data: bytes) -> None:
    """Readers (and a crash) see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A leading dot: the content loader skips the temporary file if a reload runs meanwhile.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
