"""Admin commands: /reload, /stats, /declined."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

import pytest
from telegram import Update

from auxil.offline import ADMIN, BOT_USERNAME, STRANGER, OfflineBot
from auxil.telegram_html import check_telegram_html
from auxil.updates import group_chat, message, update, user
from bot.locales import t


async def test_reload_is_for_admins_only(bot: OfflineBot) -> None:
    [refused] = await bot.say("/reload", sender=user(STRANGER))
    assert refused["text"] == html.escape(t("en", "admin_only"), quote=False)
    [done] = await bot.say("/reload", sender=user(ADMIN))
    assert done["text"].startswith("Content reloaded: 5 articles, 5 languages, 20 sections in ")


async def test_a_broken_reload_lists_problems_and_keeps_serving(bot: OfflineBot) -> None:
    (bot.content / "ms" / "broken.md").write_text("---\ntitle: [unclosed\n---\n# x\n", encoding="utf-8")
    replies = await bot.say("/reload", sender=user(ADMIN, language_code="ru"))
    text = "\n".join(r["text"] for r in replies)
    assert html.escape(t("ru", "reload_failed"), quote=False) in text
    assert re.search(r"<code>\S*ms/broken\.md:\d+: front matter is not valid YAML", text)
    for sent in replies:
        check_telegram_html(sent["text"])
    answer = await bot.say("Berapakah gaji wakil jualan dalaman?")
    assert "$45,000" in answer[0]["text"]


async def test_questions_are_answered_while_a_reload_runs(bot: OfflineBot, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = bot.app.bot_data["services"].engine
    release = asyncio.Event()
    loop = asyncio.get_running_loop()
    original = engine.reload

    def slow_reload() -> Any:
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=5)
        return original()

    monkeypatch.setattr(engine, "reload", slow_reload)
    for text, sender in [("/reload", ADMIN), ("Berapakah gaji wakil jualan dalaman?", 1001)]:
        payload = update(message=message(text, sender=user(sender)))
        await bot.app.process_update(Update.de_json(payload, bot.app.bot))  # the reload does not block
    [answer] = bot.api.sent(1001)
    assert "$45,000" in answer["text"]
    assert bot.api.sent(ADMIN) == [], "the reload is still running"
    release.set()
    await bot.settle()
    assert bot.api.sent(ADMIN)[-1]["text"].startswith("Content reloaded")


async def test_stats_and_declined_export(bot: OfflineBot) -> None:
    await bot.say("Berapakah gaji wakil jualan dalaman?")
    await bot.say('=HYPERLINK("http://x") zzz qqq')
    [refused] = await bot.say("/stats", sender=user(STRANGER))
    assert refused["text"] == html.escape(t("en", "admin_only"), quote=False)
    [stats] = await bot.say("/stats", sender=user(ADMIN))
    assert "Questions: 2, answered: 1 (50%)" in stats["text"]
    check_telegram_html(stats["text"])
    await bot.say("/declined csv", sender=user(ADMIN))
    [document] = bot.api.of("sendDocument")
    [content] = document.files.values()
    csv_text = content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("id,asked_at,language")
    assert "'=HYPERLINK" in csv_text, "spreadsheet formulas are neutralised"
    await bot.say("/declined csv", sender=user(STRANGER))
    assert len(bot.api.of("sendDocument")) == 1


async def test_stats_are_not_shown_in_groups(bot: OfflineBot) -> None:
    bot.api.clear()
    await bot.feed(message=message(f"/stats@{BOT_USERNAME}", sender=user(ADMIN), chat=group_chat()))
    await bot.feed(message=message(f"/declined@{BOT_USERNAME}", sender=user(ADMIN), chat=group_chat()))
    assert bot.api.calls == []
