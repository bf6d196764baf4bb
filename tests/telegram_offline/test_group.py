"""Groups: /ask, mentions, replies to the bot, chatter that costs nothing."""

from __future__ import annotations

import html

from auxil.offline import BOT_USERNAME, GROUP, OfflineBot
from auxil.telegram_html import check_telegram_html
from auxil.updates import bot_message, callback_data, group_chat, message, user
from bot.locales import t


async def test_group_ask_replies_to_the_question(bot: OfflineBot) -> None:
    ask = message(f"/ask@{BOT_USERNAME} Berapakah gaji wakil jualan dalaman?", chat=group_chat())
    await bot.feed(message=ask)
    [sent] = bot.api.sent(GROUP)
    assert sent["reply_parameters"]["message_id"] == ask["message_id"]
    assert "$45,000" in sent["text"]
    assert all(d.startswith("v1:f:") for d in callback_data(sent)), "groups get compact answers"
    check_telegram_html(sent["text"])


async def test_group_chatter_is_ignored_and_costs_nothing(bot: OfflineBot) -> None:
    bot.api.clear()
    for text in ["Berapakah gaji wakil jualan dalaman?", "/ask@SomeOtherBot hello", "lunch?", "@someone hi"]:
        await bot.feed(message=message(text, chat=group_chat()))
    await bot.feed(message=message("a reply", chat=group_chat(), reply_to_message=message("x", chat=group_chat())))
    assert bot.api.calls == []
    assert bot.store.stats().total_questions == 0


async def test_group_mentions_and_replies_to_the_bot_are_questions(bot: OfflineBot) -> None:
    mention = message(f"@{BOT_USERNAME} Berapakah gaji wakil jualan dalaman?", chat=group_chat())
    await bot.feed(message=mention)
    reply = message(
        "Чем внутренние продажи отличаются от внешних?", chat=group_chat(), reply_to_message=bot_message(group_chat())
    )
    await bot.feed(message=reply)
    first, second = bot.api.sent(GROUP)
    assert first["reply_parameters"]["message_id"] == mention["message_id"]
    assert "$45,000" in first["text"]
    assert second["reply_parameters"]["message_id"] == reply["message_id"]
    assert "Внутри продаж" in second["text"]


async def test_bare_ask_answers_the_message_it_replies_to(bot: OfflineBot) -> None:
    question = message("Berapakah gaji wakil jualan dalaman?", sender=user(55, first_name="Bob"), chat=group_chat())
    await bot.feed(message=message("/ask", chat=group_chat(), reply_to_message=question))
    [sent] = bot.api.sent(GROUP)
    assert sent["reply_parameters"]["message_id"] == question["message_id"]
    assert "$45,000" in sent["text"]
    await bot.feed(message=message("/ask", chat=group_chat()))
    usage = bot.api.sent(GROUP)[-1]
    assert usage["text"] == html.escape(t("en", "ask_usage"), quote=False)
