"""The agent console: login, the queue, one conversation, take / release / resolve, replies.

HTTP under ``/webhooks/shop/agent/...`` for every action (JSON, session cookie
plus ``X-CSRF-Token`` on every POST) and the socket.io namespace ``/agents``
for live pushes (``queue_changed``, ``ticket_message``, ``shopper_typing``),
authenticated by the same cookie. An agent sees the hand-off queue and the
shop context of the conversations in it, nothing else.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from collections import defaultdict, deque
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Deque, Dict, Optional, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from web.auth import CSRF_HEADER, SESSION_COOKIE, AgentSession, csrf_matches
from web.http import HttpError, json_body
from web.models import TicketStatus
from web.service import AGENTS_NAMESPACE, AGENTS_ROOM, TYPING_EVENT
from web.store import AgentInfo, InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from web.channel import ShopChannel

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginThrottle:
    """Slows password guessing: ``per_account`` failures per address and username, ``per_address``
    failures per address in total, within ``window`` seconds; then 429 until the window passes."""

    def __init__(self, per_account: int = 5, per_address: int = 30, window: float = 300.0) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window = window
        self._failures: Dict[str, Deque[float]] = defaultdict(deque)

    def _count(self, key: str, now: float) -> int:
        failures = self._failures.get(key)
        if failures is None:
            return 0
        while failures and now - failures[0] > self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0
        return len(failures)

    def blocked(self, address: str, username: str) -> bool:
        now = time.monotonic()
        return (
            self._count(f"{address}|{username}", now) >= self.per_account
            or self._count(address, now) >= self.per_address
        )

    def failed(self, address: str, username: str) -> None:
        now = time.monotonic()
        for key in (f"{address}|{username}", address):
            self._failures[key].append(now)

    def succeeded(self, address: str, username: str) -> None:
        self._failures.pop(f"{address}|{username}", None)


def _cookie_token(cookie_header: str) -> Optional[str]:
    cookies = SimpleCookie()
    try:
        cookies.load(cookie_header or "")
    except Exception:  # malformed header: no session
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def admin_guard(channel: "ShopChannel") -> Callable[[Request], Awaitable[Optional[HTTPResponse]]]:
    """A guard for other blueprints (insights): None for a logged-in admin, else 401/403."""

    async def guard(request: Request) -> Optional[HTTPResponse]:
        session = channel.session_tokens.load(request.cookies.get(SESSION_COOKIE))
        agent = await asyncio.to_thread(channel.store.get_agent, session.agent_id) if session else None
        if agent is None:
            return response.json({"error": "log into the agent console first"}, status=401, headers=SECURITY_HEADERS)
        if not agent.is_admin:
            return response.json({"error": "admins only"}, status=403, headers=SECURITY_HEADERS)
        if request.method not in ("GET", "HEAD") and not csrf_matches(session.csrf, request.headers.get(CSRF_HEADER)):
            return response.json({"error": "missing or wrong CSRF token"}, status=403, headers=SECURITY_HEADERS)
        return None

    return guard


def register_console(bp: Blueprint, channel: "ShopChannel") -> None:
    """Add the console's pages, API and socket namespace to the channel's blueprint."""
    from web.channel import STATIC_DIR
    from web.context import ticket_context

    store, service, tokens = channel.store, channel.service, channel.session_tokens
    assert service is not None and channel.sio is not None
    sio = channel.sio
    throttle = LoginThrottle()

    async def current_agent(request: Request, *, csrf: bool) -> Tuple[AgentInfo, AgentSession]:
        session = tokens.load(request.cookies.get(SESSION_COOKIE))
        agent = await service.db(store.get_agent, session.agent_id) if session else None
        if session is None or agent is None:
            raise HttpError(401, "please log in")
        if csrf and not csrf_matches(session.csrf, request.headers.get(CSRF_HEADER)):
            raise HttpError(403, "missing or wrong CSRF token; reload the console")
        return agent, session

    def secured(body: Any, status: int = 200) -> HTTPResponse:
        return response.json(body, status=status, headers=SECURITY_HEADERS)

    def ticket_id_of(raw: str) -> int:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
            raise HttpError(404, "no such ticket")
        return int(raw)

    @bp.route("/console", methods=["GET"])
    async def console_page(_: Request) -> HTTPResponse:
        page = await response.file(STATIC_DIR / "console.html")
        page.headers.update(SECURITY_HEADERS)
        return page

    @bp.route("/agent/login", methods=["POST"])
    async def login(request: Request) -> HTTPResponse:
        body = json_body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            raise InvalidInput("give a username and a password")
        keys = (str(request.ip), username.lower()[:64])
        if throttle.blocked(*keys):
            raise HttpError(429, "too many failed logins; wait a few minutes")
        agent = await service.db(store.authenticate, username, password)
        if agent is None:
            throttle.failed(*keys)
            raise HttpError(401, "wrong username or password")
        throttle.succeeded(*keys)
        token, csrf = tokens.issue(agent.id)
        reply = secured({"agent": asdict(agent), "csrf": csrf})
        reply.cookies[SESSION_COOKIE] = token
        cookie = reply.cookies[SESSION_COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["max-age"] = tokens.max_age
        if request.scheme == "https":
            cookie["secure"] = True
        return reply

    @bp.route("/agent/logout", methods=["POST"])
    async def logout(request: Request) -> HTTPResponse:
        await current_agent(request, csrf=True)
        tokens.revoke(request.cookies.get(SESSION_COOKIE))  # a copied cookie dies with the logout
        reply = secured({"ok": True})
        reply.cookies[SESSION_COOKIE] = ""
        reply.cookies[SESSION_COOKIE]["path"] = "/"
        reply.cookies[SESSION_COOKIE]["max-age"] = 0
        return reply

    @bp.route("/agent/me", methods=["GET"])
    async def me(request: Request) -> HTTPResponse:
        agent, session = await current_agent(request, csrf=False)
        return secured(
            {"agent": asdict(agent), "csrf": session.csrf, "canned_replies": channel.config.canned_replies}
        )

    @bp.route("/agent/queue", methods=["GET"])
    async def queue(request: Request) -> HTTPResponse:
        await current_agent(request, csrf=False)
        open_tickets = await service.db(store.queue)
        resolved = await service.db(store.recent_resolved, 10)
        return secured(
            {
                "tickets": [t.as_json(full=False) for t in open_tickets],
                "resolved": [t.as_json(full=False) for t in resolved],
            }
        )

    @bp.route("/agent/tickets/<raw_id>", methods=["GET"])
    async def ticket(request: Request, raw_id: str) -> HTTPResponse:
        await current_agent(request, csrf=False)
        ticket_id = ticket_id_of(raw_id)
        info = await service.db(store.get_ticket, ticket_id)
        messages = await service.db(store.messages, ticket_id)

        def shop_context() -> Dict[str, Any]:
            with store.session() as session:
                return ticket_context(session, info.context, info.customer_id)

        return secured(
            {
                "ticket": info.as_json(),
                "messages": [m.as_json() for m in messages],
                "context": await service.db(shop_context),
            }
        )

    @bp.route("/agent/tickets/<raw_id>/<verb>", methods=["POST"])
    async def ticket_action(request: Request, raw_id: str, verb: str) -> HTTPResponse:
        agent, _ = await current_agent(request, csrf=True)
        ticket_id = ticket_id_of(raw_id)
        if verb == "take":
            return secured({"ticket": (await service.take(ticket_id, agent)).as_json(full=False)})
        if verb == "release":
            return secured({"ticket": (await service.release(ticket_id, agent)).as_json(full=False)})
        body = json_body(request)
        if verb == "resolve":
            outcome = body.get("outcome")
            if outcome not in TicketStatus.RESOLVED:
                raise InvalidInput("outcome must be 'handed_back' or 'closed'")
            return secured({"ticket": (await service.resolve(ticket_id, agent, outcome)).as_json(full=False)})
        if verb == "messages":
            message = await service.agent_message(ticket_id, agent, body.get("text"))
            return secured({"message": message.as_json()}, status=201)
        raise HttpError(404, f"unknown action {verb[:20]!r}")

    # -- live pushes -----------------------------------------------------------------
    @sio.on("connect", namespace=AGENTS_NAMESPACE)
    async def agent_connect(sid: str, environ: Dict[str, Any], auth: Optional[Dict] = None) -> bool:
        session = tokens.load(_cookie_token(environ.get("HTTP_COOKIE", "")))
        agent = await service.db(store.get_agent, session.agent_id) if session else None
        if agent is None:
            return False
        await sio.save_session(sid, {"agent_id": agent.id, "name": agent.display_name}, namespace=AGENTS_NAMESPACE)
        await sio.enter_room(sid, AGENTS_ROOM, namespace=AGENTS_NAMESPACE)
        return True

    @sio.on("typing", namespace=AGENTS_NAMESPACE)
    async def agent_typing(sid: str, data: Any = None) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("ticket_id"), int):
            return
        session = await sio.get_session(sid, namespace=AGENTS_NAMESPACE)
        try:
            info = await service.db(store.get_ticket, data["ticket_id"])
        except Exception:
            return
        if info.status == TicketStatus.ASSIGNED and info.agent_id == session.get("agent_id"):
            await service.to_shopper(info.sender_id, TYPING_EVENT, {"on": True, "who": "agent", "name": session.get("name")})


__all__ = ["LoginThrottle", "register_console"]
