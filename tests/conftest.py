"""Shared fixtures: the real content, one engine over it for the session, and temporary content dirs.

No autouse fixtures and no global state: other test modules (store, logs, e2e, telegram) share this file.
One deliberate exception: VECTOR_CACHE_DIR points every engine the tests build (in this process and in
the bot processes they start) at one vector cache, so the real articles' passages are embedded once per
machine rather than once per test's temporary DATA_DIR. It is a cache keyed by model and text: sharing
it changes no answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.domain.engine import AnswerEngine
from bot.domain.language import parse_aliases

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("VECTOR_CACHE_DIR", str(REPO / ".cache" / "test-vectors"))
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


# --- Telegram HTML (the check itself is tests/auxil/telegram_html.py) ---------------------------------

TELEGRAM_LIMIT = 4096


def is_absolute_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return parts.scheme in ("tg", "mailto")
