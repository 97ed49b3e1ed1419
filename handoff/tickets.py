"""Opening a hand-off ticket or recording a complaint: what an agent needs, within the limit a client may ask for.

The ticket carries what an agent needs to pick the conversation up without asking again: the
transcript of this session, the intents the bot detected, a short summary with the shopper's
profile, and the page context (product viewed, cart, verified customer). Both the action server
(``action_handoff_to_human``) and the Rasa server (when the action server is away) open tickets
through :func:`create_ticket`, so both count against the same per-client limit; so does a new
complaint (:func:`record_complaint`, ``action_record_complaint``).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Tuple

from core.settings import get_settings
from handoff.routing import skill_for
from handoff.store import TicketInfo, default_store
from handoff.transcript import _quote, conversation_messages, detected_intents, page_context, summarize
from insights.handoff_summary import summarise_for_handoff
from insights.profile_store import get_profile
from shopdb.counters import Limit, default_limiter
from shopdb.models import TicketKind

logger = logging.getLogger(__name__)


def _profile_summary(sender_id: str, events: List[Dict[str, Any]], customer_id: Any) -> str:
    """The shopper profile's hand-off lines (insights package), or "" when unavailable."""
    try:
        return summarise_for_handoff(get_profile(sender_id, customer_id=customer_id, recent_events=events))
    except Exception:  # insights is extra context: never block a hand-off on it
        logger.warning("no shopper profile for the hand-off summary", exc_info=True)
        return ""


HANDOFF_PER_CLIENT_WINDOW = 3600  # seconds


class TooManyTickets(Exception):
    """This client opened ``SHOP_HANDOFF_CLIENT_LIMIT`` tickets within the hour."""


def _count_new_ticket(client: Optional[str]) -> None:
    """Count a new ticket against its client's hourly limit; :class:`TooManyTickets` when it is used up."""
    if not client:
        return
    limit = Limit("handoff-client", get_settings().handoff_client_limit, HANDOFF_PER_CLIENT_WINDOW)
    if not default_limiter().hit(limit, client):
        raise TooManyTickets(client)


def create_ticket(
    sender_id: str, events: List[Dict[str, Any]], reason: Any = None, client: Optional[str] = None
) -> Tuple[TicketInfo, int, bool]:
    """Store the ticket (or refresh the open one); returns (ticket, queue position, was it new).

    ``reason``: the dialogue's ``handoff_reason`` slot (requested, frustration, repeated_failure...);
    without it, the intent of the shopper's last message. A new ticket counts against its client's
    hourly limit (the client tag the Rasa server put into the message metadata), so nobody can fill
    the agents' queue from a script; asking again in the same conversation costs nothing.
    Raises :class:`TooManyTickets` when the limit is used up.
    """
    store = default_store()
    existing = store.active_ticket(sender_id)
    if existing is None:
        _count_new_ticket(client)
    context = page_context(events)
    intents = detected_intents(events)
    last_intent = next(
        (e.get("parse_data", {}).get("intent", {}).get("name") for e in reversed(events) if e.get("event") == "user"),
        None,
    )
    summary = summarize(events)
    profile = _profile_summary(sender_id, events, context.get("customer_id"))
    if profile:
        summary += "\n\nShopper profile:\n" + profile
    reason = str(reason or last_intent or "")
    ticket = store.open_ticket(
        sender_id,
        summary=summary,
        reason=reason,
        skill=skill_for(intents, reason),  # its queue: handoff.routing gives it to an agent with that skill
        intents=intents,
        transcript=conversation_messages(events),
        context=context,
        customer_id=context.get("customer_id"),
    )
    return ticket, store.queue_position(ticket.id), existing is None


