"""The command menu: `set_my_commands` per scope (private chats, groups, each admin's chat) and per
language (every content language with interface strings, plus the default for everyone else).

Registration is best effort: a failure is logged as a warning and never stops the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError

from bot import locales
from bot.locales import t
from bot.telegram.context import unreachable

logger = logging.getLogger(__name__)

PRIVATE_COMMANDS = ("start", "help", "lang")
GROUP_COMMANDS = ("ask", "help", "lang")
ADMIN_COMMANDS = (*PRIVATE_COMMANDS, "reload", "stats", "declined", "taught")


def command_list(names: Sequence[str], lang: str) -> list[BotCommand]:
    return [BotCommand(name, t(lang, f"cmd_{name}")[:256]) for name in names]


def scopes(admin_ids: Iterable[int]) -> list[tuple[BotCommandScope, Sequence[str]]]:
    plan: list[tuple[BotCommandScope, Sequence[str]]] = [
        (BotCommandScopeAllPrivateChats(), PRIVATE_COMMANDS),
        (BotCommandScopeAllGroupChats(), GROUP_COMMANDS),
    ]
    plan += [(BotCommandScopeChat(admin_id), ADMIN_COMMANDS) for admin_id in sorted(admin_ids)]
    return plan


async def register_commands(
    bot: Bot, *, languages: Iterable[str], admin_ids: Iterable[int], default_language: str
) -> int:
    """Register every menu; returns how many registrations failed."""
    variants: list[tuple[str | None, str]] = [(None, default_language)]
    variants += [(lang, lang) for lang in sorted(set(languages)) if locales.has(lang, "cmd_start")]
    plan = scopes(admin_ids)
    failures = 0
    for language_code, lang in variants:
        for scope, names in plan:
            try:
                await bot.set_my_commands(command_list(names, lang), scope=scope, language_code=language_code)
            except TelegramError as exc:
                failures += 1
                if unreachable(exc):  # every other call would wait and fail the same way
                    logger.warning("could not register the command menu, giving up for now: %s", exc)
                    return failures
                # e.g. an admin who never opened a chat with the bot
                logger.warning(
                    "could not register commands (scope %s, language %s): %s", scope.type, language_code, exc
                )
    return failures
