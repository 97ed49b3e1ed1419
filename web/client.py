"""The client side of the shop channel for Python callers (load test, soak, tests): a new conversation id.

The shop channel only continues conversations whose id it issued (``core.signing``), so a
REST client asks ``POST /webhooks/shop/session`` first; a socket.io client gets its id in
``session_confirm``.
"""

from __future__ import annotations

import json
import urllib.request

SESSION_PATH = "/webhooks/shop/session"


def new_conversation_id(server_url: str, timeout: float = 30) -> str:
    """A conversation id issued by the Rasa server at ``server_url`` (``http://host:port``)."""
    request = urllib.request.Request(
        server_url.rstrip("/") + SESSION_PATH, data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return str(json.loads(reply.read())["session_id"])


__all__ = ["SESSION_PATH", "new_conversation_id"]
