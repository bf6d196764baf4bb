"""The HTML check itself (tests/auxil/telegram_html.py): Telegram's parser decides, as Telegram would."""

from __future__ import annotations

import pytest

from auxil.telegram_html import check_telegram_html
from bot.domain.render import TELEGRAM_LIMIT


@pytest.mark.parametrize(
    "bad",
    ["<b>unclosed", "a < b", "<h1>heading</h1>", "<u><b>crossed</u></b>", "<b>x</b>" + "y" * TELEGRAM_LIMIT, " \n"],
)
def test_what_telegram_rejects_fails(bad: str) -> None:
    with pytest.raises(AssertionError):
        check_telegram_html(bad)


def test_what_telegram_accepts_passes_with_its_text_and_links() -> None:
    text, hrefs = check_telegram_html('<b>Tom &amp; Jerry</b> <a href="https://example.com/a?b=1&amp;c=2">link</a>')
    assert text == "Tom & Jerry link"
    assert hrefs == ["https://example.com/a?b=1&c=2"]


def test_the_limit_counts_the_text_after_parsing() -> None:
    escaped = "&amp;" * TELEGRAM_LIMIT  # 5 x 4096 characters as sent, 4096 once parsed
    assert check_telegram_html(escaped)[0] == "&" * TELEGRAM_LIMIT
