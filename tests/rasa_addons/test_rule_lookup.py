"""The narrowed rule lookup (rasa_addons/patches/rule_lookup.py) returns exactly Rasa's keys."""

from __future__ import annotations

import json
import random
import tarfile
from pathlib import Path
from typing import Any, Dict, List

from rasa_addons.patches import rule_lookup


def rule_lookups(model: Path) -> Dict[str, Dict[str, Any]]:
    with tarfile.open(model) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("train_RulePolicy0/rule_policy.json"))
        data = json.load(archive.extractfile(member))  # type: ignore[arg-type]
    return {name: data["lookup"][name] for name in ("rules", "rules_for_loop_unhappy_path")}


def conversations(lookup: Dict[str, Any], rng: random.Random) -> List[List[Dict[str, Any]]]:
    """Each rule's own states, behind other rules' states, cut short, and with another last state."""
    rules = [json.loads(key) for key in lookup]
    found = []
    for states in rules:
        before = rng.choice(rules)
        found += [states, before + states, (before + states)[:-1], states[:-1] + [rng.choice(rules)[-1]]]
    return [states for states in found if states]


def test_the_narrowed_lookup_finds_rasas_keys(trained_model: Path) -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    rule_lookup.install()
    policy = RulePolicy.__new__(RulePolicy)  # the key search reads nothing of the instance but its methods
    rng = random.Random(3)
    checked = matched = 0
    for lookup in rule_lookups(trained_model).values():
        for states in conversations(lookup, rng):
            expected = rule_lookup._original(policy, lookup, states)
            assert policy._get_possible_keys(lookup, states) == expected
            checked += 1
            matched += bool(expected)
    assert checked > 1000 and matched > checked / 4  # the comparison covered hits, not only misses


def test_the_index_narrows_to_the_rules_of_the_last_state() -> None:
    greet = json.dumps([{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}])
    any_intent = json.dumps([{"prev_action": {"action_name": "action_listen"}}])
    after_form = json.dumps([{"prev_action": {"action_name": "order_form"}}])
    index = rule_lookup.RuleIndex.of({greet: "utter_greet", any_intent: "x", after_form: "y"})
    current = {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}
    assert index.candidates(current) == {greet, any_intent}
    assert index.candidates({"prev_action": {"action_name": "order_form"}}) == {after_form}
    assert index.longest == 1
