"""Articles on disk -> validated, immutable objects: Library -> Article -> Section -> Block -> Span.

A content directory loads whole or not at all: every problem is collected and raised together as a
`ContentError`, each as `path:line: message`, so an admin can fix them in one pass.
"""

from __future__ import annotations

import multiprocessing
import os
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import frontmatter
import regex
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

MAX_FILE_BYTES = 1_000_000  # an article is a few KB; anything this large is a mistake or an attack
BlockKind = Literal["paragraph", "quote", "item"]
LanguageSource = Literal["front matter", "path", "detected"]

_LANG_CODE = regex.compile(r"^[a-z]{2}$")
_SLUG = regex.compile(r"^[\p{L}\p{N}][\p{L}\p{N}_-]{0,63}$")
# Seeds carry scraping debris: ",." after a link, spaces before punctuation, doubled spaces.
_PUNCT_RUN = regex.compile(r"([,;:])\s*\.(?!\.)")
_SPACE_BEFORE_PUNCT = regex.compile(r"\s+([,.;:!?،؛؟।])(?=\s|$)")
_SPACES = regex.compile(r"\s+")


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    """A content directory was rejected; `problems` lists every reason."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (str(p.path), p.line)))
        super().__init__("\n".join(str(p) for p in self.problems))


# Slots: 10,000 articles are half a million of these objects, and a __dict__ each would add ~60 MB.
@dataclass(frozen=True, slots=True)
class Span:
    """A run of inline text; `href` is the link target exactly as written (often site-relative)."""

    text: str
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    spans: tuple[Span, ...]
    line: int

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)

    @property
    def links(self) -> tuple[Span, ...]:
        return tuple(span for span in self.spans if span.href)


@dataclass(frozen=True, slots=True)
class Section:
    index: int
    heading: str
    blocks: tuple[Block, ...]
    line: int

    @property
    def is_summary(self) -> bool:
        """A section made only of bullet points is the article's highlights (a summary)."""
        return len(self.blocks) >= 2 and all(block.kind == "item" for block in self.blocks)

    @property
    def text(self) -> str:
        return "\n".join(block.text for block in self.blocks)


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    lang: str
    title: str
    description: str
    keywords: tuple[str, ...]
    sections: tuple[Section, ...]
    path: Path
    lang_source: LanguageSource
    # Example questions from the front matter (`questions:`): (section index, question).
    questions: tuple[tuple[int, str], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.slug, self.lang)


@dataclass(frozen=True)
class Library:
    """Indexed once when built: a bot asks for a language's articles, the languages or a slug's
    translations on every update, and with 10,000 articles a scan each time costs milliseconds."""

    root: Path
    articles: tuple[Article, ...]
    _by_key: dict[tuple[str, str], Article] = field(init=False, repr=False, compare=False)
    _by_lang: dict[str, tuple[Article, ...]] = field(init=False, repr=False, compare=False)
    _by_slug: dict[str, dict[str, Article]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_lang: dict[str, list[Article]] = {}
        by_slug: dict[str, dict[str, Article]] = {}
        for a in self.articles:
            by_lang.setdefault(a.lang, []).append(a)
            by_slug.setdefault(a.slug, {})[a.lang] = a
        object.__setattr__(self, "_by_key", {a.key: a for a in self.articles})
        object.__setattr__(self, "_by_lang", {lang: tuple(found) for lang, found in by_lang.items()})
        object.__setattr__(self, "_by_slug", by_slug)

    @cached_property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_lang))

    @cached_property
    def slugs(self) -> frozenset[str]:
        return frozenset(self._by_slug)

    @cached_property
    def section_count(self) -> int:
        return sum(len(a.sections) for a in self.articles)

    def article(self, slug: str, lang: str) -> Article | None:
        return self._by_key.get((slug, lang))

    def in_language(self, lang: str) -> tuple[Article, ...]:
        return self._by_lang.get(lang, ())

    def translations(self, slug: str) -> dict[str, Article]:
        return dict(self._by_slug.get(slug, {}))


# --- loading -------------------------------------------------------------------------------------------

LanguageGuesser = Callable[[str], str | None]


PARALLEL_MIN_FILES = 400  # below this, starting worker processes costs more than it saves


