"""The agent console: login, the queue, one conversation, take / release / resolve, replies.

HTTP under ``/webhooks/shop/agent/...`` for every action (JSON, session cookie
plus ``X-CSRF-Token`` on every POST) and the socket.io namespace ``/agents``
for live pushes (``queue_changed``, ``ticket_message``, ``shopper_typing``),
authenticated by the same cookie. An agent sees their conversations and those waiting for their
skills (``handoff.routing``; a supervisor sees every queue and every agent's load), the follow-ups
no agent has dealt with yet (complaints and messages left outside opening hours, recorded
by the bot, which keeps talking to the shopper; an answer reaches the chat and the
shopper's e-mail) and the shop context of their conversations, nothing else.
"""

from __future__ import annotations

from dataclasses import asdict
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, Optional, Tuple
from urllib.parse import urlsplit

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.routing import queue_overview, visible_to
from handoff.store import AgentInfo, InvalidInput
from shopdb.counters import Limit, SharedLimiter
from shopdb.models import TicketKind, TicketStatus
from shopdb.photos import photo_path, photos_dir
from web.auth import CSRF_HEADER, SESSION_COOKIE, AgentSession, csrf_matches
from web.http import HttpError, json_body
from web.live_handoff import AGENTS_NAMESPACE, AGENTS_ROOM, TYPING_EVENT, HandoffService
from web.models import register_models
from web.review import register_review

if TYPE_CHECKING:  # pragma: no cover
    from web.channel import ShopChannel

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


LOGIN_PER_ACCOUNT = Limit("login-account", 5, 300)  # tries per address and username per 5 minutes
LOGIN_PER_ADDRESS = Limit("login-address", 30, 300)  # tries per address per 5 minutes
PASSWORD_CHECK_SECONDS = 10.0  # a login's time beyond the database time-out: the argon2 verification


class LoginThrottle:
    """Slows password guessing, counted in the shared counters (every server, across restarts).

    A try is counted *before* the password is checked, so simultaneous tries are counted as
    tries: of 20 wrong logins sent at once, 5 reach the password check and 15 get a 429.
    A successful login clears its account's count.
    """

    def __init__(self, limiter: SharedLimiter) -> None:
        self.limiter = limiter

    def attempt(self, address: str, username: str) -> bool:
        """Count one try; False when this address (and username) has no tries left."""
        account_ok = self.limiter.hit(LOGIN_PER_ACCOUNT, f"{address}|{username}")
        address_ok = self.limiter.hit(LOGIN_PER_ADDRESS, address)
        return account_ok and address_ok

    def succeeded(self, address: str, username: str) -> None:
        self.limiter.clear(LOGIN_PER_ACCOUNT, f"{address}|{username}")


def _cookie_token(cookie_header: str) -> Optional[str]:
    cookies: SimpleCookie[str] = SimpleCookie()
    try:
        cookies.load(cookie_header or "")
    except Exception:  # malformed header: no session
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def cookie_is_secure(scheme: str, setting: Optional[bool]) -> bool:
    """The console cookie's ``Secure`` flag: ``SHOP_COOKIE_SECURE`` when set, else whether the shopper's
    request is https. Behind nginx, Sanic takes the scheme from ``X-Forwarded-Proto`` once told to trust
    the proxy (``SANIC_PROXIES_COUNT=1``, as ``docker-compose.yml`` sets it)."""
    return setting if setting is not None else scheme == "https"


def same_origin(request: Request) -> bool:
    """True when the request carries no ``Origin`` or the page that sent it is on this server."""
    origin = request.headers.get("origin")
    if not origin:
        return True
    return urlsplit(origin).netloc.lower() == (request.host or "").lower()  # the scheme may differ behind TLS


