"""Which updates the handlers take: the filters every handler module shares, defined once."""

from __future__ import annotations

from telegram.ext import filters

NEW_MESSAGE = filters.UpdateType.MESSAGE  # edited messages and channel posts are not questions
PRIVATE = filters.ChatType.PRIVATE & NEW_MESSAGE
GROUPS = filters.ChatType.GROUPS & NEW_MESSAGE
