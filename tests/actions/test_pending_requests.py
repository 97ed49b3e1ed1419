"""A request the bot comes back to: the second half of a two-part message, a frustrated shopper's request."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from actions.common import ActionDeclineHuman, ValidateSlotMappings
from actions.pending import ActionResumePending, pending_from_message
from actions.policies import ActionAnswerPolicy

TWO_PART = "I want to return the shoes from order 10000001 and also, do you sell running socks?"
ORDER = {"entity": "order_number", "value": "10000001", "start": 38, "end": 46}


def two_part_message() -> Dict[str, Any]:
    return {
        "text": TWO_PART,
        "intent": {"name": "search_products", "confidence": 0.9},
        "entities": [ORDER],
        "requests": [
            {
                "intent": "search_products",
                "confidence": 0.9,
                "text": "do you sell running socks?",
                "start": 57,
                "end": 83,
            },
            {"intent": "request_return", "confidence": 0.95, "text": TWO_PART[:46], "start": 0, "end": 46},
        ],
    }


def test_the_second_request_waits_with_its_own_words_and_entities() -> None:
    pending = pending_from_message(two_part_message())
    assert pending == {
        "intent": "request_return",
        "confidence": 0.95,
        "text": "I want to return the shoes from order 10000001",
        "entities": [{**ORDER, "start": 38, "end": 46}],
    }


def test_a_frustrated_request_waits_but_plain_venting_does_not() -> None:
    angry = {
        "text": "this is ridiculous, where is my order??",
        "intent": {"name": "express_frustration", "confidence": 0.8},
        "frustrated_intent": "order_status",
        "entities": [],
    }
    assert pending_from_message(angry)["intent"] == "order_status"
    venting = {**angry, "frustrated_intent": "express_frustration"}
    assert pending_from_message(venting) is None
    assert pending_from_message({"text": "/order_status", "intent": {"name": "order_status"}}) is None


def test_the_two_requests_are_announced_and_the_second_is_kept(tracker, run, domain, slots_of) -> None:
    t = tracker(TWO_PART, "search_products", entities=[ORDER])
    t.latest_message.update(two_part_message())
    messages, events = run(ValidateSlotMappings(), t, domain)
    assert messages[0]["response"] == "utter_two_requests"
    assert "look for a product" in messages[0]["text"] and "I want to return the shoes" in messages[0]["text"]
    assert slots_of(events)["pending_request"]["intent"] == "request_return"


def resumed(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [e for e in events if e.get("event") in ("action", "user")]


def test_a_finished_answer_comes_back_to_the_waiting_request(kb, tracker, run, domain, slots_of) -> None:
    pending = pending_from_message(two_part_message())
    t = tracker("what payment methods do you accept", "ask_payment_methods", slots={"pending_request": pending})
    messages, events = run(ActionAnswerPolicy(), t, domain)
    assert [m["response"] for m in messages] == ["utter_policy_answer", "utter_back_to_pending"]
    assert pending["text"] in messages[1]["text"]
    assert slots_of(events)["pending_request"] is None
    listen, user = resumed(events)
    assert listen["name"] == "action_listen"
    assert user["text"] == pending["text"]
    assert user["parse_data"]["intent"]["name"] == "request_return"
    assert user["parse_data"]["entities"][0]["value"] == "10000001"


def test_nothing_comes_back_inside_a_form_or_when_a_person_is_offered(kb, tracker, run, domain) -> None:
    pending = pending_from_message(two_part_message())
    in_form = tracker(
        "do you take paypal", "ask_payment_methods", slots={"pending_request": pending}, active_loop="order_form"
    )
    _, events = run(ActionAnswerPolicy(), in_form, domain)
    assert resumed(events) == []
    unknown = tracker(
        "do you offer a corporate bulk discount program?", "ask_policy", slots={"pending_request": pending}
    )
    messages, events = run(ActionAnswerPolicy(), unknown, domain)
    assert messages[0]["response"] == "utter_policy_unknown" and resumed(events) == []


def test_declining_a_person_carries_on_with_the_frustrated_request(tracker, run, domain) -> None:
    pending = {"intent": "order_status", "confidence": 0.8, "text": "where is my order??", "entities": []}
    messages, events = run(ActionDeclineHuman(), tracker("no", "deny", slots={"pending_request": pending}), domain)
    assert [m["response"] for m in messages] == ["utter_decline_human_carry_on", "utter_back_to_pending"]
    assert resumed(events)[1]["parse_data"]["intent"]["name"] == "order_status"
    messages, events = run(ActionDeclineHuman(), tracker("no", "deny"), domain)
    assert [m["response"] for m in messages] == ["utter_decline_human"] and resumed(events) == []


@pytest.mark.parametrize("slots", [{}, {"pending_request": None}])
def test_resume_without_a_waiting_request_does_nothing(tracker, run, domain, slots) -> None:
    messages, events = run(ActionResumePending(), tracker("how do I order", "place_order", slots=slots), domain)
    assert messages == [] and events == []
