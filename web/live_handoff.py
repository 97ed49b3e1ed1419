"""The live side of the hand-off, inside the Rasa server.

Every hand-off step does the same three things in the same order: write the
database (the ticket store), append the matching events to Rasa's tracker
store (so the conversation's history holds agent lines and the pause/resume),
then push to the open sockets. Writing first means a crash between steps
loses no text; pushing last means nobody is shown what was not stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Tuple

from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed, Event, UserUttered
from socketio import AsyncServer

from core.settings import get_settings
from handoff.hours import team_is_away
from handoff.mail import MailNotConfigured, configured_server
from handoff.routing import route_waiting
from handoff.store import AgentInfo, DatabaseBusy, HandoffStore, MessageInfo, TicketInfo
from handoff.tickets import TooManyTickets, client_of_events, create_ticket, followup_address
from shopdb.models import Author, TicketStatus
from web.shopper_lines import AGENT_LINE, line_payloads, rooms_of

logger = logging.getLogger(__name__)

AGENTS_NAMESPACE = "/agents"
AGENTS_ROOM = "agents"
BOT_MESSAGE_EVENT = "bot_uttered"
HANDOFF_EVENT = "handoff"
TYPING_EVENT = "typing"

DELIVERED_EVENT = "delivered"
# The words of the hand-off's notices are responses of bot/domain.yml, like every other word of the bot.
JOINED = "utter_handoff_agent_joined"
RELEASED = "utter_handoff_agent_released"
HANDED_BACK = "utter_handoff_handed_back"
CLOSED = "utter_handoff_closed_by_agent"
EXPIRED = "utter_handoff_expired"
TRANSFERRED = "utter_handoff_agent_transferred"
WAITING = "utter_handoff_waiting"
WAITING_AWAY = "utter_handoff_waiting_team_away"
ANSWER_SUBJECT = "utter_followup_answer_email_subject"
ANSWER_BODY = "utter_followup_answer_email_body"
# A queued shopper's line gets the queue position again when it asks something, or when the last
# reminder is older than this; other lines get a delivery receipt only.
WAITING_REMINDER_SECONDS = 60.0
MAIL_SECONDS = 15.0


def domain_response(domain: Any, response: str) -> Dict[str, Any]:
    """The first variation of a domain response (text, buttons); ``KeyError`` when it has no text."""
    variations = domain.responses.get(response) or []
    if not variations or not variations[0].get("text"):
        raise KeyError(f"bot/domain.yml has no text response {response!r}")
    return dict(variations[0])


def domain_text(domain: Any, response: str, **values: Any) -> str:
    """The first variation of a domain response, its ``{placeholders}`` filled like Rasa fills slots."""
    from rasa.core.nlg.interpolator import interpolate_text

    text = domain_response(domain, response)["text"]
    return str(interpolate_text(text, {key: str(value) for key, value in values.items()}))


def asks_something(text: str) -> bool:
    """A question ("how long?", "are you open") rather than more detail for the agent."""
    lowered = text.lower()
    return "?" in text or bool(_WAIT_WORDS.search(lowered))


_WAIT_WORDS = re.compile(r"\b(how long|wait|waiting|queue|anyone there|anybody there|open|still there|hello\W*$)")


_ticket_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="shop-handoff")


async def queue_from_rasa_server(tracker: Any, time_limit: float) -> Tuple[str, Dict[str, Any]]:
    """Open a hand-off ticket from the Rasa server while the action server is away.

    The response to say and its values (``rasa_addons.patches.action_fallback`` says it). The ticket
    write runs in threads of its own, never the event loop's default executor, and the answer comes
    within ``time_limit`` even when the database is locked: stuck writes stall nobody else's turn.
    """
    events = [event.as_dict() for event in tracker.applied_events()]
    write = functools.partial(
        create_ticket,
        tracker.sender_id,
        events,
        tracker.get_slot("handoff_reason") or "action_server_unavailable",
        client_of_events(events),
    )
    try:
        loop = asyncio.get_running_loop()
        _, position, is_new = await asyncio.wait_for(loop.run_in_executor(_ticket_threads, write), time_limit)
    except TooManyTickets:
        return "utter_handoff_limit", {}
    except Exception as error:  # the database is away or locked too: say so, keep the bot up
        logger.error("could not store the hand-off ticket while the action server is away (%s)", type(error).__name__)
        return "utter_handoff_unavailable", {}
    if is_new:
        return "utter_handoff_queued", {"position": max(position, 1)}
    return "utter_handoff_already_queued", {}


async def _every(interval: float, step: Callable[[], Awaitable[Any]], failure: str) -> None:
    """``step()`` every ``interval`` seconds until cancelled; a failed round (the database away) is
    logged by its type and the next one tries again."""
    while True:
        try:
            await step()
        except Exception as error:
            logger.warning("%s (%s)", failure, type(error).__name__)
        await asyncio.sleep(interval)


class HandoffService:
    """Routes hand-off traffic between the store, Rasa's trackers and the sockets."""

    def __init__(
        self,
        store: HandoffStore,
        sio: AsyncServer,
        rasa_agent: Callable[[], Any],
        shopper_namespace: Optional[str] = None,
        timeout: float = 1.0,
    ) -> None:
        self.store = store
        self.sio = sio
        self._rasa_agent = rasa_agent
        self.shopper_namespace = shopper_namespace
        self.timeout = timeout
        # Our own threads: a locked database can never take the event loop's default executor
        # (6 threads on 2 cores) away from Rasa; each stuck call ends by the database's own timeout.
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="shop-db")
        self._last_reminder: Dict[int, float] = {}  # ticket id -> monotonic time of the last queue reminder
        # Asks the shopper to rate the conversation once a hand-off ends (web.csat, wired by the channel).
        self.rating_offer: Optional[Callable[[str], Awaitable[None]]] = None

    def rasa_agent(self) -> Any:
        """The running Rasa agent (domain, tracker store, lock store)."""
        return self._rasa_agent()

    def text(self, response: str, **values: Any) -> str:
        """A response of the running model's domain (:func:`domain_text`)."""
        return domain_text(self._rasa_agent().domain, response, **values)

    # -- database (blocking calls run in our worker threads, each bounded in time) -----
    async def db(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` in a worker thread; :class:`DatabaseBusy` after ``timeout`` s."""
        return await self.db_within(self.timeout, function, *args, **kwargs)

    async def db_within(self, seconds: float, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """:meth:`db` for a call that also does CPU work of its own (a password check), given ``seconds``."""
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))
        try:
            return await asyncio.wait_for(call, seconds)
        except asyncio.TimeoutError:
            logger.warning("database call %s took longer than %.1f s", getattr(function, "__name__", "?"), seconds)
            raise DatabaseBusy("the shop database is busy, please try again in a moment") from None

    # -- Rasa tracker --------------------------------------------------------------
    async def append_events(self, sender_id: str, events: Iterable[Event]) -> None:
        """Append events to the conversation under Rasa's conversation lock (like POST /tracker/events)."""
        agent = self._rasa_agent()
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.tracker_store.get_or_create_tracker(sender_id, append_action_listen=False)
            for event in events:
                tracker.update(event, agent.domain)
            await agent.tracker_store.save(tracker)

    async def history_events(self, sender_id: str) -> List[Dict[str, Any]]:
        """All events of the conversation (every session) from the tracker store.

        Read under the conversation's lock: a turn's replies go out before Rasa saves its tracker,
        so a tab that opens right after a reply would otherwise miss the whole turn.
        """
        agent = self._rasa_agent()
        async with agent.lock_store.lock(sender_id, wait_time_in_seconds=0.05):
            tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
        return [event.as_dict() for event in tracker.events] if tracker else []

    # -- pushes --------------------------------------------------------------------
    async def to_shopper(self, sender_id: str, event: str, data: Dict[str, Any]) -> None:
        await self.sio.emit(event, data, room=sender_id, namespace=self.shopper_namespace)

    async def to_agents(self, event: str, data: Dict[str, Any]) -> None:
        await self.sio.emit(event, data, room=AGENTS_ROOM, namespace=AGENTS_NAMESPACE)

    async def queue_changed(self, ticket: Optional[TicketInfo] = None) -> None:
        await self.to_agents("queue_changed", {"ticket": ticket.as_json(full=False) if ticket else None})

    async def handoff_state(self, ticket: Optional[TicketInfo]) -> Dict[str, Any]:
        """What the widget shows: queued (with position), with an agent, or back with the bot."""
        if ticket is None:
            return {"status": None}
        position = await self.db(self.store.queue_position, ticket.id) if ticket.status == TicketStatus.WAITING else 0
        return {"status": ticket.status, "ticket_id": ticket.id, "agent": ticket.agent_name, "position": position}

    async def announce_ticket(self, ticket: TicketInfo) -> None:
        """A new, changed or resolved ticket: tell the shopper's tabs and the agents."""
        await self.to_shopper(ticket.sender_id, HANDOFF_EVENT, await self.handoff_state(ticket))
        await self.queue_changed(ticket)

    # -- shopper -> agent ------------------------------------------------------------
    async def shopper_message(
        self, ticket: TicketInfo, text: str, metadata: Dict[str, Any], message_id: Optional[str] = None
    ) -> MessageInfo:
        """A shopper line while a ticket is open: to the agents, never to the bot."""
        page = metadata.get("page")
        meta = {key: metadata[key] for key in ("page", "photo") if metadata.get(key)}
        message = await self.db(self.store.add_message, ticket.id, Author.SHOPPER, text, meta=meta)
        if isinstance(page, dict):
            await self.db(self.store.update_context, ticket.id, {"page": page})
        await self.append_events(
            ticket.sender_id,
            [
                UserUttered(
                    text,
                    intent={},
                    metadata={**metadata, "handoff_ticket": ticket.id},
                    message_id=message_id,
                    input_channel="shop",
                )
            ],
        )
        await self.to_agents("ticket_message", {"ticket_id": ticket.id, "message": message.as_json()})
        await self.to_shopper(ticket.sender_id, DELIVERED_EVENT, {"ticket_id": ticket.id, "message_id": message.id})
        return message

    async def estimated_wait_minutes(self, position: int) -> int:
        """About how long the shopper at ``position`` waits: the queue's median wait per place so far,
        or ``SHOP_HANDOFF_MINUTES_PER_TICKET`` until agents have taken enough tickets to tell."""
        typical = await self.db(self.store.typical_wait_seconds)
        per_place = typical / 60.0 if typical else get_settings().handoff_minutes_per_ticket
        return max(1, math.ceil(per_place * max(position, 1)))

    async def waiting_reply(self, ticket: TicketInfo, text: str) -> Optional[str]:
        """What a queued shopper is told about their line: the queue position, the wait, whether the team
        is on duty; None (a delivery receipt only) for more detail typed right after a reminder."""
        if ticket.status != TicketStatus.WAITING:
            return None  # an agent is in the conversation: they answer
        last = self._last_reminder.get(ticket.id)
        if last is not None and time.monotonic() - last < WAITING_REMINDER_SECONDS and not asks_something(text):
            return None
        self._last_reminder[ticket.id] = time.monotonic()
        if len(self._last_reminder) > 10_000:  # old tickets' entries
            self._last_reminder.pop(next(iter(self._last_reminder)))
        away = team_is_away()
        if away is not None:
            return self.text(WAITING_AWAY, back=away["back"] or "as soon as they can")
        position = max(1, await self.db(self.store.queue_position, ticket.id))
        return self.text(WAITING, position=position, minutes=await self.estimated_wait_minutes(position))

    async def say_system(self, ticket: TicketInfo, text: str) -> None:
        """A notice from the shop (not the bot, not an agent) into the conversation and the shopper's tabs."""
        await self._say_to_shopper(ticket, text, agent=None, system=True)

    # -- agent -> shopper ------------------------------------------------------------
    async def _say_to_shopper(self, ticket: TicketInfo, text: str, *, agent: Optional[AgentInfo], system: bool) -> None:
        """An agent's line (``agent``) or a notice (``system``): kept in the conversation, then shown."""
        metadata: Dict[str, Any] = {"handoff_ticket": ticket.id}
        if system or agent is None:
            metadata["system"] = True
        else:
            metadata["agent"] = agent.display_name
        await self.append_events(ticket.sender_id, [BotUttered(text, data={}, metadata=metadata)])
        await self.show_line(ticket.sender_id, text, agent_name=metadata.get("agent"))

    async def show_line(self, sender_id: str, text: str, *, agent_name: Optional[str]) -> None:
        """An agent's line or a notice (``agent_name`` None) in the shopper's open tabs, in the shape each
        client can show (:mod:`web.shopper_lines`)."""
        labelled, plain = line_payloads(text, agent_name=agent_name, agent_line=self._agent_line)
        labelled_room, plain_room = rooms_of(sender_id)
        await self.sio.emit(BOT_MESSAGE_EVENT, labelled, room=labelled_room, namespace=self.shopper_namespace)
        await self.sio.emit(BOT_MESSAGE_EVENT, plain, room=plain_room, namespace=self.shopper_namespace)

    def _agent_line(self, **values: Any) -> str:
        try:
            return self.text(AGENT_LINE, **values)
        except KeyError:  # a model trained before the response existed: the name, then the line
            return f"{values['agent_name']}: {values['line']}"

    async def keep_channel_turn(
        self, sender_id: str, said: str, metadata: Dict[str, Any], reply: str, intent: Optional[str] = None
    ) -> None:
        """A shopper's line the channel answered itself (a rating, a photo), kept as a turn of the conversation:
        the line, the reply, and the bot listening again, as after any turn of its own."""
        await self.append_events(
            sender_id,
            [
                UserUttered(
                    said,
                    intent={"name": intent, "confidence": 1.0} if intent else {},
                    metadata=metadata,
                    input_channel="shop",
                ),
                BotUttered(reply, data={}, metadata={}),
                ActionExecuted("action_listen"),
            ],
        )

    async def say_in_conversation(self, sender_id: str, text: str, metadata: Dict[str, Any]) -> None:
        """A line of the bot outside any of its turns (a stock alert): kept in the conversation (the widget
        finds it when the shopper comes back), then shown in any open tab as a plain text message."""
        await self.append_events(sender_id, [BotUttered(text, data={}, metadata=metadata)])
        await self.to_shopper(sender_id, BOT_MESSAGE_EVENT, {"text": text})

    async def agent_message(self, ticket_id: int, agent: AgentInfo, text: object) -> MessageInfo:
        """Store the agent's line (``text`` as the console sent it: ``add_message`` validates it) and deliver it."""
        message = await self.db(self.store.add_message, ticket_id, Author.AGENT, text, agent_id=agent.id)
        ticket = await self.db(self.store.get_ticket, ticket_id)
        await self._say_to_shopper(ticket, message.text, agent=agent, system=False)
        await self.to_agents("ticket_message", {"ticket_id": ticket_id, "message": message.as_json()})
        return message

    async def _system_line(self, ticket: TicketInfo, text: str) -> None:
        message = await self.db(self.store.add_message, ticket.id, Author.SYSTEM, text)
        await self._say_to_shopper(ticket, text, agent=None, system=True)
        await self.to_agents("ticket_message", {"ticket_id": ticket.id, "message": message.as_json()})

    async def take(self, ticket_id: int, agent: AgentInfo) -> TicketInfo:
        before = await self.db(self.store.get_ticket, ticket_id)
        ticket = await self.db(self.store.take, ticket_id, agent.id)
        if before.status != TicketStatus.ASSIGNED:
            await self._system_line(ticket, self.text(JOINED, agent_name=agent.display_name))
        await self.announce_ticket(ticket)
        return ticket

    async def transfer(self, ticket_id: int, agent: AgentInfo, to_agent_id: int) -> TicketInfo:
        """Pass the agent's conversation to a colleague who is online; the shopper is told who replies now."""
        ticket = await self.db(self.store.transfer, ticket_id, agent.id, to_agent_id)
        await self._system_line(
            ticket, self.text(TRANSFERRED, agent_name=agent.display_name, other_agent=ticket.agent_name)
        )
        await self.announce_ticket(ticket)
        return ticket

    async def release(self, ticket_id: int, agent: AgentInfo) -> TicketInfo:
        ticket = await self.db(self.store.release, ticket_id, agent.id)
        await self._system_line(ticket, self.text(RELEASED, agent_name=agent.display_name))
        await self.announce_ticket(ticket)
        return ticket

    async def resolve(self, ticket_id: int, agent: AgentInfo, outcome: str) -> TicketInfo:
        """Hand back to the bot or close; either way the bot listens again, so no shopper is stranded."""
        ticket = await self.db(self.store.resolve, ticket_id, agent.id, outcome)
        notice = self.text(
            HANDED_BACK if outcome == TicketStatus.HANDED_BACK else CLOSED, agent_name=agent.display_name
        )
        await self._back_to_bot(ticket, notice)
        if self.rating_offer is not None:
            try:
                await self.rating_offer(ticket.sender_id)
            except Exception as error:  # the hand-off ended either way; the rating question is a nicety
                logger.warning("no rating offered after ticket %s (%s)", ticket.id, type(error).__name__)
        return ticket

    async def expire_idle(self) -> int:
        """Close the hand-offs of conversations that ended (``SHOP_HANDOFF_EXPIRY_MINUTES`` without a line):
        the bot listens again, the shopper's tabs and the agents' queues are told. Returns how many."""
        minutes = get_settings().handoff_expiry_minutes
        closed = await self.db_within(10 * self.timeout, self.store.expire_idle, dt.timedelta(minutes=minutes))
        for ticket in closed:
            await self._back_to_bot(ticket, self.text(EXPIRED, minutes=f"{minutes:g}"))
        return len(closed)

    async def _back_to_bot(self, ticket: TicketInfo, notice: str) -> None:
        """A resolved ticket's conversation resumes with the bot: the notice in the tracker (not a hand-off
        message any more: the ticket is resolved) and the shopper's tabs, the new state, the agents' queues."""
        await self.append_events(
            ticket.sender_id,
            [
                ConversationResumed(),
                BotUttered(notice, data={}, metadata={"system": True, "handoff_ticket": ticket.id}),
                ActionExecuted("action_listen"),
            ],
        )
        await self.show_line(ticket.sender_id, notice, agent_name=None)
        await self.announce_ticket(ticket)

    # -- routing: waiting hand-offs to agents (handoff.routing) --------------------------------
    async def route(self) -> List[TicketInfo]:
        """Give the waiting hand-offs to the least busy online agents with their skills
        (``SHOP_HANDOFF_ROUTING=auto``); each shopper is told who joined, the consoles are told."""
        if get_settings().handoff_routing != "auto":
            return []
        assigned = await self.db_within(10 * self.timeout, route_waiting, self.store)
        for ticket in assigned:
            await self._system_line(ticket, self.text(JOINED, agent_name=ticket.agent_name))
            await self.announce_ticket(ticket)
        return assigned

    async def route_forever(self, interval: float = 2.0) -> None:
        """:meth:`route` every ``interval`` seconds: tickets the action server opened, agents coming online
        or freeing a place are noticed without a click. Every Rasa server runs it; the database decides."""
        await _every(interval, self.route, "waiting hand-offs could not be routed")

    async def expire_forever(self, interval: float = 60.0) -> None:
        """:meth:`expire_idle` every ``interval`` seconds until cancelled."""
        await _every(interval, self.expire_idle, "idle hand-offs could not be expired")

    # -- follow-ups: answers to complaints and left messages ---------------------------------
    async def answer_followup(self, ticket_id: int, agent: AgentInfo, text: object) -> Tuple[MessageInfo, str]:
        """The agent's answer to a complaint or a left message; returns (message, how it was delivered).

        Stored first (and the follow-up closed), then appended to the conversation, so the widget shows
        it when the shopper comes back (or at once, in an open tab), then e-mailed when the follow-up has
        an address. Delivery is "chat", "chat and e-mail", or why not by e-mail.
        """
        ticket, message = await self.db(self.store.answer_followup, ticket_id, agent.id, text)
        await self._say_to_shopper(ticket, message.text, agent=agent, system=False)
        delivery = await self._mail_answer(ticket, agent, message.text)
        await self.to_agents("ticket_message", {"ticket_id": ticket.id, "message": message.as_json()})
        await self.queue_changed(ticket)
        return message, delivery

    async def _mail_answer(self, ticket: TicketInfo, agent: AgentInfo, text: str) -> str:
        settings = get_settings()
        try:
            server = configured_server()
        except MailNotConfigured:
            return "chat (no mail server configured)"
        address = await self.db(followup_address, ticket)
        if not address:
            return "chat (no verified e-mail address)"
        subject = self.text(ANSWER_SUBJECT, shop=settings.seller_name)
        # The agent's words go in after the placeholders are filled: braces in them stay as written.
        body = self.text(ANSWER_BODY, agent_name=agent.display_name, answer="\x00", shop=settings.seller_name)
        body = body.replace("\x00", text)
        try:
            await self.send_mail(server, address, subject, body)
        except Exception as error:  # the chat has the answer already; the agent sees that the mail failed
            logger.error("could not e-mail the answer to ticket %s (%s)", ticket.id, type(error).__name__)
            return "chat (the e-mail could not be sent)"
        logger.info("answer to ticket %s e-mailed", ticket.id)
        return "chat and e-mail"

    async def send_mail(self, server: Any, address: str, subject: str, body: str) -> None:
        """Send through ``server`` (:func:`handoff.mail.configured_server`) in a worker thread, within
        ``MAIL_SECONDS``; raises what the mail server or the wait raised."""
        send = functools.partial(server.send, get_settings().mail_from, address, subject, body)
        await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(self._executor, send), MAIL_SECONDS)


__all__ = ["AGENTS_NAMESPACE", "AGENTS_ROOM", "HandoffService", "domain_response", "domain_text"]
