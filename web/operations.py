"""The Rasa server's operations endpoints: ``/metrics`` (Prometheus), ``/health/live`` and
``/health/ready`` (``monitoring.health``), and the HTTP status counter behind the error-rate alert.

Ready means: the model is loaded, and the shop database, the tracker store and (in the scale-out
mode) the Redis lock store answer. The action servers are not part of it: without them the Rasa
server still answers (the circuit breaker's apology), and they report their own readiness.
The front (nginx) does not pass ``/metrics`` to the internet; ``SHOP_METRICS_TOKEN`` can
require a bearer token on top.
"""

from __future__ import annotations

from typing import Any, Dict

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.metrics import HandoffCollector
from handoff.store import HandoffStore
from learning.metrics import ReviewQueueCollector
from monitoring import metrics
from monitoring.health import Check, NotReady, liveness, readiness, sql_reachable
from monitoring.operations_server import metrics_page
from shopdb.db import session_factory

OPERATIONS_PATHS = frozenset({"/metrics", "/health/live", "/health/ready"})


def rasa_readiness_checks(app: Sanic, store: HandoffStore) -> Dict[str, Check]:
    """What the Rasa server needs to serve a turn."""

    def agent() -> Any:
        found = getattr(app.ctx, "agent", None)
        if found is None or not found.is_ready():
            raise NotReady("the model is still loading")
        return found

    def model() -> None:
        agent()

    def tracker_store() -> None:
        store_ = agent().tracker_store
        engine = getattr(store_, "engine", None)
        if engine is not None:
            sql_reachable(engine)()

    def lock_store() -> None:
        redis = getattr(agent().lock_store, "red", None)  # Rasa's RedisLockStore; the in-memory one needs nothing
        if redis is not None:
            redis.ping()

    return {
        "model": model,
        "shop_database": sql_reachable(store.engine),
        "tracker_store": tracker_store,
        "lock_store": lock_store,
    }


def install_operations_routes(app: Sanic, checks: Dict[str, Check], store: HandoffStore) -> None:
    """Add the three paths and the status counter to the Rasa server's ``app``."""
    metrics.expose(metrics.RASA)
    metrics.register_collector(HandoffCollector(store))
    metrics.register_collector(ReviewQueueCollector(session_factory(store.engine)))
    bp = Blueprint("shop_operations")

    @bp.route("/metrics", methods=["GET"])
    async def serve_metrics(request: Request) -> HTTPResponse:
        authorization = request.headers.get("authorization")  # the page runs the hand-off queries: off the loop
        status, body, content_type = await request.app.loop.run_in_executor(None, metrics_page, authorization)
        return response.raw(body, status=status, content_type=content_type)

    @bp.route("/health/live", methods=["GET"])
    async def live(_: Request) -> HTTPResponse:
        return response.json(liveness())

    @bp.route("/health/ready", methods=["GET"])
    async def ready(_: Request) -> HTTPResponse:
        status, report = await readiness(checks)
        return response.json(report, status=status)

    app.blueprint(bp)
    count_responses(app)


def count_responses(app: Any) -> None:
    """``shop_http_responses_total{status_class}`` for every response but the operations paths."""

    @app.middleware("response")
    async def count(request: Any, reply: Any) -> None:
        if request.path not in OPERATIONS_PATHS and reply is not None:
            metrics.HTTP_RESPONSES.labels(metrics.status_class(getattr(reply, "status", 0))).inc()


__all__ = ["OPERATIONS_PATHS", "install_operations_routes", "rasa_readiness_checks"]
