"""Telegram HTML: what a message must be for Telegram to accept it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.domain.render import TELEGRAM_LIMIT, utf16_length

TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote",
                 "tg-spoiler", "span"}  # fmt: skip


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"tag Telegram rejects: <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")


def assert_telegram_html(text: str) -> None:
    parser = _Balance()
    parser.feed(text)
    parser.close()
    assert not parser.problems, parser.problems
    assert not parser.stack, f"unclosed tags: {parser.stack}"
    assert 0 < utf16_length(text) <= TELEGRAM_LIMIT
    assert re.search(r"&(?!(?:amp|lt|gt|quot|#\d+);)", text) is None, "a bare '&' Telegram would reject"
