"""Rasa 3.6 glue for the fine-tuned BERT intent classifier.

Only the graph-component contract lives here: read the config, train through
:func:`nlu_models.training.train_classifier`, persist the model folder in Rasa's
``ModelStorage`` and fill ``intent`` / ``intent_ranking`` the way Rasa's own
classifiers do, so FallbackClassifier, rules and ``rasa test nlu`` work unchanged.

Use it in ``config.yml``::

    - name: nlu_models.bert_intent_classifier.BertIntentClassifier
      epochs: 8
      backend: torch_int8
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.settings import get_settings
from nlu_models.config import ClassifierConfig, default_config_dict
from nlu_models.data import IntentData

if TYPE_CHECKING:
    from nlu_models.intent_model import IntentModel, Prediction  # imported lazily at run time: torch is heavy

logger = logging.getLogger(__name__)

REQUESTS_KEY = "requests"  # parse data: the two requests of a two-part message, first the one acted on


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class BertIntentClassifier(GraphComponent, IntentClassifier):
    """Intent classifier that fine-tunes a BERT-family encoder (see :mod:`nlu_models`)."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return []  # tokenises and embeds the raw text itself

    @staticmethod
    def required_packages() -> List[Text]:
        return ["torch", "transformers", "onnxruntime"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return default_config_dict()

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        ClassifierConfig.from_rasa(config)

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[IntentModel] = None,
    ) -> None:
        self.settings = ClassifierConfig.from_rasa(config)
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "BertIntentClassifier":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fine-tunes on the NLU examples and persists the model folder."""
        from nlu_models.intent_model import IntentModel, save_trained
        from nlu_models.training import train_classifier

        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        if not examples:
            logger.warning("%s: no intent examples, nothing to train.", self.__class__.__name__)
            return self._resource
        data = IntentData([e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples])
        import torch

        threads = torch.get_num_threads()
        trained = train_classifier(data, self.settings)
        with self._model_storage.write_to(self._resource) as directory:
            save_trained(trained, self.settings, directory)
            self.model = IntentModel.load(directory)
        torch.set_num_threads(threads)  # the inference setting must not slow later training
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "BertIntentClassifier":
        """Loads the persisted model; the inference settings of ``config`` apply."""
        from nlu_models.intent_model import IntentModel

        settings = ClassifierConfig.from_rasa(config)
        # SHOP_NLU_BACKEND overrides the trained config's inference back end at load time
        # (e.g. onnx_int8 for a model trained with torch_int8; the graph is exported on load).
        backend = get_settings().nlu_backend or settings.backend
        try:
            with model_storage.read_from(resource) as directory:
                model = IntentModel.load(directory, backend=backend, num_threads=settings.num_threads)
        except ValueError:
            logger.warning("%s: no trained model in resource '%s'.", cls.__name__, resource.name)
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets ``intent``, the top ``ranking_length`` of ``intent_ranking`` and, with
        ``split_requests``, the ``requests`` of a two-part message."""
        texts = [m.get(TEXT) or "" for m in messages]
        predictions: Sequence[Optional[Prediction]] = [None] * len(messages)
        if self.model:
            predictions = self.model.predict(texts)
        limit = self.settings.ranking_length or None
        for message, text, prediction in zip(messages, texts, predictions):
            ranking = [
                {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
                for name, confidence in (prediction.ranking[:limit] if prediction else [])
            ]
            intent = ranking[0] if ranking else {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}
            if self.settings.split_requests and prediction and not text.startswith("/"):
                intent = self._read_requests(message, text, prediction, ranking)
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def _read_requests(
        self, message: Message, text: str, prediction: Prediction, ranking: List[Dict[str, Any]]
    ) -> Dict[str, Any]:
        """The intent to act on first, with the ranking it was read with (a part's, or the evidence of
        all parts: the whole of a two-part message ranks both intents high, which the fallback
        classifier would take for doubt); two requests go to the parse data's ``requests``."""
        from nlu_models.requests import read_requests

        assert self.model is not None  # process() reads requests only with a model
        confidence_of = dict(prediction.ranking)
        whole_row = np.array([confidence_of.get(name, 0.0) for name in self.model.intents])
        reading = read_requests(
            text,
            self.model.intents,
            whole_row,
            self.model.probabilities,
            context_intents=self.settings.context_intents,
            flow_intents=self.settings.flow_intents,
            min_confidence=self.settings.request_min_confidence,
            two_request_confidence=self.settings.two_request_confidence,
            request_weight=self.settings.request_weight,
        )
        if reading.requests:
            message.set(REQUESTS_KEY, [r.as_dict() for r in reading.requests], add_to_output=True)
        limit = self.settings.ranking_length or None
        ranking[:] = [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: c} for n, c in reading.ranking[:limit]]
        return {INTENT_NAME_KEY: reading.intent, PREDICTED_CONFIDENCE_KEY: reading.confidence}
