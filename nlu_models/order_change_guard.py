"""Safe routing: a flow that can change an order starts only when the shopper clearly asked for it.

"I do not need the Premium account, I want help to remove it" and "canceling pro account" read
like cancel_order to a classifier trained on orders; entering the cancel flow then offers to
cancel a real order. This component runs after the intent classifier (and the FallbackClassifier)
and turns an order-changing intent (cancel, new delivery address, return, problem report) into
``nlu_fallback`` when its confidence is below ``min_confidence`` or the message names something
that is not an order (account, profile, subscription, newsletter, password, ...): the bot's
two-stage fallback then asks, offering the top-ranked intents in plain words.

    - name: nlu_models.order_change_guard.OrderChangeGuard
      min_confidence: 0.8
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rapidfuzz import fuzz, process
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu_models.stateless import StatelessComponent

FALLBACK_INTENT = "nlu_fallback"
FUZZY_CUTOFF = 85  # rapidfuzz ratio: "reviw"/"review" 91, "orders"/"others" 67
GUARD_KEY = "order_change_guard"  # in the parse data: which intent was held back, and why


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class OrderChangeGuard(StatelessComponent):
    """Holds back an order-changing intent that is unsure or contradicted by the words around it."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intents": ["cancel_order", "change_address", "request_return", "report_problem"],
            "min_confidence": 0.8,
            # Words that say the request is about something other than an order.
            "contradicting_words": [
                "account",
                "accounts",
                "profile",
                "profiles",
                "subscription",
                "subscriptions",
                "subscribe",
                "unsubscribe",
                "newsletter",
                "newsletters",
                "membership",
                "premium",
                "password",
                "pwd",
                "login",
                "log in",
                "sign in",
                "sign up",
                "signup",
                "username",
                "review",
                "reviews",
                "feedback",
                "mailing list",
                "emails",
                "e-mails",
                "card details",
                "address book",
            ],
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.intents = frozenset(config["intents"])
        self.min_confidence = float(config["min_confidence"])
        words = sorted(config["contradicting_words"], key=len, reverse=True)
        self._contradiction = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.I)
        # Misspelt ones too ("reviw", "acount"): single words of 6+ letters, one or two slips away.
        # Not "emails": a shopper's own "email" is one letter away and says nothing about the request.
        self._fuzzy_words = [w for w in words if w.isalpha() and len(w) >= 6 and w != "emails"]

    def reason_to_hold(self, text: str, intent: str, confidence: float) -> str:
        """Why ``intent`` must not start its flow ("" when it may)."""
        if intent not in self.intents:
            return ""
        if confidence < self.min_confidence:
            return f"confidence {confidence:.2f} < {self.min_confidence:.2f}"
        word = self._contradiction.search(text or "")
        if word:
            return f"the message mentions '{word.group(0).lower()}'"
        for token in re.findall(r"[a-z]{5,}", (text or "").lower()):
            match = process.extractOne(token, self._fuzzy_words, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if match:
                return f"the message mentions '{token}' ({match[0]})"
        return ""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name, confidence = intent.get(INTENT_NAME_KEY), float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            reason = self.reason_to_hold(message.get(TEXT) or "", name or "", confidence)
            if reason:
                message.set(
                    INTENT, {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: confidence}, add_to_output=True
                )
                message.set(GUARD_KEY, {"held": name, "reason": reason}, add_to_output=True)
        return messages


__all__ = ["OrderChangeGuard"]
