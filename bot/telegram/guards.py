"""Cross-cutting rules as decorators (after python-telegram-bot's rules-bot): who may run a handler."""

from __future__ import annotations

import functools
from collections.abc import Callable

from telegram import Update

from bot.domain.render import escape
from bot.locales import t
from bot.telegram.context import Context, HandlerFunc, Outcome
from bot.telegram.replies import reply


async def refuse(update: Update, context: Context) -> Outcome:
    """The answer to someone who is not an admin."""
    await reply(update, context, escape(t(context.ui_language, "admin_only")))
    return Outcome(language=context.ui_language)


def admin_only_else(otherwise: HandlerFunc) -> Callable[[HandlerFunc], HandlerFunc]:
    """Run the handler for admins only (numeric ids in ADMIN_USER_IDS); anyone else gets `otherwise`."""

    def decorate(func: HandlerFunc) -> HandlerFunc:
        @functools.wraps(func)
        async def wrapper(update: Update, context: Context) -> Outcome | None:
            if not context.services.is_admin(update.effective_user):
                return await otherwise(update, context)
            return await func(update, context)

        return wrapper

    return decorate


admin_only = admin_only_else(refuse)
