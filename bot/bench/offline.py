"""An offline Bot API for python-telegram-bot: a `BaseRequest` that answers every call locally with the
JSON Telegram would send, and records the calls. The benchmark runs Applications on it; the tests reuse
it (tests/auxil) rather than keeping a copy.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import regex
from telegram.request import BaseRequest, RequestData

Json = dict[str, Any]

BENCH_BOT_USERNAME = "bench_bot"
BOT_USER: Json = {
    "id": 7_000_000_001,
    "is_bot": True,
    "first_name": "Inside Sales",
    "username": BENCH_BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_TAG = regex.compile(r"<[^>]+>")
_MESSAGE_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"})


@dataclass
class Call:
    method: str
    params: Json
    files: dict[str, bytes] = field(default_factory=dict)


class OfflineRequest(BaseRequest):
    """Answers Bot API calls as Telegram would, records them, and serves uploaded files' contents.

    `files` maps a file_id to its content (getFile and the download); `failures` makes every call of a
    method fail with (error code, description); `chat_types` says what kind a chat id is (else private for
    positive ids, group for negative ones); while `hold` is set to an unset event, sendMessage waits for it
    (an answer in hand).
    """

    def __init__(self, bot_user: Json | None = None) -> None:
        self.bot_user: Json = bot_user or BOT_USER
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.failures: dict[str, tuple[int, str]] = {}
        self.chat_types: dict[int, str] = {}
        self.hold: asyncio.Event | None = None
        self._ids = itertools.count(5000)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

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
        if method == "GET":  # a file download: .../file/bot<token>/<file_path>
            return 200, self.files[url.rsplit("/", 1)[-1]]
        endpoint = url.rstrip("/").rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        files: dict[str, bytes] = {}
        if request_data is not None and request_data.contains_files:
            for name, part in request_data.multipart_data.items():
                content = part[1]
                files[name] = content if isinstance(content, bytes) else content.read()
        self.calls.append(Call(endpoint, params, files))
        if endpoint in self.failures:
            code, description = self.failures[endpoint]
            return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()
        if endpoint == "sendMessage" and self.hold is not None:
            await self.hold.wait()
        result = self._result(endpoint, params)
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode("utf-8")

    def _result(self, endpoint: str, params: Json) -> Any:
        if endpoint == "getMe":
            return self.bot_user
        if endpoint == "getUpdates":
            return []
        if endpoint in _MESSAGE_METHODS:
            return self._message(endpoint, params)
        if endpoint == "getFile":
            file_id = str(params["file_id"])
            size = len(self.files.get(file_id, b""))
            return {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_size": size,
                "file_path": f"documents/{file_id}",
            }
        return True

    def _message(self, endpoint: str, params: Json) -> Json:
        chat_id = int(str(params.get("chat_id", 0)))
        chat_type = self.chat_types.get(chat_id, "private" if chat_id > 0 else "group")
        sender = {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")}
        message: Json = {
            "message_id": int(params.get("message_id") or next(self._ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": sender,
        }
        if "text" in params:  # Telegram answers with the text as parsed: no tags, entities resolved
            message["text"] = html.unescape(_TAG.sub("", str(params["text"])))
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        if endpoint == "sendDocument":
            message["document"] = {"file_id": "sent", "file_unique_id": "sent"}
        return message

    # -- what the benchmark and the tests read --------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def count(self, method: str) -> int:
        return sum(1 for call in self.calls if call.method == method)

    def sent(self, chat_id: int | None = None) -> list[Json]:
        """The parameters of every sendMessage (to `chat_id`), in order."""
        return [c.params for c in self.of("sendMessage") if chat_id is None or c.params["chat_id"] == chat_id]

    def clear(self) -> None:
        self.calls.clear()
