"""Every Prometheus metric of the assistant, defined once, and the exposition every server serves.

One module so that the names the servers export, the alert rules (``deploy/prometheus/alerts.yml``)
and the dashboard (``deploy/grafana/shop-assistant.json``) agree; ``tests/operations`` checks them
against each other. Labels have bounded values only: a stage, an intent or action name of the bot's
domain, a score from 1 to 5, never a conversation or sender id.

Where a server forks workers (``SANIC_WORKERS`` / ``ACTION_SERVER_SANIC_WORKERS`` above 1) the
launcher sets ``PROMETHEUS_MULTIPROC_DIR`` and :func:`exposition` merges every worker's values
(prometheus-client's multi-process mode); a single process exposes its own registry.

Which server exports what:

- the Rasa server: turns (:data:`TURN_SECONDS`, :data:`TURN_STAGE_SECONDS`, :data:`TURN_ERRORS`),
  understanding (:data:`INTENT_CONFIDENCE`, :data:`INTENTS`, :data:`FALLBACKS`), the tracker cache,
  the action circuit breaker and its failures, events published, hand-offs and ratings, the HTTP
  responses, and the model in service;
- the action server: :data:`ACTION_SECONDS` and :data:`ACTION_ERRORS`;
- the insights consumer: :data:`EVENTS_CONSUMED`, :data:`EVENT_BROKER_LAG`, :data:`CONSUMER_BATCH_SECONDS`.

Values that live in the shared database (the hand-off queue, agents online, recent ratings) are
read when Prometheus scrapes, by a collector the Rasa server registers (``handoff.metrics``).
"""

from __future__ import annotations

import os
from typing import Dict, Iterable, List, Optional, Tuple, TypeVar, Union

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
disable_created_metrics()  # no *_created series: they double the page and no dashboard reads them

# Seconds; a turn is ~20 ms on an idle 2-core machine and the Rasa server waits 1.5 s for an action.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)
STAGES = ("nlu", "policy", "action")

RASA, ACTIONS, INSIGHTS = "rasa", "actions", "insights"
_ROLE_METRICS: Dict[str, List[Union[Counter, Gauge, Histogram]]] = {RASA: [], ACTIONS: [], INSIGHTS: []}
M = TypeVar("M", Counter, Gauge, Histogram)


def _of(role: Union[str, Tuple[str, ...]], metric: M) -> M:
    """``metric`` (created without a registry) belongs to the server(s) ``role``: :func:`expose` registers it."""
    for each in (role,) if isinstance(role, str) else role:
        _ROLE_METRICS[each].append(metric)
    return metric


# -- the Rasa server: turns ------------------------------------------------------------------
TURN_SECONDS = _of(
    RASA,
    Histogram(
        "shop_turn_seconds",
        "Time from a shopper's message to the bot's last reply of the turn",
        buckets=LATENCY_BUCKETS,
        registry=None,
    ),
)
TURN_STAGE_SECONDS = _of(
    RASA,
    Histogram(
        "shop_turn_stage_seconds",
        "A turn's time in one stage: nlu (understanding), policy (choosing actions), action (running them)",
        ["stage"],
        buckets=LATENCY_BUCKETS,
        registry=None,
    ),
)
TURN_ERRORS = _of(
    RASA, Counter("shop_turn_errors", "Turns that failed with an error in the Rasa server", registry=None)
)
INTENT_CONFIDENCE = _of(
    RASA,
    Histogram(
        "shop_intent_confidence",
        "Confidence of the top intent of each shopper message",
        buckets=CONFIDENCE_BUCKETS,
        registry=None,
    ),
)
INTENTS = _of(
    RASA, Counter("shop_intents", "Shopper messages by top intent (the bot's domain)", ["intent"], registry=None)
)
FALLBACKS = _of(
    RASA,
    Counter("shop_fallbacks", "Turns the bot did not understand (nlu_fallback or a fallback action)", registry=None),
)
TRACKER_CACHE = _of(
    RASA,
    Counter(
        "shop_tracker_cache_lookups",
        "Conversation trackers found in the Rasa server's memory (hit) or read from the store (miss)",
        ["result"],
        registry=None,
    ),
)
ACTION_BREAKER_OPEN = _of(
    RASA,
    Gauge(
        "shop_action_breaker_open",
        "1 while the circuit breaker in front of the action servers is open or half-open",
        multiprocess_mode="max",
        registry=None,
    ),
)
ACTION_FAILURES = _of(
    RASA,
    Counter(
        "shop_action_failures",
        "Custom actions answered without the action server: timeout, error (refused, 5xx) or breaker_open",
        ["reason"],
        registry=None,
    ),
)
EVENTS_PUBLISHED = _of(
    RASA, Counter("shop_events_published", "Conversation events written to the event broker", registry=None)
)
MODEL_INFO = _of(
    RASA,
    Gauge(
        "shop_model_info",
        "1 for the model the Rasa server serves",
        ["model_id", "model"],
        multiprocess_mode="max",
        registry=None,
    ),
)
HTTP_RESPONSES = _of(
    RASA,
    Counter(
        "shop_http_responses",
        "HTTP responses of the Rasa server by status class (2xx, 4xx, 5xx)",
        ["status_class"],
        registry=None,
    ),
)

