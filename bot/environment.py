"""All of the program's I/O in one object (after httpie's `Environment`), so tests swap in a fake one."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from bot.settings import Settings, load_settings


@dataclass
class Environment:
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    settings_factory: Callable[[], Settings] = Settings
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.settings_factory)  # a ConfigError when one is invalid
        return self._settings

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout, flush=True)

    def err(self, text: str) -> None:
        print(text, file=self.stderr, flush=True)

    def drop_stdout(self) -> None:
        """The reader went away (`ask - | head`): send the rest nowhere, so the interpreter's last flush
        does not fail too (the recipe in Python's `signal` documentation)."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stdout.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass  # not a real file (a test's StringIO): nothing will flush it at exit
