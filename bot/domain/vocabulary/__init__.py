"""Retrieval vocabulary, one TOML file per language: words the domain reads to find sections, kept apart
from the interface strings in bot/locales.

`summary_terms` falls back to English (a highlights section is findable by its English names in any
language); `question_words` does not (another language's interrogatives would be stop words here).
"""

from __future__ import annotations

from functools import cache

from bot.catalog import read_catalog, read_table

FALLBACK = "en"


@cache
def _words(lang: str) -> dict[str, str]:
    return read_catalog(__name__, lang)


def summary_terms(lang: str) -> str:
    """Words people use when they ask for an article's highlights."""
    return _words(lang).get("summary_terms") or _words(FALLBACK).get("summary_terms", "")


def question_words(lang: str) -> tuple[str, ...]:
    """Interrogatives, question frames and chat's fillers of `lang` (none for a language without a file):
    words that never say what a question is about."""
    words = _words(lang)
    return (*words.get("question_words", "").split(), *words.get("chat_fillers", "").split())


def listed_content_words(lang: str) -> tuple[str, ...]:
    """Words `lang`'s stop list holds that name a subject ("minyak", oil; "деньги", money): stop lists
    built from a news corpus's frequent words mix them in with the function words."""
    return tuple(_words(lang).get("listed_content_words", "").split())


def chat_forms(lang: str) -> dict[str, tuple[str, ...]]:
    """Short forms chat writes for whole words ("dlm" -> "dalam", "зп" -> "зарплата")."""
    pairs = (item.split(":", 1) for item in _words(lang).get("chat_forms", "").split() if ":" in item)
    return {short: tuple(full.split("_")) for short, full in pairs}


def borrowed_terms(lang: str) -> dict[str, str]:
    """English words and phrases chat mixes into `lang` ("salary", "cold calling"), as the words `lang`'s
    articles write for them ("gaji", "panggilan dingin"): the `[borrowed_terms]` table."""
    return read_table(__name__, lang, "borrowed_terms")
