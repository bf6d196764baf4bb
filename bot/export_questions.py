"""`python -m bot export-questions [DIR] [--patch]`: taught phrasings -> the articles' front matter.

Phrasings taught in the chat live in the SQLite store; exported, they live in git with the content, as
each article's `questions:` (section heading as written -> questions). Only the `questions:` block of
the front matter is rewritten; every other byte of the file stays as it was. A phrasing goes into the
article in its own language when there is one, else the default language's, else the first translation.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex
import yaml

from bot.domain.content import Article, Library, load_library
from bot.domain.phrasings import Phrasing
from bot.environment import Environment
from bot.settings import Settings

_FRONT_MATTER = regex.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?)^---[ \t]*\r?$", regex.S | regex.M)
_QUESTIONS_KEY = regex.compile(r"^questions[ \t]*:")
_TOP_LEVEL = regex.compile(r"^[^\s#-]")


@dataclass(frozen=True)
class FileChange:
    path: Path
    old: str
    new: str
    added: int  # phrasings added to this file


@dataclass(frozen=True)
class ExportPlan:
    changes: tuple[FileChange, ...]
    unmatched: tuple[Phrasing, ...]  # their section no longer exists
    already: int  # already in the front matter


def plan_export(library: Library, phrasings: Iterable[Phrasing], default_language: str = "en") -> ExportPlan:
    additions: dict[Path, dict[str, list[str]]] = {}
    unmatched: list[Phrasing] = []
    already = 0
    for phrasing in phrasings:
        article = _home(library, phrasing, default_language)
        if article is None:
            unmatched.append(phrasing)
            continue
        known = {_same(text) for index, text in article.questions if index == phrasing.section}
        heading = article.sections[phrasing.section].heading
        wanted = additions.setdefault(article.path, {}).setdefault(heading, [])
        if _same(phrasing.text) in known | {_same(text) for text in wanted}:
            already += 1
            continue
        wanted.append(phrasing.text)
    changes = []
    for path, by_heading in additions.items():
        added = sum(map(len, by_heading.values()))
        if added:
            old = path.read_text(encoding="utf-8")
            changes.append(FileChange(path, old, with_questions(old, by_heading), added))
    return ExportPlan(tuple(changes), tuple(unmatched), already)


def _home(library: Library, phrasing: Phrasing, default_language: str) -> Article | None:
    translations = library.translations(phrasing.slug)
    for lang in (phrasing.language, default_language, *sorted(translations)):
        article = translations.get(lang)
        if article is not None and phrasing.section < len(article.sections):
            return article
    return None


def _same(text: str) -> str:
    return " ".join(text.casefold().split())


def with_questions(text: str, additions: dict[str, list[str]]) -> str:
    """`text` with `additions` merged into its front matter's `questions:`; nothing else changes."""
    match = _FRONT_MATTER.match(text)
    if match is None:  # no front matter yet: start one
        return "---\n" + _dump(additions) + "---\n\n" + text
    body = match.group(1)
    loaded = yaml.safe_load(body) if body.strip() else None
    existing: Any = loaded.get("questions") if isinstance(loaded, dict) else None
    merged: dict[str, list[str]] = {str(k): list(v) for k, v in (existing or {}).items()}
    for heading, questions in additions.items():
        merged.setdefault(heading, []).extend(q for q in questions if q not in merged[heading])
    lines = body.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _QUESTIONS_KEY.match(line)), None)
    if start is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append(_dump(merged))
    else:
        end = start + 1
        for i in range(start + 1, len(lines)):  # the block: indented lines (and blank lines between them)
            if _TOP_LEVEL.match(lines[i]):
                break
            if lines[i].strip() and not lines[i].lstrip().startswith("#"):
                end = i + 1
        lines[start:end] = [_dump(merged)]
    return text[: match.start(1)] + "".join(lines) + text[match.end(1) :]


def _dump(questions: dict[str, list[str]]) -> str:
    dumped: str = yaml.safe_dump({"questions": questions}, allow_unicode=True, sort_keys=False, width=10_000)
    return dumped


def unified_diff(changes: Sequence[FileChange]) -> str:
    pieces: list[str] = []
    for change in changes:
        old, new = change.old.splitlines(keepends=True), change.new.splitlines(keepends=True)
        try:  # git's a/ b/ names, relative to where the command runs (so `git apply` takes the patch)
            name = change.path.resolve().relative_to(Path.cwd()).as_posix()
            before, after = f"a/{name}", f"b/{name}"
        except ValueError:
            before = after = change.path.as_posix()
        pieces += difflib.unified_diff(old, new, before, after)
    return "".join(pieces)


def write_atomically(path: Path, text: str) -> None:
    """A crash mid-write leaves the old file, never half of the new one."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_export(directory: Path, patch: bool, settings: Settings, env: Environment) -> int:
    """The command: 0 when done (or nothing to do), 1 when the content does not load."""
    from bot.store import Store, database_path

    path = database_path(settings.data_dir)
    if not path.exists():
        env.err(f"no database at {path}: nothing has been taught (set DATA_DIR to the bot's)")
        return 0
    with Store.open(path) as store:
        taught = [Phrasing(r.slug, r.section, r.text, r.language, "taught", r.id) for r in store.taught_phrasings()]
    library = load_library(directory)  # a ContentError is reported by the command line
    plan = plan_export(library, reversed(taught), settings.default_language)  # oldest first, as taught
    for phrasing in plan.unmatched:
        env.err(f"skipped: {phrasing.text!r} -> {phrasing.slug} section {phrasing.section + 1} no longer exists")
    if patch:
        env.out(unified_diff(plan.changes).rstrip("\n"))
        return 0
    for change in plan.changes:
        write_atomically(change.path, change.new)
        env.out(f"{change.path}: {change.added} question{'s' * (change.added != 1)} added")
    added = sum(c.added for c in plan.changes)
    env.out(f"exported {added} taught phrasing(s) into {len(plan.changes)} file(s); {plan.already} already there")
    return 0
