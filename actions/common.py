"""Pieces every flow uses: the action base class, entity helpers, privacy, fallback and stop actions.

Why a base class: every action talks to the shop (SQLite/PostgreSQL + FAISS),
which blocks; :class:`ShopAction` runs the flow's synchronous ``respond`` in a
worker thread so the action server keeps serving other shoppers, and turns an
unexpected error into a polite answer instead of a silent conversation.
"""
from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from core.log_masking import conversation_ref
from core.signing import CustomerProofs, OrderProofs, resolve_secret_key

logger = logging.getLogger(__name__)

SORRY_TEXT = "Sorry, something went wrong on my side. Please try again in a moment."
WIDGET_CHANNELS = frozenset({"shop", "socketio"})  # channels that render cards and buttons
# Channels that put a customer id into metadata only from a verified signed token (web/channel.py).
IDENTITY_CHANNELS = frozenset({"shop"})
FORM_SLOTS = ("order_item", "return_reason", "problem_type", "new_address")

# --------------------------------------------------------------------------- signatures

@lru_cache(maxsize=1)
def order_proofs() -> OrderProofs:
    """Signs and checks "this conversation verified this order" (core.signing)."""
    return OrderProofs(resolve_secret_key())


@lru_cache(maxsize=1)
def customer_proofs() -> CustomerProofs:
    """Checks the channel's proof that a customer id belongs to this conversation."""
    return CustomerProofs(resolve_secret_key())


# --------------------------------------------------------------------------- tracker helpers

def latest_text(tracker: Tracker) -> str:
    """The shopper's words, or "" when the message was a button payload such as ``/order_status``."""
    text = (tracker.latest_message or {}).get("text") or ""
    return "" if text.startswith("/") else text.strip()


def latest_intent(tracker: Tracker) -> Optional[str]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def entity_values(tracker: Tracker, entity: str) -> List[str]:
    """Values of ``entity`` in the latest message, in order of appearance, without repeats."""
    found = [e for e in (tracker.latest_message or {}).get("entities") or [] if e.get("entity") == entity]
    found.sort(key=lambda e: e.get("start") or 0)
    values: List[str] = []
    for item in found:
        value = item.get("value")
        if value is not None and str(value) not in values:
            values.append(str(value))
    return values


def first_entity(tracker: Tracker, entity: str) -> Optional[str]:
    values = entity_values(tracker, entity)
    return values[0] if values else None


def message_metadata(tracker: Tracker) -> Dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def rich_channel(tracker: Tracker) -> bool:
    """True when the shopper's channel renders cards, so the text can stay short."""
    return tracker.get_latest_input_channel() in WIDGET_CHANNELS


def in_form(tracker: Tracker) -> bool:
    return bool((tracker.active_loop or {}).get("name"))


# --------------------------------------------------------------------------- base class

