"""Handlers by chat kind (after MasterGroosha/my-id-bot), registered in an order that matters: within
PTB's default group the first matching handler wins, so admin commands and uploads come before the
private-chat catch-alls."""

from __future__ import annotations

from telegram.ext import Application

from bot.telegram.handlers import admin, buttons, errors, group, inline, private, teach


def register(app: Application) -> None:  # type: ignore[type-arg]
    teach.register(app)  # before admin: a bare /declined is the review, and its buttons
    admin.register(app)
    private.register(app)
    group.register(app)
    private.register_fallbacks(app)
    buttons.register(app)
    inline.register(app)
    errors.register(app)


__all__ = ["register"]
