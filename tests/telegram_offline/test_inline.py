"""Inline mode."""

from __future__ import annotations

import pytest

from auxil.offline import OfflineBot
from auxil.telegram_html import check_telegram_html
from auxil.updates import inline_query, user
from telegram_offline.conftest import error_records


async def test_empty_inline_query_lists_the_sections(bot: OfflineBot) -> None:
    await bot.feed(inline_query=inline_query(""))
    [call] = bot.api.of("answerInlineQuery")
    results = call.params["results"]
    assert [r["title"] for r in results] == [
        "Что такое внутренние продажи?",
        "Понимание внутренних продаж",
        "Преимущества внутренних продаж",
        "Особенности",
    ]
    assert call.params["is_personal"] is True
    assert len({r["id"] for r in results}) == len(results)
    for result in results:
        assert result["description"].startswith("Внутри продаж — ")
        assert "\n" not in result["description"]
        check_telegram_html(result["input_message_content"]["message_text"])
        assert result["input_message_content"]["parse_mode"] == "HTML"


async def test_inline_query_puts_the_best_section_first(bot: OfflineBot) -> None:
    await bot.feed(inline_query=inline_query("Berapakah gaji wakil jualan dalaman?", "en"))
    [call] = bot.api.of("answerInlineQuery")
    best = call.params["results"][0]
    assert best["title"] == "Kelebihan Jualan Dalam"
    content = best["input_message_content"]["message_text"]
    assert "$45,000" in content
    check_telegram_html(content)
    assert len(call.params["results"]) >= 2


async def test_inline_query_with_html_and_chosen_result(bot: OfflineBot, errors: pytest.LogCaptureFixture) -> None:
    await bot.feed(inline_query=inline_query("<i>unclosed & jualan"))
    for result in bot.api.of("answerInlineQuery")[0].params["results"]:
        check_telegram_html(result["input_message_content"]["message_text"])
    chosen = {"result_id": "a:ms:2:inside-sales", "from": user(), "query": "gaji"}
    bot.api.clear()
    await bot.feed(chosen_inline_result=chosen)
    assert bot.api.calls == []
    assert error_records(errors) == []
