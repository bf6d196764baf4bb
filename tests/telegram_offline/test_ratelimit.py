"""Flood control: per-user limits in chats and on buttons; the sliding window."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from auxil.offline import GROUP, OfflineBot
from auxil.updates import group_chat, message, user
from bot.locales import t
from bot.telegram.ratelimit import Decision, UserRateLimiter


async def test_one_user_cannot_flood_a_group(make_bot: Callable[..., Any]) -> None:
    bot: OfflineBot = await make_bot(user_rate_limit=2, user_rate_window_seconds=60)
    flooder = user(66)
    for _ in range(5):
        await bot.feed(message=message("/ask Berapakah gaji wakil jualan dalaman?", sender=flooder, chat=group_chat()))
    texts = [m["text"] for m in bot.api.sent(GROUP)]
    assert len(texts) == 3  # two answers, then one notice, then silence
    assert texts[2] == html.escape(t("en", "rate_limited"), quote=False)
    assert bot.store.stats().total_questions == 2
    await bot.feed(message=message("/ask Berapakah gaji wakil jualan dalaman?", sender=user(67), chat=group_chat()))
    assert "$45,000" in bot.api.sent(GROUP)[-1]["text"], "other users are not affected"


async def test_buttons_and_commands_count_towards_the_limit(make_bot: Callable[..., Any]) -> None:
    bot: OfflineBot = await make_bot(user_rate_limit=1, user_rate_window_seconds=60)
    await bot.say("/help")
    pressed = await bot.press("v1:s:ru:0:inside-sales")
    assert pressed.params["text"] == t("en", "rate_limited")
    assert len(bot.api.sent()) == 1
    await bot.press("v1:s:ru:0:inside-sales")  # answered (the spinner stops), silently
    assert await bot.say("/help") == []


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = UserRateLimiter(2, 10, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(4)] == [Decision.ALLOW, Decision.ALLOW, Decision.WARN, Decision.DROP]
    assert limiter.check(2) is Decision.ALLOW
    now[0] = 10.0
    assert limiter.check(1) is Decision.ALLOW
    for uid in range(3000):
        limiter.check(uid)
    now[0] = 10_000.0
    for _ in range(2048):
        limiter.check(1)
    assert len(limiter._hits) < 10, "idle users are forgotten"