def load_library(root: Path | str, guess_language: LanguageGuesser | None = None, *, parallel: bool = False) -> Library:
    """Load every `*.md` under `root`; raise ContentError listing all problems if any file is bad.

    `parallel` parses large directories in forked worker processes (one per core); only use it where no
    other threads run (start-up, the command line), as forking a threaded process is unsafe.
    """
    root = Path(root)
    problems: list[Problem] = []
    if not root.is_dir():
        what = "is a file, not a directory" if root.exists() else "does not exist"
        raise ContentError([Problem(root, 0, f"content directory {what}")])
    paths = list(_content_files(root, problems))
    workers = worker_count(len(paths)) if parallel else 1
    if workers > 1:
        chunks = [paths[i::workers] for i in range(workers)]
        with fork_pool(workers) as pool:
            loaded = list(pool.map(_load_articles, chunks, [root] * workers, [guess_language] * workers))
    else:
        loaded = [_load_articles(paths, root, guess_language)]
    articles: list[Article] = []
    for found, found_problems in loaded:
        articles.extend(found)
        problems.extend(found_problems)
    seen: dict[tuple[str, str], Article] = {}
    for article in articles:
        first = seen.setdefault(article.key, article)
        if first is not article:
            problems.append(
                Problem(
                    article.path,
                    1,
                    f"duplicate article: slug {article.slug!r} in language {article.lang!r} "
                    f"is already defined in {first.path}",
                )
            )
    if not articles and not problems:
        problems.append(Problem(root, 0, "no articles (*.md files) found"))
    if problems:
        raise ContentError(problems)
    articles.sort(key=lambda a: (a.slug, a.lang))
    return Library(root=root, articles=tuple(articles))


