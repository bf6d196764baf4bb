"""What every handler needs, kept in `application.bot_data`: the engine, the store, settings, links.

Handlers reach it through their context (`BotContext`, registered through PTB's ContextTypes as in its
contexttypesbot.py): `context.services`, and the languages of the user the update came from, looked up once
per update. Never through module globals, so tests can build as many independent Applications as they
like. `observed` wraps a handler to write the one structured log line per handled update (outcome and
timing only, never user text).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Update, User
from telegram.error import BadRequest, NetworkError
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot import locales
from bot.domain.content import Library
from bot.domain.engine import AnswerEngine
from bot.domain.render import LinkResolver
from bot.logs import log_update
from bot.settings import Settings
from bot.store import Store
from bot.telegram.ratelimit import UserRateLimiter

SERVICES_KEY = "services"
UPDATE_LOGGER = logging.getLogger("bot.telegram.updates")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")  # the code names a locale file: nothing else gets near it


@dataclass
class Services:
    settings: Settings
    engine: AnswerEngine
    store: Store
    limiter: UserRateLimiter
    bot_username: str | None = None
    # Links depend on the library's slugs, which change on reload: cached per library object.
    _links: tuple[Library, LinkResolver] | None = field(default=None, repr=False)
    # Called after every handled update with (kind, outcome, latency in seconds): metrics hook in here.
    update_observers: list[UpdateObserver] = field(default_factory=list, repr=False)

    def links(self) -> LinkResolver:
        library = self.engine.library
        if self._links is None or self._links[0] is not library:
            resolver = LinkResolver(library.slugs, self.bot_username, self.settings.link_base_url)
            self._links = (library, resolver)
        return self._links[1]

    def set_bot_username(self, username: str | None) -> None:
        self.bot_username = username
        self._links = None

    def is_admin(self, user: User | None) -> bool:
        """Numeric ids only: usernames can change hands and group admin status says nothing here."""
        return user is not None and user.id in self.settings.admin_user_ids

    def resolve(self, code: str | None) -> str | None:
        """A language code from outside -> one of the content languages, or None."""
        return self.engine.snapshot.detector.resolve(code)

    def pinned_language(self, user: User | None) -> str | None:
        """The answer language the user chose with /lang, if it is still one the content has."""
        if user is None:
            return None
        stored = self.store.get_language(user.id)
        return self.resolve(stored) if stored else None

    def ui_language(self, user: User | None, pinned: str | None = None) -> str:
        """The language of the bot's own words: the pinned one, else Telegram's, else the default."""
        if pinned:
            return pinned
        code = (user.language_code or "") if user else ""
        base = code.lower().replace("_", "-").split("-")[0]
        if _LANGUAGE_CODE.match(base) and locales.has(base, "greeting"):
            return base
        resolved = self.resolve(code)
        if resolved and locales.has(resolved, "greeting"):
            return resolved  # an alias: Telegram says "id", the content and strings are "ms"
        return self.settings.default_language

    def content_language(self, user: User | None, pinned: str | None = None) -> str:
        """The content language to show topics in when there is no question to detect one from."""
        languages = self.engine.library.languages
        for candidate in (pinned, user.language_code if user else None, self.settings.default_language):
            resolved = self.resolve(candidate)
            if resolved:
                return resolved
        return languages[0] if languages else self.settings.default_language

    def topics_text(self, lang: str) -> str:
        titles = [article.title for article in self.engine.library.in_language(lang)]
        return ", ".join(dict.fromkeys(titles)) or "—"


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context of one update: the services, and the languages of the user who sent it."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.user: User | None = None
        self._pinned: tuple[str | None] | None = None  # looked up once per update (a store read)

    @classmethod
    def from_update(cls, update: object, application: Application[Any, Any, Any, Any, Any, Any]) -> BotContext:
        context = super().from_update(update, application)
        if isinstance(update, Update):
            context.user = update.effective_user
        return context

    @property
    def services(self) -> Services:
        found = self.bot_data.get(SERVICES_KEY)
        if not isinstance(found, Services):
            raise RuntimeError("the Application was not built by bot.telegram.app.build_application")
        return found

    @property
    def pinned_language(self) -> str | None:
        """The answer language the user chose with /lang, if the content still has it."""
        if self._pinned is None:
            self._pinned = (self.services.pinned_language(self.user),)
        return self._pinned[0]

    @property
    def ui_language(self) -> str:
        """The language of the bot's own words for this user."""
        return self.services.ui_language(self.user, self.pinned_language)

    @property
    def content_language(self) -> str:
        """The content language to show topics in when there is no question to detect one from."""
        return self.services.content_language(self.user, self.pinned_language)


Context = BotContext
CONTEXT_TYPES = ContextTypes(context=BotContext)


@dataclass
class Outcome:
    """What a handler reports for the update's log line."""

    language: str | None = None
    answered: bool | None = None
    score: float | None = None


UpdateObserver = Callable[[str, Outcome, float], None]
HandlerFunc = Callable[[Update, Context], Awaitable[Outcome | None]]
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def unreachable(error: BaseException | None) -> bool:
    """A network failure or timeout (PTB's BadRequest subclasses NetworkError, but is a real answer)."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


def chat_kind(update: Update) -> str | None:
    if update.effective_chat is not None:
        return update.effective_chat.type
    if update.inline_query is not None or update.chosen_inline_result is not None:
        return "inline"
    return None


def _notify(context: Context, kind: str, outcome: Outcome, latency: float) -> None:
    svc = context.bot_data.get(SERVICES_KEY)
    for observe in svc.update_observers if isinstance(svc, Services) else ():
        try:
            observe(kind, outcome, latency)
        except Exception:  # an observer (metrics) must never cost the user the answer
            UPDATE_LOGGER.warning("an update observer failed", exc_info=True)


def observed(kind: str) -> Callable[[HandlerFunc], Callback]:
    """Log one line per handled update, also when the handler fails (the error handler adds the trace)."""

    def decorate(func: HandlerFunc) -> Callback:
        @functools.wraps(func)
        async def wrapper(update: Update, context: Context) -> None:
            started = time.perf_counter()
            outcome: Outcome | None = None
            try:
                outcome = await func(update, context)
            finally:
                outcome = outcome or Outcome()
                latency = time.perf_counter() - started
                log_update(
                    UPDATE_LOGGER,
                    update_id=update.update_id,
                    kind=kind,
                    language=outcome.language,
                    answered=outcome.answered,
                    score=outcome.score,
                    latency_ms=latency * 1000,
                    chat_kind=chat_kind(update),
                )
                _notify(context, kind, outcome, latency)

        return wrapper

    return decorate