class ShopAction(Action, ABC):
    """An action whose work (``respond``) is synchronous and may touch the shop's stores."""

    @abstractmethod
    def name(self) -> Text:
        """The action's name in the domain."""

    @abstractmethod
    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """The action's work; runs in a worker thread."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            return await asyncio.to_thread(self.respond, dispatcher, tracker, domain)
        except Exception:
            logger.exception("%s failed for conversation %s", self.name(), conversation_ref(tracker.sender_id))
            dispatcher.utter_message(text=SORRY_TEXT)
            return []


# --------------------------------------------------------------------------- common actions

class ValidateSlotMappings(ValidationAction):
    """Slots filled from the widget's message metadata on every turn.

    ``customer_id`` is only ever read from the shop channel's metadata (the channel
    puts it there from a signed token, with ``customer_proof`` binding it to this
    conversation), never from what the shopper types, nor from another channel's
    metadata (Rasa's REST channel passes whatever its caller sends). The proof is
    checked here too: a tracker that merely claims a customer id opens nothing.
    ``page_product`` follows the product page the shopper has open, and becomes the
    product in focus when it changes.
    """

    def extract_customer_id(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> Dict[Text, Any]:
        from shopdb.orders import normalise_customer_id

        if tracker.get_latest_input_channel() not in IDENTITY_CHANNELS:
            return {}  # any other channel's metadata is whatever its caller sent
        metadata = message_metadata(tracker)
        claimed = metadata.get("customer_id")
        customer_id = normalise_customer_id(claimed)
        if not customer_id or customer_id == tracker.get_slot("customer_id"):
            return {}
        if not customer_proofs().valid(metadata.get("customer_proof"), tracker.sender_id, claimed):
            logger.warning("customer id without a valid proof ignored in conversation %s", conversation_ref(tracker.sender_id))
            return {}
        return {"customer_id": customer_id}

    def extract_page_product(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> Dict[Text, Any]:
        page = message_metadata(tracker).get("page")
        product_id = page.get("product_id") if isinstance(page, dict) else None
        if product_id is None:
            return {}
        product_id = str(product_id).strip()[:40]
        if not product_id.isdigit() or product_id == tracker.get_slot("page_product"):
            return {}
        return {"page_product": product_id, "current_product": product_id}

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> List[EventType]:
        """Slots filled by mappings this turn need no further checks here (forms validate theirs)."""
        return [SlotSet(name, value) for name, value in tracker.slots_to_validate().items()]


class ActionDefaultFallback(Action):
    """Fallback when nothing fits. After the two-stage fallback gave up it hands off (repeated failure)."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        gave_up = latest_intent(tracker) == "nlu_fallback"
        if gave_up:
            dispatcher.utter_message(
                text="Sorry, I'm still not understanding you. I'll ask a member of our team to help."
            )
            return [SlotSet("handoff_reason", "repeated_failure"), FollowupAction("action_handoff_to_human")]
        dispatcher.utter_message(response="utter_default")
        return [UserUtteranceReverted()]


INTENT_DESCRIPTIONS = {
    "search_products": "look for a product",
    "refine_search": "change the last search",
    "select_product": "see one of the products",
    "product_question": "ask about a product",
    "check_availability": "check sizes or colours",
    "compare_products": "compare products",
    "ask_goes_with": "see what goes with it",
    "ask_similar": "see similar products",
    "order_status": "check where your order is",
    "cancel_order": "cancel an order",
    "change_address": "change the delivery address",
    "report_problem": "report a missing or damaged item",
    "request_return": "return an item",
    "return_eligibility": "check whether you can return something",
    "refund_status": "check on a refund",
    "ask_policy": "ask about shipping, payment or our policies",
    "request_human": "talk to a person",
    "greet": "say hello",
    "goodbye": "end the chat",
    "thank": "say thanks",
    "bot_challenge": "know whether I'm a bot",
    "ask_capabilities": "know what I can do",
}


class ActionDefaultAskAffirmation(Action):
    """'Did you mean ...?' in words a shopper understands, with the top two guesses as buttons."""

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        ranking = [r for r in (tracker.latest_message or {}).get("intent_ranking") or []
                   if r.get("name") in INTENT_DESCRIPTIONS]
        if not ranking:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        best = ranking[0]["name"]
        buttons = [{"title": f"Yes, {INTENT_DESCRIPTIONS[best]}", "payload": f"/{best}"}]
        if len(ranking) > 1:
            second = ranking[1]["name"]
            buttons.append({"title": f"I want to {INTENT_DESCRIPTIONS[second]}", "payload": f"/{second}"})
        buttons.append({"title": "Something else", "payload": "/deny"})
        dispatcher.utter_message(text=f"Sorry, just to be sure: do you want to {INTENT_DESCRIPTIONS[best]}?",
                                 buttons=buttons)
        return []


class ActionStopForm(Action):
    """The shopper cancelled a form: leave it and forget its half-filled answers."""

    def name(self) -> Text:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_form_stopped")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + [SlotSet(s, None) for s in FORM_SLOTS]


class ActionDeclineHuman(Action):
    """The shopper said no to a person: carry on with the bot."""

    def name(self) -> Text:
        return "action_decline_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text="No problem. What else can I help you with?")
        return [SlotSet("human_offered", None), SlotSet("handoff_reason", None)]


def offer_human(reason: str) -> List[EventType]:
    """Events that make the rules follow up with ``utter_offer_human``."""
    return [SlotSet("human_offered", True), SlotSet("handoff_reason", reason)]
