"""Hand the conversation to a human: store a ticket, tell the shopper, pause the bot.

The ticket carries what an agent needs to pick the conversation up without
asking again: the transcript of this session, the intents the bot detected, a
short summary and the page context (product viewed, cart, verified customer).
``ConversationPaused`` stops Rasa from predicting; the web channel then routes
the shopper's messages to the agent console until an agent hands back.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

logger = logging.getLogger(__name__)

QUEUED_RESPONSE = "utter_handoff_queued"
QUEUED_TEXT = (
    "I've passed our conversation to a member of our support team. You're number {position} "
    "in the queue and an agent will reply right here. You can keep writing: they will see everything."
)
ALREADY_QUEUED_TEXT = "You're already in the queue for an agent; they will reply right here."
UNAVAILABLE_TEXT = (
    "Sorry, I can't reach our support team right now. Please try again in a few minutes."
)
TOO_MANY_TICKETS_TEXT = (
    "Our team already has several requests from your connection in the last hour, so I can't open another "
    "one right now. Please try again later, or write to help@larkspur-market.example."
)


def _profile_summary(sender_id: str, events: List[Dict[str, Any]], customer_id: Any) -> str:
    """The shopper profile's hand-off lines (insights package), or "" when unavailable."""
    try:
        from insights.profiles import get_profile, summarise_for_handoff
    except ImportError:
        return ""
    try:
        return summarise_for_handoff(get_profile(sender_id, customer_id=customer_id, recent_events=events))
    except Exception:  # insights is extra context: never block a hand-off on it
        logger.warning("no shopper profile for the hand-off summary", exc_info=True)
        return ""


HANDOFF_PER_CLIENT_WINDOW = 3600  # seconds


class TooManyTickets(Exception):
    """This client opened ``SHOP_HANDOFF_CLIENT_LIMIT`` tickets within the hour."""


def create_ticket(sender_id: str, events: List[Dict[str, Any]], reason: Any = None,
                  client: Optional[str] = None) -> tuple:
    """Store the ticket (or refresh the open one); returns (ticket, queue position, was it new).

    ``reason``: the dialogue's ``handoff_reason`` slot (requested, frustration, repeated_failure...);
    without it, the intent of the shopper's last message. A new ticket counts against its client's
    hourly limit (the client tag the Rasa server put into the message metadata), so nobody can fill
    the agents' queue from a script; asking again in the same conversation costs nothing.
    Raises :class:`TooManyTickets` when the limit is used up.
    """
    from assistant.settings import get_settings
    from knowledge.counters import Limit, default_limiter
    from web.store import default_store
    from web.transcript import conversation_messages, detected_intents, page_context, summarize

    store = default_store()
    existing = store.active_ticket(sender_id)
    if existing is None and client:
        limit = Limit("handoff-client", get_settings().handoff_client_limit, HANDOFF_PER_CLIENT_WINDOW)
        if not default_limiter().hit(limit, client):
            raise TooManyTickets(client)
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
    ticket = store.open_ticket(
        sender_id,
        summary=summary,
        reason=str(reason or last_intent or ""),
        intents=intents,
        transcript=conversation_messages(events),
        context=context,
        customer_id=context.get("customer_id"),
    )
    return ticket, store.queue_position(ticket.id), existing is None


def client_of_events(events: List[Dict[str, Any]]) -> Optional[str]:
    """The client tag of the latest shopper message (set by the Rasa server, never by the caller)."""
    for event in reversed(events):
        if event.get("event") == "user":
            tag = (event.get("metadata") or {}).get("client")
            return str(tag)[:64] if tag else None
    return None


class ActionHandoffToHuman(Action):
    """Queue the conversation for a human agent and pause the bot."""

    def name(self) -> Text:
        return "action_handoff_to_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        events = list(tracker.events)
        try:
            ticket, position, is_new = await asyncio.to_thread(
                create_ticket, tracker.sender_id, events, tracker.get_slot("handoff_reason"), client_of_events(events)
            )
        except TooManyTickets:
            logger.warning("hand-off refused: too many tickets from the client of this conversation")
            dispatcher.utter_message(text=TOO_MANY_TICKETS_TEXT)
            return []
        except Exception as error:  # database down or locked: say so, keep the bot answering
            logger.error("could not store the hand-off ticket (%s)", type(error).__name__)
            dispatcher.utter_message(text=UNAVAILABLE_TEXT)
            return []
        logger.info("hand-off ticket %s queued at position %s", ticket.id, position)
        if not is_new:
            dispatcher.utter_message(text=ALREADY_QUEUED_TEXT)
        elif QUEUED_RESPONSE in (domain.get("responses") or {}):
            dispatcher.utter_message(response=QUEUED_RESPONSE, position=position)
        else:
            dispatcher.utter_message(text=QUEUED_TEXT.format(position=max(position, 1)))
        return [ConversationPaused()]
