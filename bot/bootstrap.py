"""Composition: settings -> engine and store for a process that is starting, and the one place where what
stops a start-up becomes an exit status.

The command line, the Telegram bot and the benchmark build their engine here; nothing here imports
Telegram, so `python -m bot ask` starts without loading python-telegram-bot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.domain.content import ContentError
from bot.domain.engine import AnswerEngine, SemanticSetup
from bot.domain.language import parse_aliases
from bot.domain.search.semantic import Progress, load_embedder
from bot.environment import Environment
from bot.settings import Settings, StartupError
from bot.store import Store, database_path

__all__ = ["StartupError", "embed_in_background", "exit_status", "make_engine", "open_store"]

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_CONTENT = 1  # the content directory is invalid: each problem is printed
EXIT_USAGE = 2  # the settings do not allow a start (no token, a bad webhook setting, a rejected token)
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports it
EXIT_BROKEN_PIPE = 141  # the reader of our output closed it (128 + SIGPIPE, as a shell reports it)


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


def embed_in_background(engine: AnswerEngine, every: float = 10.0) -> threading.Thread | None:
    """The running bot's passage vectors: computed (or read from the cache) in the background, so that it
    answers lexically from the first second and turns hybrid when they are ready; progress in the log."""
    status = engine.semantic.status
    if not status.enabled:
        return None
    started = time.perf_counter()
    shown = [started]

    def report(progress: Progress) -> None:
        if time.perf_counter() - shown[0] >= every:
            shown[0] = time.perf_counter()
            logger.info("embedding passages: %s/%s (answering lexically meanwhile)", progress.done, progress.total)

    def run() -> None:
        if engine.embed(report=report):
            dense = engine.snapshot.retriever.dense
            embedded = dense.embedded if dense else 0
            logger.info(
                "hybrid retrieval ready (%s): %d passages, %d embedded now, in %.1f s",
                status.detail, len(dense.units) if dense else 0, embedded, time.perf_counter() - started,
            )  # fmt: skip

    thread = threading.Thread(target=run, name="embed", daemon=True)
    thread.start()
    return thread


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
    except BrokenPipeError:  # `python -m bot ask - | head`: the reader has what it wanted
        env.drop_stdout()
        return EXIT_BROKEN_PIPE
