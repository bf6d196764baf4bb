"""Shared fixtures: the real content, one engine over it for the session, and temporary content dirs.

No autouse fixtures and no global state: other test modules (store, logs, e2e, telegram) share this file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.domain.engine import AnswerEngine
from bot.domain.language import parse_aliases

REPO = Path(__file__).resolve().parent.parent
CONTENT_DIR = REPO / "content"
SEEDS_DIR = REPO.parent / "shared" / "seeds"
# CI clones the repo with shared/ beside it; tests/data/dev.tsv is a copy for a clone without it.
_SHARED_DEV_TSV = REPO.parent / "shared" / "eval" / "dev.tsv"
DEV_TSV = _SHARED_DEV_TSV if _SHARED_DEV_TSV.exists() else REPO / "tests" / "data" / "dev.tsv"
LANGUAGES = ("ar", "hi", "ms", "pl", "ru")
ALIASES = parse_aliases("id:ms")  # the shipped default of LANGUAGE_ALIASES
# The section headings of content/<lang>/inside-sales.md, in order.
HEADINGS = {
    "ms": ("Apakah Jualan Dalaman?", "Memahami Jualan Dalaman", "Kelebihan Jualan Dalam", "Sorotan"),
    "pl": (
        "Co to jest sprzedaż wewnętrzna?",
        "Zrozumienie sprzedaży wewnętrznej",
        "Zalety sprzedaży wewnętrznej",
        "Przegląd najważniejszych wydarzeń",
    ),
    "ar": ("ما المقصود بالمبيعات الداخلية؟", "فهم المبيعات الداخلية", "مزايا البيع الداخلي", "يسلط الضوء"),
    "hi": ("बिक्री के अंदर क्या हैं?", "बिक्री के अंदर की समझ", "आंतरिक बिक्री के लाभ", "हाइलाइट्स"),
    "ru": (
        "Что такое внутренние продажи?",
        "Понимание внутренних продаж",
        "Преимущества внутренних продаж",
        "Особенности",
    ),
}

ContentFiles = Mapping[str, str | bytes]
MakeContent = Callable[..., Path]


def write_content(root: Path, files: ContentFiles) -> Path:
    """Write {relative path: text or bytes} under `root` (created) and return `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def content_dir() -> Path:
    return CONTENT_DIR


@pytest.fixture(scope="session")
def engine(content_dir: Path) -> AnswerEngine:
    """One engine over the real content for the whole session (read-only: never reload it in a test)."""
    return AnswerEngine.from_directory(content_dir, default_language="en", aliases=ALIASES)


@pytest.fixture
def make_content(tmp_path: Path) -> MakeContent:
    """`make_content({"ms/a.md": "...", "b.bin": b"..."}, name="content")` -> a fresh content dir."""

    def make(files: ContentFiles, name: str = "content") -> Path:
        return write_content(tmp_path / name, files)

    return make


# --- Telegram HTML ---------------------------------------------------------------------------------------

TELEGRAM_TAGS = frozenset({"b", "i", "a", "blockquote", "code", "pre", "u", "s"})
TELEGRAM_LIMIT = 4096
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
_TAG = re.compile(r"</?(?:" + "|".join(TELEGRAM_TAGS) + r")(?=[\s>])")


def is_absolute_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return parts.scheme in ("tg", "mailto")


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.errors.append(f"tag <{tag}> is not allowed")
        if tag == "a":
            if len(attrs) != 1 or attrs[0][0] != "href" or not is_absolute_url(attrs[0][1] or ""):
                self.errors.append(f"bad link attributes {attrs!r}")
            else:
                self.hrefs.append(attrs[0][1] or "")
            if "a" in self.stack:
                self.errors.append("nested <a>")
        elif attrs:
            self.errors.append(f"<{tag}> has attributes {attrs!r}")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.errors.append("processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.errors.append("unknown declaration")


def check_telegram_html(message: str, limit: int = TELEGRAM_LIMIT) -> tuple[str, list[str]]:
    """Assert `message` is one valid Telegram HTML message; return its visible text and its link targets."""
    assert message.strip(), "empty message"
    assert len(message.encode("utf-16-le")) // 2 <= limit, "message over the limit"
    for match in re.finditer("&", message):
        assert _ENTITY.match(message, match.start()), f"bare or unknown entity at {message[match.start() :][:12]!r}"
    for match in re.finditer("<", message):
        assert _TAG.match(message, match.start()), f"unescaped '<' at {message[match.start() :][:12]!r}"
    parser = _TelegramHTML()
    parser.feed(message)
    parser.close()
    assert not parser.errors, parser.errors
    assert not parser.stack, f"unclosed {parser.stack}"
    return "".join(parser.text), parser.hrefs
