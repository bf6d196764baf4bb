"""An offline Bot API for python-telegram-bot: a `BaseRequest` that answers every call locally with the
JSON Telegram would send. The benchmark runs Applications on it; the tests reuse it (tests/auxil)."""

from __future__ import annotations

import html
import json
import time
from collections import Counter
from typing import Any

import regex
from telegram.request import BaseRequest, RequestData

BENCH_BOT_USERNAME = "bench_bot"
BOT_USER: dict[str, Any] = {
    "id": 7_000_000_001,
    "is_bot": True,
    "first_name": "Inside Sales",
    "username": BENCH_BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_TAG = regex.compile(r"<[^>]+>")


class OfflineRequest(BaseRequest):
    """Answers the Bot API locally with the JSON Telegram would send: no network at all."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._message_id = 0

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        endpoint = url.rstrip("/").rsplit("/", 1)[-1]
        self.calls[endpoint] += 1
        parameters = request_data.parameters if request_data is not None else {}
        result: Any = True
        if endpoint == "getMe":
            result = BOT_USER
        elif endpoint == "getUpdates":
            result = []
        elif endpoint in ("sendMessage", "editMessageText"):
            self._message_id += 1
            chat_id = parameters.get("chat_id", 1)
            result = {
                "message_id": self._message_id,
                "date": int(time.time()),
                "chat": {"id": int(str(chat_id)), "type": "private", "first_name": "User"},
                "from": BOT_USER,
                "text": html.unescape(_TAG.sub("", str(parameters.get("text", "")))),
            }
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode("utf-8")