# -- the Rasa server: hand-offs and ratings --------------------------------------------------
# Tickets are opened by the action server (the dialogue's hand-off) and by the Rasa server (while the
# action server is away): both export the count, and dashboards sum it.
HANDOFFS = _of((RASA, ACTIONS), Counter("shop_handoffs", "Conversations handed to the support team", registry=None))
HANDOFF_WAIT_SECONDS = _of(
    RASA,
    Histogram(
        "shop_handoff_wait_seconds",
        "How long a queued shopper waited until an agent took the ticket",
        buckets=WAIT_BUCKETS,
        registry=None,
    ),
)
CSAT_RATINGS = _of(RASA, Counter("shop_csat_ratings", "Conversation ratings by score (1-5)", ["score"], registry=None))

# -- the action server -----------------------------------------------------------------------
ACTION_SECONDS = _of(
    ACTIONS,
    Histogram(
        "shop_action_seconds",
        "Time the action server took for one custom action",
        ["action"],
        buckets=LATENCY_BUCKETS,
        registry=None,
    ),
)
ACTION_ERRORS = _of(
    ACTIONS,
    Counter("shop_action_errors", "Custom actions that failed in the action server", ["action"], registry=None),
)

# -- the insights consumer -------------------------------------------------------------------
EVENTS_CONSUMED = _of(
    INSIGHTS, Counter("shop_events_consumed", "Conversation events the insights consumer processed", registry=None)
)
EVENT_BROKER_LAG = _of(
    INSIGHTS,
    Gauge(
        "shop_event_broker_lag_events",
        "Events published but not yet consumed (SQL broker: rows after the cursor; RabbitMQ: queued messages)",
        multiprocess_mode="max",
        registry=None,
    ),
)
CONSUMER_BATCH_SECONDS = _of(
    INSIGHTS,
    Histogram(
        "shop_consumer_batch_seconds",
        "Time the insights consumer took for one batch of events",
        buckets=LATENCY_BUCKETS,
        registry=None,
    ),
)


# Labelled series exist only once a label value is used; these start at zero so that rates and
# ratios (alerts, dashboards) have a series before the first failure, rating or 5xx.
KNOWN_LABELS: Dict[str, Tuple[str, ...]] = {
    "shop_turn_stage_seconds": STAGES,
    "shop_tracker_cache_lookups": ("hit", "miss"),
    "shop_action_failures": ("timeout", "error", "breaker_open"),
    "shop_http_responses": ("2xx", "3xx", "4xx", "5xx"),
    "shop_csat_ratings": ("1", "2", "3", "4", "5"),
}


def expose(role: str) -> None:
    """Serve the metrics of the server ``role`` (rasa, actions, insights) from this process (idempotent).

    Every metric object counts wherever it is used (tests, tools); only the serving process's
    own ones appear on its page, so no server shows another's zeros.
    """
    for metric in _ROLE_METRICS[role]:
        for value in KNOWN_LABELS.get(metric._name, ()):
            metric.labels(value)
        try:
            REGISTRY.register(metric)
        except ValueError:  # already registered
            pass


OTHER = "other"


def bounded(name: Optional[str], known: Iterable[str]) -> str:
    """``name`` when it is one of ``known`` (the domain's names), else ``"other"``: labels stay bounded
    even when a caller sends names of its own."""
    return name if name and name in known else OTHER


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else OTHER


_extra_collectors: list[Collector] = []


def register_collector(collector: Collector) -> None:
    """A collector that reads its values at scrape time (e.g. from the shared database)."""
    if collector not in _extra_collectors:
        _extra_collectors.append(collector)


def unregister_collector(collector: Collector) -> None:
    if collector in _extra_collectors:
        _extra_collectors.remove(collector)


def multiprocess_dir() -> Optional[str]:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> Tuple[bytes, str]:
    """The metrics page (body, content type): this process's registry, or every worker's values in
    multi-process mode, plus the scrape-time collectors."""
    registry: CollectorRegistry
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    if _extra_collectors:
        extra = CollectorRegistry(auto_describe=False)
        for collector in _extra_collectors:
            extra.register(collector)
        body += generate_latest(extra)
    return body, CONTENT_TYPE_LATEST


__all__ = [
    "ACTION_BREAKER_OPEN",
    "ACTION_ERRORS",
    "ACTION_FAILURES",
    "ACTION_SECONDS",
    "CONSUMER_BATCH_SECONDS",
    "CSAT_RATINGS",
    "EVENTS_CONSUMED",
    "EVENTS_PUBLISHED",
    "EVENT_BROKER_LAG",
    "FALLBACKS",
    "HANDOFFS",
    "HANDOFF_WAIT_SECONDS",
    "HTTP_RESPONSES",
    "INTENTS",
    "INTENT_CONFIDENCE",
    "MODEL_INFO",
    "STAGES",
    "TRACKER_CACHE",
    "TURN_ERRORS",
    "TURN_SECONDS",
    "TURN_STAGE_SECONDS",
    "bounded",
    "expose",
    "exposition",
    "register_collector",
    "status_class",
]
