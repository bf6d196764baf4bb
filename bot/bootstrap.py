"""Composition: settings -> engine and store for a process that is starting, and the one place where what
stops a start-up becomes an exit status.

The command line, the Telegram bot and the benchmark build their engine here; nothing here imports
Telegram, so `python -m bot ask` starts without loading python-telegram-bot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bot.domain.content import ContentError
from bot.domain.engine import AnswerEngine, SemanticSetup
from bot.domain.language import parse_aliases
from bot.domain.search.semantic import load_embedder
from bot.environment import Environment
from bot.settings import Settings, StartupError
from bot.store import Store, database_path

__all__ = ["StartupError", "exit_status", "make_engine", "open_store"]

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_CONTENT = 1  # the content directory is invalid: each problem is printed
EXIT_USAGE = 2  # the settings do not allow a start (no token, a bad webhook setting, a rejected token)
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports it


def make_engine(settings: Settings, content_dir: Path | None = None, *, embed: bool = True) -> AnswerEngine:
    """The engine for a process that is starting: large directories load on every core (no threads run
    yet, so forking worker processes is safe). The embedding model loads once per process; `embed=False`
    leaves the passage vectors to the caller (the bot computes them in the background and answers
    lexically meanwhile)."""
    embedder, status = load_embedder(settings.semantic, settings.semantic_model)
    if not status.enabled:
        logger.warning("answering lexically only: %s", status.detail)
    return AnswerEngine.from_directory(
        content_dir or settings.content_dir,
        default_language=settings.default_language,
        aliases=parse_aliases(settings.language_aliases),
        parallel=True,
        semantic=SemanticSetup(embedder, status, settings.vector_cache_dir or settings.data_dir / "vectors"),
        default_content_language=settings.default_content_language,
        embed=embed,
    )


def open_store(settings: Settings) -> Store:
    return Store.open(database_path(settings.data_dir))


def exit_status(env: Environment, start: Callable[[], int]) -> int:
    """Run `start` and turn what stops a start-up into an exit status (the only place that does)."""
    try:
        return start()
    except ContentError as exc:
        env.err(f"content rejected ({len(exc.problems)} problem{'s' * (len(exc.problems) != 1)}):")
        for problem in exc.problems:
            env.err(str(problem))
        return EXIT_CONTENT
    except StartupError as exc:  # one line naming what is wrong; the same for every command
        env.err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
