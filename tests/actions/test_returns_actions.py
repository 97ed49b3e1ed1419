"""Returns and refunds against a private copy of the generated shop.

Demo orders: 10000001 delivered 5 days ago (returnable), 10000004 delivered 45 days ago (window closed),
10000005 return received / refund processing, 10000008 (Sam) earrings are final sale, the dress is not.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from actions.orders import ActionAskOrderItem
from actions.returns import (
    ActionCheckReturnEligibility,
    ActionCreateReturn,
    ActionRefundStatus,
    ValidateReturnForm,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def alex(proven):
    """Alex's delivered order, verified by the order form (the proof it issues), as in a conversation."""
    return proven({"order_number": "10000001", "email": "alex.morgan@example.com"})


@pytest.fixture
def sam(proven):
    return proven({"order_number": "10000008", "email": "sam.lee@example.com"})


def test_delivered_order_is_eligible_and_the_form_may_start(alex, orders_kb, tracker, run, domain, slots_of):
    messages, events = run(ActionCheckReturnEligibility(), tracker("", slots={**alex, "order_task": "return"}), domain)
    slots = slots_of(events)
    assert slots["order_action_allowed"] is True
    assert slots["order_item"] is None  # two returnable items: the form asks which
    assert "You can return items from order 10000001 until" in messages[0]["text"]
    assert "buttons" not in messages[0] or not messages[0]["buttons"]


def test_eligibility_question_offers_to_start_a_return(alex, orders_kb, tracker, run, domain):
    messages, _ = run(
        ActionCheckReturnEligibility(), tracker("", slots={**alex, "order_task": "return_eligibility"}), domain
    )
    assert messages[0]["text"].endswith("Would you like to start a return?")
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]


def test_closed_return_window_is_explained(proven, orders_kb, tracker, run, domain, slots_of):
    slots = proven({"order_number": "10000004", "email": "alex.morgan@example.com", "order_task": "return"})
    messages, events = run(ActionCheckReturnEligibility(), tracker("", slots=slots), domain)
    assert slots_of(events)["order_action_allowed"] is False
    assert "30-day return window" in messages[0]["text"] and "closed" in messages[0]["text"]


def test_return_form_lists_only_returnable_items_and_refuses_final_sale(sam, orders_kb, tracker, run, domain, slots_of):
    order = orders_kb.get_order("10000008", email=sam["email"])
    earrings = next(i for i in order.items if not i.returnable)
    dress = next(i for i in order.items if i.returnable)
    messages, _ = run(ActionAskOrderItem(), tracker("", slots=sam, active_loop="return_form"), domain)
    assert [b["payload"] for b in messages[0]["buttons"]] == [f'/inform{{"order_item": "{dress.item_id}"}}']
    t = tracker(
        "the earrings", "inform", slots=sam, slot_events={"order_item": "the earrings"}, active_loop="return_form"
    )
    messages, events = run(ValidateReturnForm(), t, domain)
    assert slots_of(events)["order_item"] is None
    assert messages[0]["text"] == f"The {earrings.title} can't be returned: final sale (hygiene item) unless faulty."
    t = tracker(
        "ok the dress then",
        "inform",
        slots=sam,
        slot_events={"order_item": "ok the dress then"},
        active_loop="return_form",
    )
    _, events = run(ValidateReturnForm(), t, domain)
    assert slots_of(events)["order_item"] == str(dress.item_id)


def test_return_reason_is_cleaned(alex, orders_kb, tracker, run, domain, slots_of):
    t = tracker(
        "x", "inform", slots=alex, slot_events={"return_reason": "  too\tsmall\x00  "}, active_loop="return_form"
    )
    _, events = run(ValidateReturnForm(), t, domain)
    assert slots_of(events)["return_reason"] == "too small"
    t = tracker("x", "inform", slots=alex, slot_events={"return_reason": " "}, active_loop="return_form")
    messages, events = run(ValidateReturnForm(), t, domain)
    assert slots_of(events)["return_reason"] is None and messages


ASKED = [{"event": "action", "name": "action_create_return"}]  # the bot's last action: the confirmation


def _returns_of(orders_kb, alex):
    return orders_kb.refund_status("10000001", email=alex["email"]).returns


def test_create_return_asks_first_then_opens_an_rma_and_refund_status_shows_it(
    alex, orders_kb, tracker, run, domain, slots_of
):
    order = orders_kb.get_order("10000001", email=alex["email"])
    item = order.items[0]
    slots = {**alex, "order_item": str(item.item_id), "return_reason": "Too small"}
    messages, events = run(ActionCreateReturn(), tracker("", slots=slots), domain)
    assert messages[0]["response"] == "utter_confirm_return"
    for shown in ("10000001", item.title, "Too small", f"€{item.unit_price:.2f}"):
        assert shown in messages[0]["text"]
    assert slots_of(events) == {"return_pending": True} and _returns_of(orders_kb, alex) == []

    yes = tracker("yes please", "affirm", slots={**slots, "return_pending": True}, history=ASKED)
    messages, events = run(ActionCreateReturn(), yes, domain)
    assert messages[0]["text"].startswith("Return RMA-") and item.title in messages[0]["text"]
    assert slots_of(events) == {
        "order_item": None,
        "return_reason": None,
        "return_pending": None,
        "policy_topic": "returns/how-to-start-a-return",  # a follow-up is read in returns
    }
    messages, _ = run(ActionRefundStatus(), tracker("", slots=alex), domain)
    assert "RMA-" in messages[0]["text"] and "refund not started" in messages[0]["text"]


