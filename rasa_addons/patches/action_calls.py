"""Rasa's calls to the action server reuse their HTTP connections and encode faster.

Rasa 3.6's ``EndpointConfig.request`` opens a new ``aiohttp.ClientSession`` for every request
and closes it afterwards, so every custom action costs a new TCP connection: a connector, a
handshake, and on the action server a new Sanic connection task. Profiled under the load test
(``python -m perf.loadtest``, 5,000 products, 20 shoppers), connecting and tearing down was
about a tenth of the action round trip's CPU on both sides, and encoding the tracker (all
events of the session) with the standard ``json`` module another tenth of the Rasa server's.

:func:`install` makes ``EndpointConfig.session()`` hand out one kept session per event loop and
endpoint settings (headers, basic auth) whose connector keeps connections alive and which
encodes JSON bodies with ``ujson`` (the decoder Sanic already uses on the action server's side);
leaving the ``async with`` block no longer closes it. :func:`close_kept_sessions` closes them when the
server stops. Requests, time-outs and errors are Rasa's own, unchanged.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, Callable, Dict, Tuple

import aiohttp
import ujson

# An idle connection is dropped before the other side's keep-alive ends (Sanic's default: 5 s), so
# a request never goes out on a connection the server is closing.
KEEPALIVE_SECONDS = 2.0
_installed = False
_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dict[Tuple[Any, ...], aiohttp.ClientSession]]" = (
    weakref.WeakKeyDictionary()
)


class _Kept:
    """``async with`` over a kept session: entering yields it, leaving keeps it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *_exc: Any) -> None:
        return None


def _key(endpoint: Any) -> Tuple[Any, ...]:
    auth = endpoint.basic_auth or {}
    return (
        tuple(sorted((endpoint.headers or {}).items())),
        auth.get("username"),
        auth.get("password"),
    )


def kept_session(endpoint: Any, make: Callable[[], aiohttp.ClientSession]) -> _Kept:
    """The open session for ``endpoint``'s settings on the running loop, made with ``make()`` once."""
    loop = asyncio.get_running_loop()
    per_loop = _sessions.setdefault(loop, {})
    key = _key(endpoint)
    session = per_loop.get(key)
    if session is None or session.closed:
        session = per_loop[key] = make()
    return _Kept(session)


async def close_kept_sessions() -> None:
    """Close this loop's kept sessions (at server stop)."""
    for session in _sessions.pop(asyncio.get_running_loop(), {}).values():
        await session.close()


def install() -> None:
    """Patch ``EndpointConfig.session`` once per process (idempotent)."""
    global _installed
    if _installed:
        return
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    def session(self: EndpointConfig) -> Any:
        def make() -> aiohttp.ClientSession:
            auth = self.basic_auth
            return aiohttp.ClientSession(  # Rasa's settings, plus a connector that keeps connections
                headers=self.headers,
                auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
                json_serialize=ujson.dumps,
            )

        return kept_session(self, make)

    EndpointConfig.session = session
    _installed = True


__all__ = ["close_kept_sessions", "install", "kept_session"]
