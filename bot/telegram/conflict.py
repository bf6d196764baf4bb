"""A second process polling with the same token: Telegram answers getUpdates with 409 Conflict.

PTB would retry that forever (with backoff), and the two processes would take turns receiving updates.
Instead the first 409 is logged as what it means, and when Telegram keeps answering 409 for
CONFLICT_GRACE_SECONDS the bot stops (exit status 3, see app.run) so the operator notices. The grace
lets a brief overlap pass, e.g. a restart whose old process is still finishing its last long poll.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from telegram.error import Conflict
from telegram.ext import Application, ApplicationHandlerStop

from bot.telegram.context import Context

logger = logging.getLogger(__name__)

CONFLICT_EXIT_STATUS = 3
_WATCH_KEY = "conflict_watch"
# 409s further apart than this belong to different episodes: PTB's backoff between retries is at most 30 s.
EPISODE_GAP_SECONDS = 45.0


class ConflictWatch:
    def __init__(self, grace_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.grace_seconds = grace_seconds
        self._clock = clock
        self._first: float | None = None
        self._last: float | None = None
        self.gave_up = False

    def conflict(self, description: str) -> bool:
        """Record one 409; True when the grace is over and the bot should stop."""
        now = self._clock()
        if self._last is None or now - self._last > EPISODE_GAP_SECONDS:
            self._first = now
            logger.error(
                "Telegram answered getUpdates with 409 Conflict (%s): another process is polling with this bot "
                "token; stopping in %.0f s if it goes on",
                description, self.grace_seconds,
            )  # fmt: skip
        self._last = now
        assert self._first is not None
        if now - self._first >= self.grace_seconds and not self.gave_up:
            self.gave_up = True
            logger.error(
                "stopping: another process has kept polling with this bot token for %.0f s; only one may poll "
                "per token (stop the other one, or give one of them its own token)",
                now - self._first,
            )
        return self.gave_up


async def _on_error(update: object, context: Context) -> None:
    error = context.error
    if update is not None or not isinstance(error, Conflict):
        return  # anything else is for the general error handler
    watch: ConflictWatch = context.bot_data[_WATCH_KEY]
    if watch.conflict(error.message):
        context.application.stop_running()
    raise ApplicationHandlerStop  # logged above: no traceback from the general error handler


def register(app: Application[Any, Any, Any, Any, Any, Any], grace_seconds: float) -> None:
    """Register before the general error handler, which then never sees a polling 409."""
    app.bot_data[_WATCH_KEY] = ConflictWatch(grace_seconds)
    app.add_error_handler(_on_error)


def stopped_for_conflict(app: Application[Any, Any, Any, Any, Any, Any]) -> bool:
    watch = app.bot_data.get(_WATCH_KEY)
    return isinstance(watch, ConflictWatch) and watch.gave_up
