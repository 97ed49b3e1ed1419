"""Safe routing: an order-changing flow starts only for a confident request that names nothing else."""

from __future__ import annotations

from typing import Optional

import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu_models.order_change_guard import GUARD_KEY, OrderChangeGuard


def guarded(text: str, intent: str, confidence: float) -> Message:
    guard = OrderChangeGuard(OrderChangeGuard.get_default_config())
    message = Message({TEXT: text, INTENT: {"name": intent, "confidence": confidence}})
    guard.process([message])
    return message


@pytest.mark.parametrize(
    "text, intent",
    [
        ("I do not need the Premium account, I want help to remove it", "cancel_order"),
        ("canceling pro account", "cancel_order"),
        ("I want help leaving a reviw", "cancel_order"),
        ("cancel my newsletter subscription", "cancel_order"),
        ("I have to switch to a new profile", "change_address"),
        ("I want help to recover my user pwd", "request_return"),
        ("i have problems with the sign in", "report_problem"),
    ],
)
def test_words_about_something_else_hold_the_order_flow(text: str, intent: str) -> None:
    message = guarded(text, intent, 0.97)
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert message.get(GUARD_KEY)["held"] == intent


@pytest.mark.parametrize("confidence, held", [(0.79, "cancel_order"), (0.8, None), (0.99, None)])
def test_an_unsure_order_flow_is_held(confidence: float, held: Optional[str]) -> None:
    message = guarded("please cancel order 10000003", "cancel_order", confidence)
    assert (message.get(GUARD_KEY) or {}).get("held") == held
    assert message.get(INTENT)["name"] == ("nlu_fallback" if held else "cancel_order")


def test_other_intents_pass_untouched_whatever_their_words() -> None:
    message = guarded("how do I delete my account", "delete_account", 0.4)
    assert message.get(INTENT)["name"] == "delete_account" and message.get(GUARD_KEY) is None
    message = guarded("where is my order? I have an account", "order_status", 0.95)
    assert message.get(INTENT)["name"] == "order_status"


def test_an_e_mail_address_alone_is_not_a_contradiction() -> None:
    """'emails' contradicts, but a shopper giving their e-mail address to cancel must not be held."""
    message = guarded("cancel order 10000003, my email is alex.morgan@example.com", "cancel_order", 0.95)
    assert message.get(INTENT)["name"] == "cancel_order"
