"""Which language a message is in: an English bot answers other languages in their own words.

The intent classifier reads English; a German or Chinese message would get an English guess
("do you want to see one of the products?"). This component (after the classifiers) asks Lingua for
the language of each message among the ``languages`` the shop's shoppers write
(``nlu_models.language_id``). When another language is clearly ahead of English, the message's
intent becomes ``other_language`` and a ``language`` entity carries its ISO 639-1 code: the domain
answers in that language (response variations conditioned on the ``language`` slot) with what the
shop offers instead: a person, and the e-mail address.

    - name: nlu_models.language_detector.LanguageDetector
      accuracy: high         # Lingua's models: high ~500 MB per process, low ~40 MB
      min_confidence: 0.4
      min_letters: 2
      one_word_confidence: 0.9   # a single word ("klarna?") goes to another language only this sure

Its accuracy, false positives on English shop messages, latency and memory on short messages are
measured by ``shop bench languages`` (``perf/language_benchmark.py``), which also chose the defaults.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu_models.language_id import DEFAULT_SETTINGS, LanguageSettings, detector, other_language
from nlu_models.stateless import StatelessComponent

OTHER_LANGUAGE_INTENT = "other_language"
LANGUAGE_ENTITY = "language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageDetector(StatelessComponent):
    """Routes messages that are clearly not in the bot's language to ``other_language``."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Chosen by `shop bench languages` on its dev data (perf/data/language_id_dev*.jsonl and the training
        # splits' English), not on the data it reports on: see nlu_models.language_id.DEFAULT_SETTINGS.
        return {
            "bot_language": DEFAULT_SETTINGS.bot_language,
            "languages": list(DEFAULT_SETTINGS.languages),
            "accuracy": DEFAULT_SETTINGS.accuracy,
            "min_confidence": DEFAULT_SETTINGS.min_confidence,
            "min_letters": DEFAULT_SETTINGS.min_letters,
            "one_word_confidence": DEFAULT_SETTINGS.one_word_confidence,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["lingua"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.settings = LanguageSettings(
            languages=tuple(config["languages"]),
            accuracy=str(config["accuracy"]),
            min_confidence=float(config["min_confidence"]),
            min_letters=int(config["min_letters"]),
            one_word_confidence=float(config["one_word_confidence"]),
            bot_language=str(config["bot_language"]),
        )
        detector(self.settings.languages, self.settings.accuracy)  # load the models now, not on a shopper's turn

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            found = other_language(text, self.settings)
            if found is None:
                continue
            code, confidence = found
            message.set(
                INTENT,
                {INTENT_NAME_KEY: OTHER_LANGUAGE_INTENT, PREDICTED_CONFIDENCE_KEY: confidence},
                add_to_output=True,
            )
            entity = {
                "entity": LANGUAGE_ENTITY,
                "value": code,
                "start": 0,
                "end": len(text),
                "confidence": confidence,
                "extractor": self.__class__.__name__,
            }
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages


__all__ = ["LanguageDetector"]
