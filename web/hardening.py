"""HTTP hardening of the whole Rasa server: request size, Rasa's REST channel input, page headers.

Why here and not in Rasa: the Rasa server's Sanic app is built by Rasa; the
shop channel is the one piece of our code it loads, so the channel installs
these on the app it is attached to (:func:`install_http_hardening`).

* **Size**: Sanic accepts 100 MB bodies by default; every endpoint of ours takes
  small JSON, so bodies over :data:`MAX_REQUEST_BYTES` get a 413 before any parsing.
* **Rasa's REST channel** (``/webhooks/rest/webhook``) trusts its body as is: a JSON
  list is a 500, a missing ``sender`` puts every anonymous caller into one shared
  conversation ("default"), ``metadata.customer_id`` would claim any customer's
  orders (the action server fills the ``customer_id`` slot from metadata) and
  ``input_channel`` is chosen by the caller. :func:`clean_rest_body` applies the
  shop channel's rules to it instead: a clear 400 for bad input, the same message
  cleaning, and metadata reduced to what the channel itself verifies.
* **Pages** (demo shop, agent console, analytics) get a Content-Security-Policy:
  scripts, styles and connections from this server only, no framing.
* **Typed payloads**: ``/intent{entities}`` is accepted only when the bot offered exactly that
  payload in this conversation; otherwise it is read as text (:mod:`web.payloads`).
* **Client tag**: every shopper message (shop channel and Rasa's REST channel) carries
  ``metadata.client``, a keyed hash of the client address set here, never by the caller,
  so the action server can limit order-verification misses per client
  (:mod:`assistant.ratelimit`) however many conversations a client opens. Behind a proxy,
  Sanic's ``SANIC_PROXIES_COUNT`` / ``SANIC_REAL_IP_HEADER`` make ``remote_addr`` the shopper's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.store import InvalidInput, clean_text
from web.payloads import guard_message

if TYPE_CHECKING:  # pragma: no cover
    from web.channel import ShopChannel

MAX_REQUEST_BYTES = 1_000_000
CLIENT_METADATA_KEY = "client"
REST_WEBHOOK_PATH = "/webhooks/rest/webhook"
# Rasa's REST senders are chosen by the integrating back end ("shopper-1" in the README); the widget
# uses 32 random hex digits. Printable ids only: they end up in logs, URLs and the tracker store.
REST_SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",  # product photos come from the shop's image host
        "connect-src 'self'",  # fetch + socket.io (CSP3 'self' covers ws:/wss: of the same host)
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def clean_rest_body(raw: bytes, channel: Optional["ShopChannel"] = None) -> Dict[str, Any]:
    """The body of a Rasa REST request reduced to ``{sender, message, metadata}``.

    Raises :class:`InvalidInput` (shown to the caller as a 400) for anything
    that is not a JSON object with a printable ``sender`` id and a non-empty
    ``message`` string. Metadata keeps only the page context and button titles
    the shop channel accepts; a customer id never passes (logged-in shoppers
    use the widget's channel); ``input_channel`` is always Rasa's ``rest``.
    """
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    sender = body.get("sender")
    if not isinstance(sender, str) or not REST_SENDER_PATTERN.match(sender):
        raise InvalidInput("'sender' must be an id of 1-128 letters, digits or . : @ _ -")
    message = clean_text(body.get("message"))
    metadata = channel.clean_metadata(body.get("metadata")) if channel is not None else {}
    # Logged-in shoppers come through the shop channel (widget); REST callers are anonymous.
    metadata.pop("customer_id", None)
    return {"sender": sender, "message": message, "metadata": metadata}


def client_address(request: Any) -> str:
    """The client's address: the proxy-forwarded one when Sanic is told to trust a proxy, else the peer's."""
    return str(getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "")


def client_tag(address: str, key: bytes) -> Optional[str]:
    """A keyed hash of ``address`` (16 hex digits): stable per client and key, not the address itself
    (it is stored with the conversation). The key comes from ``SHOP_SECRET_KEY``, the same on every instance."""
    if not address:
        return None
    return hmac.new(key, address.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:16]


def _declared_length(request: Request) -> int:
    try:
        return int(request.headers.get("content-length") or 0)
    except ValueError:
        return 0


def _error(message: str, status: int) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def install_http_hardening(app: Sanic, channel: Optional["ShopChannel"] = None) -> None:
    """Body size limit, REST channel validation and page headers on ``app`` (idempotent)."""
    if getattr(app.ctx, "shop_hardened", False):
        return
    app.ctx.shop_hardened = True
    app.config.REQUEST_MAX_SIZE = min(int(app.config.REQUEST_MAX_SIZE), MAX_REQUEST_BYTES)
    app.config.FALLBACK_ERROR_FORMAT = "json"  # an API server: Sanic's own 4xx/5xx pages as JSON too

    @app.middleware("request")
    async def validate_rest_webhook(request: Request) -> Optional[HTTPResponse]:
        # Sanic runs request middleware again while answering a body that was too large
        # (with an empty body): say 413 here, or the check below would turn it into a 400.
        if _declared_length(request) > MAX_REQUEST_BYTES:
            return _error(f"the request is larger than {MAX_REQUEST_BYTES} bytes", 413)
        if request.method != "POST" or request.path.rstrip("/") != REST_WEBHOOK_PATH:
            return None
        try:
            cleaned = clean_rest_body(request.body, channel)
        except InvalidInput as refused:
            return _error(str(refused), 400)
        if channel is not None:  # set here, never taken from the caller (clean_metadata drops it)
            tag = channel.client_tag_of(request)
            if tag:
                cleaned["metadata"][CLIENT_METADATA_KEY] = tag
        # "/intent{...}" only as a payload the bot offered in this conversation (web.payloads).
        cleaned["message"] = await guard_message(getattr(app.ctx, "agent", None), cleaned["sender"], cleaned["message"])
        # Rasa's handler reads request.json: hand it the cleaned body (parsed once more, cached).
        request.body = json.dumps(cleaned).encode()
        request.parsed_json = cleaned
        return None

    @app.middleware("response")
    async def page_headers(request: Request, reply: HTTPResponse) -> None:
        if reply is None:
            return
        content_type = reply.headers.get("content-type", "") or getattr(reply, "content_type", "") or ""
        if content_type.startswith("text/html"):
            for name, value in PAGE_HEADERS.items():
                reply.headers.setdefault(name, value)


def page_security_headers() -> Tuple[Tuple[str, str], ...]:
    """The headers every HTML page gets (for tests and documentation)."""
    return tuple(PAGE_HEADERS.items())


__all__ = [
    "CLIENT_METADATA_KEY",
    "CONTENT_SECURITY_POLICY",
    "MAX_REQUEST_BYTES",
    "REST_WEBHOOK_PATH",
    "clean_rest_body",
    "client_address",
    "client_tag",
    "install_http_hardening",
    "page_security_headers",
]
