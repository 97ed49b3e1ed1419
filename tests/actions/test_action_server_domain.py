"""The action server knows the bot's domain (rasa_sdk_plugins/domain.py): the Rasa servers no longer
send it with every call (``enable_selective_domain``), and forms still validate their slots."""

from __future__ import annotations

import time
from typing import Any, Dict

import pytest
import requests

from assistant.launcher import server_environment
from rasa_addons.bot_domain import bot_domain
from rasa_sdk_plugins.domain import with_domain

pytestmark = pytest.mark.slow


def order_form_call(typed: str) -> Dict[str, Any]:
    """What Rasa sends to validate the order form after the shopper typed ``typed`` as the order number."""
    now = time.time()
    message = {"text": typed, "intent": {"name": "inform", "confidence": 0.9}, "entities": []}
    return {
        "next_action": "validate_order_form",
        "sender_id": "domain-fill-test",
        "version": "3.6.21",
        "tracker": {
            "sender_id": "domain-fill-test",
            "slots": {"order_number": typed, "requested_slot": "order_number"},
            "latest_message": message,
            "latest_event_time": now,
            "followup_action": None,
            "paused": False,
            "events": [
                {"event": "action", "name": "order_form", "timestamp": now - 2},
                {"event": "active_loop", "name": "order_form", "timestamp": now - 2},
                {"event": "slot", "name": "requested_slot", "value": "order_number", "timestamp": now - 2},
                {"event": "action", "name": "action_listen", "timestamp": now - 1},
                {"event": "user", "text": typed, "parse_data": message, "timestamp": now},
                {"event": "slot", "name": "order_number", "value": typed, "timestamp": now},
            ],
            "latest_input_channel": "rest",
            "active_loop": {"name": "order_form"},
            "latest_action_name": "action_listen",
        },
    }


def test_a_call_without_the_domain_still_validates_the_form(running_assistant) -> None:
    token = server_environment(running_assistant.config)["SHOP_ACTION_TOKEN"]
    reply = requests.post(
        f"{running_assistant.config.actions_url}/webhook",
        json=order_form_call("my cat"),  # no "domain": as Rasa sends it with enable_selective_domain
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    # The form's required slots came from the filled-in domain: "my cat" was validated and refused.
    assert {"event": "slot", "name": "order_number", "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in body["events"]
    ]
    assert body["responses"]  # and the shopper is told what is wrong


def test_a_call_with_its_domain_keeps_it() -> None:
    own = {"responses": {}, "forms": {}}
    assert with_domain({"domain": own})["domain"] is own
    filled = with_domain({"next_action": "x"})["domain"]
    assert filled["forms"]["order_form"]["required_slots"] == ["order_number", "email"]
    assert filled is bot_domain() and "utter_greet" in filled["responses"]
