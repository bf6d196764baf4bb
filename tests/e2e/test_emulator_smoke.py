"""Proves the emulator layer works with the real python-telegram-bot: polling, replies, buttons, groups,
inline queries, 429s, an API restart and webhooks, each with no error inside PTB."""

import asyncio
import html
import socket
import time

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from .harness import (
    BotErrors,
    EmulatorServer,
    TelegramUser,
    app_builder,
    group_chat,
    polling,
    private_chat,
)

Context = ContextTypes.DEFAULT_TYPE


class EchoBot:
    """A tiny bot: echoes text (HTML), offers a button on /start, answers inline queries."""

    def __init__(self, emulator: EmulatorServer, token: str, errors: BotErrors, *, rate_limiter: bool = False) -> None:
        builder = app_builder(emulator, token).defaults(Defaults(parse_mode=ParseMode.HTML))
        if rate_limiter:
            builder = builder.rate_limiter(AIORateLimiter(max_retries=2))
        self.app = builder.post_init(self.post_init).build()
        self.seen: list[Update] = []
        self.app.add_handler(CommandHandler("start", self.start))
        self.app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.echo))
        self.app.add_handler(CallbackQueryHandler(self.button))
        self.app.add_handler(InlineQueryHandler(self.inline))
        self.errors = errors.attach(self.app)

    async def post_init(self, app: Application) -> None:  # type: ignore[type-arg]
        await app.bot.set_my_commands([BotCommand("start", "Start")])
        await app.bot.set_my_commands([BotCommand("start", "Начать")], language_code="ru")
        await app.bot.set_my_commands([BotCommand("start", "Start")], scope=BotCommandScopeAllGroupChats())

    async def start(self, update: Update, _context: Context) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
        await update.message.reply_text("<b>Welcome!</b>", reply_markup=keyboard)

    async def echo(self, update: Update, _context: Context) -> None:
        assert update.message is not None
        assert update.message.text is not None
        self.seen.append(update)
        await update.message.reply_text(f"You said: <i>{html.escape(update.message.text)}</i>")

    async def button(self, update: Update, _context: Context) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Noted")
        await query.edit_message_text(f"You chose <b>{query.data}</b>")

    async def inline(self, update: Update, _context: Context) -> None:
        assert update.inline_query is not None
        query = update.inline_query.query
        content = InputTextMessageContent(f"<b>{html.escape(query)}</b>")
        await update.inline_query.answer([InlineQueryResultArticle("1", f"Echo {query}", content)])


async def test_message_gets_an_html_echo(
    emulator: EmulatorServer, telegram_user: TelegramUser, bot_errors: BotErrors
) -> None:
    bot = EchoBot(emulator, telegram_user.token, bot_errors)
    chat = private_chat(language_code="ru")
    async with polling(bot.app):
        await telegram_user.send_text(chat, "hello <there>")
        reply = await telegram_user.wait_for_reply(chat.id)

    assert reply["text"] == "You said: <i>hello &lt;there&gt;</i>"
    assert reply["parse_mode"] == "HTML"
    assert reply.message["text"] == "You said: hello <there>"  # the emulator parsed the HTML as Telegram does
    assert bot.seen[0].effective_user is not None
    assert bot.seen[0].effective_user.language_code == "ru"
    commands = [call["params"] for call in await telegram_user.bot_calls("setMyCommands")]
    assert [(c.get("language_code"), c.get("scope")) for c in commands] == [
        (None, None),
        ("ru", None),
        (None, {"type": "all_group_chats"}),
    ]
    bot.errors.assert_clean()


async def test_button_press_reaches_the_callback_handler(
    emulator: EmulatorServer, telegram_user: TelegramUser, bot_errors: BotErrors
) -> None:
    bot = EchoBot(emulator, telegram_user.token, bot_errors)
    chat = private_chat()
    async with polling(bot.app):
        await telegram_user.send_command(chat, "/start")
        welcome = await telegram_user.wait_for_reply(chat.id)
        assert welcome.buttons == [[{"text": "Yes", "callback_data": "yes"}]]
        await telegram_user.press_button(welcome, "yes")
        answer = await telegram_user.wait_for_call("answerCallbackQuery")
        edit = await telegram_user.wait_for_call("editMessageText")

    assert answer["text"] == "Noted"
    assert edit["message_id"] == welcome.message["message_id"]
    assert edit.message["text"] == "You chose yes"
    bot.errors.assert_clean()  # edits answer a Message, so PTB did not choke on the emulator's null