def worker_count(items: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if items < PARALLEL_MIN_FILES or cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(cores, 4)


def fork_pool(workers: int) -> ProcessPoolExecutor:
    """Forked workers share the parent's string hash seed, which the index's term hashes rely on."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


def _load_articles(
    paths: list[Path], root: Path, guess_language: LanguageGuesser | None
) -> tuple[list[Article], list[Problem]]:
    problems: list[Problem] = []
    articles = [a for a in (_load_article(p, root, guess_language, problems) for p in paths) if a is not None]
    return articles, problems


def _content_files(root: Path, problems: list[Problem]) -> Iterator[Path]:
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for dirname in dirnames:
            if (Path(dirpath) / dirname).is_symlink():
                problems.append(Problem(Path(dirpath) / dirname, 0, "symbolic links are not followed"))
        for name in sorted(filenames):
            if name.startswith("."):
                continue  # editor swap files, .gitkeep and the like
            path = Path(dirpath) / name
            if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                problems.append(Problem(path, 0, "symbolic link points outside the content directory"))
            elif path.suffix.lower() != ".md":
                problems.append(Problem(path, 0, "not a Markdown file: articles must end in .md"))
            else:
                yield path


def _load_article(
    path: Path, root: Path, guess_language: LanguageGuesser | None, problems: list[Problem]
) -> Article | None:
    def problem(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        problem(0, f"file is too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,})")
        return None
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problem(line, f"not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})")
        return None
    if "\x00" in text:
        problem(text[: text.index("\x00")].count("\n") + 1, "contains a NUL character: not a text file")
        return None
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1  # 0-based within text that starts at '---'
        problem(line, f"front matter is not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return None
    meta: dict[str, Any] = dict(post.metadata) if isinstance(post.metadata, dict) else {}
    body = post.content
    body_line = text[: text.find(body)].count("\n") + 1 if body else text.count("\n") + 1
    if not body.strip():
        problem(body_line, "the article has no body after the front matter")
        return None

    title, sections = _parse_body(body, body_line, path, problems)
    title = _meta_str(meta, "title", path, problems) or title
    if not title:
        problem(body_line, "no title: set 'title' in the front matter or start with a '# ' heading")
    if not sections:
        problem(body_line, "no sections: the article needs at least one '## ' heading with text under it")
    slug = _meta_str(meta, "slug", path, problems) or _slug_from_path(path)
    if not _SLUG.match(slug):
        problem(_key_line(path, "slug"), f"invalid slug {slug!r}: use letters, digits, '-' and '_' (at most 64)")
    lang, lang_source = _language_of(path, root, meta, problems)
    if lang is None:
        guessed = guess_language(title + "\n" + body) if guess_language else None
        if guessed is None:
            problem(1, "cannot tell the language: set 'lang' (ISO 639-1) in the front matter")
            return None
        lang, lang_source = guessed, "detected"
    if not title or not sections or not _SLUG.match(slug):
        return None
    questions = _questions(meta.get("questions"), text, sections, path, problems)
    keywords = meta.get("keywords") or ()
    if isinstance(keywords, str):
        keywords = [k for k in (part.strip() for part in keywords.split(",")) if k]
    return Article(
        slug=slug,
        lang=lang,
        title=clean_text(title),
        description=clean_text(_meta_str(meta, "description", path, problems) or ""),
        keywords=tuple(str(k) for k in keywords),
        sections=tuple(sections),
        path=path,
        lang_source=lang_source,
        questions=questions,
    )


def _key_line(path: Path, key: str) -> int:
    """The line of `key:` in the file's front matter (1 when it cannot be found)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    pattern = regex.compile(rf"^\s*{regex.escape(key)}\s*:")
    return next((n for n, line in enumerate(lines[1:], start=2) if pattern.match(line)), 1)


def _meta_str(meta: dict[str, Any], key: str, path: Path, problems: list[Problem]) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        problems.append(Problem(path, _key_line(path, key), f"front matter '{key}' must be text"))
        return None
    return str(value).strip()


def _questions(
    value: object, text: str, sections: list[Section], path: Path, problems: list[Problem]
) -> tuple[tuple[int, str], ...]:
    """`questions:` maps a section heading, as written, to example questions that section answers."""
    if value is None:
        return ()
    lines = _questions_lines(text)
    if not isinstance(value, dict):
        message = "front matter 'questions' must map section headings to lists of questions"
        problems.append(Problem(path, lines.get(("", -1), 1), message))
        return ()
    by_heading = {section.heading: section.index for section in sections}
    found: list[tuple[int, str]] = []
    for heading, questions in value.items():
        line = lines.get((str(heading), -1), lines.get(("", -1), 1))
        index = by_heading.get(clean_text(str(heading)))
        if index is None:
            known = ", ".join(repr(h) for h in by_heading)
            problems.append(Problem(path, line, f"questions: no section is headed {heading!r} (sections: {known})"))
            continue
        if not isinstance(questions, list) or not questions:
            problems.append(Problem(path, line, f"questions: {heading!r} must have a list of questions"))
            continue
        for number, question in enumerate(questions):
            if not isinstance(question, str) or not question.strip():
                item_line = lines.get((str(heading), number), line)
                problems.append(Problem(path, item_line, f"questions: {heading!r} item {number + 1} must be text"))
            else:
                found.append((index, clean_text(question)))
    return tuple(dict.fromkeys(found))


def _questions_lines(text: str) -> dict[tuple[str, int], int]:
    """Line numbers in the file: of `questions:` ("", -1), of each heading (heading, -1), of its items
    (heading, n)."""
    match = regex.match(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*$", text, regex.S | regex.M)
    if match is None:
        return {}
    try:
        root = yaml.compose(match.group(1), Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[str, int], int] = {}
    for key, node in root.value if isinstance(root, yaml.MappingNode) else ():
        if key.value == "questions":
            lines[("", -1)] = key.start_mark.line + 2  # 0-based, after the opening '---'
            for heading, items in node.value if isinstance(node, yaml.MappingNode) else ():
                lines[(str(heading.value), -1)] = heading.start_mark.line + 2
                for n, item in enumerate(items.value if isinstance(items, yaml.SequenceNode) else ()):
                    lines[(str(heading.value), n)] = item.start_mark.line + 2
    return lines


def _slug_from_path(path: Path) -> str:
    stem = path.stem
    head, dot, tail = stem.rpartition(".")
    return head if dot and _LANG_CODE.match(tail) else stem


def _language_of(
    path: Path, root: Path, meta: dict[str, Any], problems: list[Problem]
) -> tuple[str | None, LanguageSource]:
    declared = meta.get("lang")
    if declared is not None:
        code = str(declared).strip().lower().replace("_", "-").split("-")[0]
        if _LANG_CODE.match(code):
            return code, "front matter"
        message = f"front matter 'lang' must be an ISO 639-1 code, got {declared!r}"
        problems.append(Problem(path, _key_line(path, "lang"), message))
        return None, "front matter"
    suffix = path.stem.rpartition(".")[2] if "." in path.stem else ""
    if _LANG_CODE.match(suffix):
        return suffix, "path"
    parent = path.parent.name
    if path.parent != root and _LANG_CODE.match(parent):
        return parent, "path"
    return None, "detected"


# --- Markdown -> sections and blocks ---------------------------------------------------------------------

_MARKDOWN = MarkdownIt("commonmark")


def _parse_body(body: str, first_line: int, path: Path, problems: list[Problem]) -> tuple[str, list[Section]]:
    title = ""
    sections: list[Section] = []
    heading: str | None = None
    heading_line = first_line
    blocks: list[Block] = []
    containers: list[str] = []

    def close_section() -> None:
        if heading is not None and blocks:
            sections.append(Section(len(sections), heading, tuple(blocks), heading_line))
        elif heading is not None:
            problems.append(Problem(path, heading_line, f"section {heading!r} has no text"))

    tokens = _MARKDOWN.parse(body)
    for i, token in enumerate(tokens):
        line = first_line + (token.map[0] if token.map else 0)
        if token.type in ("blockquote_open", "list_item_open"):
            containers.append(token.type)
        elif token.type in ("blockquote_close", "list_item_close"):
            containers.pop()
        elif token.type == "heading_open":
            text = clean_text(_inline_text(tokens[i + 1]))
            if token.tag == "h1" and not title:
                title = text
            elif token.tag in ("h1", "h2"):
                close_section()
                heading, heading_line, blocks = text, line, []
        elif token.type == "inline" and tokens[i - 1].type == "paragraph_open":
            spans = _spans(token)
            if not spans:
                continue  # an empty '>' line and the like
            kind: BlockKind = (
                "item"
                if "list_item_open" in containers
                else "quote"
                if "blockquote_open" in containers
                else "paragraph"
            )
            if heading is None:  # text before the first '## ' is the article's introduction
                heading, heading_line = title or path.stem, line
            blocks.append(Block(kind, spans, line))
    close_section()
    return title, sections


def _inline_text(token: Token) -> str:
    return "".join(child.content for child in token.children or () if child.type in ("text", "code_inline"))


def _spans(inline: Token) -> tuple[Span, ...]:
    """Inline tokens -> spans of clean text, each link kept with its target."""
    raw: list[tuple[str, str | None]] = []
    href: str | None = None
    for child in inline.children or ():
        if child.type == "link_open":
            href = str(child.attrs.get("href") or "") or None
        elif child.type == "link_close":
            href = None
        elif child.type in ("text", "code_inline", "html_inline"):
            raw.append((child.content, href))
        elif child.type in ("softbreak", "hardbreak"):
            raw.append((" ", href))
        elif child.type == "image":
            raw.append((child.content, None))
    merged: list[tuple[str, str | None]] = []
    for text, target in raw:
        if merged and merged[-1][1] == target:
            merged[-1] = (merged[-1][0] + text, target)
        else:
            merged.append((text, target))
    # Clean the whole block at once so debris spanning a link boundary (",." after a link) goes too,
    # then cut it back into spans by their cleaned lengths.
    spans: list[Span] = []
    for text, target in merged:
        cleaned = clean_text(text, strip=False)
        if cleaned:
            spans.append(Span(cleaned, target))
    return _tidy_span_edges(spans)


def _tidy_span_edges(spans: list[Span]) -> tuple[Span, ...]:
    tidy: list[Span] = []
    for span in spans:
        text = span.text
        if tidy and tidy[-1].text.endswith(" ") and text.startswith(" "):
            text = text.lstrip(" ")
        if span.href is None and tidy and tidy[-1].href is not None:
            # '[link](/x),. more' or '[link](/x) , more'
            text = _PUNCT_RUN.sub(r"\1", text)
            text = regex.sub(r"^\s+([,.;:!?،؛؟])", r"\1", text)
        if text:
            tidy.append(Span(text, span.href))
    if tidy:
        tidy[0] = Span(tidy[0].text.lstrip(), tidy[0].href)
        tidy[-1] = Span(tidy[-1].text.rstrip(), tidy[-1].href)
    return tuple(span for span in tidy if span.text)


def clean_text(text: str, *, strip: bool = True) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _PUNCT_RUN.sub(r"\1", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _SPACES.sub(" ", text)
    return text.strip() if strip else text
