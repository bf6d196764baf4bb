"""Webhook mode: our own small tornado server in front of an Application built without an Updater, as in
python-telegram-bot's examples/customwebhookbot.py, so that it can also serve /healthz and /metrics.

Routes:
- ``POST /<path of WEBHOOK_URL>``: Telegram's update. 403 unless ``X-Telegram-Bot-Api-Secret-Token``
  matches (hmac.compare_digest; checked before the body is read), 413 over `MAX_BODY_BYTES`, 400 unless
  the body is a JSON object that parses as an Update; else the Update goes on `application.update_queue`
  and the answer is 200 at once (Telegram re-sends anything it did not get a 2xx for).
- ``GET /healthz``: 200 ``{"status": "ok", "articles", "languages", "uptime_s"}`` while the Application
  runs and the server accepts updates; 503 ``{"status": "unavailable", "running", "accepting"}`` otherwise
  (starting, or stopping after SIGTERM: a load balancer stops sending traffic).
- ``GET /metrics``: Prometheus text, only when a `BotMetrics` is given (METRICS=true); else 404.

`serve()` runs it all until SIGTERM or SIGINT, then stops accepting (Telegram keeps what it could not
deliver and re-sends it to the next process), lets requests in progress finish, and drains the update
queue (`Application.stop()` handles every queued update before returning). The secret is never logged;
tornado's request logging is replaced by one line without headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import signal
import socket
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import tornado.httpserver
import tornado.netutil
import tornado.routing
import tornado.web
from telegram import Update
from telegram.ext import Application

from bot.telegram.context import SERVICES_KEY, Services

if TYPE_CHECKING:  # prometheus_client is only needed with METRICS=true
    from bot.telegram.metrics import BotMetrics

logger = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1 << 20  # an update is a few kB; Telegram's own limit for a message is 4,096 characters
DRAIN_SECONDS = 10.0  # how long requests in progress get to finish once we stop accepting


class WebhookServer:
    """The HTTP side of webhook mode; `start`/`stop` it inside the running event loop."""

    def __init__(
        self,
        app: App,
        *,
        url_path: str,
        secret_token: str,
        metrics: BotMetrics | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        if not secret_token:
            raise ValueError("webhook mode needs a secret token")
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self._secret = secret_token.encode()
        self._started_at = time.monotonic()
        self._http: tornado.httpserver.HTTPServer | None = None
        self._accepting = False
        self._in_progress = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.port: int | None = None
        path = "/" + url_path.strip("/")
        shared = {"server": self}
        routes: list[Any] = [(r"/healthz", _Health, shared)]
        if metrics is not None:
            routes.append((r"/metrics", _Metrics, shared))
        # The update route comes first: it wins even if WEBHOOK_URL's path were /healthz.
        routes.insert(0, (tornado.routing.PathMatches(_exact(path)), _UpdateHandler, shared))
        self.web = tornado.web.Application(routes, log_function=self._log_request, compress_response=False)

    @property
    def accepting(self) -> bool:
        return self._accepting

    async def start(self, listen: str, port: int) -> int:
        """Listen on listen:port (0: any free port); returns the port."""
        sockets = tornado.netutil.bind_sockets(port, listen, family=socket.AF_UNSPEC)
        self.port = int(sockets[0].getsockname()[1])
        # Bodies over the limit are refused by the handler (413) before they are read in full.
        self._http = tornado.httpserver.HTTPServer(self.web, max_body_size=self.max_body_bytes * 4)
        self._http.add_sockets(sockets)
        self._started_at = time.monotonic()
        self._accepting = True
        logger.info("webhook server listening on %s:%d", listen, self.port)
        return self.port

    async def stop(self, drain_timeout: float = DRAIN_SECONDS) -> None:
        """Stop accepting connections, let requests in progress finish, close idle keep-alive connections."""
        self._accepting = False
        http, self._http = self._http, None
        if http is None:
            return
        http.stop()
        try:
            await asyncio.wait_for(self._idle.wait(), drain_timeout)
        except TimeoutError:
            logger.warning("webhook requests still in progress after %.0f s; closing them", drain_timeout)
        await http.close_all_connections()
        logger.info("webhook server stopped")

    def health(self) -> tuple[int, dict[str, Any]]:
        svc = self.app.bot_data.get(SERVICES_KEY)
        if not (self.app.running and self._accepting) or not isinstance(svc, Services):
            return 503, {"status": "unavailable", "running": self.app.running, "accepting": self._accepting}
        library = svc.engine.library
        return 200, {
            "status": "ok",
            "articles": len(library.articles),
            "languages": list(library.languages),
            "uptime_s": round(time.monotonic() - self._started_at, 1),
        }

    def secret_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self._secret)

    def _request_started(self) -> None:
        self._in_progress += 1
        self._idle.clear()

    def _request_finished(self) -> None:
        self._in_progress -= 1
        if self._in_progress <= 0:
            self._in_progress = 0
            self._idle.set()

    def _log_request(self, handler: tornado.web.RequestHandler) -> None:
        # Method, path and status only: never headers (the secret) or bodies (users' messages).
        status = handler.get_status()
        request = handler.request
        took = 1000.0 * request.request_time()
        level = logging.DEBUG if status < 400 else logging.WARNING
        logger.log(level, "webhook %s %s -> %d (%.1f ms)", request.method, request.path, status, took)


def _exact(path: str) -> str:
    return re.escape(path) + "$"


class _Base(tornado.web.RequestHandler):
    server: WebhookServer

    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        # tornado's default logs repr(request), headers (the secret) included.
        if value is None or isinstance(value, tornado.web.HTTPError):
            return
        logger.error("webhook handler failed: %s %s", self.request.method, self.request.path, exc_info=value)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": False, "status": status_code}))

    def reply_json(self, status: int, payload: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(payload))


@tornado.web.stream_request_body
class _UpdateHandler(_Base):
    """One Telegram update per POST; the body is streamed so an oversized one is refused, not buffered."""

    SUPPORTED_METHODS = ("POST",)

    _counted = False  # in the server's count of requests in progress

    def prepare(self) -> None:
        self._counted = True
        self.server._request_started()
        self._chunks: list[bytes] = []
        self._size = 0
        self._too_large = False
        if not self.server.accepting:
            self._refuse(503)
        elif not self.server.secret_matches(self.request.headers.get(SECRET_HEADER)):
            self._refuse(403)
        else:
            declared = self.request.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > self.server.max_body_bytes:
                self._refuse(413)

    def _refuse(self, status: int) -> None:
        self.set_status(status)
        self.finish()

    def data_received(self, chunk: bytes) -> None:
        if self._finished or self._too_large:
            return
        self._size += len(chunk)
        if self._size > self.server.max_body_bytes:
            self._too_large = True
            self._chunks.clear()
        else:
            self._chunks.append(chunk)

    def post(self) -> None:
        if self._too_large:
            self._refuse(413)
            return
        try:
            payload = json.loads(b"".join(self._chunks))
        except (UnicodeDecodeError, json.JSONDecodeError):
            logger.warning("webhook: refused a body that is not JSON")
            self._refuse(400)
            return
        update = None
        if isinstance(payload, dict) and isinstance(payload.get("update_id"), int):
            try:
                update = Update.de_json(payload, self.server.app.bot)
            except Exception:  # a malformed update: say so (without its contents, which are users' text)
                logger.warning("webhook: refused an update that does not parse (update_id %s)", payload["update_id"])
        if update is None:
            self._refuse(400)
            return
        self.server.app.update_queue.put_nowait(update)
        self._refuse(200)

    def on_finish(self) -> None:
        if self.server.metrics is not None:
            self.server.metrics.webhook_request(self.get_status())
        self._uncount()

    def on_connection_close(self) -> None:
        self._uncount()

    def _uncount(self) -> None:
        if self._counted:
            self._counted = False
            self.server._request_finished()


class _Health(_Base):
    def get(self) -> None:
        status, payload = self.server.health()
        self.reply_json(status, payload)


class _Metrics(_Base):
    def get(self) -> None:
        assert self.server.metrics is not None
        body, content_type = self.server.metrics.render()
        self.set_header("Content-Type", content_type)
        self.finish(body)


async def serve(
    app: App,
    *,
    listen: str,
    port: int,
    url_path: str,
    webhook_url: str,
    secret_token: str,
    allowed_updates: Sequence[str] | None,
    metrics: BotMetrics | None = None,
    stop_signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM),
    stop: asyncio.Event | None = None,
) -> None:
    """Run `app` in webhook mode until a stop signal (or `stop` is set); returns after a clean shutdown."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in stop_signals:
        loop.add_signal_handler(sig, stop.set)
    if metrics is not None:
        metrics.attach(app.bot_data)
    server = WebhookServer(app, url_path=url_path, secret_token=secret_token, metrics=metrics)
    try:
        await app.initialize()
        try:
            if app.post_init:
                await app.post_init(app)
            await app.start()
            await server.start(listen, port)
            # Pending updates are kept: Telegram delivers what arrived while no process was listening.
            await app.bot.set_webhook(
                url=webhook_url,
                secret_token=secret_token,
                allowed_updates=list(allowed_updates) if allowed_updates is not None else None,
                drop_pending_updates=False,
            )
            logger.info("webhook set; serving until SIGTERM or SIGINT")
            await stop.wait()
            logger.info("stopping: no new updates; finishing those in hand (%d queued)", app.update_queue.qsize())
        finally:
            await server.stop()
            if app.running:
                await app.stop()  # handles every update already queued, then returns
                if app.post_stop:
                    await app.post_stop(app)
            await app.shutdown()
            if app.post_shutdown:
                await app.post_shutdown(app)
    finally:
        for sig in stop_signals:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    logger.info("stopped cleanly")
