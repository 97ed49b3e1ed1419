"""The conversation-quality suite against the real servers, and no empty reply anywhere.

Every conversation of ``tests/conversations/*.yml`` (:mod:`perf.conversation_suite`) runs through
the shop channel of the session's running assistant (Rasa server + action server, the test model).
Every turn of every conversation must get a reply; the share of conversations that pass all their
assertions is printed and must reach ``MIN_PASSING``. The stories of ``tests/stories`` are replayed
the same way, as a guest and as a signed-in customer, and must never meet silence either.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from rasa.shared.nlu.training_data.entities_parser import replace_entities

from core.settings import PROJECT_ROOT, Settings
from perf.conversation_suite import Conversation, Turn, format_report, load_suite, run_suite

# The suite's conversations are written as a demanding shopper judges a reply, not from this bot's
# words; the share that passes is the figure the README reports (62 % with the test model), far from
# the goal of passing them all; this floor keeps it from sliding while the dialogue catches up.
MIN_PASSING = 0.30
MIN_CONVERSATIONS = 150
STORIES_DIR = PROJECT_ROOT / "tests" / "stories"
# Stories that change the session's shared shop (an order, a subscription) or open tickets are not replayed.
CHANGING_ACTIONS = frozenset(
    {
        "action_cancel_order",
        "action_change_address",
        "action_create_return",
        "action_report_problem",
        "action_newsletter",
        "action_delete_account",
        "action_record_complaint",
        "action_handoff_to_human",
    }
)


def _settings(shop_env: Dict[str, str]) -> Settings:
    return Settings(var_dir=Path(shop_env["SHOP_VAR_DIR"]), secret_key=shop_env.get("SHOP_SECRET_KEY"))


def test_the_suite_is_large_and_well_formed() -> None:
    """``load_suite`` checks the keys, the shoppers and unique names; tests/test_training_data.py checks
    that no turn is a training example."""
    assert len(load_suite()) >= MIN_CONVERSATIONS


def test_every_turn_is_answered_and_the_suite_passes(running_assistant, shop_env) -> None:
    results = asyncio.run(run_suite(running_assistant.config.rasa_url, load_suite(), _settings(shop_env)))
    report = format_report(results)
    print("\n" + report)
    empty = [(r.conversation.name, t.say) for r in results for t in r.turns if not t.reply.strip()]
    assert empty == [], f"turns without any reply: {empty}"
    share = sum(r.passed for r in results) / len(results)
    assert share >= MIN_PASSING, report


def _story_conversations(shopper: str) -> List[Conversation]:
    """Each test story's shopper lines (its e2e ``user:`` texts, entity mark-up removed) as one conversation;
    stories that change the shop or open tickets are left out (:data:`CHANGING_ACTIONS`)."""
    conversations = []
    for path in sorted(STORIES_DIR.glob("*.yml")):
        for story in (yaml.safe_load(path.read_text()) or {}).get("stories") or []:
            if any(step.get("action") in CHANGING_ACTIONS for step in story["steps"]):
                continue
            lines = [replace_entities(str(step["user"])).strip() for step in story["steps"] if "user" in step]
            turns = [Turn(say=line) for line in lines if line and not line.startswith("/")]
            if turns:
                conversations.append(Conversation(story["story"], shopper, turns, path.name))
    return conversations


@pytest.mark.parametrize("shopper", ["guest", "alex"])
def test_no_story_meets_silence(running_assistant, shop_env, shopper: str) -> None:
    stories = _story_conversations(shopper)
    assert len(stories) > 30
    results = asyncio.run(run_suite(running_assistant.config.rasa_url, stories, _settings(shop_env)))
    empty = [(r.conversation.name, t.say) for r in results for t in r.turns if not t.reply.strip()]
    assert empty == [], f"turns without any reply: {empty}"
