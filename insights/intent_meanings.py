"""What an intent, an action or an entity means for a shopper's profile.

Why keyword rules and not a fixed list: the dialogue engineer's intent names
grow over time (``search_products``, ``track_order``, ``request_human``...);
rules on the name classify new intents sensibly without a code change, and
``INTENT_KINDS`` pins the ones the rules would get wrong.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Dict, Optional, Tuple


class Stage(str, Enum):
    """Where the shopper is; ``needs_help`` overrides the buying journey while it lasts."""

    BROWSING = "browsing"
    COMPARING = "comparing"
    READY_TO_BUY = "ready_to_buy"
    POST_PURCHASE = "post_purchase"
    NEEDS_HELP = "needs_help"


class IntentKind(str, Enum):
    HANDOFF = "handoff"  # asks for a human
    COMPLAINT = "complaint"
    POST_PURCHASE = "post_purchase"  # order status, returns, refunds, delivery of an order
    BUY = "buy"  # add to cart, checkout, payment of a new order
    COMPARE = "compare"
    BROWSE = "browse"  # search, product questions, recommendations
    FALLBACK = "fallback"
    OTHER = "other"  # greetings, thanks, policy FAQ


# Explicit kinds for names the rules below would misread.
INTENT_KINDS: Dict[str, IntentKind] = {
    "nlu_fallback": IntentKind.FALLBACK,
    "out_of_scope": IntentKind.FALLBACK,
    "request_human": IntentKind.HANDOFF,
    "contact_human_agent": IntentKind.HANDOFF,
    "complaint": IntentKind.COMPLAINT,
    "payment_issue": IntentKind.POST_PURCHASE,
    "ask_shipping_policy": IntentKind.OTHER,
    "ask_payment_methods": IntentKind.OTHER,
    "ask_return_policy": IntentKind.OTHER,
    "compare_products": IntentKind.COMPARE,
    "place_order": IntentKind.BUY,
}

_RULES: Tuple[Tuple[IntentKind, re.Pattern], ...] = (
    (IntentKind.FALLBACK, re.compile(r"fallback|out_of_scope")),
    (IntentKind.HANDOFF, re.compile(r"human|agent|handoff|operator|representative|real_person|talk_to")),
    (IntentKind.COMPLAINT, re.compile(r"complain|complaint|frustrat|angry|insult|bad_service")),
    (
        IntentKind.OTHER,
        re.compile(
            r"^(greet|goodbye|bye|thank|affirm|deny|bot_challenge|chitchat|faq)|polic|options|methods|period|"
            r"fee|account|password|newsletter|registration|customer_service"
        ),
    ),
    (
        IntentKind.POST_PURCHASE,
        re.compile(r"order|track|deliver|return|refund|cancel|invoice|exchange|damaged|missing|wrong_item|shipment"),
    ),
    (IntentKind.COMPARE, re.compile(r"compar|differen|versus|_vs_")),
    (IntentKind.BUY, re.compile(r"buy|purchase|checkout|add_to_cart|cart|pay")),
    (
        IntentKind.BROWSE,
        re.compile(r"search|product|recommend|browse|find|show|stock|availab|size|price|colou?r|brand|gift"),
    ),
)


def intent_kind(intent: Optional[str]) -> IntentKind:
    """The profile meaning of ``intent`` (``OTHER`` when nothing matches)."""
    if not intent:
        return IntentKind.OTHER
    if intent in INTENT_KINDS:
        return INTENT_KINDS[intent]
    name = intent.lower()
    for kind, pattern in _RULES:
        if pattern.search(name):
            return kind
    return IntentKind.OTHER


# Goals shown to agents and used by the dialogue ("what is the shopper trying to do").
_GOAL_BY_KIND: Dict[IntentKind, str] = {
    IntentKind.HANDOFF: "talk to a person",
    IntentKind.COMPLAINT: "make a complaint",
    IntentKind.BUY: "buy",
    IntentKind.COMPARE: "compare products",
    IntentKind.BROWSE: "find a product",
}


def goal_for(intent: str, kind: IntentKind) -> Optional[str]:
    """A short goal phrase, or None for intents that do not change the goal (greetings, fallbacks)."""
    if kind in (IntentKind.OTHER, IntentKind.FALLBACK):
        return None
    if kind is IntentKind.POST_PURCHASE:
        return intent.replace("_", " ")  # "track order", "request refund": the name says it best
    return _GOAL_BY_KIND[kind]


# Rasa's fallback machinery: the intent and the actions that signal "not understood".
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_two_stage_fallback"})
HANDOFF_ACTIONS = frozenset({"action_handoff_to_human", "action_handoff", "action_human_handoff"})
HELP_OFFER_ACTIONS = frozenset({"action_offer_human", "utter_offer_human", "utter_ask_handoff"})
HELP_OFFER_SLOTS = frozenset({"human_offered"})  # set to true when the bot offers a human
# Slots whose value is the list of products the bot just showed (recommendations).
RECOMMENDATION_SLOTS = frozenset({"last_results", "recommended_products", "shown_products"})

# Entities that describe what the shopper likes; value -> profile attribute.
ATTRIBUTE_ENTITIES: Dict[str, str] = {
    "colour": "colour",
    "color": "colour",
    "size": "size",
    "shoe_size": "size",
    "clothing_size": "size",
    "brand": "brand",
    "material": "material",
}
CATEGORY_ENTITIES = frozenset({"category", "product_type", "product_category", "product"})
PRICE_ENTITIES = frozenset({"price", "max_price", "budget", "amount", "min_price"})
# Entities whose values are personal or identify an order: the type is kept, the value never.
PERSONAL_ENTITIES = frozenset(
    {
        "email",
        "e_mail",
        "phone",
        "phone_number",
        "name",
        "person",
        "first_name",
        "last_name",
        "address",
        "street",
        "postcode",
        "zip",
        "city",
        "delivery_city",
        "delivery_country",
        "order_id",
        "order_number",
        "invoice_id",
        "invoice_number",
        "tracking_number",
        "account_id",
        "card_number",
        "iban",
        "refund_amount",
        "customer_id",
        "rma_number",
    }
)

# Words that show a shopper is losing patience (English; the bot speaks English).
_FRUSTRATION = re.compile(
    r"\b(useless|stupid|idiot|ridiculous|terrible|awful|worst|annoying|annoyed|frustrat\w*|angry|"
    r"not helpful|doesn'?t help|you don'?t understand|not what i (asked|want|said)|waste of time|"
    r"wtf|come on|seriously|again\?|already told you|i said)\b",
    re.I,
)


def frustration_signals(text: str, previous_text: Optional[str] = None) -> int:
    """How many frustration signals one message carries (words, shouting, repetition)."""
    if not text:
        return 0
    signals = 0
    if _FRUSTRATION.search(text):
        signals += 1
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        signals += 1  # SHOUTING
    if "!!" in text or "??" in text:
        signals += 1
    if previous_text and _normalise(text) == _normalise(previous_text) and len(_normalise(text)) > 3:
        signals += 1  # had to repeat themselves
    return signals


def _normalise(text: str) -> str:
    return re.sub(r"[^\w ]+", "", text.lower()).strip()


def normalise_question(text: str) -> str:
    """The grouping key of an unanswered question (lower case, no punctuation, single spaces)."""
    return re.sub(r"\s+", " ", _normalise(text))