def test_no_or_a_yes_to_another_question_opens_no_return(alex, orders_kb, tracker, run, domain, slots_of):
    item = orders_kb.get_order("10000001", email=alex["email"]).items[0]
    pending = {**alex, "order_item": str(item.item_id), "return_reason": "Too small", "return_pending": True}
    messages, events = run(ActionCreateReturn(), tracker("no", "deny", slots=pending, history=ASKED), domain)
    assert messages[0]["response"] == "utter_return_not_started"
    assert slots_of(events)["return_pending"] is None
    digressed = ASKED + [{"event": "action", "name": "action_answer_policy"}]
    messages, _ = run(ActionCreateReturn(), tracker("yes", "affirm", slots=pending, history=digressed), domain)
    assert messages[0]["response"] == "utter_return_not_started"
    assert _returns_of(orders_kb, alex) == []


@pytest.mark.parametrize(
    "request_words, replacement",
    [
        ("the strap broke, I want a replacement not a refund", True),
        ("can you exchange it for a new one", True),
        ("I want my money back, not a replacement", False),
        ("I want to return it", False),
    ],
)
def test_a_replacement_is_a_replacement_not_a_refund(alex, orders_kb, tracker, run, domain, request_words, replacement):
    item = orders_kb.get_order("10000001", email=alex["email"]).items[0]
    asked_for = [{"event": "user", "text": request_words, "parse_data": {"intent": {"name": "request_return"}}}]
    slots = {**alex, "order_item": str(item.item_id), "return_reason": "Broken"}
    messages, _ = run(ActionCreateReturn(), tracker("Broken", "inform", slots=slots, history=asked_for), domain)
    assert messages[0]["response"] == ("utter_confirm_return_replacement" if replacement else "utter_confirm_return")
    yes = tracker("yes", "affirm", slots={**slots, "return_pending": True}, history=asked_for + ASKED)
    messages, _ = run(ActionCreateReturn(), yes, domain)
    created = "utter_return_created_replacement" if replacement else "utter_return_created"
    assert messages[0]["response"] == created
    [opened] = _returns_of(orders_kb, alex)
    assert (opened.resolution, opened.refund_amount == 0) == (
        ("replacement", True) if replacement else ("refund", False)
    )
    messages, _ = run(ActionRefundStatus(), tracker("", slots=alex), domain)
    assert ("a replacement instead of a refund" in messages[0]["text"]) is replacement


def test_refund_in_progress(proven, orders_kb, tracker, run, domain):
    slots = proven({"order_number": "10000005", "email": "alex.morgan@example.com"})
    messages, _ = run(ActionRefundStatus(), tracker("", slots=slots), domain)
    assert "refund processing" in messages[0]["text"]


def test_refund_status_of_someone_elses_order_reveals_nothing(proven, orders_kb, tracker, run, domain, slots_of):
    slots = proven({"order_number": "10000008", "email": "alex.morgan@example.com"})  # a proof for a wrong pair
    messages, events = run(ActionRefundStatus(), tracker("", slots=slots), domain)
    assert messages[0]["text"].startswith("I couldn't verify that order")
    assert slots_of(events)["human_offered"] is True


def test_the_return_form_starting_after_the_email_answer_asks_without_complaining(
    alex, orders_kb, tracker, run, domain
):
    """Slots an action cleared before the form started are not answers: no "which item?" complaint."""
    t = tracker(alex["email"], "inform", slots=alex, slot_events={"order_item": None, "return_reason": None})
    messages, _ = run(ValidateReturnForm(), t, domain)
    assert messages == []


@pytest.mark.parametrize(
    "text, intent, passage",
    [
        ("if she doesnt like it can she send it back", "request_return", None),
        ("if the boots hurt after one walk can i still return them", "return_eligibility", None),
        ("how long do i have after delivery", "return_eligibility", None),
        ("how long have i got to send something back", "return_eligibility", None),
        ("can earrings be returned", "return_eligibility", "Items that cannot be returned"),
        ("is a worn jacket returnable", "return_eligibility", None),
        (
            "and if he doesnt like it can he return it even though it was a gift",
            "return_eligibility",
            "Returning gifts",
        ),
    ],
)
def test_a_return_question_about_no_order_is_answered_from_the_policy(
    kb, tracker, run, domain, slots_of, text, intent, passage
):
    """No order form: the returns passage (the 30-day window unless another fits better), then the offer to check."""
    from actions.orders import ValidateOrderForm

    asked = tracker(text, intent=intent, slots={"order_task": "return"})
    assert asyncio.run(ValidateOrderForm().required_slots(["order_number", "email"], None, asked, domain)) == []
    messages, events = run(ActionCheckReturnEligibility(), asked, domain)
    said = messages[0]["text"]
    assert passage in said if passage else re.search(r"30[ -]day", said), said  # the window, in either wording
    assert "order number" in messages[-1]["text"]
    assert slots_of(events)["order_action_allowed"] is False
    assert "order_number" not in slots_of(events)  # nothing verified, nothing cleared either


@pytest.mark.parametrize(
    "text, slots",
    [
        ("if the jacket from order 10000001 doesnt fit can i send it back", {}),  # an order number
        ("i bought boots last week, if they hurt can i return them", {}),  # the shopper's own purchase
        ("can i return my order", {}),  # no rule asked about: the order matters
        ("if it doesnt fit can i send it back", {"order_number": "10000001"}),  # an order is in view
    ],
)
def test_a_return_of_something_bought_still_asks_for_the_order(tracker, domain, text, slots) -> None:
    from actions.orders import ValidateOrderForm
    from actions.return_questions import asks_about_returns_in_general

    asked = tracker(text, intent="return_eligibility", slots={"order_task": "return_eligibility", **slots})
    assert not asks_about_returns_in_general(asked)
    required = asyncio.run(ValidateOrderForm().required_slots(["order_number", "email"], None, asked, domain))
    assert required == ["order_number", "email"]
