"""Two requests in one message, and the actionable sentence of a long one (nlu_models/requests.py)."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

from nlu_models.requests import read_requests, split_message

CONTEXT = {"greet", "thank", "goodbye", "affirm", "deny"}
FLOWS = {"request_return", "order_status", "cancel_order"}


INTENTS = [
    "greet",
    "thank",
    "order_status",
    "cancel_order",
    "request_return",
    "search_products",
    "ask_delivery_period",
    "report_problem",
]


def row(reading: Tuple[Optional[str], float]) -> np.ndarray:
    """Probabilities with ``reading`` on top and the rest spread evenly."""
    intent, confidence = reading
    out = np.full(len(INTENTS), (1.0 - confidence) / (len(INTENTS) - 1))
    if intent is None:
        return np.full(len(INTENTS), 1.0 / len(INTENTS))
    out[INTENTS.index(intent)] = confidence
    return out


def fake_probabilities(table: Dict[str, Tuple[str, float]]):
    """Reads a part by the first key it contains: the tests decide what the model would say."""

    def probabilities(parts: List[str]) -> np.ndarray:
        return np.array([row(next((v for k, v in table.items() if k in part.lower()), (None, 0.0))) for part in parts])

    return probabilities


def read(text: str, whole: Tuple[str, float], table: Dict[str, Tuple[str, float]]):
    """(intent, confidence, requests) of the reading."""
    reading = read_requests(
        text,
        INTENTS,
        row(whole),
        fake_probabilities(table),
        context_intents=CONTEXT,
        flow_intents=FLOWS,
        min_confidence=0.6,
    )
    return reading.intent, reading.confidence, reading.requests


@pytest.mark.parametrize(
    "text, parts",
    [
        ("where is my order", ["where is my order"]),
        ("can I also return the shoes?", ["can I also return the shoes?"]),  # "also" inside a request
        ("Hi! Where is my order? Also can I pay with paypal?", ["Hi! Where is my order?", "can I pay with paypal?"]),
        (
            "I want to return the shoes from order 10000001 and also, do you sell running socks?",
            ["I want to return the shoes from order 10000001", "do you sell running socks?"],
        ),
        ("where is my order; btw do you have tents", ["where is my order", "do you have tents"]),
        ("Where is my parcel? Thanks.", ["Where is my parcel? Thanks."]),  # short pieces stay with a neighbour
        # "and" before a question opens another request; "and" inside one request does not
        ("wheres my ordr 10000002 and do u ship to austria", ["wheres my ordr 10000002", "do u ship to austria"]),
        ("black and white sneakers and how much are they", ["black and white sneakers", "how much are they"]),
        ("cancel it and refund me please", ["cancel it and refund me please"]),
        ("do u deliver to spain and how much", ["do u deliver to spain and how much"]),  # "how much" alone: too short
    ],
)
def test_split_message(text: str, parts: List[str]) -> None:
    found = split_message(text)
    assert [p.text for p in found] == parts
    for part in found:
        assert text[part.start : part.end] == part.text


def test_two_requests_are_both_kept_and_the_one_step_answer_goes_first() -> None:
    text = "I want to return the shoes from order 10000001 and also, do you sell running socks?"
    intent, confidence, requests = read(
        text,
        ("request_return", 0.7),
        {"return the shoes": ("request_return", 0.95), "running socks": ("search_products", 0.9)},
    )
    assert (intent, confidence) == ("search_products", 0.9)
    assert [r.intent for r in requests] == ["search_products", "request_return"]
    assert requests[1].text == "I want to return the shoes from order 10000001"
    assert text[requests[0].start : requests[0].end] == "do you sell running socks?"


def test_two_flows_keep_the_shoppers_order() -> None:
    text = "where is my order? and can i still cancel it?"
    intent, _, requests = read(
        text, ("order_status", 0.8), {"where is": ("order_status", 0.9), "cancel": ("cancel_order", 0.9)}
    )
    assert intent == "order_status" and [r.intent for r in requests] == ["order_status", "cancel_order"]


def test_the_request_outweighs_the_story_around_it() -> None:
    """A story that reads like a search around a question about the order: the question decides."""
    text = "hello, i ordered trail shoes for my husband last week. the tracking hasn't moved. where are they?"
    intent, confidence, requests = read(
        text,
        ("search_products", 0.7),
        {
            "trail shoes": ("search_products", 0.85),
            "tracking": ("order_status", 0.6),
            "where are they": ("order_status", 0.75),
        },
    )
    assert (intent, confidence, requests) == ("order_status", 0.75, [])


def test_small_talk_alone_is_read_whole() -> None:
    text = "Hi there, good morning. Thanks a lot for the help!"
    assert read(text, ("thank", 0.9), {"hi there": ("greet", 0.9), "thanks": ("thank", 0.95)}) == ("thank", 0.9, [])


def test_a_confident_reading_of_the_whole_message_stands() -> None:
    text = "Hi there. I'd like to know where my order is please."
    intent, confidence, requests = read(
        text, ("order_status", 0.97), {"hi there": ("greet", 0.9), "where my order": ("order_status", 0.9)}
    )
    assert (intent, confidence, requests) == ("order_status", 0.97, [])


def test_unsure_parts_are_not_two_requests() -> None:
    text = "I want to return something. Also do you sell socks?"
    whole = ("request_return", 0.9)
    intent, _, requests = read(text, whole, {"return": ("request_return", 0.7), "socks": ("search_products", 0.6)})
    assert intent == "request_return" and requests == []


def test_two_statements_without_a_new_request_word_are_one_request() -> None:
    """'I want my order. I want it today.' is one need: the second part is not opened as another request."""
    text = "I want my order. I want it today."
    intent, _, requests = read(
        text, ("order_status", 0.9), {"my order": ("order_status", 0.95), "today": ("ask_delivery_period", 0.92)}
    )
    assert requests == [] and intent == "order_status"
