"""Return questions about no order in particular, answered from the returns policy without asking for one.

"If she doesn't like it, can she send it back?" while looking at a product, "what's the return
window", "if the boots hurt after one walk can I still return them": the classifier reads these as
return_eligibility or request_return, whose flow starts with the order number. A shopper who has not
bought yet, or asks in general, wants the rule, not a form. :func:`asks_about_returns_in_general`
tells the two apart; the order form then asks for nothing (``ValidateOrderForm.required_slots``) and
``action_check_return_eligibility`` answers with the returns passage that fits and offers to check
an order if there is one.
"""

from __future__ import annotations

import re
from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, latest_text
from actions.policies import closer_passage, say_passage
from actions.shop import shop_search
from actions.typed_details import find_order_number
from retrieval.results import PolicyHit

RETURN_INTENTS = frozenset({"return_eligibility", "request_return"})
DEFAULT_PASSAGE = "returns/return-window"
# Passages about something that went wrong with an order: a general question is not answered with them.
ORDER_TROUBLE_PASSAGES = frozenset({"returns/damaged-faulty-or-wrong-items", "returns/missing-items"})

# A question about the rule: a condition ("if it doesn't fit"), the window or policy, a gift, "how many days",
# what can be returned.
_GENERAL = re.compile(
    r"\bif\b|\bwindow\b|\bpolic(?:y|ies)\b|\brules?\b|\bin general\b|\bpresent\b|\bgift\b|\bsale items?\b"
    r"|\bhow (?:many|much) (?:days|time|weeks)\b|\bhow long (?:do|have|can)\b"
    r"|\bbe (?:returned|sent back|exchanged)\b|\b(?:non-?)?returnable\b",  # "can earrings be returned"
    re.I,
)
# A purchase of the shopper's own: "I bought", "my order", "it arrived": then the order is what matters.
_OWN_PURCHASE = re.compile(
    r"\b(?:i|we|i've|we've|i have|we have)\s+(?:just\s+)?(?:bought|ordered|received|purchased)\b"
    r"|\b(?:i|we) got (?:a|an|the|my|our|this|these|those|it|them)\b"  # not "how long have I got to ..."
    r"|\bmy (?:order|parcel|package|purchase)\b|\b(?:arrived|delivered|came)\b",
    re.I,
)


def asks_about_returns_in_general(tracker: Tracker) -> bool:
    """Whether the latest message asks how returns work rather than to return something already bought:
    a return question with no order number, no order checked in this conversation, phrased as a rule
    or a condition, and not about a purchase of the shopper's own."""
    if latest_intent(tracker) not in RETURN_INTENTS:
        return False
    if tracker.get_slot("order_number") or tracker.get_slot("order_proof"):
        return False
    text = latest_text(tracker)
    if find_order_number(text) or _OWN_PURCHASE.search(text):
        return False
    return bool(_GENERAL.search(text))


def returns_passage(question: str) -> Optional[PolicyHit]:
    """The returns passage that answers ``question``: the return window, unless another returns passage
    answers it clearly better ("...even though it was a gift", "do I pay the postage")."""
    better = closer_passage(question, {DEFAULT_PASSAGE}, skip=ORDER_TROUBLE_PASSAGES)
    return better or shop_search().policy_passage(DEFAULT_PASSAGE)


def answer_returns_in_general(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The passage, then the offer to check an order; the flow ends here as an explained "no" (nothing to check)."""
    passage = returns_passage(latest_text(tracker))
    events: List[EventType] = say_passage(dispatcher, passage) if passage is not None else []
    dispatcher.utter_message(response="utter_offer_return_check")
    return events + [SlotSet("order_action_allowed", False), SlotSet("human_offered", None)]


__all__ = ["answer_returns_in_general", "asks_about_returns_in_general", "returns_passage"]
