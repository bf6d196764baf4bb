"""Inline keyboard presses, in any chat: open a section, pin a language, give feedback.

Every press is answered exactly once (answerCallbackQuery), so the client's spinner always stops; a
button from an older format or for content that is gone says so instead of failing.
"""

from __future__ import annotations

import sqlite3

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler

from bot.domain.render import escape
from bot.locales import language_name, t
from bot.telegram.context import Context, Outcome, Services, observed
from bot.telegram.keyboards import Feedback, OpenSection, SetLanguage, decode, is_feedback_row, topics_keyboard
from bot.telegram.replies import send_section, thread_of, unless_unchanged, within_limit


def _accessible(query: CallbackQuery) -> Message | None:
    """The message under which the button was, if the bot can still see it."""
    return query.message if isinstance(query.message, Message) else None


@observed("button")
async def on_button(update: Update, context: Context) -> Outcome:
    query = update.callback_query
    assert query is not None
    svc, ui_lang = context.services, context.ui_language
    action = decode(query.data, svc.engine.library.slugs)
    if isinstance(action, OpenSection):
        return await _open_section(update, context, query, action, ui_lang)
    if isinstance(action, SetLanguage):
        return await _set_language(svc, query, action, ui_lang)
    if isinstance(action, Feedback):
        return await _feedback(svc, query, action, ui_lang)
    await query.answer(t(ui_lang, "button_expired"))
    return Outcome(language=ui_lang)


async def _open_section(
    update: Update, context: Context, query: CallbackQuery, action: OpenSection, ui_lang: str
) -> Outcome:
    svc = context.services
    ref = svc.engine.section(action.slug, action.lang, action.index)
    if ref is None or query.message is None:  # content changed, or a button on an inline message
        await query.answer(t(ui_lang, "button_expired"))
        return Outcome(language=ui_lang)
    if not await within_limit(update, context, ui_lang):
        return Outcome(language=ui_lang)
    await query.answer()
    message = _accessible(query)
    await send_section(context, query.message.chat.id, ref, thread_id=thread_of(message))
    return Outcome(language=ref.article.lang, answered=True)


async def _set_language(svc: Services, query: CallbackQuery, action: SetLanguage, ui_lang: str) -> Outcome:
    lang = action.lang
    if lang is not None and lang not in svc.engine.library.languages:
        await query.answer(t(ui_lang, "button_expired"))
        return Outcome(language=ui_lang)
    if lang:
        svc.store.set_language(query.from_user.id, lang)
    else:
        svc.store.clear_language(query.from_user.id)
    ui_lang = svc.ui_language(query.from_user, lang)
    text = t(ui_lang, "language_set", language=language_name(lang)) if lang else t(ui_lang, "language_cleared")
    message = _accessible(query)
    if message is None or message.chat.type != ChatType.PRIVATE:
        await query.answer(text)  # in a group the message is everyone's: do not rewrite it
        return Outcome(language=ui_lang)
    await query.answer()
    content_lang = svc.content_language(query.from_user, lang)
    keyboard = topics_keyboard(svc.engine.topics(content_lang))
    with unless_unchanged():  # the same choice twice
        await query.edit_message_text(escape(text), reply_markup=keyboard)
    return Outcome(language=ui_lang)


async def _feedback(svc: Services, query: CallbackQuery, action: Feedback, ui_lang: str) -> Outcome:
    try:
        recorded = svc.store.record_feedback(action.question_id, query.from_user.id, action.helpful)
    except sqlite3.Error:
        recorded = False
    await query.answer(t(ui_lang, "feedback_thanks" if recorded else "button_expired"))
    message = _accessible(query)
    # In a private chat the vote is done: drop the 👍/👎 row. In a group others may still vote.
    if recorded and message is not None and message.chat.type == ChatType.PRIVATE and message.reply_markup:
        rows = [list(row) for row in message.reply_markup.inline_keyboard if not is_feedback_row(row)]
        with unless_unchanged():
            await query.edit_message_reply_markup(InlineKeyboardMarkup(rows) if rows else None)
    return Outcome(language=ui_lang, answered=recorded)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(on_button))
