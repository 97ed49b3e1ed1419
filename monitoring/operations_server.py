"""``/metrics``, ``/health/live`` and ``/health/ready`` for a process without a web server of its
own (the insights consumer): a small threaded WSGI server from the standard library.

The Rasa and action servers serve the same three paths from their Sanic apps
(``web.operations``, ``rasa_sdk_plugins``); :func:`metrics_page` is the metrics answer all three give.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
from socketserver import ThreadingMixIn
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from core.settings import get_settings
from monitoring.health import Check, liveness, readiness
from monitoring.metrics import exposition

logger = logging.getLogger(__name__)

StartResponse = Callable[[str, List[Tuple[str, str]]], Any]


def metrics_allowed(authorization: Optional[str], token: Optional[str] = None) -> bool:
    """May this request read ``/metrics``? Always without ``SHOP_METRICS_TOKEN``, else only with it."""
    expected = token if token is not None else get_settings().metrics_token
    if not expected:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


def metrics_page(authorization: Optional[str]) -> Tuple[int, bytes, str]:
    """(status, body, content type) of ``GET /metrics`` on every server: the page, or 401 without the token."""
    if not metrics_allowed(authorization):
        return 401, b"metrics need the bearer token (SHOP_METRICS_TOKEN)\n", "text/plain; charset=utf-8"
    body, content_type = exposition()
    return 200, body, content_type


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # Prometheus scrapes every 15 s: no access log
        pass


def operations_app(checks: Dict[str, Check]) -> Callable[[Dict[str, Any], StartResponse], Iterable[bytes]]:
    def app(environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET":
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
            return [b"GET only\n"]
        if path == "/metrics":
            status, body, content_type = metrics_page(environ.get("HTTP_AUTHORIZATION"))
            start_response("200 OK" if status == 200 else "401 Unauthorized", [("Content-Type", content_type)])
            return [body]
        if path == "/health/live":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(liveness()).encode()]
        if path == "/health/ready":
            status, report = asyncio.run(readiness(checks))
            start_response(
                f"{status} {'OK' if status == 200 else 'Service Unavailable'}", [("Content-Type", "application/json")]
            )
            return [json.dumps(report).encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"/metrics, /health/live or /health/ready\n"]

    return app


def serve_operations(host: str, port: int, checks: Dict[str, Check]) -> WSGIServer:
    """Serve the three paths on ``host:port`` in a daemon thread; returns the server (``shutdown()`` stops it)."""
    server = make_server(host, port, operations_app(checks), server_class=_ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="operations-http", daemon=True).start()
    logger.info("metrics and health on http://%s:%d/metrics, /health/live, /health/ready", host, port)
    return server


__all__ = ["metrics_allowed", "metrics_page", "operations_app", "serve_operations"]
