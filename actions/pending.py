"""A request the bot comes back to: the other half of a two-part message, or a frustrated shopper's.

"I want to return the shoes from order 10000001 and also, do you sell running socks?" is two
requests (``nlu_models/requests.py`` puts both into the parse data's ``requests``, the one acted on
first); an angry "this is ridiculous, where is my order??" is a request too, held while the bot
apologises and offers a person (``nlu_models/frustration.py`` keeps it as ``frustrated_intent``).
The other request waits in the ``pending_request`` slot, and when the first is done (an action
that finishes a flow, the shopper declining the person, or ``action_resume_pending`` after an
answer given by a response alone) the bot says so and handles it as if the shopper had just sent
it: an ``action_listen`` and a ``UserUttered`` with the request's words, intent and entities.
Rasa runs its slot extraction for a ``UserUttered`` an action returns, so rules, forms and slot
mappings treat it like any other message.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SlotSet, UserUttered
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from nlu_models.frustration_score import FRUSTRATION_INTENT, ORIGINAL_INTENT_KEY

PENDING_SLOT = "pending_request"
# Requests worth coming back to: not small talk, not the frustration itself, not a fallback.
NOT_A_REQUEST = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "how_are_you",
        "bot_challenge",
        "inform",
        "stop",
        "out_of_scope",
        "nlu_fallback",
        FRUSTRATION_INTENT,
        "request_human",
        "other_language",
    }
)
MAX_TEXT = 500
# Actions that finish what the shopper asked without a question back: after them the bot comes
# back to a waiting request at once (the check_* actions ask for a confirmation, so they don't).
FINISHING_ACTIONS = frozenset(
    {
        "action_search_products",
        "action_refine_search",
        "action_show_product",
        "action_product_question",
        "action_check_availability",
        "action_compare_products",
        "action_goes_well_with",
        "action_similar_products",
        "action_add_to_cart",
        "action_order_status",
        "action_cancel_order",
        "action_change_address",
        "action_report_problem",
        "action_create_return",
        "action_refund_status",
        "action_answer_policy",
        "action_show_invoice",
        "action_cancellation_fee",
        "action_delivery_options",
        "action_account_help",
        "action_newsletter",
    }
)


def _entities_within(message: Dict[str, Any], start: int, end: int) -> List[Dict[str, Any]]:
    """The message's entities inside ``[start, end)``, their offsets moved to the part's own text."""
    inside = []
    for entity in message.get("entities") or []:
        begin, finish = entity.get("start"), entity.get("end")
        if isinstance(begin, int) and isinstance(finish, int) and start <= begin and finish <= end:
            inside.append({**entity, "start": begin - start, "end": finish - start})
    return inside


def pending_from_message(message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The request of ``message`` to come back to later, if it has one."""
    text = message.get("text") or ""
    if text.startswith("/"):
        return None
    requests = message.get("requests")
    if isinstance(requests, list) and len(requests) >= 2 and isinstance(requests[1], dict):
        second = requests[1]
        start, end = int(second.get("start") or 0), int(second.get("end") or len(text))
        intent = str(second.get("intent") or "")
        if intent and intent not in NOT_A_REQUEST:
            return {
                "intent": intent,
                "confidence": float(second.get("confidence") or 0.0),
                "text": text[start:end][:MAX_TEXT],
                "entities": _entities_within(message, start, end),
            }
    parsed: Dict[str, Any] = message.get("intent") or {}
    held = message.get(ORIGINAL_INTENT_KEY)
    if parsed.get("name") == FRUSTRATION_INTENT and isinstance(held, str) and held not in NOT_A_REQUEST:
        return {
            "intent": held,
            "confidence": float(parsed.get("confidence") or 0.0),
            "text": text[:MAX_TEXT],
            "entities": list(message.get("entities") or []),
        }
    return None


def first_request_text(message: Dict[str, Any]) -> Optional[str]:
    """The words of the request acted on now, when the message holds two."""
    requests = message.get("requests")
    text = message.get("text") or ""
    if isinstance(requests, list) and requests and isinstance(requests[0], dict):
        start, end = requests[0].get("start"), requests[0].get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            return text[start:end]
    return None


def resume_pending(tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType]:
    """Events that hand the waiting request to the dialogue as the shopper's next message ([] if none)."""
    pending = tracker.get_slot(PENDING_SLOT)
    if not isinstance(pending, dict) or not pending.get("intent") or (tracker.active_loop or {}).get("name"):
        return []
    text = str(pending.get("text") or "")[:MAX_TEXT]
    intent = {"name": str(pending["intent"]), "confidence": float(pending.get("confidence") or 1.0)}
    dispatcher.utter_message(response="utter_back_to_pending", request_text=text)
    parse_data = {
        "text": text,
        "intent": intent,
        "intent_ranking": [intent],
        "entities": [e for e in pending.get("entities") or [] if isinstance(e, dict)],
        "resumed": True,  # for the analytics: the bot came back to it, the shopper didn't send it again
    }
    return [
        SlotSet(PENDING_SLOT, None),
        ActionExecuted("action_listen"),
        UserUttered(text, parse_data=parse_data, input_channel=tracker.get_latest_input_channel()),
    ]


def may_resume_after(events: List[EventType]) -> bool:
    """Whether a flow that returned ``events`` is done: no form started, no question or person pending."""
    for event in events:
        if event.get("event") == "active_loop" and event.get("name"):
            return False
        if event.get("event") == "followup":
            return False
        if event.get("event") == "slot" and event.get("name") == "human_offered" and event.get("value"):
            return False
    return True


class ActionResumePending(Action):
    """After an answer given by a response alone: come back to the waiting request, if any."""

    def name(self) -> Text:
        return "action_resume_pending"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return resume_pending(tracker, dispatcher)


__all__ = [
    "ActionResumePending",
    "first_request_text",
    "may_resume_after",
    "pending_from_message",
    "resume_pending",
]
