"""Prometheus metrics for webhook mode (METRICS=true), served at /metrics by bot/telegram/webhook.py.

Each `BotMetrics` has its own CollectorRegistry, not prometheus_client's global one, so a process (or a
test session) can build any number of Applications without "Duplicated timeseries" errors. Handlers are
not touched: `attach` registers an observer that `context.observed` calls after every handled update,
with the same fields as the update's log line.
"""

from __future__ import annotations

import re
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from bot.telegram.context import SERVICES_KEY, Outcome, Services

# Handler kinds that answer a question (see the @observed names in bot/telegram/handlers).
QUESTION_KINDS = frozenset({"question", "ask", "mention", "inline_query"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LABEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # keeps label values (and so series) few and well-formed


def _label(value: str | None) -> str:
    return value if value and _LABEL.match(value) else "unknown"


class BotMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter("bot_updates", "Handled updates by handler kind.", ["kind"], registry=self.registry)
        self.questions = Counter(
            "bot_questions",
            "Questions by answer language and outcome (answered or declined).",
            ["language", "outcome"],
            registry=self.registry,
        )
        self.answer_latency = Histogram(
            "bot_answer_latency_seconds",
            "Time from a question's update to its answer having been sent.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.webhook_requests = Counter(
            "bot_webhook_requests", "Webhook POSTs by HTTP status answered.", ["status"], registry=self.registry
        )

    def observe(self, kind: str, outcome: Outcome, latency: float) -> None:
        self.updates.labels(kind=_label(kind)).inc()
        if kind in QUESTION_KINDS and outcome.answered is not None:
            outcome_label = "answered" if outcome.answered else "declined"
            self.questions.labels(language=_label(outcome.language), outcome=outcome_label).inc()
            self.answer_latency.observe(latency)

    def webhook_request(self, status: int) -> None:
        self.webhook_requests.labels(status=str(status)).inc()

    def attach(self, bot_data: dict[Any, Any]) -> None:
        """Start counting the updates of the Application whose `bot_data` this is."""
        svc = bot_data.get(SERVICES_KEY)
        if not isinstance(svc, Services):
            raise RuntimeError("the Application was not built by bot.telegram.app.build_application")
        svc.update_observers.append(self.observe)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
