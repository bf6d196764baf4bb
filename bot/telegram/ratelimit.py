"""Per-user flood control: at most `limit` questions per `window` seconds (a sliding window log).

AIORateLimiter keeps the bot within Telegram's limits; this keeps one person from spending them. A user
over the limit is told once, then ignored until the window frees up, so the warning cannot be used to
make the bot flood a group either.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable

PRUNE_EVERY = 1024  # checks between sweeps of idle users, so memory stays bounded by active users


class Decision(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"  # the first refusal: say so once
    DROP = "drop"  # later refusals in the same stretch: stay silent


class UserRateLimiter:
    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._checks = 0

    def check(self, user_id: int) -> Decision:
        now = self._clock()
        self._checks += 1
        if self._checks % PRUNE_EVERY == 0:
            self._prune(now)
        hits = self._hits.setdefault(user_id, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)  # refused attempts are not recorded: waiting always helps
            self._warned.discard(user_id)
            return Decision.ALLOW
        if user_id in self._warned:
            return Decision.DROP
        self._warned.add(user_id)
        return Decision.WARN

    def _prune(self, now: float) -> None:
        idle = [uid for uid, hits in self._hits.items() if not hits or now - hits[-1] >= self.window]
        for uid in idle:
            del self._hits[uid]
            self._warned.discard(uid)
