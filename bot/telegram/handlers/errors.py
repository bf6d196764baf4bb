"""The error handler: log the exception with the update id (logs.RedactSecrets keeps the token out of
it), and tell the user something went wrong only where a reply makes sense."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application

from bot.domain.render import escape
from bot.locales import t
from bot.telegram.context import Context, unreachable

logger = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    if update is None and unreachable(context.error):
        # Polling hiccups: PTB retries with backoff, a traceback per attempt would only be noise.
        logger.warning("Telegram is unreachable, retrying: %s", context.error)
        return
    logger.error("error while handling update %s", update_id, exc_info=context.error)
    # Blocked by the user, or Telegram unreachable: a reply would fail the same way.
    if not isinstance(update, Update) or isinstance(context.error, Forbidden) or unreachable(context.error):
        return
    try:
        await _tell_user(update, context)
    except TelegramError as exc:
        logger.warning("could not report an error to the user (update %s): %s", update_id, exc)


async def _tell_user(update: Update, context: Context) -> None:
    try:
        lang = context.ui_language
    except Exception:  # the store itself may be what failed
        lang = "en"
    text = t(lang, "error")
    if update.callback_query is not None:
        await update.callback_query.answer(text)  # fails harmlessly if it was answered already
        return
    message = update.message  # not edited messages or channel posts: nobody asked anything there
    if message is None or update.inline_query is not None:
        return
    # In a group only a message addressed to the bot reaches a handler, so a reply is expected there too.
    quote = message.chat.type != ChatType.PRIVATE
    await message.reply_text(escape(text), do_quote=quote)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_error_handler(on_error)
