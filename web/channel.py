"""The shop's chat channel for Rasa: socket.io (Rasa's protocol), a REST fallback, the pages.

Register it in ``credentials.yml`` by module path (``web.channel.ShopChannel:``).
Everything is served by the Rasa server under ``/webhooks/shop/``:

* socket.io on ``/socket.io`` speaking Rasa's ``SocketIOInput`` protocol
  (``session_request`` -> ``session_confirm``, ``user_uttered`` -> ``bot_uttered``),
  so third-party Rasa widgets work; sessions are always persistent (every tab
  of a session joins the session's room);
* ``POST /webhook`` (Rasa REST format) and ``GET /history/<session_id>`` (the
  conversation restored from the tracker store, with the hand-off state);
* ``/static/widget.js`` and ``widget.css`` (the embeddable widget), ``/demo``
  (a demo shop page), ``/console`` and ``/agent/...`` (the agent console, see
  :mod:`web.console`);
* ``GET /invoices/<token>.pdf``: an invoice behind a link the assistant signed (:mod:`web.invoices`);
* ``GET /images/products/<id>.svg``: a picture of a product without a photo (:mod:`web.product_images`).

A widget on the shop's own site (another origin) may use socket.io and the widget's endpoints when
the site is listed (``SHOP_WIDGET_ORIGINS`` or ``cors_allowed_origins``, :mod:`web.cors`). Agent and
notice lines go to each client in the shape it can show (:mod:`web.shopper_lines`).

While the conversation has an open hand-off ticket, the shopper's messages go
to the agents (database + tracker store + console sockets) and never to the bot;
each one is acknowledged (a delivery receipt) and a queued shopper's question gets
the queue position, the estimated wait, or when the team is back.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine, Dict, Iterable, List, Optional, Text, Tuple, TypeGuard

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from sqlalchemy.exc import SQLAlchemyError

from core.capabilities import clean_capabilities
from core.heap import freeze_startup_heap
from core.settings import get_settings
from core.signing import ConversationIds, CustomerProofs, CustomerTokens, resolve_secret_key
from handoff.store import DatabaseBusy, HandoffStore, InvalidInput, StoreError, TicketInfo, clean_text
from handoff.transcript import conversation_messages
from insights.api import analytics_blueprint, privacy_blueprint, site_events_blueprint
from learning.serving import follow_registry_forever
from rasa_addons.patches import install_all as install_rasa_patches
from rasa_addons.patches.action_calls import close_kept_sessions
from shopdb.counters import Limit, SharedLimiter
from shopdb.db import session_factory
from shopdb.photos import PhotoRefused, decode_upload, keep_photo, photos_dir
from shopdb.ratings import MAX_COMMENT_CHARS
from web.auth import SessionTokens
from web.console import admin_guard, register_console
from web.cors import WidgetOrigins, install_widget_cors
from web.csat import RatingService, rating_of
from web.hardening import CLIENT_METADATA_KEY, client_address, client_tag, install_http_hardening
from web.http import HttpError, install_error_handlers, json_body, json_error
from web.invoices import register_invoices
from web.live_handoff import BOT_MESSAGE_EVENT, HANDOFF_EVENT, TYPING_EVENT, HandoffService, queue_from_rasa_server
from web.operations import install_operations_routes, rasa_readiness_checks
from web.payloads import guard_message
from web.product_images import register_product_images
from web.review import collect_forever
from web.shopper_lines import speaker_room
from web.stock_alerts import StockAlertNotifier

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
SESSION_HEADER = "X-Shop-Session"
CUSTOMER_TOKEN_HEADER = "X-Shop-Customer-Token"
MAX_PAGE_METADATA_CHARS = 8192
PHOTOS_PER_CLIENT = Limit("photo-client", 20, 3600)  # photos one client may send per hour
MAX_SOCKET_PAYLOAD_BYTES = 1_000_000
DEFAULT_CANNED_REPLIES = (
    "Thanks for waiting! I'm looking into this for you now.",
    "Could you give me your order number, please?",
    "Could you confirm the e-mail address you ordered with?",
    "I've checked this for you; here is what I found:",
    "Is there anything else I can help you with?",
    "I'll hand you back to our shop assistant now. Have a great day!",
)


def _short_str(value: Any, limit: int) -> Optional[str]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = "".join(ch for ch in value if ch.isprintable()).strip()
    return value[:limit] or None


def clean_page(page: Any) -> Optional[Dict[str, Any]]:
    """Whitelisted page context: url, product viewed, title and cart lines; anything else is dropped."""
    if not isinstance(page, dict) or len(json.dumps(page, default=str)) > MAX_PAGE_METADATA_CHARS:
        return None
    cleaned: Dict[str, Any] = {}
    for key, limit in (("url", 500), ("product_id", 40), ("title", 200)):
        value = _short_str(page.get(key), limit)
        if value:
            cleaned[key] = value
    cart = page.get("cart")
    if isinstance(cart, list):
        lines = []
        for line in cart[:50]:
            if not isinstance(line, dict):
                continue
            product_id = _short_str(line.get("product_id"), 40)
            quantity = line.get("quantity", 1)
            if product_id and isinstance(quantity, int) and not isinstance(quantity, bool) and 0 < quantity < 1000:
                lines.append({"product_id": product_id, "quantity": quantity})
        cleaned["cart"] = lines
    return cleaned


class ShopOutput(SocketIOOutput):
    """Rasa's socket.io output with two fixes: custom payloads and multi-element carousels."""

    @classmethod
    def name(cls) -> Text:
        return "shop"

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})

    async def send_elements(self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any) -> None:
        await self._send_message(
            recipient_id,
            {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": list(elements)}}},
        )


class _ShopBlueprint(Blueprint):
    """Attaches socket.io to the Sanic app and remembers the app (for ``app.ctx.agent``)."""

    def __init__(self, channel: "ShopChannel", name: str) -> None:
        super().__init__(name)
        self.ctx.channel = channel

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        self.ctx.channel.attach(app)
        super().register(app, options)


@dataclass
class ShopChannelConfig:
    """The channel's ``credentials.yml`` section."""

    socketio_path: str = "/socket.io"
    # Sites that may embed the widget (web/cors.py): a list of origins or "*"; None: SHOP_WIDGET_ORIGINS.
    # The assistant's own pages (demo shop, console) are always allowed.
    cors_allowed_origins: Optional[Any] = None
    # redis://... to share socket.io rooms between several Rasa instances (an agent's reply
    # sent by one server reaches the shopper's socket on another); default SHOP_SOCKETIO_MESSAGE_QUEUE.
    message_queue: Optional[str] = field(default_factory=lambda: get_settings().socketio_message_queue)
    database_url: Optional[str] = None
    # None: the demo shop page is on in the embedded mode only (no SHOP_DATABASE_URL). It shows the
    # shop as a guest; signing in as the demo customer is SHOP_DEMO_LOGIN's (a development switch).
    demo_page: Optional[bool] = None
    session_max_age: int = 8 * 3600
    # Mount the insights endpoints (site events, analytics, data rights) when that package is installed.
    insights: bool = True
    canned_replies: List[str] = field(default_factory=lambda: list(DEFAULT_CANNED_REPLIES))

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "ShopChannelConfig":
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in (credentials or {}).items() if k in known and v is not None}
        unknown = set(credentials or {}) - known
        if unknown:
            logger.warning("unknown shop channel settings ignored: %s", ", ".join(sorted(unknown)))
        return cls(**values)


