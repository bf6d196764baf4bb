"""Private chats: /start (with an optional deep link), /help, /lang, questions, and everything else.

/start, /help and /lang also work in groups (addressed as /cmd@BotName), where replies are quoted.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.domain.content import Article
from bot.domain.engine import SectionRef
from bot.domain.render import escape
from bot.locales import t
from bot.telegram.context import Context, Outcome, observed
from bot.telegram.keyboards import language_keyboard, topics_keyboard
from bot.telegram.replies import answer_question, reply, send_section, thread_of, within_limit
from bot.telegram.updates import NEW_MESSAGE, PRIVATE

MAX_TOPIC_BUTTONS = 20
_DEEP_LINK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what Telegram allows in a start parameter


@observed("start")
async def start(update: Update, context: Context) -> Outcome:
    svc = context.services
    user = update.effective_user
    message = update.effective_message
    assert message is not None  # guaranteed by the handler's filters
    pinned, ui_lang, lang = context.pinned_language, context.ui_language, context.content_language
    if not await within_limit(update, context, ui_lang):
        return Outcome()
    payload = context.args[0] if context.args else ""
    article = _article_for(context, payload, lang) if _DEEP_LINK.match(payload) else None
    if article is not None:  # a deep link (t.me/<bot>?start=<slug>): open the article
        quoted = message if message.chat.type != ChatType.PRIVATE else None
        ref = SectionRef(article, article.sections[0])
        await send_section(context, message.chat_id, ref, reply_to=quoted, thread_id=thread_of(message))
        return Outcome(language=article.lang, answered=True)
    name = f", {user.first_name}" if user and user.first_name else ""
    text = escape(t(ui_lang, "greeting", name=name, topics=svc.topics_text(lang)))
    # A user whose own language the content lacks is offered the languages it has.
    has_own = pinned or svc.resolve(user.language_code if user else None)
    others = [] if has_own else [code for code in svc.engine.library.languages if code != lang]
    topics = svc.engine.topics(lang, limit=MAX_TOPIC_BUTTONS)
    await reply(update, context, text, keyboard=topics_keyboard(topics, others))
    return Outcome(language=ui_lang)


def _article_for(context: Context, slug: str, lang: str) -> Article | None:
    """The article in the user's language, else in the default language, else any translation."""
    svc = context.services
    translations = svc.engine.library.translations(slug)
    if not translations:
        return None
    for candidate in (lang, svc.resolve(svc.settings.default_language)):
        if candidate in translations:
            return translations[candidate]
    return translations[sorted(translations)[0]]


@observed("help")
async def help_command(update: Update, context: Context) -> Outcome:
    if not await within_limit(update, context, context.ui_language):
        return Outcome()
    return await _send_help(update, context)


async def _send_help(update: Update, context: Context) -> Outcome:
    svc, ui_lang = context.services, context.ui_language
    text = t(
        ui_lang, "help", topics=svc.topics_text(context.content_language), bot=svc.bot_username or context.bot.username
    )
    if svc.is_admin(update.effective_user):  # admins also learn their commands
        text += "\n\n" + t(ui_lang, "help_admin")
    await reply(update, context, escape(text))
    return Outcome(language=ui_lang)


@observed("lang")
async def lang_command(update: Update, context: Context) -> Outcome:
    ui_lang = context.ui_language
    if not await within_limit(update, context, ui_lang):
        return Outcome()
    keyboard = language_keyboard(context.services.engine.library.languages, context.pinned_language, ui_lang)
    await reply(update, context, escape(t(ui_lang, "choose_language")), keyboard=keyboard)
    return Outcome(language=ui_lang)


@observed("question")
async def question(update: Update, context: Context) -> Outcome:
    message = update.effective_message
    assert message is not None
    return await answer_question(update, context, message.text or "", reply_to=None, compact=False)


@observed("non_text")
async def non_text(update: Update, context: Context) -> Outcome:
    """Stickers, photos, voice, documents from non-admins...: a short hint, within the flood limit."""
    ui_lang = context.ui_language
    if await within_limit(update, context, ui_lang):
        await reply(update, context, escape(t(ui_lang, "non_text")))
    return Outcome(language=ui_lang)


@observed("unknown_command")
async def unknown_command(update: Update, context: Context) -> Outcome:
    """A command the bot does not have: the help says which it has."""
    if not await within_limit(update, context, context.ui_language):
        return Outcome()
    return await _send_help(update, context)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start, filters=NEW_MESSAGE))
    app.add_handler(CommandHandler("help", help_command, filters=NEW_MESSAGE))
    app.add_handler(CommandHandler("lang", lang_command, filters=NEW_MESSAGE))


def register_fallbacks(app: Application) -> None:  # type: ignore[type-arg]
    """After the admin and group handlers: plain text, unknown commands, then anything else."""
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, question))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, non_text))
