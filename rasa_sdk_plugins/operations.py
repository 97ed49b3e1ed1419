"""The action server's operations: ``/metrics``, ``/health/live``, ``/health/ready``, and each
custom action timed (``shop_action_seconds{action}``, ``shop_action_errors_total{action}``) with
one log line per action (a JSON line with the conversation's hash under ``SHOP_LOG_FORMAT=json``).

Readiness runs the checks the actions registered (``actions.shop``: the catalogue and indexes
loaded, the shop database reachable). rasa-sdk's own ``GET /health`` stays as it is: liveness.
Action names become labels only when the bot's domain knows them, so a caller cannot grow the
series.
"""

from __future__ import annotations

import logging
import time
from typing import Any, FrozenSet

from core.log_masking import conversation_ref
from core.settings import get_settings
from monitoring import metrics
from monitoring.health import liveness, readiness, registered_checks
from monitoring.json_logs import bind
from monitoring.operations_server import metrics_page
from rasa_addons.bot_domain import bot_domain

logger = logging.getLogger("shop.actions")
OPERATIONS_PATHS = frozenset({"/metrics", "/health/live", "/health/ready"})


def known_actions() -> FrozenSet[str]:
    """Custom action names of the bot's domain (and the form validations Rasa asks for)."""
    domain = bot_domain()
    forms = domain.get("forms") or {}
    return (
        frozenset(domain.get("actions") or ())
        | {f"validate_{form}" for form in forms}
        | {"action_validate_slot_mappings"}
    )


def install_operations(app: Any) -> None:
    """Add the three paths and the per-action timing to rasa-sdk's Sanic ``app``."""
    from sanic import response

    metrics.expose(metrics.ACTIONS)
    known = known_actions()
    for name in known:  # zero error counts from the start: the error ratio has a denominator's partner
        metrics.ACTION_ERRORS.labels(name)
    action_level = logging.INFO if get_settings().log_format == "json" else logging.DEBUG

    @app.route("/metrics", methods=["GET"])
    async def serve_metrics(request: Any) -> Any:
        status, body, content_type = metrics_page(request.headers.get("authorization"))
        return response.raw(body, status=status, content_type=content_type)

    @app.route("/health/live", methods=["GET"])
    async def live(_: Any) -> Any:
        return response.json(liveness())

    @app.route("/health/ready", methods=["GET"])
    async def ready(_: Any) -> Any:
        status, report = await readiness(registered_checks())
        return response.json(report, status=status)

    @app.middleware("request")
    async def start_timer(request: Any) -> None:
        if request.method != "POST" or request.path != "/webhook":
            return
        call = request.json if not request.headers.get("content-encoding") else None
        name = call.get("next_action") if isinstance(call, dict) else None
        request.ctx.shop_action = metrics.bounded(name if isinstance(name, str) else None, known)
        request.ctx.shop_conversation = conversation_ref(call.get("sender_id")) if isinstance(call, dict) else None
        request.ctx.shop_started = time.perf_counter()
        request.ctx.shop_log_context = bind(conversation=request.ctx.shop_conversation, action=request.ctx.shop_action)
        request.ctx.shop_log_context.__enter__()

    @app.middleware("response")
    async def stop_timer(request: Any, reply: Any) -> None:
        started = getattr(request.ctx, "shop_started", None)
        if started is None:
            return
        seconds = time.perf_counter() - started
        action = request.ctx.shop_action
        status = getattr(reply, "status", 500)
        metrics.ACTION_SECONDS.labels(action).observe(seconds)
        if status >= 500 or status == 404:  # 400 is a form's rejection: part of the dialogue, not a fault
            metrics.ACTION_ERRORS.labels(action).inc()
        logger.log(
            action_level,
            "action %s for %s: %d in %.1f ms",
            action,
            request.ctx.shop_conversation,
            status,
            seconds * 1000,
            extra={"status": status, "action_ms": round(seconds * 1000, 1)},
        )
        request.ctx.shop_log_context.__exit__(None, None, None)


__all__ = ["OPERATIONS_PATHS", "install_operations", "known_actions"]
