"""Logging set-up that never writes the bot token, plus one structured line per handled update.

python-telegram-bot and httpx put the token in request URLs (``/bot<TOKEN>/getUpdates``), and exceptions
from the network layer repeat those URLs. ``RedactSecrets`` sits on the root handlers, so it sees every
record from every logger at every level, and rewrites the message, its args and the exception text before
any formatter runs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, TextIO

__all__ = [
    "REDACTED",
    "TELEGRAM_TOKEN_PATTERN",
    "JsonLinesFormatter",
    "RedactSecrets",
    "configure_logging",
    "log_update",
]

REDACTED: Final = "[REDACTED]"
# Any Telegram-shaped token, configured or not: "<bot id>:<secret>", also with ':' URL-encoded.
TELEGRAM_TOKEN_PATTERN: Final = re.compile(r"\d{5,}(?::|%3[Aa])[A-Za-z0-9_-]{30,}")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log one line per HTTP request (with the token in the URL) at INFO.
CHATTY_HTTP_LOGGERS: Final = ("httpx", "httpcore")
UPDATE_FIELDS_ATTR: Final = "update_fields"
_PLAIN_FORMATTER: Final = logging.Formatter()


class RedactSecrets(logging.Filter):
    """Replace the bot token (and anything shaped like one) with ``[REDACTED]`` in a log record.

    The message is formatted once here and stored back without args, so a secret hidden in an arg's
    ``str()`` or ``repr()`` (an ``httpx.URL``, a request object) is caught too. Exception and stack text
    are rendered and redacted here, and ``exc_info`` dropped, so no later formatter can re-render them.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        literals = {secret.strip() for secret in secrets if secret and secret.strip()}
        # The literal token also appears URL-encoded in query strings; catch both spellings.
        literals |= {literal.replace(":", "%3A") for literal in literals}
        alternatives = [re.escape(literal) for literal in sorted(literals, key=len, reverse=True)]
        alternatives.append(TELEGRAM_TOKEN_PATTERN.pattern)
        self._pattern = re.compile("|".join(alternatives))

    def redact(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(self._message(record))
        record.args = None
        if record.exc_info:
            record.exc_text = _PLAIN_FORMATTER.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        fields = getattr(record, UPDATE_FIELDS_ATTR, None)
        if isinstance(fields, dict):
            setattr(record, UPDATE_FIELDS_ATTR, self._redact_fields(fields))
        return True

    def _redact_fields(self, fields: Mapping[str, object]) -> dict[str, object]:
        return {key: self.redact(value) if isinstance(value, str) else value for key, value in fields.items()}

    @staticmethod
    def _message(record: logging.LogRecord) -> str:
        try:
            return record.getMessage()
        except Exception:  # bad format/args: keep what we can rather than lose the record
            return f"{record.msg!s} {record.args!r}"


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line; structured update fields become top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        fields = getattr(record, UPDATE_FIELDS_ATTR, None)
        if isinstance(fields, dict):
            entry.update(fields)  # the text message would only repeat these fields
        else:
            entry["message"] = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


_installed_handler: logging.Handler | None = None


def configure_logging(
    level: str,
    token: str | None,
    json_lines: bool = False,
    *,
    extra_secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Configure the root logger once for the process; calling again replaces the previous set-up.

    ``level`` is a name such as "INFO". ``stream`` defaults to stderr (tests pass a StringIO).
    """
    numeric_level = logging.getLevelNamesMapping().get(level.strip().upper())
    if numeric_level is None:
        raise ValueError(f"unknown log level: {level!r}")

    global _installed_handler
    root = logging.getLogger()
    if _installed_handler is not None:
        root.removeHandler(_installed_handler)
        _installed_handler.close()

    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLinesFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    redactor = RedactSecrets([token, *extra_secrets])
    # Also guard handlers someone else attached earlier (a host's or a test runner's).
    for existing in root.handlers:
        _replace_redactor(existing, redactor)
    handler.addFilter(redactor)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    _installed_handler = handler

    # Per-request lines are only useful when debugging; the filter still covers them at DEBUG.
    http_level = logging.NOTSET if numeric_level <= logging.DEBUG else logging.WARNING
    for name in CHATTY_HTTP_LOGGERS:
        logging.getLogger(name).setLevel(http_level)


def _replace_redactor(handler: logging.Handler, redactor: RedactSecrets) -> None:
    for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
        handler.removeFilter(old)
    handler.addFilter(redactor)


def _text_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(value)  # already rounded by log_update
    # Keep the line machine-splittable: no spaces, quotes or '=' inside a value.
    return re.sub(r"[\s\"'=]+", "_", str(value))[:64] or "-"


def log_update(
    logger: logging.Logger,
    *,
    update_id: int,
    kind: str,
    language: str | None,
    answered: bool | None,
    score: float | None,
    latency_ms: float,
    chat_kind: str | None,
) -> None:
    """Emit one INFO line describing a handled update: outcome and timing only, never user text.

    Text output is ``update update_id=… kind=…``; with ``json_lines`` the same fields are JSON keys.
    """
    fields: dict[str, object] = {
        "event": "update",
        "update_id": update_id,
        "kind": kind,
        "chat_kind": chat_kind,
        "language": language,
        "answered": answered,
        "score": None if score is None else round(score, 3),
        "latency_ms": round(latency_ms, 1),
    }
    line = " ".join(f"{key}={_text_value(value)}" for key, value in fields.items() if key != "event")
    logger.info("update %s", line, extra={UPDATE_FIELDS_ATTR: fields})
