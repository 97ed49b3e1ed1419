"""How frustrated a shopper sounds: a score for every message, and an apology first when it is high.

Every message carries its score in its parse data (``frustration``: score, signals, threshold; see
``nlu_models.frustration_score`` for the signals), so it is stored with the turn in the tracker
store and the event stream: the insights consumer keeps it with the turn's analytics fact, the
hand-off transcript shows it to the agent.

From ``threshold`` on, the message's intent becomes ``express_frustration`` (its own intent stays in
``frustrated_intent``): the bot apologises and offers a person before anything else, and a "no
thanks" button carries the shopper's original request on (``actions/handoff.py``).

    - name: nlu_models.frustration.FrustrationScorer
      threshold: 0.6

Why words and not a sentiment model: the signals are few, fast (microseconds) and explainable to
an agent ("shouting, 'useless'"), and the public sentiment models we could ship are trained on
reviews, where "cheap" and "returned" are negative and the shop's ordinary requests would score as
angry.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu_models.frustration_score import (
    DEFAULT_THRESHOLD,
    FRUSTRATION_INTENT,
    ORIGINAL_INTENT_KEY,
    SCORE_KEY,
    frustration_score,
)
from nlu_models.stateless import StatelessComponent


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FrustrationScorer(StatelessComponent):
    """Scores every message; a high score turns the intent into ``express_frustration``."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "threshold": DEFAULT_THRESHOLD,
            # Intents that already lead to a person, or end the chat: never rerouted.
            "keep_intents": [
                "request_human",
                "express_frustration",
                "complaint",
                "goodbye",
                "stop",
                "affirm",
                "deny",
            ],
            # A frustrated message that also asks for a person ("this is ridiculous, get me a real person":
            # request_human second in the ranking, at least this confident) gets the person, not the offer of one.
            "person_intent": "request_human",
            "person_min_confidence": 0.25,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.threshold = float(config["threshold"])
        self.keep = frozenset(config["keep_intents"])
        self.person_intent = str(config["person_intent"])
        self.person_min = float(config["person_min_confidence"])

    def _asks_for_a_person(self, message: Message) -> bool:
        ranking = message.get(INTENT_RANKING_KEY) or []
        return any(
            item.get(INTENT_NAME_KEY) == self.person_intent
            and float(item.get(PREDICTED_CONFIDENCE_KEY) or 0) >= self.person_min
            for item in ranking
        )

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            frustration = frustration_score(message.get(TEXT) or "", self.threshold)
            message.set(SCORE_KEY, frustration.as_dict(), add_to_output=True)
            intent = message.get(INTENT) or {}
            name = intent.get(INTENT_NAME_KEY)
            if frustration.frustrated and name != self.person_intent and self._asks_for_a_person(message):
                message.set(ORIGINAL_INTENT_KEY, name, add_to_output=True)
                message.set(
                    INTENT, {INTENT_NAME_KEY: self.person_intent, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True
                )
                continue
            if frustration.frustrated and name not in self.keep:
                message.set(ORIGINAL_INTENT_KEY, name, add_to_output=True)
                message.set(
                    INTENT,
                    {
                        INTENT_NAME_KEY: FRUSTRATION_INTENT,
                        PREDICTED_CONFIDENCE_KEY: intent.get(PREDICTED_CONFIDENCE_KEY, 1.0),
                    },
                    add_to_output=True,
                )
        return messages


__all__ = ["FrustrationScorer"]
