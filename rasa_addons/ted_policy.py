"""Rasa's TEDPolicy with its predictions remembered per dialogue state.

Profiled under the load test (embedded default, 20 shoppers), TED was the largest
single cost of a turn in the Rasa server: ~28 % of its CPU, most of it the
TensorFlow call (the ``tf.function``'s per-call input handling costs more than the
small transformer itself), and it runs for every prediction of a turn (after the
message and after each action), even when RulePolicy or MemoizationPolicy decide.

Without end-to-end text features TED's answer is a pure function of the featurised
dialogue states it is given (the last ``max_history`` turns: intent, entity types,
slots, active loop, previous action), and shops' conversations revisit the same
states all the time. :class:`CachedTEDPolicy` computes those states as TED does,
and returns the earlier prediction for the same states from a bounded LRU instead
of running the network again. Predictions that read the shopper's text
(end-to-end TED) are never cached. Trained and configured exactly like
``TEDPolicy`` (``bot/config.yml``); ``cache_size`` (default 4096, 0 = off) bounds it.
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict
from typing import Any, Dict, Hashable, List, Optional, Text

from rasa.core.featurizers.precomputation import MessageContainerForCoreFeaturization
from rasa.core.policies.policy import PolicyPrediction, SupportedData
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

CACHE_SIZE_KEY = "cache_size"
DEFAULT_CACHE_SIZE = 4096
REPORT_EVERY = 1000  # cached lookups between two log lines of the hit rate

logger = logging.getLogger(__name__)


def freeze(value: Any) -> Hashable:
    """A hashable, order-independent copy of a dialogue state (dicts, lists, tuples, scalars)."""
    if isinstance(value, dict):
        return tuple(sorted((key, freeze(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(item) for item in value)
    return value


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True)
class CachedTEDPolicy(TEDPolicy):
    """TEDPolicy that answers a dialogue state it has seen from memory."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**TEDPolicy.get_default_config(), CACHE_SIZE_KEY: DEFAULT_CACHE_SIZE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._predictions: "OrderedDict[Hashable, PolicyPrediction]" = OrderedDict()
        self.hits = 0
        self.misses = 0

    def _reads_text(self, tracker: DialogueStateTracker) -> bool:
        """True when TED's prediction would use the message text (end-to-end), not only its intent."""
        return self.only_e2e or (tracker.latest_action_name == ACTION_LISTEN_NAME and TEXT in self.fake_features)

    def _state_key(
        self, tracker: DialogueStateTracker, domain: Domain, rule_only_data: Optional[Dict[Text, Any]]
    ) -> Hashable:
        """The states TED featurises for this prediction (same arguments as its own featurisation)."""
        ml_only = self.supported_data() == SupportedData.ML_DATA
        states = self.featurizer.prediction_states(
            [tracker],
            domain,
            use_text_for_last_user_input=False,
            ignore_rule_only_turns=ml_only,
            rule_only_data=rule_only_data,
            ignore_action_unlikely_intent=ml_only,
        )
        return freeze(states)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        precomputations: Optional[MessageContainerForCoreFeaturization] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """TED's prediction, from memory when these dialogue states were predicted before."""
        size = int(self.config.get(CACHE_SIZE_KEY, DEFAULT_CACHE_SIZE))
        if self.model is None or size <= 0 or self._reads_text(tracker):
            return super().predict_action_probabilities(tracker, domain, rule_only_data, precomputations, **kwargs)
        key = self._state_key(tracker, domain, rule_only_data)
        known = self._predictions.get(key)
        self._count(hit=known is not None)
        if known is not None:
            self._predictions.move_to_end(key)
            return _copy(known)
        prediction = super().predict_action_probabilities(tracker, domain, rule_only_data, precomputations, **kwargs)
        self._predictions[key] = _copy(prediction)
        while len(self._predictions) > size:
            self._predictions.popitem(last=False)
        return prediction

    @property
    def hit_rate(self) -> float:
        """Share of cached lookups answered from memory since the policy was loaded."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0

    def _count(self, hit: bool) -> None:
        """Counts a lookup; every REPORT_EVERY lookups logs the hit rate (how much real traffic repeats)."""
        if hit:
            self.hits += 1
        else:
            self.misses += 1
        if (self.hits + self.misses) % REPORT_EVERY == 0:
            logger.info(
                "TED prediction cache: %d hits, %d misses (hit rate %.1f %%), %d states held",
                self.hits,
                self.misses,
                100 * self.hit_rate,
                len(self._predictions),
            )


def _copy(prediction: PolicyPrediction) -> PolicyPrediction:
    """A prediction the caller may change without changing the remembered one."""
    duplicate = copy.copy(prediction)
    duplicate.probabilities = list(prediction.probabilities)
    duplicate.events = list(prediction.events or [])
    duplicate.optional_events = list(prediction.optional_events or [])
    return duplicate


__all__: List[str] = ["CachedTEDPolicy", "freeze"]
