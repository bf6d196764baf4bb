"""Admin commands: /reload, /stats, /declined, and `.md` uploads in a private chat.

Who is an admin is decided by numeric user id (ADMIN_USER_IDS) only. Reloads and uploads run in a
thread and as non-blocking handlers, so questions keep being answered (from the old content) meanwhile.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.domain.content import ContentError
from bot.domain.engine import LoadReport
from bot.domain.render import escape, pack
from bot.locales import t
from bot.store import declined_csv
from bot.telegram.context import Context, Outcome, Services, observed, services
from bot.telegram.handlers.teach import stats_lines as taught_stats_lines
from bot.telegram.replies import reply, send_html, thread_of
from bot.telegram.uploads import UploadRejected, install, safe_name

NEW_MESSAGE = filters.UpdateType.MESSAGE
PRIVATE = filters.ChatType.PRIVATE & NEW_MESSAGE


def _ui(svc: Services, update: Update) -> str:
    user = update.effective_user
    return svc.ui_language(user, svc.pinned_language(user))


async def _refuse(update: Update, context: Context, ui_lang: str) -> Outcome:
    await reply(update, context, escape(t(ui_lang, "admin_only")))
    return Outcome(language=ui_lang)


def _report_values(report: LoadReport) -> dict[str, str | int]:
    return {
        "articles": report.articles,
        "languages": len(report.languages),
        "sections": report.sections,
        "seconds": f"{report.seconds:.2f}",
    }


async def _send_problems(update: Update, context: Context, heading: str, error: ContentError) -> None:
    """Each problem as `path:line: message`, split over as many messages as needed."""
    message = update.effective_message
    assert message is not None
    fragments = [escape(heading)] + [f"• <code>{escape(str(problem))}</code>" for problem in error.problems]
    await send_html(context, message.chat_id, pack(fragments, separator="\n"), thread_id=thread_of(message))


@observed("reload")
async def reload_content(update: Update, context: Context) -> Outcome:
    svc = services(context)
    ui_lang = _ui(svc, update)
    if not svc.is_admin(update.effective_user):
        return await _refuse(update, context, ui_lang)
    try:
        report = await asyncio.to_thread(svc.engine.reload)  # all or nothing, off the event loop
    except ContentError as exc:
        await _send_problems(update, context, t(ui_lang, "reload_failed"), exc)
        return Outcome(language=ui_lang, answered=False)
    await reply(update, context, escape(t(ui_lang, "reload_ok", **_report_values(report))))
    return Outcome(language=ui_lang, answered=True)


@observed("upload")
async def upload(update: Update, context: Context) -> Outcome:
    svc = services(context)
    ui_lang = _ui(svc, update)
    message = update.effective_message
    assert message is not None
    assert message.document is not None
    document = message.document
    name = document.file_name or ""
    if not svc.is_admin(update.effective_user):
        if name.lower().endswith(".md"):
            return await _refuse(update, context, ui_lang)
        await reply(update, context, escape(t(ui_lang, "non_text")))
        return Outcome(language=ui_lang)
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
async def stats(update: Update, context: Context) -> Outcome:
    svc = services(context)
    ui_lang = _ui(svc, update)
    if not svc.is_admin(update.effective_user):
        return await _refuse(update, context, ui_lang)
    figures = await asyncio.to_thread(svc.store.stats)
    lines = [
        escape(t(ui_lang, "stats_summary", total=figures.total_questions, answered=figures.answered_questions,
                 rate=f"{figures.answered_rate:.0%}", low=figures.low_confidence_questions,
                 up=figures.feedback_up, down=figures.feedback_down)),
    ]  # fmt: skip
    if figures.by_language:
        lines += ["", escape(t(ui_lang, "stats_by_language"))]
        lines += [f"• {escape(row.language)}: {row.questions} ({row.answered_rate:.0%})" for row in figures.by_language]
    if figures.top_declined:
        lines += ["", escape(t(ui_lang, "stats_top_declined"))]
        lines += [f"• {row.count}× {escape(row.normalized_text[:200])}" for row in figures.top_declined]
    lines += ["", *await asyncio.to_thread(taught_stats_lines, svc, ui_lang)]
    message = update.effective_message
    assert message is not None
    await send_html(context, message.chat_id, pack(lines, separator="\n"), thread_id=thread_of(message))
    return Outcome(language=ui_lang)


@observed("declined")
async def declined(update: Update, context: Context) -> Outcome:
    svc = services(context)
    ui_lang = _ui(svc, update)
    if not svc.is_admin(update.effective_user):
        return await _refuse(update, context, ui_lang)
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
