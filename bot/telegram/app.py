"""The one wiring module (after python-telegram-bot's rules-bot): settings + engine + store -> an
Application with its handlers, and `run()` for `python -m bot run` (long polling, or webhook mode when
WEBHOOK_URL is set). Behaviour lives in bot/telegram/handlers; this file only connects things.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken
from telegram.ext import Application, Defaults
from telegram.request import BaseRequest

from bot.bootstrap import StartupError, embed_in_background, exit_status, make_engine, open_store
from bot.domain.engine import AnswerEngine
from bot.environment import Environment
from bot.instance_lock import InstanceLock
from bot.logs import configure_logging
from bot.settings import DEFAULT_API_BASE_URL, Settings, check_content_dir, check_data_dir
from bot.store import Store
from bot.telegram import conflict, handlers
from bot.telegram.commands import register_commands
from bot.telegram.context import CONTEXT_TYPES, SERVICES_KEY, BotContext, Services
from bot.telegram.ratelimit import UserRateLimiter
from bot.telegram.retries import ResilientRateLimiter

logger = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]

# Only what a handler uses: Telegram then does not even deliver channel posts or edits.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY, Update.CHOSEN_INLINE_RESULT]
RATE_LIMIT_RETRIES = 5  # AIORateLimiter: how often a 429 is waited out (for one call) before giving up
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as a webhook secret

INVALID_TOKEN_MESSAGE = "Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather (/mybots -> API Token)."
NO_TOKEN_MESSAGE = """\
TELEGRAM_BOT_TOKEN is not set, so the bot cannot connect to Telegram.

