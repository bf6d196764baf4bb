"""Fixtures for the end-to-end tests: one emulator per session, a fresh bot token per test."""

from collections.abc import AsyncIterator, Iterator

import pytest

from .harness import BotErrors, EmulatorServer, TelegramUser


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
async def telegram_user(emulator: EmulatorServer) -> AsyncIterator[TelegramUser]:
    """The user side for one test; its `.token` is the bot token the test's Application must use."""
    async with TelegramUser(emulator) as user:
        yield user


@pytest.fixture
def bot_errors() -> Iterator[BotErrors]:
    """Collects errors inside PTB; attach it to the test's Application with .attach(app)."""
    errors = BotErrors()
    yield errors
    errors.detach()
