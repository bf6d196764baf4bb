"""The python-telegram-bot `Application` processing message updates with an offline request, on one core:
the real application (bot/telegram/app.py), a minimal handler and an echo handler (the framework alone).

A real application that cannot be built or run fails the benchmark: its figure is the one that matters.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.bench.offline import BENCH_BOT_USERNAME, OfflineRequest
from bot.bench.timing import one_core
from bot.bench.updates import message, update, user
from bot.domain.engine import AnswerEngine
from bot.domain.evaluation import Case
from bot.domain.render import LinkResolver, render_html
from bot.settings import Settings
from bot.store import Store
from bot.telegram.app import build_application


@dataclass(frozen=True)
class AppRun:
    label: str
    updates: int
    seconds: float
    messages_sent: int

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else float("inf")


@dataclass(frozen=True)
class AppFigures:
    runs: tuple[AppRun, ...]
    pinned: str

    @property
    def main(self) -> AppRun:
        """The real application (always the first run)."""
        return self.runs[0]


def _update_payloads(cases: Sequence[Case], count: int) -> list[dict[str, Any]]:
    payloads: list[dict[str, Any]] = []
    for number in range(count):
        case = cases[number % len(cases)]
        person = user(100_000 + number % 97, language_code=case.lang, first_name="User")
        payloads.append(update(message=message(case.question, sender=person)))
    return payloads


async def _timed(application: Any, payloads: Sequence[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for payload in payloads:
        await application.process_update(Update.de_json(payload, application.bot))
    return time.perf_counter() - started


async def _bench_handler_run(
    engine: AnswerEngine | None, links: LinkResolver, payloads: Sequence[dict[str, Any]]
) -> tuple[float, int]:
    """A minimal Application: one MessageHandler answering with engine + render_html + reply_text (or,
    without an engine, replying "ok": what the framework itself costs)."""
    request = OfflineRequest()
    application = Application.builder().token("123456:BENCH-offline").request(request).updater(None).build()
    no_preview = LinkPreviewOptions(is_disabled=True)

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        if engine is None:
            await message.reply_text("ok")
            return
        user = update.effective_user
        answer = engine.answer(message.text, hints=(user.language_code if user else None,))
        for text in render_html(answer, links):
            await message.reply_text(text, parse_mode=ParseMode.HTML, link_preview_options=no_preview)

    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_message))
    await application.initialize()
    try:
        seconds = await _timed(application, payloads)
    finally:
        await application.shutdown()
    return seconds, request.count("sendMessage")


async def _real_app_run(
    engine: AnswerEngine, settings: Settings, payloads: Sequence[dict[str, Any]]
) -> tuple[float, int]:
    """bot/telegram/app.py's Application with all its handlers (question log in an in-memory store, no
    rate limiter: that one waits for Telegram's limits, which is the network's share, not ours)."""
    app_settings = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr("123456:BENCH-offline"),
            "user_rate_limit": 10**9,  # 2,000 questions from 97 users: the per-user flood control would refuse
            "bot_username": settings.bot_username or BENCH_BOT_USERNAME,
        }
    )
    request = OfflineRequest()
    store = Store.open(":memory:")
    application = build_application(app_settings, engine, store, request=request, rate_limiter=False)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        seconds = await _timed(application, payloads)
    finally:
        await application.shutdown()
        store.close()
    return seconds, request.count("sendMessage")


def application_throughput(
    engine: AnswerEngine, cases: Sequence[Case], links: LinkResolver, settings: Settings, updates: int
) -> AppFigures:
    payloads = _update_payloads(cases, updates)
    warm = payloads[: min(50, len(payloads))]
    runs: list[AppRun] = []
    with one_core() as pinned:
        # No `except` here: a real application that fails to build or to answer must fail the benchmark.
        asyncio.run(_real_app_run(engine, settings, warm))
        seconds, sent = asyncio.run(_real_app_run(engine, settings, payloads))
        runs.append(AppRun("real application (bot/telegram/app.py handlers)", updates, seconds, sent))
        asyncio.run(_bench_handler_run(engine, links, warm))
        seconds, sent = asyncio.run(_bench_handler_run(engine, links, payloads))
        runs.append(AppRun("minimal handler (engine.answer + render_html + reply_text)", updates, seconds, sent))
        seconds, sent = asyncio.run(_bench_handler_run(None, links, payloads))
        runs.append(AppRun("echo handler (the framework alone)", updates, seconds, sent))
    return AppFigures(tuple(runs), pinned)
