"""Bot API calls that survive the API going away for a while, without sending anything twice.

python-telegram-bot retries getUpdates by itself (the Updater's network loop) and `AIORateLimiter` waits out
429s, but a `sendMessage` that meets a 5xx, a refused connection or a timeout fails at once and the answer
is lost. `ResilientRateLimiter` is `AIORateLimiter` plus a retry loop with exponential backoff, bounded by
a time budget, for failures after which the call was not carried out, so a retry cannot duplicate it:

- the request never left (connection refused or reset while connecting, connect or pool timeout);
- the server closed the connection without sending a byte of an answer (httpx's "Server disconnected
  without sending a response"): almost always a kept-alive connection the server had already closed, so
  the request was never read (browsers resend in this case too; the one judgement call here);
- Telegram answered with an error status that is not the caller's fault (5xx and the like: the method
  did not run).

A failure after the request was sent and before the whole answer came back (read or write timeout,
connection reset mid-answer) is ambiguous: Telegram may have sent the message. Methods that are safe to
repeat (reads, edits, answers to queries, webhook and command set-up) are retried then too; `send*`,
`copy*` and `forward*` calls are not, so a user never gets the same answer twice: at most once there,
and the failure is logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut
from telegram.ext import AIORateLimiter

logger = logging.getLogger(__name__)

RETRY_BUDGET_SECONDS = 60.0  # how long one call keeps trying before its error reaches the handler
FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 10.0
# Calls that create a message: repeating one after an ambiguous failure could send it twice.
_NOT_REPEATABLE_PREFIXES = ("send", "copy", "forward")

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]


def never_sent(error: BaseException) -> bool:
    """The request did not reach Telegram: retrying cannot duplicate it."""
    cause = error.__cause__
    if isinstance(error, TimedOut):
        return isinstance(cause, (httpx.ConnectTimeout, httpx.PoolTimeout)) or "Pool timeout" in error.message
    return isinstance(cause, httpx.ConnectError)


def hung_up_unread(error: BaseException) -> bool:
    """The connection closed before any answer: the server never read the request (see the module doc)."""
    cause = error.__cause__
    return isinstance(cause, httpx.RemoteProtocolError) and "without sending a response" in str(cause)


def refused_by_server(error: BaseException) -> bool:
    """Telegram answered with an error status that is not the request's fault (5xx and the like).

    PTB raises a plain NetworkError (no httpx cause) for every status it has no better exception for;
    400, 401, 403, 404, 409 and 429 have their own exceptions and never get here.
    """
    if not isinstance(error, NetworkError) or isinstance(error, (BadRequest, TimedOut)):
        return False
    return error.__cause__ is None or isinstance(error.__cause__, TelegramError)


def repeatable(endpoint: str) -> bool:
    return not endpoint.lower().startswith(_NOT_REPEATABLE_PREFIXES)


def should_retry(endpoint: str, error: BaseException) -> bool:
    if not isinstance(error, NetworkError) or isinstance(error, BadRequest):
        return False
    return never_sent(error) or hung_up_unread(error) or refused_by_server(error) or repeatable(endpoint)


class ResilientRateLimiter(AIORateLimiter):
    """`AIORateLimiter` (Telegram's flood limits, 429 retry_after) plus retries of transient failures."""

    def __init__(
        self,
        *,
        max_retries: int,
        budget: float = RETRY_BUDGET_SECONDS,
        first_delay: float = FIRST_DELAY_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
    ) -> None:
        super().__init__(max_retries=max_retries)
        self.budget = budget
        self.first_delay = first_delay
        self.max_delay = max_delay

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        deadline = time.monotonic() + self.budget
        delay = self.first_delay
        attempt = 1
        while True:
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except NetworkError as error:
                if not should_retry(endpoint, error):
                    if not isinstance(error, BadRequest):  # a BadRequest is Telegram's real answer
                        logger.warning(
                            "%s failed and is not retried (it may have reached Telegram): %s", endpoint, error
                        )
                    raise
                if time.monotonic() + delay > deadline:
                    logger.warning("%s failed %d times in %.0f s; giving up: %s", endpoint, attempt, self.budget, error)
                    raise
                logger.warning("%s failed (attempt %d): %s; retrying in %.1f s", endpoint, attempt, error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)
                attempt += 1
