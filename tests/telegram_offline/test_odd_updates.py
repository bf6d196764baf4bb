"""Updates that are not questions: edits, channel posts, service messages, text-less messages, unknown commands."""

from __future__ import annotations

import html

import pytest

from auxil.offline import BOT_USERNAME, Json, OfflineBot
from auxil.updates import bot_message, group_chat, message, private_chat, user
from bot.locales import t
from telegram_offline.conftest import error_records


async def test_edited_messages_and_channel_posts_get_no_reply(
    bot: OfflineBot, errors: pytest.LogCaptureFixture
) -> None:
    bot.api.clear()
    await bot.feed(edited_message={**message("/start"), "edit_date": 1_700_000_100})
    await bot.feed(edited_message={**message("Berapakah gaji?"), "edit_date": 1_700_000_100})
    channel = {"id": -1009, "type": "channel", "title": "News"}
    post = {"message_id": 5, "date": 1_700_000_000, "chat": channel, "text": f"@{BOT_USERNAME} /ask hello"}
    await bot.feed(channel_post=post)
    await bot.feed(edited_channel_post={**post, "edit_date": 1_700_000_100})
    assert bot.api.calls == []
    assert error_records(errors) == []


@pytest.mark.parametrize(
    "extra",
    [
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "s",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
        {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}]},
        {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 3}},
        {"text": ""},
        {"text": "   "},
        {"document": {"file_id": "d", "file_unique_id": "d", "file_name": "notes.pdf"}},
    ],
    ids=["sticker", "photo", "voice", "empty-text", "blank-text", "document"],
)
async def test_text_less_private_messages_get_a_hint(
    bot: OfflineBot, extra: Json, errors: pytest.LogCaptureFixture
) -> None:
    sent_before = len(bot.api.sent())
    await bot.feed(message=message(**extra))
    [hint] = bot.api.sent()[sent_before:]
    assert hint["text"] == html.escape(t("en", "non_text"), quote=False)
    assert error_records(errors) == []


async def test_service_messages_get_no_reply(bot: OfflineBot, errors: pytest.LogCaptureFixture) -> None:
    bot.api.clear()
    await bot.feed(message=message(new_chat_members=[user(99)], chat=group_chat()))
    await bot.feed(message=message(left_chat_member=user(99), chat=group_chat()))
    await bot.feed(message=message(new_chat_title="Renamed", chat=group_chat()))
    await bot.feed(message=message(pinned_message=bot_message(private_chat())))
    await bot.feed(
        message=message(
            sticker={
                "file_id": "s",
                "file_unique_id": "s",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
            chat=group_chat(),
        )
    )
    assert bot.api.calls == []
    assert error_records(errors) == []


async def test_unknown_commands_in_private_get_the_help(bot: OfflineBot) -> None:
    [sent] = await bot.say("/frobnicate")
    assert "/lang" in sent["text"]