def admin_guard(channel: "ShopChannel") -> Callable[[Request], Awaitable[Optional[HTTPResponse]]]:
    """A guard for other blueprints (insights): None for a logged-in admin, else 401/403."""

    async def guard(request: Request) -> Optional[HTTPResponse]:
        assert channel.service is not None
        session = await channel.service.db(channel.session_tokens.load, request.cookies.get(SESSION_COOKIE))
        agent = await channel.service.db(channel.store.get_agent, session.agent_id) if session else None
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
    from web.shop_context import ticket_context

    store, tokens = channel.store, channel.session_tokens
    assert channel.service is not None and channel.sio is not None
    # Declared, not just narrowed: mypy may check the handlers below apart from this function's narrowing.
    service: HandoffService = channel.service
    sio = channel.sio
    throttle = LoginThrottle(channel.limiter)

    async def current_agent(request: Request, *, csrf: bool) -> Tuple[AgentInfo, AgentSession]:
        session = await service.db(tokens.load, request.cookies.get(SESSION_COOKIE))
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
        # Login CSRF: a cross-site form can post text/plain but never application/json without a
        # CORS preflight, which this server refuses; a foreign Origin is refused outright.
        if not (request.headers.get("content-type") or "").split(";")[0].strip().lower() == "application/json":
            raise HttpError(415, "send the login as application/json")
        if not same_origin(request):
            raise HttpError(403, "log in from the console's own page")
        body = json_body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            raise InvalidInput("give a username and a password")
        keys = (str(request.ip), username.lower()[:64])
        if not await service.db(throttle.attempt, *keys):
            raise HttpError(429, "too many failed logins; wait a few minutes")
        # argon2 (64 MiB, three passes) is CPU work: five checks at once on two cores take seconds,
        # which is not a database that is down.
        agent = await service.db_within(
            service.timeout + PASSWORD_CHECK_SECONDS, store.authenticate, username, password
        )
        if agent is None:
            raise HttpError(401, "wrong username or password")
        await service.db(throttle.succeeded, *keys)
        token, csrf = tokens.issue(agent.id)
        reply = secured({"agent": asdict(agent), "csrf": csrf})
        reply.cookies[SESSION_COOKIE] = token
        cookie = reply.cookies[SESSION_COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["max-age"] = tokens.max_age
        if cookie_is_secure(request.scheme, channel.settings.cookie_secure):
            cookie["secure"] = True
        return reply

    @bp.route("/agent/logout", methods=["POST"])
    async def logout(request: Request) -> HTTPResponse:
        await current_agent(request, csrf=True)
        await service.db(tokens.revoke, request.cookies.get(SESSION_COOKIE))  # a copied cookie dies with the logout
        reply = secured({"ok": True})
        reply.cookies[SESSION_COOKIE] = ""
        reply.cookies[SESSION_COOKIE]["path"] = "/"
        reply.cookies[SESSION_COOKIE]["max-age"] = 0
        return reply

    @bp.route("/agent/me", methods=["GET"])
    async def me(request: Request) -> HTTPResponse:
        agent, session = await current_agent(request, csrf=False)
        await service.db(store.touch, agent.id)
        await service.to_agents("team_changed", {})
        return secured({"agent": asdict(agent), "csrf": session.csrf, "canned_replies": channel.config.canned_replies})

    @bp.route("/agent/photos/<name>", methods=["GET"])
    async def shopper_photo(request: Request, name: str) -> HTTPResponse:
        """A photo a shopper sent (shopdb.photos): for logged-in agents only, never cached."""
        await current_agent(request, csrf=False)
        path = photo_path(photos_dir(), name)
        if path is None:
            raise HttpError(404, "no such photo")
        return await response.file(
            path, mime_type="image/jpeg", headers={**SECURITY_HEADERS, "Cache-Control": "no-store"}
        )

    @bp.route("/agent/team", methods=["GET"])
    async def team(request: Request) -> HTTPResponse:
        """Every agent with their presence, skills and (for supervisors) load (for transfers and supervision)."""
        agent, _ = await current_agent(request, csrf=False)
        members = await service.db(store.team)
        if agent.sees_every_queue:
            loads = (await service.db(queue_overview, store))["loads"]
            for member in members:
                member["load"] = loads.get(member["id"], 0)
        return secured({"agents": members})

    @bp.route("/agent/presence", methods=["POST"])
    async def presence(request: Request) -> HTTPResponse:
        """The agent's own switch: online (gets conversations routed, takes transfers) or away."""
        agent, _ = await current_agent(request, csrf=True)
        await service.db(store.set_presence, agent.id, json_body(request).get("presence"))
        await service.to_agents("team_changed", {})
        await service.route()  # an agent back online takes the longest-waiting conversations of their skills
        return secured({"agents": await service.db(store.team)})

    @bp.route("/agent/queue", methods=["GET"])
    async def queue(request: Request) -> HTTPResponse:
        """The agent's queue: their own conversations and those waiting for their skills; a supervisor's:
        every queue, with each skill's waiting count, free places and every agent's load."""
        agent, _ = await current_agent(request, csrf=False)
        await service.db(store.touch, agent.id)  # the console polls this: the agent is here
        await service.route()
        open_tickets = visible_to(await service.db(store.queue), agent.id, agent.skills, agent.sees_every_queue)
        followups = await service.db(store.followups)
        resolved = await service.db(store.recent_resolved, 10)
        overview = await service.db(queue_overview, store)
        if not agent.sees_every_queue:
            overview = {"skills": [row for row in overview["skills"] if row["skill"] in agent.skills]}
        return secured(
            {
                "tickets": [t.as_json(full=False) for t in open_tickets],
                "followups": [t.as_json(full=False) for t in followups],
                "resolved": [t.as_json(full=False) for t in resolved],
                "overview": overview,
                "routing": channel.settings.handoff_routing,
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
            wanted = await service.db(store.get_ticket, ticket_id)
            if wanted.status == TicketStatus.WAITING and not visible_to(
                [wanted], agent.id, agent.skills, agent.sees_every_queue
            ):
                raise HttpError(403, f"this conversation waits for the {wanted.skill} team")
            return secured({"ticket": (await service.take(ticket_id, agent)).as_json(full=False)})
        if verb == "release":
            released = await service.release(ticket_id, agent)
            await service.route()  # to a colleague with room (or back in the queue)
            return secured({"ticket": released.as_json(full=False)})
        if verb == "transfer":
            to_agent = json_body(request).get("agent_id")
            if not isinstance(to_agent, int) or isinstance(to_agent, bool):
                raise InvalidInput("give the agent_id of the colleague to pass the conversation to")
            return secured({"ticket": (await service.transfer(ticket_id, agent, to_agent)).as_json(full=False)})
        if verb == "close_followup":
            closed = await service.db(store.close_followup, ticket_id, agent.id)
            await service.queue_changed(closed)
            return secured({"ticket": closed.as_json(full=False)})
        body = json_body(request)
        if verb == "resolve":
            outcome = body.get("outcome")
            if outcome not in TicketStatus.RESOLVED:
                raise InvalidInput("outcome must be 'handed_back' or 'closed'")
            resolved = await service.resolve(ticket_id, agent, outcome)
            await service.route()  # the agent has a free place: the next waiting conversation of their skills
            return secured({"ticket": resolved.as_json(full=False)})
        if verb == "messages":
            info = await service.db(store.get_ticket, ticket_id)
            if info.kind in TicketKind.FOLLOW_UPS:  # the answer to a complaint or a left message
                message, delivery = await service.answer_followup(ticket_id, agent, body.get("text"))
                return secured({"message": message.as_json(), "delivered_by": delivery}, status=201)
            message = await service.agent_message(ticket_id, agent, body.get("text"))
            return secured({"message": message.as_json()}, status=201)
        raise HttpError(404, f"unknown action {verb[:20]!r}")

    register_review(bp, channel, current_agent, secured)  # the learning loop's review queue (web/review.py)
    register_models(bp, channel, current_agent, secured)  # its model registry, for admins (web/models.py)

    # -- live pushes -----------------------------------------------------------------
    @sio.on("connect", namespace=AGENTS_NAMESPACE)
    async def agent_connect(sid: str, environ: Dict[str, Any], auth: Optional[Dict] = None) -> bool:
        session = await service.db(tokens.load, _cookie_token(environ.get("HTTP_COOKIE", "")))
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
            await service.to_shopper(
                info.sender_id, TYPING_EVENT, {"on": True, "who": "agent", "name": session.get("name")}
            )


__all__ = ["LoginThrottle", "cookie_is_secure", "register_console", "same_origin"]
