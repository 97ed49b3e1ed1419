"""CachedTEDPolicy answers exactly what TEDPolicy answers, and only runs the network for new dialogue states."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph

from rasa_addons.ted_policy import CachedTEDPolicy, freeze

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, search_products, goodbye]
responses:
  utter_greet: [{text: hi}]
  utter_goodbye: [{text: bye}]
actions: [action_search_products]
"""
)
STORIES = """
stories:
- story: search
  steps:
  - intent: greet
  - action: utter_greet
  - intent: search_products
  - action: action_search_products
  - intent: goodbye
  - action: utter_goodbye
- story: straight to search
  steps:
  - intent: search_products
  - action: action_search_products
"""


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> CachedTEDPolicy:
    steps = YAMLStoryReader(DOMAIN).read_from_string(STORIES)
    trackers = TrainingDataGenerator(StoryGraph(steps), DOMAIN, augmentation_factor=0).generate()
    config = {**CachedTEDPolicy.get_default_config(), "epochs": 3, "max_history": 3}
    ted = CachedTEDPolicy.create(
        config,
        LocalModelStorage(tmp_path_factory.mktemp("ted")),
        Resource("ted"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    ted.train(trackers, DOMAIN)
    return ted


def conversation(*intents: str) -> DialogueStateTracker:
    events: List = [ActionExecuted("action_listen")]
    for intent in intents:
        events += [UserUttered(intent, {"name": intent, "confidence": 1.0})]
        events += [ActionExecuted("action_search_products"), ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events("s", events[:-1], DOMAIN.slots)  # ends after the last action


def test_cached_answers_equal_teds_own(policy: CachedTEDPolicy) -> None:
    for intents in (("greet",), ("search_products",), ("greet", "search_products"), ("greet", "goodbye")):
        tracker = conversation(*intents)
        own = TEDPolicy.predict_action_probabilities(policy, tracker, DOMAIN)
        first = policy.predict_action_probabilities(tracker, DOMAIN)
        again = policy.predict_action_probabilities(tracker, DOMAIN)
        assert first.probabilities == pytest.approx(own.probabilities, abs=1e-6)
        assert again.probabilities == first.probabilities
        assert again.policy_name == own.policy_name == "CachedTEDPolicy"


def test_network_runs_once_per_dialogue_state(policy: CachedTEDPolicy) -> None:
    policy._predictions.clear()
    hits, misses = policy.hits, policy.misses
    for _ in range(3):
        policy.predict_action_probabilities(conversation("greet", "search_products"), DOMAIN)
    policy.predict_action_probabilities(conversation("search_products", "goodbye"), DOMAIN)
    assert (policy.hits - hits, policy.misses - misses) == (2, 2)


def test_a_changed_answer_does_not_change_the_remembered_one(policy: CachedTEDPolicy) -> None:
    tracker = conversation("greet")
    first = policy.predict_action_probabilities(tracker, DOMAIN)
    first.probabilities[0] = 42.0
    assert policy.predict_action_probabilities(tracker, DOMAIN).probabilities[0] != 42.0


def test_states_are_keyed_whatever_the_order_of_their_keys() -> None:
    assert freeze([{"user": {"intent": "greet"}, "prev_action": {"action_name": "x"}}]) == freeze(
        [{"prev_action": {"action_name": "x"}, "user": {"intent": "greet"}}]
    )
    assert freeze([{"slots": {"a": (1.0,)}}]) != freeze([{"slots": {"a": (0.0,)}}])


def test_cache_size_zero_always_runs_the_network(policy: CachedTEDPolicy, tmp_path: Path) -> None:
    policy.config["cache_size"] = 0
    try:
        hits = policy.hits
        policy.predict_action_probabilities(conversation("greet"), DOMAIN)
        policy.predict_action_probabilities(conversation("greet"), DOMAIN)
        assert policy.hits == hits
    finally:
        policy.config["cache_size"] = CachedTEDPolicy.get_default_config()["cache_size"]


def test_hit_rate_is_logged_every_report_interval(
    policy: CachedTEDPolicy, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rasa_addons.ted_policy as module

    monkeypatch.setattr(module, "REPORT_EVERY", 4)
    policy._predictions.clear()
    policy.hits = policy.misses = 0
    with caplog.at_level("INFO", logger="rasa_addons.ted_policy"):
        for _ in range(4):
            policy.predict_action_probabilities(conversation("greet"), DOMAIN)
    assert policy.hit_rate == pytest.approx(0.75)
    assert [r.getMessage() for r in caplog.records if "TED prediction cache" in r.getMessage()] == [
        "TED prediction cache: 3 hits, 1 misses (hit rate 75.0 %), 1 states held"
    ]
