"""The bot under test without a network, python-telegram-bot's own way: `OfflineRequest` (a `BaseRequest`
that answers the Bot API locally and records every call) and updates handed to `Application.process_update`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update

from bot.bench.offline import Call, Json, OfflineRequest
from bot.bench.updates import GROUP_ID, message, next_update_id, update, user
from bot.settings import Settings
from bot.store import Store
from bot.telegram.app import App

CONTENT = Path(__file__).resolve().parents[2] / "content"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # shaped like a real token, so redaction applies
BOT_ID = 123456789
BOT_USERNAME = "InsideSalesTestBot"
BOT_USER: Json = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Inside Sales",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
ADMIN = 4242
STRANGER = 777
GROUP = GROUP_ID

__all__ = [
    "ADMIN",
    "BOT_ID",
    "BOT_USERNAME",
    "CONTENT",
    "GROUP",
    "STRANGER",
    "TOKEN",
    "Call",
    "Json",
    "OfflineBot",
    "OfflineRequest",
]


def offline_api() -> OfflineRequest:
    """The test bot's Bot API: getMe says BOT_USER, GROUP is a supergroup."""
    api = OfflineRequest(BOT_USER)
    api.chat_types[GROUP] = "supergroup"
    return api


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "content_dir": tmp_path / "content",
        "data_dir": tmp_path / "data",
        "admin_user_ids": frozenset({ADMIN}),
        "default_language": "en",
        "bot_username": None,
        "link_base_url": "https://example.com",
        "webhook_url": None,
        "user_rate_limit": 50,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class OfflineBot:
    app: App
    api: OfflineRequest
    store: Store
    content: Path

    async def feed(self, **kind: Any) -> None:
        """Process one update (its kind as keyword: message=..., callback_query=...), background work too."""
        await self.app.process_update(Update.de_json(update(**kind), self.app.bot))
        await self.settle()

    async def settle(self) -> None:
        """Wait for non-blocking handlers (reload, upload) that process_update started."""
        current = asyncio.current_task()
        for _ in range(100):
            pending = [t for t in asyncio.all_tasks() if t is not current and "non_blocking" in t.get_name()]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    async def say(self, text: str, **kw: Any) -> list[Json]:
        """Send a message and return what the bot sent back."""
        before = len(self.api.sent())
        await self.feed(message=message(text, **kw))
        return self.api.sent()[before:]

    async def press(
        self, data: str, *, sender: Json | None = None, chat: Json | None = None, markup: Json | None = None
    ) -> Call:
        sender = sender or user()
        under = message("…", sender=sender, chat=chat)
        under["from"] = {"id": BOT_ID, "is_bot": True, "first_name": "Inside Sales"}
        if markup is not None:
            under["reply_markup"] = markup
        before = len(self.api.of("answerCallbackQuery"))
        query = {"id": str(next_update_id()), "from": sender, "chat_instance": "1", "data": data, "message": under}
        await self.feed(callback_query=query)
        answers = self.api.of("answerCallbackQuery")[before:]
        assert len(answers) == 1, "every button press is answered exactly once"
        return answers[0]
