"""One TOML file of strings per language inside a package (bot/locales, bot/domain/vocabulary)."""

from __future__ import annotations

import tomllib
from importlib import resources


def read_catalog(package: str, lang: str) -> dict[str, str]:
    """`<package>/<lang>.toml` as {key: text}; empty when the language has no file."""
    try:
        text = resources.files(package).joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return {}
    return {key: str(value) for key, value in tomllib.loads(text).items()}