def record_complaint(
    sender_id: str,
    events: List[Dict[str, Any]],
    words: str,
    *,
    customer_id: Optional[str] = None,
    order_number: Optional[str] = None,
    order_verified: bool = False,
    client: Optional[str] = None,
) -> Tuple[TicketInfo, bool]:
    """Record the shopper's complaint for the agents; returns (ticket, was it new).

    The ticket carries the words (as the shopper's message), the verified customer id, the order
    named in the conversation (and whether this conversation proved it is theirs), the transcript and
    the page context. A new complaint counts against the client's hourly hand-off limit (raises
    :class:`TooManyTickets`); more words for the conversation's unhandled complaint cost nothing.
    """
    lines = [f"Complaint: {_quote(words)}"]
    context: Dict[str, Any] = {}
    if order_number:
        context.update(order_number=order_number, order_verified=order_verified)
        lines.append(f"Order {order_number} ({'verified in the chat' if order_verified else 'named, not verified'}).")
    return _record_followup(TicketKind.COMPLAINT, sender_id, events, words, lines, context, customer_id, client)


def _record_followup(
    kind: str,
    sender_id: str,
    events: List[Dict[str, Any]],
    words: str,
    summary_lines: List[str],
    context: Dict[str, Any],
    customer_id: Optional[str],
    client: Optional[str],
) -> Tuple[TicketInfo, bool]:
    """A complaint or a left message with what an agent needs; a new one counts against the client's limit."""
    store = default_store()
    if store.recorded_followup(sender_id, kind) is None:
        _count_new_ticket(client)
    return store.record_followup(
        sender_id,
        words,
        kind=kind,
        summary="\n".join(summary_lines),
        intents=detected_intents(events),
        transcript=conversation_messages(events),
        context={**page_context(events), **context},
        customer_id=customer_id,
    )


def leave_message(
    sender_id: str,
    events: List[Dict[str, Any]],
    words: str,
    *,
    contact_email: Optional[str] = None,
    customer_id: Optional[str] = None,
    client: Optional[str] = None,
) -> Tuple[TicketInfo, bool]:
    """A message for the support team while it is away; returns (ticket, was it new).

    Agents answer it from the console when they are back: the answer reaches the chat (shown when
    the shopper returns) and ``contact_email`` (:mod:`handoff.mail`). Counts like a new ticket.
    """
    lines = [f"Message left outside opening hours: {_quote(words)}"]
    context: Dict[str, Any] = {}
    if contact_email:
        context["contact_email"] = contact_email
        lines.append("The shopper asked for the answer by e-mail too.")
    return _record_followup(TicketKind.MESSAGE, sender_id, events, words, lines, context, customer_id, client)


def followup_address(ticket: TicketInfo) -> Optional[str]:
    """Where the answer to a follow-up may be e-mailed: the address the shopper gave for it, the signed-in
    customer's, or that of the order this conversation verified; never an order merely named."""
    if ticket.context.get("contact_email"):
        return str(ticket.context["contact_email"])
    from sqlalchemy import select

    from shopdb.models.shop import Customer, Order

    with default_store().session() as session:
        if ticket.customer_id:
            email = session.execute(
                select(Customer.email).where(Customer.customer_id == ticket.customer_id)
            ).scalar_one_or_none()
            if email:
                return str(email)
        if ticket.context.get("order_verified") and ticket.context.get("order_number"):
            email = session.execute(
                select(Customer.email)
                .join(Order, Order.customer_ref == Customer.id)
                .where(Order.order_number == str(ticket.context["order_number"]))
            ).scalar_one_or_none()
            if email:
                return str(email)
    return None


def client_of_events(events: List[Dict[str, Any]]) -> Optional[str]:
    """The client tag of the latest shopper message (set by the Rasa server, never by the caller)."""
    for event in reversed(events):
        if event.get("event") == "user":
            tag = (event.get("metadata") or {}).get("client")
            return str(tag)[:64] if tag else None
    return None


__all__ = [
    "TooManyTickets",
    "client_of_events",
    "create_ticket",
    "followup_address",
    "leave_message",
    "record_complaint",
]
