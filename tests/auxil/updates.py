"""The one update factory (bot/bench/updates.py) and the few payloads only tests send."""

from __future__ import annotations

from auxil.offline import ADMIN, BOT_ID, BOT_USERNAME
from bot.bench.offline import Json, OfflineRequest
from bot.bench.updates import (
    entities_for,
    group_chat,
    message,
    next_message_id,
    next_update_id,
    private_chat,
    update,
    user,
)

__all__ = [
    "bot_message",
    "buttons",
    "callback_data",
    "document_message",
    "entities_for",
    "group_chat",
    "inline_query",
    "message",
    "private_chat",
    "update",
    "user",
]


def bot_message(chat: Json, text: str = "an earlier answer") -> Json:
    sender = {"id": BOT_ID, "is_bot": True, "first_name": "Inside Sales", "username": BOT_USERNAME}
    return message(text, sender=sender, chat=chat)


def inline_query(query: str, language_code: str = "ru") -> Json:
    return {"id": str(next_update_id()), "from": user(language_code=language_code), "query": query, "offset": ""}


def document_message(name: str, data: bytes, api: OfflineRequest, sender: int = ADMIN, size: int | None = None) -> Json:
    """A document message from `sender`; its content is served by `api` (getFile and the download)."""
    file_id = f"doc{next_message_id()}"
    api.files[file_id] = data
    size = len(data) if size is None else size
    document = {"file_id": file_id, "file_unique_id": file_id, "file_name": name, "file_size": size}
    return message(sender=user(sender), document=document)


def buttons(params: Json) -> list[Json]:
    return [b for row in (params.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def callback_data(params: Json) -> list[str]:
    return [b["callback_data"] for b in buttons(params) if "callback_data" in b]
