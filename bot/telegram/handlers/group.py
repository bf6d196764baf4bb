"""Group chats: the bot answers only what is addressed to it.

That is `/ask question` (or `/ask@BotName`; PTB's CommandHandler ignores commands for other bots), a
message that mentions the bot, or a reply to one of its messages: exactly what a bot in privacy mode
receives. Everything else matches no handler, so ordinary chatter costs no engine or database work.
Answers are compact and reply to the question's message.
"""

from __future__ import annotations

import re

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.domain.render import escape
from bot.locales import t
from bot.telegram.context import Context, Outcome, observed
from bot.telegram.replies import answer_question, reply
from bot.telegram.updates import GROUPS, NEW_MESSAGE


def _bot_identity(message: Message) -> tuple[int, str]:
    bot = message.get_bot()
    return bot.id, bot.username


class AddressedToBot(filters.MessageFilter):
    """A message that mentions this bot or replies to one of its messages."""

    def filter(self, message: Message) -> bool:
        try:
            return self._addressed(message)
        except RuntimeError:  # no bot attached / not initialized: an exception here would reach the
            return False  # error handler, which would then answer chatter that was never addressed to us

    @staticmethod
    def _addressed(message: Message) -> bool:
        bot_id, username = _bot_identity(message)
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
            return True
        mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        for entity, text in mentions.items():
            if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
                return True
            if entity.type == MessageEntity.MENTION and text[1:].lower() == username.lower():
                return True
        # Clients always send the entity; the text check keeps a message without one from being missed.
        return not mentions and mentions_bot(message.text or "", username)


def _mention(username: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@])@{re.escape(username)}(?!\w)", re.IGNORECASE)


def mentions_bot(text: str, username: str) -> bool:
    return bool(username) and _mention(username).search(text) is not None


def strip_mention(text: str, username: str) -> str:
    return _mention(username).sub(" ", text).strip() if username else text.strip()


def command_argument(message: Message) -> str:
    """The text after the command, newlines and punctuation kept (context.args splits on spaces)."""
    text = message.text or ""
    commands = message.parse_entities([MessageEntity.BOT_COMMAND])
    first = min(commands, key=lambda entity: entity.offset, default=None)
    if first is None or first.offset != 0:
        return text.strip()
    return text[len(commands[first]) :].strip()


@observed("ask")
async def ask(update: Update, context: Context) -> Outcome:
    message = update.effective_message
    assert message is not None
    compact = message.chat.type != ChatType.PRIVATE
    question = command_argument(message)
    target: Message | None = message
    if not question:
        # A bare /ask in reply to someone's message answers that message.
        replied = message.reply_to_message
        bot_id, _ = _bot_identity(message)
        from_bot = replied is not None and replied.from_user is not None and replied.from_user.id == bot_id
        if replied is not None and not from_bot and (replied.text or replied.caption):
            question, target = replied.text or replied.caption or "", replied
        else:
            await reply(update, context, escape(t(context.ui_language, "ask_usage")))
            return Outcome()
    return await answer_question(update, context, question, reply_to=target if compact else None, compact=compact)


@observed("mention")
async def addressed(update: Update, context: Context) -> Outcome:
    message = update.effective_message
    assert message is not None
    _, username = _bot_identity(message)
    question = strip_mention(message.text or "", username)
    return await answer_question(update, context, question, reply_to=message, compact=True)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("ask", ask, filters=NEW_MESSAGE))
    app.add_handler(MessageHandler(GROUPS & filters.TEXT & ~filters.COMMAND & AddressedToBot(), addressed))
