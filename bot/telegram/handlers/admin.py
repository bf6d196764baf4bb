"""Admin commands: /reload, /stats, /declined, and `.md` uploads in a private chat.

Who is an admin is decided by numeric user id (ADMIN_USER_IDS) only. Reloads and uploads run in a
thread and as non-blocking handlers, so questions keep being answered (from the old content) meanwhile.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Document, Message, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.domain.content import ContentError
from bot.domain.engine import AnswerEngine, LoadReport
from bot.domain.render import escape, pack
from bot.domain.uploads import UploadRejected, install, safe_name
from bot.locales import t
from bot.store import declined_csv
from bot.telegram.context import Context, Outcome, observed
from bot.telegram.guards import admin_only, admin_only_else, refuse
from bot.telegram.handlers.teach import stats_lines as taught_stats_lines
from bot.telegram.replies import reply, send_html, thread_of
from bot.telegram.updates import NEW_MESSAGE, PRIVATE


def _meaning_line(engine: AnswerEngine, ui_lang: str) -> str:
    """Whether answers use the embedding model: ready, still computing, or off and why."""
    status = engine.semantic.status
    if not status.enabled:
        return t(ui_lang, "stats_semantic_off", reason=status.detail)
    progress = engine.semantic_progress()
    if engine.mode == "hybrid" or progress is None:
        return t(ui_lang, "stats_semantic_on", model=status.detail)
    return t(ui_lang, "stats_semantic_pending", done=f"{progress.done:,}", total=f"{progress.total:,}")


def _report_values(report: LoadReport) -> dict[str, str | int]:
    return {
        "articles": report.articles,
        "languages": len(report.languages),
        "sections": report.sections,
        "seconds": f"{report.seconds:.2f}",
    }


async def _send_lines(update: Update, context: Context, lines: list[str]) -> None:
    """HTML lines to the update's chat, packed into as few messages as fit."""
    message = update.effective_message
    assert message is not None
    await send_html(context, message.chat_id, pack(lines, separator="\n"), thread_id=thread_of(message))


async def _send_problems(update: Update, context: Context, heading: str, error: ContentError) -> None:
    """Each problem as `path:line: message`, split over as many messages as needed."""
    fragments = [escape(heading)] + [f"• <code>{escape(str(problem))}</code>" for problem in error.problems]
    await _send_lines(update, context, fragments)


@observed("reload")
@admin_only
async def reload_content(update: Update, context: Context) -> Outcome:
    svc, ui_lang = context.services, context.ui_language
    try:
        report = await asyncio.to_thread(svc.engine.reload)  # all or nothing, off the event loop
    except ContentError as exc:
        await _send_problems(update, context, t(ui_lang, "reload_failed"), exc)
        return Outcome(language=ui_lang, answered=False)
    await reply(update, context, escape(t(ui_lang, "reload_ok", **_report_values(report))))
    return Outcome(language=ui_lang, answered=True)


def _document(update: Update) -> tuple[Message, Document]:
    message = update.effective_message
    assert message is not None
    assert message.document is not None  # guaranteed by the handler's filter
    return message, message.document


async def _stranger_document(update: Update, context: Context) -> Outcome:
    """Not an admin: an article upload is refused, any other document gets the hint non-admins get."""
    _, document = _document(update)
    if (document.file_name or "").lower().endswith(".md"):
        return await refuse(update, context)
    await reply(update, context, escape(t(context.ui_language, "non_text")))
    return Outcome(language=context.ui_language)


@observed("upload")
@admin_only_else(_stranger_document)
async def upload(update: Update, context: Context) -> Outcome:
    svc, ui_lang = context.services, context.ui_language
    _, document = _document(update)
    name = document.file_name or ""
    limit = svc.settings.max_upload_bytes

    async def reject(reason: str, **values: object) -> Outcome:
        text = t(ui_lang, "upload_rejected", reason=t(ui_lang, reason, **values))
        await reply(update, context, escape(text))
        return Outcome(language=ui_lang, answered=False)

    try:
        name = safe_name(name)
    except UploadRejected as exc:
        return await reject(exc.reason)
    if document.file_size is not None and document.file_size > limit:
        return await reject("upload_too_big", limit=f"{limit:,}")  # refused before downloading it
    telegram_file = await document.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    if len(data) > limit:
        return await reject("upload_too_big", limit=f"{limit:,}")
    try:
        installed = await asyncio.to_thread(install, svc.engine, name, data)
    except UploadRejected as exc:
        return await reject(exc.reason)
    except ContentError as exc:
        heading = t(ui_lang, "upload_rejected", reason=t(ui_lang, "upload_invalid"))
        await _send_problems(update, context, heading, exc)
        return Outcome(language=ui_lang, answered=False)
    values = _report_values(installed.report)
    text = t(ui_lang, "upload_saved", name=installed.path.as_posix(), **values)
    await reply(update, context, escape(text))
    return Outcome(language=ui_lang, answered=True)


@observed("stats")
@admin_only
async def stats(update: Update, context: Context) -> Outcome:
    svc, ui_lang = context.services, context.ui_language
    figures = await asyncio.to_thread(svc.store.stats)
    lines = [
        escape(
            t(
                ui_lang,
                "stats_summary",
                total=figures.total_questions,
                answered=figures.answered_questions,
                rate=f"{figures.answered_rate:.0%}",
                low=figures.low_confidence_questions,
                up=figures.feedback_up,
                down=figures.feedback_down,
            )
        ),
    ]
    if figures.by_language:
        lines += ["", escape(t(ui_lang, "stats_by_language"))]
        lines += [f"• {escape(row.language)}: {row.questions} ({row.answered_rate:.0%})" for row in figures.by_language]
    if figures.top_declined:
        lines += ["", escape(t(ui_lang, "stats_top_declined"))]
        lines += [f"• {row.count}× {escape(row.normalized_text[:200])}" for row in figures.top_declined]
    lines += ["", *await asyncio.to_thread(taught_stats_lines, svc, ui_lang)]
    lines += ["", escape(_meaning_line(svc.engine, ui_lang))]
    if svc.store.startup_problem:  # the store was found damaged at start-up and replaced
        lines += ["", "⚠️ " + escape(t(ui_lang, "stats_store_problem", problem=svc.store.startup_problem))]
    await _send_lines(update, context, lines)
    return Outcome(language=ui_lang)


@observed("declined")
@admin_only
async def declined(update: Update, context: Context) -> Outcome:
    svc, ui_lang = context.services, context.ui_language
    rows = await asyncio.to_thread(svc.store.export_declined)
    # A byte-order mark makes spreadsheet programs read the (often non-Latin) questions as UTF-8.
    data = declined_csv(rows).encode("utf-8-sig")
    message = update.effective_message
    assert message is not None
    await message.reply_document(
        document=data,
        filename=f"declined-{datetime.now(UTC):%Y%m%d}.csv",
        caption=escape(t(ui_lang, "declined_caption", count=len(rows))),
        do_quote=False,
    )
    return Outcome(language=ui_lang)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("reload", reload_content, filters=NEW_MESSAGE, block=False))
    # Private only: the report holds users' questions, which do not belong in a group.
    app.add_handler(CommandHandler("stats", stats, filters=PRIVATE))
    app.add_handler(CommandHandler("declined", declined, filters=PRIVATE))
    app.add_handler(MessageHandler(PRIVATE & filters.Document.ALL, upload, block=False))