To get a token, open a chat with @BotFather in Telegram (https://t.me/BotFather), send /newbot and follow
the steps; then set it in the environment or in a .env file:

    TELEGRAM_BOT_TOKEN=123456789:AA...

To try the answers without Telegram:

    python -m bot ask "What is inside sales?"
"""


def file_url_for(base_url: str) -> str:
    """The file download base matching an API base: .../bot -> .../file/bot (as PTB's defaults)."""
    head, sep, tail = base_url.rstrip("/").rpartition("/")
    return f"{head}/file/{tail}" if sep else base_url


def build_application(
    settings: Settings,
    engine: AnswerEngine,
    store: Store,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    base_url: str | None = None,
    base_file_url: str | None = None,
    rate_limiter: bool = True,
    updater: bool = True,
) -> App:
    """An Application ready to run; `request`/`base_url` let tests talk to a fake or local API.

    The rate limiter also retries calls that failed without reaching Telegram (bot/telegram/retries.py).
    `updater=False` builds one without an Updater, for our own webhook server (bot/telegram/webhook.py).
    """
    token = settings.token
    if not token:
        raise ValueError(NO_TOKEN_MESSAGE)
    api = base_url or settings.telegram_api_base_url or DEFAULT_API_BASE_URL
    files = base_file_url or settings.telegram_api_base_file_url or file_url_for(api)
    defaults = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
    builder: Any = (
        Application.builder()
        .token(token)
        .base_url(api)
        .base_file_url(files)
        .defaults(defaults)
        .context_types(CONTEXT_TYPES)
        .post_init(_post_init)
    )
    if rate_limiter:
        builder = builder.rate_limiter(ResilientRateLimiter(max_retries=RATE_LIMIT_RETRIES))
    if not updater:
        builder = builder.updater(None)
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    app: App = builder.build()
    limiter = UserRateLimiter(settings.user_rate_limit, settings.user_rate_window_seconds)
    app.bot_data[SERVICES_KEY] = svc = Services(settings, engine, store, limiter, settings.bot_username)
    conflict.register(app, settings.conflict_grace_seconds)  # before the general error handler
    handlers.teach.sync_taught(svc)  # the phrasings admins taught, kept in the store across restarts
    handlers.register(app)
    return app


PURGE_EVERY_SECONDS = 24 * 60 * 60
PURGE_JOB = "purge_old_questions"


async def purge_old_questions(context: BotContext) -> None:
    """Keep RETENTION_DAYS of questions (a JobQueue job: at start-up, then daily while the bot runs)."""
    svc = context.services
    try:
        purged = await asyncio.to_thread(svc.store.purge_older_than, svc.settings.retention_days)
    except sqlite3.Error:
        logger.warning("could not purge old questions", exc_info=True)
        return
    if purged:
        logger.info("purged %d questions older than %d days", purged, svc.settings.retention_days)


async def _post_init(app: App) -> None:
    svc: Services = app.bot_data[SERVICES_KEY]
    settings = svc.settings
    svc.set_bot_username(settings.bot_username or app.bot.username)
    # The JobQueue runs it once the Application starts, and stops with it.
    assert app.job_queue is not None  # python-telegram-bot[job-queue] is a dependency
    app.job_queue.run_repeating(purge_old_questions, interval=PURGE_EVERY_SECONDS, first=0, name=PURGE_JOB)
    await register_commands(
        app.bot,
        languages=svc.engine.library.languages,
        admin_ids=settings.admin_user_ids,
        default_language=settings.default_language,
    )


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Arguments for our webhook server (bot/telegram/webhook.serve): listen on WEBHOOK_LISTEN:WEBHOOK_PORT,
    serve the path of WEBHOOK_URL, check Telegram's secret token header on every request, and register the
    webhook with Telegram for ALLOWED_UPDATES."""
    if not settings.webhook_url:
        raise ValueError("WEBHOOK_URL is not set")
    url = urlsplit(settings.webhook_url)
    if url.scheme not in ("https", "http") or not url.netloc:
        raise ValueError("WEBHOOK_URL must be an absolute https:// URL")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else secrets.token_urlsafe(32)
    if not _SECRET_TOKEN.match(secret):
        raise ValueError("WEBHOOK_SECRET may only use A-Z, a-z, 0-9, '_' and '-' (at most 256 characters)")
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": url.path.strip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": secret,
        "allowed_updates": ALLOWED_UPDATES,
    }


def run(settings: Settings, env: Environment) -> int:
    """`python -m bot run`: 0 after a normal stop (SIGTERM, SIGINT), 2 when the bot cannot start for want of
    settings, 1 when the content is invalid (bot/bootstrap.py turns these into exit statuses), 3 when
    another process kept polling with the same token (bot/telegram/conflict.py).

    Long polling runs on PTB's run_polling: on a stop signal the Updater stops fetching and confirms the
    offset of everything fetched (one last getUpdates), then Application.stop() handles every update
    already fetched before returning, so nothing is lost or answered twice across a restart. Webhook mode
    runs our own server (bot/telegram/webhook.py) with the same stop sequence.
    """
    return exit_status(env, lambda: _run(settings))


def _run(settings: Settings) -> int:
    token = settings.token
    if not token:
        raise StartupError(NO_TOKEN_MESSAGE)
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    try:
        options = webhook_options(settings) if settings.webhook_url else None
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    # A generated secret is as secret as a configured one.
    secrets_ = {s for s in [webhook_secret, options["secret_token"] if options else None] if s}
    configure_logging(settings.log_level, token, settings.log_json, extra_secrets=sorted(secrets_))
    check_content_dir(settings.content_dir)
    check_data_dir(settings.data_dir)
    lock = InstanceLock(settings.data_dir).acquire()  # before loading: a second process refuses at once
    try:
        engine = make_engine(settings, embed=False)  # passage vectors: in the background, below
        store = open_store(settings)  # a damaged one is moved aside; one too new: exit 2
    except BaseException:
        lock.release()
        raise
    embed_in_background(engine)  # lexical answers from the first second, hybrid once the vectors are ready
    try:
        if options is not None:
            app = build_application(settings, engine, store, updater=False)
            logger.info("starting (webhook on %s:%s)", options["listen"], options["port"])
            asyncio.run(_serve_webhook(app, options, metrics=settings.metrics))
        else:
            app = build_application(settings, engine, store)
            logger.info("starting (long polling)")
            app.run_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=settings.poll_interval)
            if conflict.stopped_for_conflict(app):
                return conflict.CONFLICT_EXIT_STATUS
            logger.info("stopped cleanly")
    except InvalidToken:
        raise StartupError(INVALID_TOKEN_MESSAGE) from None
    finally:
        store.close()
        lock.release()
    return 0


async def _serve_webhook(app: App, options: dict[str, Any], *, metrics: bool) -> None:
    from bot.telegram import webhook  # tornado (and prometheus_client) only load in webhook mode

    bot_metrics = None
    if metrics:
        from bot.telegram.metrics import BotMetrics  # prometheus_client loads only with METRICS=true

        bot_metrics = BotMetrics()
    await webhook.serve(app, **options, metrics=bot_metrics)
