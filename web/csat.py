"""Conversation ratings (CSAT): offered when a conversation reached its end, taken from any widget.

Offered twice over, never twice in a session: when an agent ends a hand-off (:meth:`RatingService.offer`
from :mod:`web.live_handoff`), and when a shopper says goodbye or thanks after the bot answered a
request (:meth:`RatingService.after_bot_turn`). The offer is the domain's ``utter_ask_rating``: a
text with five buttons (``/rate_conversation{"rating": "4"}``), a standard message every Rasa
widget shows; ours draws stars and a comment box (the comment travels as ``metadata.rating_comment``).

The click is taken here, in the channel, not by the dialogue: a rating is about the conversation,
not a request in it, so it must not move the dialogue's state (an open form, the last search). It
is kept in the conversation (tracker) and in the shop database (:mod:`shopdb.ratings`), with
whether a person took part, and answered with ``utter_thanks_for_rating``.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, Iterable, List, Optional

from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.socketio import SocketIOOutput
from rasa.shared.core.events import BotUttered

from core.log_masking import conversation_ref
from monitoring import metrics
from shopdb.ratings import RATINGS, add_comment, record_rating
from web.live_handoff import BOT_MESSAGE_EVENT, HandoffService, domain_response

logger = logging.getLogger(__name__)

RATE_INTENT = "rate_conversation"
ASK = "utter_ask_rating"
THANKS = "utter_thanks_for_rating"
THANKS_WITH_COMMENT = "utter_thanks_for_rating_comment"
OFFER_MARK = "rating_offer"  # metadata of the offer's BotUttered: one offer per session
# Intents that end a conversation; the offer follows only when the bot answered a request before.
CLOSING_INTENTS = frozenset({"goodbye", "thank"})
# Actions that answer nothing (bookkeeping, fallbacks, hand-offs): they do not make a conversation a success.
NOT_AN_ANSWER = frozenset(
    {
        "action_listen",
        "action_session_start",
        "action_restart",
        "action_default_fallback",
        "action_two_stage_fallback",
        "action_default_ask_affirmation",
        "action_default_ask_rephrase",
        "action_out_of_scope",  # mostly "that's outside what I can help with"
        "action_deactivate_loop",
        "action_unlikely_intent",
        "action_handoff_to_human",
        "action_back",
        "action_extract_slots",
    }
)
# Responses that answer no request (small talk) and those that say the bot did not understand.
SMALL_TALK = frozenset(
    {
        "utter_greet",
        "utter_goodbye",
        "utter_you_are_welcome",
        "utter_iamabot",
        "utter_how_are_you",
        "utter_out_of_scope",
    }
)
FALLBACKS = frozenset({"utter_default", "utter_ask_rephrase", "action_default_fallback", "action_two_stage_fallback"})
MAX_CLOSING_CHARS = 80  # "thanks, bye!": longer lines are not worth reading the conversation for


def rating_of(text: str) -> Optional[int]:
    """The rating of a ``/rate_conversation{"rating": "4"}`` payload; None for anything else."""
    if not text.startswith("/" + RATE_INTENT + "{"):
        return None
    try:
        value = int(json.loads(text[len(RATE_INTENT) + 1 :]).get("rating"))
    except (ValueError, TypeError, AttributeError):
        return None
    return value if value in RATINGS else None


def _session_events(events: Iterable[Any]) -> List[Dict[str, Any]]:
    current: List[Dict[str, Any]] = []
    for event in events:
        data = event if isinstance(event, dict) else event.as_dict()
        if data.get("event") == "session_started":
            current = []
        current.append(data)
    return current


def should_offer_after(events: Iterable[Any]) -> bool:
    """A goodbye or thanks closes a session in which the bot answered a request, and no rating was offered.

    Not while a form still asks something (the order form waiting for a number): that is not an end."""
    session = _session_events(events)
    users = [e for e in session if e.get("event") == "user"]
    if not users or ((users[-1].get("parse_data") or {}).get("intent") or {}).get("name") not in CLOSING_INTENTS:
        return False
    if any((e.get("metadata") or {}).get(OFFER_MARK) for e in session if e.get("event") == "bot"):
        return False
    answered, open_form = False, None
    for event in session:
        if event.get("event") == "active_loop":
            open_form = event.get("name")
        name = (event.get("name") or "") if event.get("event") == "action" else ""
        if name in FALLBACKS:
            answered = False  # the last request went unanswered
        elif name.startswith("action_") and name not in NOT_AN_ANSWER:
            answered = True
        elif name.startswith("utter_") and name not in SMALL_TALK:
            answered = True
    return answered and not open_form


class RatingService:
    """Offers the rating and takes it, through the channel's hand-off service (domain, tracker, store, sockets)."""

    def __init__(self, service: HandoffService) -> None:
        self.service = service

    async def offer(self, sender_id: str, output: Optional[OutputChannel] = None) -> None:
        """The rating question in the conversation and to the shopper: in ``output`` (the turn's answer), or
        without one (a hand-off ended) through Rasa's socket.io output to the conversation's open tabs."""
        try:
            ask = domain_response(self.service.rasa_agent().domain, ASK)
        except KeyError:  # a model trained before ratings existed
            logger.warning("the model's domain has no %s: no rating offered", ASK)
            return
        buttons = [{"title": b["title"], "payload": b["payload"]} for b in ask.get("buttons") or []]
        await self.service.append_events(
            sender_id, [BotUttered(ask["text"], data={"buttons": buttons}, metadata={OFFER_MARK: True})]
        )
        output = output or SocketIOOutput(self.service.sio, BOT_MESSAGE_EVENT)
        await output.send_text_with_buttons(sender_id, ask["text"], buttons)

    async def after_bot_turn(self, sender_id: str, text: str, output: OutputChannel) -> None:
        """Offer the rating when the shopper just closed a successful conversation.

        Reads the conversation only after a short line (goodbyes and thanks are short): the tracker
        store's cached tracker (one indexed query), and its whole session only after a goodbye or thanks."""
        if len(text) > MAX_CLOSING_CHARS:
            return
        try:
            tracker = await self.service.rasa_agent().tracker_store.retrieve(sender_id)
            if tracker is None or (tracker.latest_message.intent or {}).get("name") not in CLOSING_INTENTS:
                return  # most turns: no need to read the whole session
            if should_offer_after(tracker.events):
                await self.offer(sender_id, output)
        except Exception as error:  # the rating is a nicety: never let it break the shopper's turn
            logger.warning(
                "no rating offered in conversation %s (%s)", conversation_ref(sender_id), type(error).__name__
            )

    async def take(
        self, sender_id: str, text: str, rating: int, metadata: Dict[str, Any], output: OutputChannel
    ) -> None:
        """Keep the rating (and comment), say thanks, and keep both lines in the conversation."""
        comment = str(metadata.get("rating_comment") or "").strip()

        def keep() -> bool:
            with self.service.store.session() as session:
                with_agent = record_rating(session, sender_id, rating, customer_id=metadata.get("customer_id"))
                if comment:
                    add_comment(session, sender_id, comment)
                return with_agent

        with_agent = await self.service.db(keep)
        metrics.CSAT_RATINGS.labels(str(rating)).inc()
        logger.info(
            "rating %s (%s) for conversation %s", rating, "agent" if with_agent else "bot", conversation_ref(sender_id)
        )
        thanks = self.service.text(THANKS_WITH_COMMENT if comment else THANKS, rating=rating)
        shown = metadata.get("display_text") or text
        await self.service.keep_channel_turn(sender_id, shown, metadata, thanks, intent=RATE_INTENT)
        await output.send_text_message(sender_id, thanks)


__all__ = ["RATE_INTENT", "RatingService", "rating_of", "should_offer_after"]
