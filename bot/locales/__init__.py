"""Interface strings, one TOML file per language (`en.toml` is complete and the fallback).

Admins adding an article in a new language get English interface strings until someone adds
`<lang>.toml` here; answers themselves are always in the article's language.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from bot.catalog import read_catalog

FALLBACK = "en"


@cache
def _catalog(lang: str) -> dict[str, str]:
    return read_catalog(__name__, lang)


def available() -> tuple[str, ...]:
    return tuple(
        sorted(p.name.removesuffix(".toml") for p in resources.files(__name__).iterdir() if p.name.endswith(".toml"))
    )


def has(lang: str, key: str) -> bool:
    return key in _catalog(lang)


def t(lang: str, key: str, **values: Any) -> str:
    """The string `key` in `lang` (falling back to English), formatted with `values`."""
    template = _catalog(lang).get(key) or _catalog(FALLBACK).get(key) or key
    return template.format(**values) if values else template


def language_name(lang: str) -> str:
    return _catalog(lang).get("language_name") or lang


def exists(lang: str) -> bool:
    """Whether the interface speaks `lang` (a catalog of its own, not the English fallback)."""
    return bool(_catalog(lang))
