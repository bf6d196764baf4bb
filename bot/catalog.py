"""One TOML file of strings per language inside a package (bot/locales, bot/domain/vocabulary)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources


def read_catalog(package: str, lang: str) -> dict[str, str]:
    """`<package>/<lang>.toml` as {key: text}; empty when the language has no file."""
    return {key: str(value) for key, value in _read(package, lang).items() if not isinstance(value, dict)}


def read_table(package: str, lang: str, table: str) -> dict[str, str]:
    """One `[table]` of `<package>/<lang>.toml` as {key: text}; empty when there is none."""
    found = _read(package, lang).get(table, {})
    return {str(key): str(value) for key, value in found.items()} if isinstance(found, dict) else {}


@cache  # a package's files do not change while it runs: `read_catalog` and `read_table` share one parse
def _read(package: str, lang: str) -> dict[str, object]:
    try:
        text = resources.files(package).joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return {}
    return tomllib.loads(text)