async def test_group_messages_keep_the_group_chat_type(
    emulator: EmulatorServer, telegram_user: TelegramUser, bot_errors: BotErrors
) -> None:
    bot = EchoBot(emulator, telegram_user.token, bot_errors)
    chat = group_chat()
    async with polling(bot.app):
        sent = await telegram_user.send_text(chat, "hi all")
        reply = await telegram_user.wait_for_reply(chat.id)

    assert bot.seen[0].effective_chat is not None
    assert bot.seen[0].effective_chat.type == "group"
    assert reply.message["chat"]["type"] == "group"
    # PTB quotes in groups by default; the emulator resolves the quoted message like Telegram.
    assert reply["reply_parameters"]["message_id"] == sent["message_id"]
    assert reply.message["reply_to_message"]["text"] == "hi all"
    bot.errors.assert_clean()


async def test_injected_inline_query_is_answered(
    emulator: EmulatorServer, telegram_user: TelegramUser, bot_errors: BotErrors
) -> None:
    bot = EchoBot(emulator, telegram_user.token, bot_errors)
    async with polling(bot.app):
        query = await telegram_user.send_inline_query(private_chat().member, "pricing")
        answer = await telegram_user.wait_for_call("answerInlineQuery")

    assert answer["inline_query_id"] == query["id"]
    assert answer["results"][0]["title"] == "Echo pricing"
    bot.errors.assert_clean()


# PTB's own AIORateLimiter reads RetryAfter.retry_after, which warns about a future type change.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_on_send_message_is_retried(
    emulator: EmulatorServer, telegram_user: TelegramUser, bot_errors: BotErrors
) -> None:
    bot = EchoBot(emulator, telegram_user.token, bot_errors, rate_limiter=True)
    chat = private_chat()
    await telegram_user.faults({"method": "sendMessage", "kind": "429", "count": 1, "retry_after": 1})
    async with polling(bot.app):
        started = time.monotonic()
        await telegram_user.send_text(chat, "are you there?")
        reply = await telegram_user.wait_for_reply(chat.id)
        elapsed = time.monotonic() - started
        await telegram_user.assert_no_reply(chat.id)

    assert reply["text"] == "You said: <i>are you there?</i>"
    assert elapsed >= 1.0  # PTB waited for retry_after
    outcomes = [(c["ok"], c.get("error")) for c in await telegram_user.bot_calls("sendMessage")]
    assert outcomes == [(False, "fault: 429"), (True, None)]  # the refused attempt was not delivered
    bot.errors.assert_clean()


async def test_polling_survives_an_emulator_restart(bot_errors: BotErrors) -> None:
    # Its own emulator: restarting the session one would disturb other tests.
    with EmulatorServer() as emulator:
        async with TelegramUser(emulator) as user:
            bot = EchoBot(emulator, user.token, bot_errors)
            chat = private_chat()
            async with polling(bot.app, poll_timeout=2):
                await user.send_text(chat, "before")
                assert (await user.wait_for_reply(chat.id))["text"] == "You said: <i>before</i>"

                emulator.stop()
                await asyncio.sleep(0.5)  # PTB's held getUpdates fails; it backs off and retries
                emulator.start()
                await user.send_text(chat, "after")
                after = await user.wait_for_reply(chat.id, timeout=10)
                await user.assert_no_reply(chat.id, within=0.5)

            assert after["text"] == "You said: <i>after</i>"
            # The new process only knows what happened since the restart: one reply, to "after" only.
            assert [c["params"]["text"] for c in await user.bot_calls("sendMessage")] == [after["text"]]
            assert bot.errors.polling_errors(), "the bot should have noticed the API going away"
            bot.errors.assert_clean(allow_polling_errors=True)


async def test_injected_updates_of_other_kinds_reach_ptb(
    emulator: EmulatorServer, telegram_user: TelegramUser, bot_errors: BotErrors
) -> None:
    app = app_builder(emulator, telegram_user.token).build()
    received: list[Update] = []
    all_received = asyncio.Event()

    async def collect(update: Update, _context: Context) -> None:
        received.append(update)
        if len(received) == 3:
            all_received.set()

    app.add_handler(TypeHandler(Update, collect))
    bot_errors.attach(app)
    chat = private_chat()
    sender = chat.member.to_api()
    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
    async with polling(app):
        # message_id and date are filled in by the emulator when missing.
        await telegram_user.inject_update({"edited_message": {"chat": chat.to_api(), "from": sender, "text": "typo"}})
        await telegram_user.inject_update({"message": {"chat": chat.to_api(), "from": sender, "photo": photo}})
        channel = {"id": -1001234, "type": "channel", "title": "News"}
        await telegram_user.inject_update({"channel_post": {"chat": channel, "text": "post"}})
        await asyncio.wait_for(all_received.wait(), timeout=5)

    edited, with_photo, post = received
    assert edited.edited_message is not None
    assert edited.edited_message.text == "typo"
    assert with_photo.message is not None
    assert with_photo.message.photo[0].file_id == "p1"
    assert post.channel_post is not None
    assert post.channel_post.chat.type == "channel"
    bot_errors.assert_clean()


