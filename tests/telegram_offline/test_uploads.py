"""Admin uploads of `.md` articles, and upload names."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest

from auxil.offline import ADMIN, STRANGER, OfflineBot
from auxil.updates import document_message, group_chat
from bot.domain.uploads import UploadRejected, safe_name
from bot.locales import t

GOOD_ARTICLE = """---
title: Cold calling
lang: pl
description: Dzwonienie do klientów bez wcześniejszego kontaktu.
---

# Cold calling

## Czym jest cold calling?

Cold calling to dzwonienie do potencjalnych klientów, którzy wcześniej nie mieli kontaktu z firmą.
"""


async def test_an_admin_uploads_a_new_article(bot: OfflineBot) -> None:
    await bot.feed(message=document_message("cold-calling.md", GOOD_ARTICLE.encode(), bot.api))
    [saved] = bot.api.sent(ADMIN)
    assert saved["text"].startswith("Saved cold-calling.md and reloaded: 6 articles")
    assert (bot.content / "cold-calling.md").read_text(encoding="utf-8") == GOOD_ARTICLE
    assert not list(bot.content.rglob(".upload-*")), "no temporary file left behind"
    answer = await bot.say("Czym jest cold calling?")
    assert "potencjalnych klientów" in answer[0]["text"]


async def test_an_upload_with_the_name_of_an_article_replaces_it(bot: OfflineBot) -> None:
    original = (bot.content / "pl" / "inside-sales.md").read_text(encoding="utf-8")
    changed = original.replace("## Co to jest sprzedaż wewnętrzna?", "## Czym jest sprzedaż wewnętrzna?")
    await bot.feed(message=document_message("inside-sales.md", changed.encode(), bot.api))
    [saved] = bot.api.sent(ADMIN)
    assert saved["text"].startswith("Saved pl/inside-sales.md and reloaded: 5 articles")
    assert (bot.content / "pl" / "inside-sales.md").read_text(encoding="utf-8") == changed
    assert not (bot.content / "inside-sales.md").exists()


async def test_a_broken_upload_is_rejected_with_its_problems(bot: OfflineBot) -> None:
    before = sorted(p.relative_to(bot.content) for p in bot.content.rglob("*"))
    await bot.feed(message=document_message("broken.md", b"---\nlang: pl\n---\n\nno headings at all\n", bot.api))
    text = "\n".join(m["text"] for m in bot.api.sent(ADMIN))
    assert text.startswith(html.escape(t("en", "upload_rejected", reason=t("en", "upload_invalid")), quote=False))
    assert "<code>broken.md:" in text, "paths are relative to the content directory"
    assert sorted(p.relative_to(bot.content) for p in bot.content.rglob("*")) == before


@pytest.mark.parametrize(
    "name", ["../evil.md", "..\\evil.md", "sub/evil.md", ".hidden.md", "notes.txt", "a..md", "evil.md\u202e", None]
)
async def test_unsafe_upload_names_are_rejected(bot: OfflineBot, name: str | None) -> None:
    before = sorted(p.relative_to(bot.content) for p in bot.content.rglob("*"))
    msg = document_message(name or "x", GOOD_ARTICLE.encode(), bot.api)
    if name is None:
        del msg["document"]["file_name"]
    await bot.feed(message=msg)
    [sent] = bot.api.sent(ADMIN)
    assert sent["text"] == html.escape(t("en", "upload_rejected", reason=t("en", "upload_bad_name")), quote=False)
    assert not bot.api.of("getFile"), "nothing is downloaded"
    assert sorted(p.relative_to(bot.content) for p in bot.content.rglob("*")) == before
    assert not (bot.content.parent / "evil.md").exists()


async def test_too_big_uploads_are_rejected(make_bot: Callable[..., Any]) -> None:
    bot: OfflineBot = await make_bot(max_upload_bytes=1000)
    await bot.feed(message=document_message("big.md", GOOD_ARTICLE.encode() * 10, bot.api))
    assert bot.api.of("getFile") == [], "refused by the announced size, before downloading"
    # A file whose announced size lies is caught after the download.
    await bot.feed(message=document_message("big.md", GOOD_ARTICLE.encode() * 10, bot.api, size=10))
    first, second = bot.api.sent(ADMIN)
    expected = html.escape(t("en", "upload_rejected", reason=t("en", "upload_too_big", limit="1,000")), quote=False)
    assert first["text"] == second["text"] == expected
    assert not (bot.content / "big.md").exists()


async def test_strangers_cannot_upload(bot: OfflineBot) -> None:
    await bot.feed(message=document_message("cold-calling.md", GOOD_ARTICLE.encode(), bot.api, sender=STRANGER))
    [sent] = bot.api.sent(STRANGER)
    assert sent["text"] == html.escape(t("en", "admin_only"), quote=False)
    assert not (bot.content / "cold-calling.md").exists()
    assert not bot.api.of("getFile")


def test_safe_names() -> None:
    assert safe_name("Cold Calling.md") == "Cold Calling.md"
    assert safe_name("статья.MD") == "статья.MD"
    for bad in ["", ".md", "../a.md", "a/b.md", "a\\b.md", ".a.md", "a.txt", "a.md ", "a\x00.md", "x" * 200 + ".md"]:
        with pytest.raises(UploadRejected):
            safe_name(bad)


async def test_an_admin_upload_in_a_group_is_ignored(bot: OfflineBot) -> None:
    upload = document_message("cold-calling.md", GOOD_ARTICLE.encode(), bot.api)
    upload["chat"] = group_chat()
    bot.api.clear()
    await bot.feed(message=upload)
    assert bot.api.calls == []
    assert not (bot.content / "cold-calling.md").exists()