class ShopChannel(InputChannel):
    """Rasa input channel of the shop widget, the demo page and the agent console."""

    @classmethod
    def name(cls) -> Text:
        return "shop"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(ShopChannelConfig.from_credentials(credentials))

    def __init__(self, config: Optional[ShopChannelConfig] = None) -> None:
        self.config = config or ShopChannelConfig()
        settings = self.settings = get_settings()
        secret = resolve_secret_key(settings)  # fails at start-up, not at first login
        self.store = HandoffStore.from_url(
            self.config.database_url or settings.resolved_database_url, timeout=settings.db_timeout
        )
        self.limiter = SharedLimiter.from_url(settings.limits_url, self.store.engine)
        self.session_tokens = SessionTokens(secret, self.config.session_max_age, revocations=self.limiter)
        self.customer_tokens = CustomerTokens(secret)
        self.customer_proofs = CustomerProofs(secret)
        self.conversation_ids = ConversationIds(secret)
        self.origins = WidgetOrigins.from_config(self.config.cors_allowed_origins, settings.widget_origins)
        self._client_key = hashlib.sha256(b"shop-client-tag:" + secret.encode()).digest()
        self.demo_enabled = (
            self.config.demo_page if self.config.demo_page is not None else settings.database_url is None
        )
        self.app: Optional[Sanic] = None
        self.sio: Optional[AsyncServer] = None
        self.service: Optional[HandoffService] = None
        self.ratings: Optional[RatingService] = None

    # -- wiring --------------------------------------------------------------------
    def attach(self, app: Sanic) -> None:
        """Called when Rasa registers our blueprint: socket.io, and the insights endpoints when installed."""
        self.app = app
        assert self.sio is not None
        install_http_hardening(app, self)  # body size, Rasa's REST channel input, CSP on pages
        install_widget_cors(app, self.origins)  # the widget on the shop's own site (another origin)
        install_operations_routes(app, rasa_readiness_checks(app, self.store), self.store)  # /metrics, /health/*
        self.sio.attach(app, self.config.socketio_path)
        if self.config.insights:
            guard = admin_guard(self)
            app.blueprint(site_events_blueprint(identify=self.identify_shopper))  # POST /insights/events
            app.blueprint(analytics_blueprint(guard=guard))  # GET /insights/analytics/ (admins)
            app.blueprint(privacy_blueprint(guard=guard))  # POST /insights/privacy/{export,delete} (admins)

    def valid_session_id(self, value: object) -> TypeGuard[str]:
        """Conversation ids are bearer secrets (they unlock the history): only ids this server issued."""
        return self.conversation_ids.valid(value)

    def identify_shopper(self, request: Request) -> Tuple[Optional[str], Optional[str]]:
        """(session id, verified customer id) of a widget request, from its two headers."""
        session_id = request.headers.get(SESSION_HEADER)
        customer_id = self.customer_tokens.verify(request.headers.get(CUSTOMER_TOKEN_HEADER))
        return (session_id if self.valid_session_id(session_id) else None), customer_id

    def client_tag_of(self, request: Any) -> Optional[str]:
        """The client tag of an HTTP request (or socket.io's ``sanic.request``): web.hardening.client_tag."""
        return client_tag(client_address(request), self._client_key) if request is not None else None

    def rasa_agent(self) -> Any:
        if self.app is None or getattr(self.app.ctx, "agent", None) is None:
            raise HttpError(503, "the assistant is still starting, please retry shortly")
        return self.app.ctx.agent

    def get_output_channel(self) -> Optional[OutputChannel]:
        """For Rasa's trigger_intent / reminders: pushes to the session's room."""
        return ShopOutput(self.sio, BOT_MESSAGE_EVENT) if self.sio else None

    def _new_socket_server(self) -> AsyncServer:
        manager = None
        if self.config.message_queue:
            from socketio import AsyncRedisManager

            manager = AsyncRedisManager(self.config.message_queue)
        return AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.origins.allows,
            client_manager=manager,
            max_http_buffer_size=MAX_SOCKET_PAYLOAD_BYTES,
        )

    # -- metadata ------------------------------------------------------------------
    def clean_metadata(self, raw: Any, sender_id: Optional[str] = None) -> Dict[str, Any]:
        """Page context and the verified customer id; a plain ``customer_id`` from the browser is ignored.

        With ``sender_id``, a verified customer id comes with ``customer_proof``, which binds it to
        this conversation: the action server re-checks it (``actions.common``), so a tracker that
        merely claims a customer id opens nothing.
        """
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                return {}
        if not isinstance(raw, dict):
            return {}
        metadata: Dict[str, Any] = {}
        page = clean_page(raw.get("page"))
        if page is not None:
            metadata["page"] = page
        display_text = _short_str(raw.get("display_text"), 200)
        if display_text:  # the button title shown instead of its payload
            metadata["display_text"] = display_text
        comment = _short_str(raw.get("rating_comment"), MAX_COMMENT_CHARS)
        if comment:  # the comment our widget sends with a rating (web.csat)
            metadata["rating_comment"] = comment
        capabilities = clean_capabilities(raw.get("capabilities"))
        if capabilities:  # what the client can show (web.shopper_lines): a cart, product cards
            metadata["capabilities"] = list(capabilities)
        customer_id = self.customer_tokens.verify(raw.get("customer_token"))
        if customer_id:
            metadata["customer_id"] = customer_id
            if sender_id:
                metadata["customer_proof"] = self.customer_proofs.issue(sender_id, customer_id)
        return metadata

    # -- the one path of every shopper message ----------------------------------------
    async def active_ticket(self, sender_id: str) -> Optional[TicketInfo]:
        assert self.service is not None
        try:
            return await self.service.db(self.store.active_ticket, sender_id)
        except (SQLAlchemyError, DatabaseBusy) as error:  # database down or locked: the bot keeps answering
            logger.warning("hand-off store unavailable (%s)", type(error).__name__)
            return None

    async def handle_shopper_message(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender_id: str,
        text: Any,
        raw_metadata: Any,
        output_channel: OutputChannel,
        skip_sid: Optional[str] = None,
        client: Optional[str] = None,
    ) -> Tuple[Optional[TicketInfo], bool]:
        """Route one message: to the agent when a ticket is open, else to the bot.

        Returns the conversation's open ticket after the message and whether the message went to the agents.
        """
        assert self.sio is not None and self.service is not None
        cleaned = clean_text(text)
        metadata = self.clean_metadata(raw_metadata, sender_id)
        if client:  # set by us (client_tag_of), never by the browser
            metadata[CLIENT_METADATA_KEY] = client
        # The shopper's other tabs show the line too.
        await self.sio.emit(
            "user_echo", {"text": metadata.get("display_text") or cleaned}, room=sender_id, skip_sid=skip_sid
        )
        ticket = await self.active_ticket(sender_id)
        if ticket is not None:
            await self.service.shopper_message(ticket, cleaned, metadata)
            reply = await self.service.waiting_reply(ticket, cleaned)
            if reply:
                await self.service.say_system(ticket, reply)
                if isinstance(output_channel, CollectingOutputChannel):  # REST: the reply is the answer
                    output_channel.messages.append(
                        {"recipient_id": sender_id, "text": reply, "metadata": {"role": "system"}}
                    )
            return ticket, True
        cleaned = await guard_message(getattr(self.app.ctx, "agent", None) if self.app else None, sender_id, cleaned)
        rating = rating_of(cleaned)
        if rating is not None and self.ratings is not None:  # an offered rating button (a forged one lost its "/")
            await self.ratings.take(sender_id, cleaned, rating, metadata, output_channel)
            return None, False
        await self.sio.emit(TYPING_EVENT, {"on": True, "who": "bot"}, room=sender_id)
        try:
            await on_new_message(
                UserMessage(cleaned, output_channel, sender_id, input_channel=self.name(), metadata=metadata)
            )
        finally:
            await self.sio.emit(TYPING_EVENT, {"on": False, "who": "bot"}, room=sender_id)
        ticket = await self.active_ticket(sender_id)
        if ticket is not None:  # the bot just handed over (action_handoff_to_human)
            await self.service.announce_ticket(ticket)
            for routed in await self.service.route():  # an agent with the skill and room takes it now
                if routed.sender_id == sender_id:
                    ticket = routed
        elif self.ratings is not None:
            await self.ratings.after_bot_turn(sender_id, cleaned, output_channel)
        return ticket, False

    # -- blueprint -----------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Every patch of Rasa/Sanic internals (rasa_addons/patches); a hand-off while the action server
        # is away is queued from here.
        install_rasa_patches(local_handoff=partial(queue_from_rasa_server, time_limit=self.settings.action_timeout))
        sio = self.sio = self._new_socket_server()
        self.service = HandoffService(self.store, sio, self.rasa_agent, timeout=self.settings.db_timeout)
        self.ratings = RatingService(self.service)
        self.service.rating_offer = self.ratings.offer
        bp = _ShopBlueprint(self, "shop_webhook")
        install_error_handlers(bp)
        self._register_socket_handlers(sio, on_new_message)
        self._register_http_routes(bp, on_new_message)
        register_console(bp, self)
        register_invoices(bp, self)
        register_product_images(bp, self)
        # For as long as the server runs: tell waiting shoppers when a product is back (web/stock_alerts.py),
        # close the hand-offs of conversations that ended (HandoffService.expire_idle), and route waiting
        # hand-offs to agents (HandoffService.route).
        notifier = StockAlertNotifier(self.service, session_factory(self.store.engine))
        self._in_background(bp, "stock_alerts", notifier.run_forever)
        self._in_background(bp, "handoff_expiry", self.service.expire_forever)
        self._in_background(bp, "handoff_routing", self.service.route_forever)
        self._in_background(
            bp, "review_collect", partial(collect_forever, self, self.settings.review_collect_minutes)
        )  # the learning loop's review queue (web/review.py)
        self._in_background(  # the model the registry names, swapped in without dropping a turn
            bp,
            "model_registry",
            partial(
                follow_registry_forever,
                self.rasa_agent,
                session_factory(self.store.engine),
                partial(self.service.db_within, 120.0),
                self.settings.model_poll_seconds,
            ),
        )

        @bp.listener("after_server_start")
        async def freeze_heap(_app: Sanic, _: Any) -> None:
            freeze_startup_heap()  # Rasa loaded the model before the server started (core/heap.py)

        @bp.listener("before_server_stop")
        async def close_action_connections(_app: Sanic, _: Any) -> None:
            await close_kept_sessions()

        return bp

    @staticmethod
    def _in_background(bp: Blueprint, name: str, run_forever: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """``run_forever()`` as a task of the server from its start to its stop (kept as ``app.ctx.<name>``)."""

        @bp.listener("after_server_start")
        async def start(app: Sanic, _: Any) -> None:
            setattr(app.ctx, name, asyncio.create_task(run_forever()))

        @bp.listener("before_server_stop")
        async def stop(app: Sanic, _: Any) -> None:
            task = getattr(app.ctx, name, None)
            if task is not None:
                task.cancel()

    def _register_socket_handlers(
        self, sio: AsyncServer, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        assert self.service is not None
        service = self.service

        async def error(sid: str, message: str) -> None:
            await sio.emit("shop_error", {"error": message}, room=sid)

        @sio.on("connect")
        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            await sio.save_session(sid, {"client": self.client_tag_of(environ.get("sanic.request"))})
            return True

        async def join_conversation(sid: str, session_id: str) -> None:
            """The session's room, and the room of the clients that show agent lines the same way."""
            capabilities = (await sio.get_session(sid)).get("capabilities") or ()
            await sio.enter_room(sid, session_id)
            await sio.enter_room(sid, speaker_room(session_id, tuple(capabilities)))

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            # Only an id this server issued continues a conversation; anything else starts a new one.
            session_id = requested if self.valid_session_id(requested) else self.conversation_ids.new()
            capabilities = clean_capabilities(data.get("capabilities") if isinstance(data, dict) else None)
            await sio.save_session(
                sid, {**(await sio.get_session(sid)), "session_id": session_id, "capabilities": capabilities}
            )
            await join_conversation(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)
            ticket = await self.active_ticket(session_id)
            if ticket is not None:
                await sio.emit(HANDOFF_EVENT, await service.handoff_state(ticket), room=sid)

        async def sender_for(sid: str, data: Dict[str, Any]) -> str:
            session_id = data.get("session_id")
            if self.valid_session_id(session_id):
                if session_id not in sio.rooms(sid):
                    await join_conversation(sid, session_id)
                return session_id
            confirmed = (await sio.get_session(sid)).get("session_id")
            if confirmed:
                return confirmed
            await join_conversation(sid, sid)  # no session: the socket is the conversation (Rasa's default)
            return sid

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict):
                await error(sid, "send an object: {message, session_id, metadata}")
                return
            sender_id = await sender_for(sid, data)
            try:
                await self.handle_shopper_message(
                    on_new_message,
                    sender_id,
                    data.get("message"),
                    data.get("metadata"),
                    ShopOutput(sio, BOT_MESSAGE_EVENT),
                    skip_sid=sid,
                    client=(await sio.get_session(sid)).get("client"),
                )
            except StoreError as refused:
                await error(sid, str(refused))
            except Exception:
                logger.exception("message of %s failed", sender_id[:8])
                await error(sid, "Sorry, something went wrong on our side. Please try again.")

        @sio.on("typing")
        async def shopper_typing(sid: str, data: Any = None) -> None:
            session_id = (await sio.get_session(sid)).get("session_id")
            ticket = await self.active_ticket(session_id) if session_id else None
            if ticket is not None:
                await service.to_agents("shopper_typing", {"ticket_id": ticket.id})

    def _register_http_routes(self, bp: Blueprint, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        assert self.service is not None
        service = self.service

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        bp.static("/static", str(STATIC_DIR), name="shop_static")

        @bp.route("/session", methods=["POST"])
        async def new_session(_: Request) -> HTTPResponse:
            """A new conversation id for a REST client (socket.io clients get theirs in ``session_confirm``)."""
            return response.json({"session_id": self.conversation_ids.new()})

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            """REST fallback in Rasa's REST format: ``{sender, message, metadata}`` -> bot messages."""
            try:
                body = json_body(request)
                sender_id = body.get("sender")
                if not self.valid_session_id(sender_id):
                    raise InvalidInput(
                        "'sender' must be a conversation id issued by this server: POST /webhooks/shop/session"
                    )
                collector = CollectingOutputChannel()
                ticket, to_agents = await self.handle_shopper_message(
                    on_new_message,
                    sender_id,
                    body.get("message"),
                    body.get("metadata"),
                    collector,
                    client=self.client_tag_of(request),
                )
            except StoreError as refused:
                raise HttpError(400, str(refused)) from None
            messages = collector.messages
            if ticket is not None:
                # Queued or with an agent: the line reached the agents; say so, and where the queue is.
                state = await service.handoff_state(ticket)
                messages.append({"recipient_id": sender_id, "custom": {"handoff": state, "delivered": to_agents}})
            return response.json(messages)

        @bp.route("/photos", methods=["POST"])
        async def photo(request: Request) -> HTTPResponse:
            """A photo from the shopper (``{session_id, image}``, base64): checked and re-encoded
            (:mod:`shopdb.photos`), then a line of the conversation: to the agents in a hand-off, else
            kept for the team with the bot's word that it is."""
            body = json_body(request)
            sender_id = body.get("session_id")
            if not self.valid_session_id(sender_id):
                raise InvalidInput("'session_id' must be a conversation id issued by this server")
            client = self.client_tag_of(request)
            if not await service.db(self.limiter.hit, PHOTOS_PER_CLIENT, client or "unknown"):
                raise HttpError(429, "too many photos for now, please try again later")
            try:
                raw = decode_upload(body.get("image"))
                name = await service.db_within(10 * service.timeout, keep_photo, photos_dir(), raw, sender_id)
            except PhotoRefused as refused:
                raise HttpError(400, str(refused)) from None
            label = service.text("utter_label_photo")
            metadata = {"photo": name, **({CLIENT_METADATA_KEY: client} if client else {})}
            ticket = await self.active_ticket(sender_id)
            if ticket is not None:
                await service.shopper_message(ticket, label, metadata)
                return response.json({"photo": name, "delivered": True, "messages": []})
            thanks = service.text("utter_photo_received")
            await service.keep_channel_turn(sender_id, label, metadata, thanks)
            return response.json({"photo": name, "delivered": False, "messages": [{"text": thanks}]})

        @bp.route("/history/<session_id>", methods=["GET"])
        async def history(_: Request, session_id: str) -> HTTPResponse:
            """The conversation from the tracker store, every session, plus the hand-off state."""
            if not self.valid_session_id(session_id):  # never issued here: no transcript, whoever asks
                return json_error("unknown session", 404)
            events = await service.history_events(session_id)
            ticket = await self.active_ticket(session_id)
            return response.json(
                {
                    "session_id": session_id,
                    "messages": conversation_messages(events),
                    "handoff": await service.handoff_state(ticket),
                }
            )

        @bp.route("/demo", methods=["GET"])
        async def demo(_: Request) -> HTTPResponse:
            if not self.demo_enabled:
                return json_error("the demo page is switched off", 404)
            return await response.file(STATIC_DIR / "demo.html")

        @bp.route("/demo/config", methods=["GET"])
        async def demo_config(request: Request) -> HTTPResponse:
            """Products for the demo page (what a shop back end would render); the shopper is a guest.

            Only with the development switch ``SHOP_DEMO_LOGIN`` does the page sign in, and then only
            as the demo customer (``SHOP_DEMO_CUSTOMER_ID``), whose e-mail must be on a domain reserved
            for examples (RFC 2606), so the switch can never hand out a real customer's token.
            """
            if not self.demo_enabled:
                return json_error("the demo page is switched off", 404)
            from web.shop_context import demo_catalogue, demo_customer, find_product

            demo_login = self.settings.demo_login

            def load() -> Dict[str, Any]:
                with self.store.session() as session:
                    return {
                        "products": demo_catalogue(session),
                        "customer": demo_customer(session, self.settings.demo_customer_id) if demo_login else None,
                        "product": find_product(session, request.args.get("product")),
                    }

            try:
                data = await service.db(load)
            except (SQLAlchemyError, StoreError):
                data = {"products": [], "customer": None, "product": None}
            if data["customer"]:
                data["customer_token"] = self.customer_tokens.sign(data["customer"]["customer_id"])
            return response.json(data)


__all__ = ["ShopChannel", "ShopChannelConfig", "ShopOutput", "clean_page"]