async def test_bot_errors_catch_a_handler_that_crashes_after_replying(
    emulator: EmulatorServer, telegram_user: TelegramUser, bot_errors: BotErrors
) -> None:
    """The trap the emulator notes warn about: the reply arrives, yet the handler failed."""
    app = app_builder(emulator, telegram_user.token).build()

    async def reply_then_crash(update: Update, _context: Context) -> None:
        assert update.message is not None
        await update.message.reply_text("partial answer")
        raise RuntimeError("crashed after replying")

    app.add_handler(MessageHandler(filters.TEXT, reply_then_crash))
    bot_errors.attach(app)
    chat = private_chat()
    async with polling(app):
        await telegram_user.send_text(chat, "hi")
        await telegram_user.wait_for_reply(chat.id)
        await asyncio.sleep(0.1)  # the error handler runs after the reply went out

    with pytest.raises(AssertionError, match="crashed after replying"):
        bot_errors.assert_clean()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_delivery_carries_the_secret_token(
    emulator: EmulatorServer, telegram_user: TelegramUser, bot_errors: BotErrors
) -> None:
    # PTB's webhook server answers 403 to a post without the right secret header, so a reply proves it.
    bot = EchoBot(emulator, telegram_user.token, bot_errors)
    chat = private_chat()
    port = free_port()
    await bot.app.initialize()
    try:
        assert bot.app.updater is not None
        await bot.app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="s3cret-token",
        )
        await bot.app.start()
        await telegram_user.send_text(chat, "via webhook")
        reply = await telegram_user.wait_for_reply(chat.id)
    finally:
        await bot.app.updater.stop()  # type: ignore[union-attr]
        await bot.app.stop()
        await bot.app.shutdown()

    assert reply["text"] == "You said: <i>via webhook</i>"
    [set_webhook] = await telegram_user.bot_calls("setWebhook")
    assert set_webhook["params"]["secret_token"] == "s3cret-token"
    bot.errors.assert_clean()


async def test_bot_api_answers_like_telegram(
    emulator: EmulatorServer, telegram_user: TelegramUser, bot_errors: BotErrors
) -> None:
    """The fixed answers PTB depends on, called directly (no polling)."""
    app = app_builder(emulator, telegram_user.token).build()
    chat = group_chat(chat_id=-777)
    await telegram_user.send_text(chat, "hello")
    async with app:
        me = await app.bot.get_me()
        assert me.is_bot
        assert me.username == emulator.bot_username
        assert me.supports_inline_queries

        link = '<a href="https://example.com/?a=1&amp;b=2">site</a>'
        code = '<pre><code class="language-python">x = 1</code></pre>'
        rich = await app.bot.send_message(chat.id, f"{link} &lt;3 {code}", parse_mode=ParseMode.HTML)
        assert rich.text == "site <3 x = 1"
        assert [(e.type, e.offset, e.length, e.url, e.language) for e in rich.entities] == [
            ("text_link", 0, 4, "https://example.com/?a=1&b=2", None),
            ("pre", 8, 5, None, "python"),
        ]

        sent = await app.bot.send_message(chat.id, "<b>hi</b>", parse_mode=ParseMode.HTML)
        assert abs(sent.date.timestamp() - time.time()) < 60  # seconds, not milliseconds
        assert sent.chat.type == "group"
        assert sent.from_user is not None
        assert sent.from_user.id == me.id

        edited = await app.bot.edit_message_text("edited", chat.id, sent.message_id)
        assert not isinstance(edited, bool)
        assert edited.text == "edited"
        with pytest.raises(BadRequest, match="not modified"):
            await app.bot.edit_message_text("edited", chat.id, sent.message_id)
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await app.bot.send_message(chat.id, "a <br> b", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="not found"):
            await app.bot.delete_message(chat.id, 99_999)
        assert await app.bot.delete_message(chat.id, sent.message_id)

        document = await app.bot.send_document(chat.id, document=b"report", filename="report.txt")
        assert document.document is not None
        file = await app.bot.get_file(document.document.file_id)
        assert await file.download_as_bytearray() == b"report"

        assert await app.bot.send_chat_action(chat.id, "typing")
        assert await app.bot.get_my_commands() == ()
