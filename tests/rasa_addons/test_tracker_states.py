"""The resumable state replay (rasa_addons/patches/tracker_states.py) gives Rasa's own states at every
step of every story and rule of the bot, as the conversation grows, after a reverted turn, and with
callers editing what they got."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import pytest

from core.settings import PROJECT_ROOT
from rasa_addons.patches import tracker_states

ARGUMENTS: List[Tuple[bool, bool, Optional[Dict[str, Any]]]] = [
    (False, False, None),
    (True, False, None),
    (False, True, {"rule_only_slots": ["requested_slot", "verification_failures"], "rule_only_loops": ["order_form"]}),
]


@pytest.fixture(scope="module")
def stories() -> Tuple[Any, List[Any]]:
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(PROJECT_ROOT / "bot" / "domain.yml"), training_data_paths=[str(PROJECT_ROOT / "bot" / "data")]
    )
    domain = importer.get_domain()
    generator = TrainingDataGenerator(importer.get_stories(), domain, remove_duplicates=False, augmentation_factor=0)
    return domain, generator.generate()


def compare_while_growing(domain: Any, events: List[Any]) -> int:
    """Grow one tracker event by event; after each action compare with Rasa's replay. Returns comparisons."""
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker("states", domain.slots)
    compared = 0
    for event in events:
        tracker.update(event)
        if isinstance(event, ActionExecuted):
            for omit, ignore, rule_only in ARGUMENTS:
                expected = tracker_states.original(domain, tracker, omit, ignore, rule_only)
                found = domain.states_for_tracker_history(tracker, omit, ignore, rule_only)
                assert found == expected
                for state in found:  # callers edit states in place (the last one): that must not reach the next call
                    state.clear()
                # Another policy asks before the conversation moves on (the answer kept from the first call).
                assert domain.states_for_tracker_history(tracker, omit, ignore, rule_only) == expected
                compared += 1
    return compared


def test_every_story_and_rule_gives_rasas_states(stories: Tuple[Any, List[Any]]) -> None:
    tracker_states.install()
    domain, trackers = stories
    compared = sum(compare_while_growing(domain, list(tracker.events)) for tracker in trackers)
    assert len(trackers) > 150 and compared > 3_000, (len(trackers), compared)


def test_a_reverted_turn_and_a_restart_give_rasas_states(stories: Tuple[Any, List[Any]]) -> None:
    from rasa.shared.core.events import ActionExecuted, Restarted, UserUtteranceReverted

    tracker_states.install()
    domain, trackers = stories
    longest = max(trackers, key=lambda t: len(t.events))
    events = list(longest.events)
    middle = len(events) // 2
    reverted = events[:middle] + [UserUtteranceReverted(), ActionExecuted("action_listen")] + events[middle:]
    restarted = events[:middle] + [Restarted(), ActionExecuted("action_listen")] + events[middle:]
    assert compare_while_growing(domain, reverted) > 0
    assert compare_while_growing(domain, restarted) > 0
