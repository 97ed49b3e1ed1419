"""rasa-sdk's plugin hook (``rasa_sdk.plugin`` imports a package of this exact name): the action
server answers only the Rasa servers, and knows the bot's domain itself (:mod:`rasa_sdk_plugins.domain`).

``rasa run actions`` calls :func:`attach_sanic_app_extensions` on its Sanic app; the middleware
added there refuses every request but ``GET /health``, ``/health/live``, ``/health/ready`` and
``/metrics`` (:mod:`rasa_sdk_plugins.operations`) unless it carries
``Authorization: Bearer <token>`` with the token of :func:`core.signing.action_server_token`
(``SHOP_ACTION_TOKEN``, or one derived from ``SHOP_SECRET_KEY``). The Rasa server sends it from
``bot/endpoints.yml`` (``action_endpoint.headers``). Where the action server listens is
``SANIC_HOST``: the launcher sets loopback; ``docker-compose.yml`` keeps it on an internal network.
"""

from __future__ import annotations

import hmac
import logging
import sys
from typing import Any, Optional

import pluggy

logger = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa_sdk")

OPEN_PATHS = frozenset({"/health", "/health/live", "/health/ready", "/metrics"})  # /metrics: SHOP_METRICS_TOKEN


def bearer_token(authorization: Optional[str]) -> str:
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def install_action_auth(app: Any, token: str) -> None:
    """Add the bearer-token check to the action server's Sanic ``app``."""
    from sanic import response

    expected = token.encode()

    @app.middleware("request")
    async def require_token(request: Any) -> Any:
        if request.method == "GET" and request.path in OPEN_PATHS:
            return None
        given = bearer_token(request.headers.get("authorization")).encode()
        if not given or not hmac.compare_digest(given, expected):
            logger.warning("action server: refused a %s %s without the right token", request.method, request.path)
            return response.json({"error": "this action server answers only its Rasa servers"}, status=401)
        return None


@hookimpl
def attach_sanic_app_extensions(app: Any) -> None:
    from core.signing import action_server_token
    from rasa_sdk_plugins.domain import install_domain_fill
    from rasa_sdk_plugins.operations import install_operations

    install_action_auth(app, action_server_token())
    install_domain_fill(app)
    install_operations(app)
    logger.info("action server: every call needs the Rasa servers' token")


def init_hooks(manager: pluggy.PluginManager) -> None:
    """Called by rasa-sdk's plugin discovery."""
    manager.register(sys.modules[__name__])
