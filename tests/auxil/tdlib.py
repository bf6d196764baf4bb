"""Telegram's own HTML parser, offline: TDLib's `parseTextEntities` through `td_execute` (synchronous, no
network, no client), loaded with ctypes from the `libtdjson.so` that the `python-telegram` wheel ships.

The wheel is not installed: it puts its own `telegram/__init__.py` where python-telegram-bot's is, so
installing it would break the bot. Instead `pip download` fetches it (PyPI, the ordinary client) into
.cache/tdlib and only the library is unpacked; `.ci/run` does that up front (`python tests/auxil/tdlib.py`),
and a test run that finds no library does it once itself. TDJSON_LIBRARY names another copy.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

WHEEL = "python-telegram==2.0.0"  # Linux x86-64 wheel with TDLib's libtdjson.so (about 40 MB unpacked)
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "tdlib"
LIBRARY = CACHE / "libtdjson.so"
_MEMBER = "telegram/lib/libtdjson.so"


def fetch(target: Path = LIBRARY) -> Path:
    """Download the wheel with pip and unpack libtdjson.so only (the wheel's Python package is not needed)."""
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                WHEEL,
                "-d",
                download,
            ],
            check=True,
        )
        (wheel,) = Path(download).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive, archive.open(_MEMBER) as source:
            partial = target.with_suffix(".part")
            partial.write_bytes(source.read())
            partial.replace(target)
    return target


@cache
def _tdjson() -> ctypes.CDLL:
    path = Path(os.environ.get("TDJSON_LIBRARY") or fetch())
    library = ctypes.CDLL(str(path))
    library.td_execute.restype = ctypes.c_char_p
    library.td_execute.argtypes = [ctypes.c_char_p]
    execute({"@type": "setLogVerbosityLevel", "new_verbosity_level": 0}, library)  # no log lines on stderr
    return library


def execute(query: dict[str, Any], library: ctypes.CDLL | None = None) -> dict[str, Any]:
    """One synchronous TDLib request (only those TDLib allows through td_execute)."""
    raw = (library or _tdjson()).td_execute(json.dumps(query).encode("utf-8"))
    answer: dict[str, Any] = json.loads(raw)
    return answer


def parse_html(text: str) -> dict[str, Any]:
    """What Telegram makes of `text` with parse_mode HTML: a formattedText, or an error (code 400)."""
    return execute({"@type": "parseTextEntities", "text": text, "parse_mode": {"@type": "textParseModeHTML"}})


if __name__ == "__main__":
    print(fetch())
