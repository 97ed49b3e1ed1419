"""Which sites may embed the widget: one list of origins for socket.io and the widget's HTTP endpoints.

A shop serves its pages from its own site (``https://www.shop.example``) and the assistant from
another (``https://chat.shop.example``): the widget there is a cross-origin client. The origins a
shop lists (``SHOP_WIDGET_ORIGINS``, or ``cors_allowed_origins`` in ``credentials.yml``) may

* open the socket.io connection (engine.io checks the ``Origin`` of the handshake with
  :meth:`WidgetOrigins.allows`; the assistant's own pages, same origin, always may), and
* call the widget's HTTP endpoints (new conversation, REST fallback, history, static files, demo
  images, site events) with CORS answers, preflights included, by Sanic-CORS (Rasa's own CORS
  library) on those paths only.

Nothing else gets CORS headers: the agent console, the analytics and Rasa's REST channel stay
same-origin, and an origin not listed is refused (no ``Access-Control-Allow-Origin``; the socket
handshake is a 400).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

from sanic import Sanic

logger = logging.getLogger(__name__)

ANY_ORIGIN = "*"
# scheme://host[:port], nothing after it: what a browser sends as Origin.
ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
# The endpoints a widget on another site calls (regexes on the path, as Sanic-CORS takes them).
WIDGET_PATHS = (
    r"/webhooks/shop/session",
    r"/webhooks/shop/webhook",
    r"/webhooks/shop/photos",
    r"/webhooks/shop/history/.*",
    r"/webhooks/shop/static/.*",
    r"/webhooks/shop/images/.*",
    r"/insights/events",
)
ALLOWED_HEADERS = ("Content-Type", "X-Shop-Session", "X-Shop-Customer-Token")
PREFLIGHT_MAX_AGE = 600


def parse_origins(value: Any) -> Tuple[str, ...]:
    """Origins from a comma-separated string or a list; ``ValueError`` names a malformed one.

    ``https://Shop.example/`` becomes ``https://shop.example`` (browsers send origins lowercase and
    without a path); ``*`` allows every site and is logged as a warning.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise ValueError("widget origins must be a list or a comma-separated string")
    origins = []
    for item in items:
        origin = str(item).strip().rstrip("/")
        if not origin:
            continue
        if origin == ANY_ORIGIN:
            logger.warning("widget origins: '*' lets every site embed the widget")
            origins.append(ANY_ORIGIN)
            continue
        if not ORIGIN_PATTERN.match(origin):
            raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
        scheme, rest = origin.split("://", 1)
        origins.append(f"{scheme.lower()}://{rest.lower()}")
    return tuple(dict.fromkeys(origins))


def request_origins(environ: Mapping[str, Any]) -> Tuple[str, ...]:
    """The assistant's own origin as the client reached it (and as a trusted proxy forwarded it)."""
    host = environ.get("HTTP_HOST")
    if not host:
        return ()
    scheme = environ.get("wsgi.url_scheme", "http")
    own = [f"{scheme}://{host}"]
    if "HTTP_X_FORWARDED_PROTO" in environ or "HTTP_X_FORWARDED_HOST" in environ:
        forwarded_scheme = str(environ.get("HTTP_X_FORWARDED_PROTO", scheme)).split(",")[0].strip()
        forwarded_host = str(environ.get("HTTP_X_FORWARDED_HOST", host)).split(",")[0].strip()
        own.append(f"{forwarded_scheme}://{forwarded_host}")
    return tuple(origin.lower() for origin in own)


@dataclass(frozen=True)
class WidgetOrigins:
    """The sites allowed to embed the widget, besides the assistant's own pages."""

    origins: Tuple[str, ...] = ()

    @classmethod
    def from_config(cls, configured: Any, default: Any) -> "WidgetOrigins":
        """``credentials.yml``'s ``cors_allowed_origins`` when set, else ``SHOP_WIDGET_ORIGINS``."""
        return cls(parse_origins(configured if configured is not None else default))

    @property
    def any(self) -> bool:
        return ANY_ORIGIN in self.origins

    def allows(self, origin: Optional[str], environ: Optional[Mapping[str, Any]] = None) -> bool:
        """engine.io's ``cors_allowed_origins`` callable: a listed site, or the assistant's own origin."""
        if not origin:
            return True  # not a browser's cross-origin request (engine.io asks only when Origin is sent)
        origin = origin.strip().lower()
        if self.any or origin in self.origins:
            return True
        return origin in request_origins(environ or {})

    def cors_resources(self) -> Dict[str, Dict[str, Any]]:
        """Sanic-CORS resources: the widget's paths, for the listed origins only."""
        origins: Sequence[str] | str = ANY_ORIGIN if self.any else list(self.origins)
        return {path: {"origins": origins} for path in WIDGET_PATHS}


def install_widget_cors(app: Sanic, origins: WidgetOrigins) -> None:
    """CORS on the widget's endpoints for ``origins`` (nothing when none is listed); idempotent."""
    if not origins.origins or getattr(app.ctx, "shop_widget_cors", False):
        return
    from sanic_cors import CORS

    app.ctx.shop_widget_cors = True
    CORS(
        app,
        resources=origins.cors_resources(),
        automatic_options=True,  # preflights answered for routes that only declare GET/POST
        allow_headers=list(ALLOWED_HEADERS),
        methods=["GET", "POST", "OPTIONS"],
        supports_credentials=False,  # the widget sends no cookies; conversation ids travel in the body/path
        max_age=PREFLIGHT_MAX_AGE,
        vary_header=True,
    )


__all__ = [
    "ALLOWED_HEADERS",
    "WIDGET_PATHS",
    "WidgetOrigins",
    "install_widget_cors",
    "parse_origins",
    "request_origins",
]
