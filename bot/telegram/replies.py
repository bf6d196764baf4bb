"""Sending answers: one flow for private chats, groups and buttons.

Every text that reaches Telegram is HTML we built: content through the domain renderer, our own strings
through `escape`. The user's question is never echoed, so HTML in it cannot break (or inject into) a reply.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from telegram import InlineKeyboardMarkup, Message, ReplyParameters, Update, User
from telegram.constants import ChatType
from telegram.error import BadRequest

from bot.domain.engine import Answer, AnswerEngine, SectionRef
from bot.domain.render import escape, render_html, section_html
from bot.locales import t
from bot.store import MAX_QUESTION_CHARS
from bot.telegram.context import Context, Outcome, Services, chat_kind
from bot.telegram.keyboards import answer_keyboard, section_keyboard
from bot.telegram.ratelimit import Decision

logger = logging.getLogger(__name__)

# Only the first MAX_QUESTION_CHARS of a question are looked at: Telegram allows 4,096 characters, a
# question is never that long, and language detection costs grow with the text.


@contextmanager
def unless_unchanged() -> Iterator[None]:
    """An edit to what the message already shows: Telegram refuses it ("message is not modified"), and
    there is nothing left to do."""
    try:
        yield
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def thread_of(message: Message | None) -> int | None:
    """Replies stay in the forum topic the message came from (as Message.reply_text does)."""
    return message.message_thread_id if message is not None and message.is_topic_message else None


async def send_html(
    context: Context,
    chat_id: int,
    messages: list[str],
    *,
    keyboard: InlineKeyboardMarkup | None = None,
    reply_to: Message | None = None,
    thread_id: int | None = None,
) -> Message | None:
    """Send messages in order: the first replies to `reply_to`, the last carries the keyboard."""
    sent: Message | None = None
    for position, text in enumerate(messages):
        last = position == len(messages) - 1
        reply = (
            ReplyParameters(reply_to.message_id, allow_sending_without_reply=True)
            if reply_to is not None and position == 0
            else None
        )
        sent = await context.bot.send_message(
            chat_id,
            text,
            reply_markup=keyboard if last else None,
            reply_parameters=reply,
            message_thread_id=thread_id,
        )
    return sent


async def reply(
    update: Update, context: Context, text: str, *, keyboard: InlineKeyboardMarkup | None = None
) -> Message | None:
    """A short reply to the update's message: quoted in groups, plain in a private chat."""
    message = update.effective_message
    if message is None:
        return None
    quoted = message if message.chat.type != ChatType.PRIVATE else None
    return await send_html(
        context, message.chat_id, [text], keyboard=keyboard, reply_to=quoted, thread_id=thread_of(message)
    )


async def within_limit(update: Update, context: Context, ui_lang: str) -> bool:
    """Per-user flood control; the first refusal in a stretch is explained, later ones are silent."""
    user = update.effective_user
    if user is None:
        return True
    decision = context.services.limiter.check(user.id)
    if decision is Decision.ALLOW:
        return True
    text = t(ui_lang, "rate_limited") if decision is Decision.WARN else None
    if update.callback_query is not None:
        await update.callback_query.answer(text)  # always answered, or the button keeps spinning
    elif text is not None:
        await reply(update, context, escape(text))
    return False


async def answer_question(
    update: Update, context: Context, question: str, *, reply_to: Message | None, compact: bool
) -> Outcome:
    """Answer `question`, log it, and send the answer with its buttons to the update's chat."""
    svc = context.services
    user = update.effective_user
    message = update.effective_message
    if message is None:
        return Outcome()
    pinned, ui_lang = context.pinned_language, context.ui_language
    question = question.strip()[:MAX_QUESTION_CHARS]
    if not question:
        await reply(update, context, escape(t(ui_lang, "non_text")))
        return Outcome(language=ui_lang)
    if not await within_limit(update, context, ui_lang):
        return Outcome(language=ui_lang)
    code = user.language_code if user else None
    # In a thread: a long question's language detection would otherwise hold up every other update.
    answer = await asyncio.to_thread(answer_for, svc.engine, question, pinned, code)
    question_id = log_question(svc, update, user, answer)
    messages = render_html(answer, svc.links())
    if compact:
        messages = messages[:1]  # a group gets one short message, not a wall of text
    keyboard = answer_keyboard(answer, svc.engine.library, answer.ui_language, question_id, compact=compact)
    await send_html(
        context, message.chat_id, messages, keyboard=keyboard, reply_to=reply_to, thread_id=thread_of(message)
    )
    return Outcome(answer.language, answer.answered, answer.score)


def answer_for(engine: AnswerEngine, question: str, pinned: str | None, language_code: str | None) -> Answer:
    """The engine's answer, in the pinned language when there is one (see AnswerEngine.answer)."""
    return engine.answer(question, lang=pinned, hints=(language_code,))


def log_question(svc: Services, update: Update, user: User | None, answer: Answer) -> int | None:
    """Record the outcome; a broken database must not cost the user the answer."""
    try:
        question_id = svc.store.log_question(
            user_id=user.id if user else None,
            chat_kind=chat_kind(update) or "unknown",
            language=answer.language,
            question=answer.question,
            answered=answer.answered,
            score=answer.score,
            article=answer.article.slug if answer.article else None,
            heading=answer.section.heading if answer.section else None,
            low_confidence=answer.low_confidence,
        )
        if answer.phrasing is not None and answer.phrasing.id is not None:  # /stats: what teaching achieved
            svc.store.count_phrasing_use(answer.phrasing.id)
    except sqlite3.Error:
        logger.warning("could not log a question", exc_info=True)
        return None
    return question_id


async def send_section(
    context: Context,
    chat_id: int,
    ref: SectionRef,
    *,
    reply_to: Message | None = None,
    thread_id: int | None = None,
) -> Message | None:
    """A whole section, with the article's other sections and translations as buttons."""
    svc = context.services
    messages = section_html(ref, svc.links())
    keyboard = section_keyboard(ref, svc.engine.library)
    return await send_html(context, chat_id, messages, keyboard=keyboard, reply_to=reply_to, thread_id=thread_id)
