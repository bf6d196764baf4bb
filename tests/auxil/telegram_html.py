"""The one Telegram-HTML check, and the real one: TDLib's own parser (tests/auxil/tdlib.py). A message
passes exactly when Telegram would parse it (balanced, supported tags, valid entities, no bare '<') and
fits in one message after parsing."""

from __future__ import annotations

import html
import re

from auxil.tdlib import parse_html
from bot.domain.render import TELEGRAM_LIMIT, utf16_length

_HREF = re.compile(r'<a\s+href="([^"]*)"')


def check_telegram_html(message: str, limit: int = TELEGRAM_LIMIT) -> tuple[str, list[str]]:
    """Assert Telegram accepts `message` as one HTML message; return its visible text and link targets."""
    assert message.strip(), "empty message"
    parsed = parse_html(message)
    assert parsed["@type"] == "formattedText", f"Telegram rejects it: {parsed.get('message')}: {message[:200]!r}"
    text: str = parsed["text"]
    assert utf16_length(text) <= limit, f"{utf16_length(text)} characters after parsing, over {limit}"
    # The targets as sent: Telegram silently drops a link it cannot use, so its entities would hide one.
    return text, [html.unescape(href) for href in _HREF.findall(message)]
