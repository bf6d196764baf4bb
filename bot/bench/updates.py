"""Update payloads as Telegram sends them (users, chats, messages with their command and mention
entities), for the benchmark's Applications and the tests (tests/auxil)."""

from __future__ import annotations

import itertools
import re
from typing import Any

Json = dict[str, Any]

DATE = 1_700_000_000
GROUP_ID = -100500
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION = re.compile(r"(?<![\w/])@[A-Za-z0-9_]{3,32}")
_message_ids = itertools.count(1)
_update_ids = itertools.count(1)


def next_update_id() -> int:
    return next(_update_ids)


def next_message_id() -> int:
    return next(_message_ids)


def user(user_id: int = 1001, language_code: str | None = "en", first_name: str = "Alice") -> Json:
    found: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        found["language_code"] = language_code
    return found


def private_chat(user_id: int = 1001, first_name: str = "Alice") -> Json:
    return {"id": user_id, "type": "private", "first_name": first_name}


def group_chat(chat_id: int = GROUP_ID, title: str = "Sales team") -> Json:
    return {"id": chat_id, "type": "supergroup", "title": title}


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_for(text: str) -> list[Json]:
    """The bot_command and mention entities Telegram would attach to `text`."""
    found = [
        {"type": kind, "offset": utf16(text[: m.start()]), "length": utf16(m.group())}
        for kind, pattern in (("bot_command", _COMMAND), ("mention", _MENTION))
        for m in pattern.finditer(text)
    ]
    return sorted(found, key=lambda e: e["offset"])


def message(text: str | None = None, *, sender: Json | None = None, chat: Json | None = None, **extra: Any) -> Json:
    sender = sender or user()
    found: Json = {
        "message_id": next_message_id(),
        "date": DATE,
        "chat": chat or private_chat(sender["id"]),
        "from": sender,
        **extra,
    }
    if text is not None:
        found["text"] = text
        if entities := entities_for(text):
            found["entities"] = entities
    return found


def update(**kind: Json) -> Json:
    """One update: its kind as keyword (message=..., callback_query=...)."""
    return {"update_id": next_update_id(), **kind}
