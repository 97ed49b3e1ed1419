"""The frustration score: angry, polite, shouting and ordinary "still"/"again" requests; the component's rerouting."""

from __future__ import annotations

import pytest

from nlu_models.frustration_score import DEFAULT_THRESHOLD, Frustration, frustration_in, frustration_score


@pytest.mark.parametrize(
    "text, signal",
    [
        ("this bot is useless", "useless"),
        ("you're not helping, at all", "not helping"),
        ("I've asked for weeks, what a joke", "what a joke"),
        ("still waiting for my refund, this is terrible", "terrible"),
        ("what the hell, 3 weeks and nothing arrived!!", "hell"),
        ("I'm fed up with this shop", "fed up"),
    ],
)
def test_angry_messages_reach_the_threshold_and_name_their_signal(text: str, signal: str) -> None:
    frustration = frustration_score(text)
    assert frustration.frustrated and frustration.score >= DEFAULT_THRESHOLD
    assert signal in frustration.signals


@pytest.mark.parametrize(
    "text",
    [
        "Could you please help me find a gift for my mum? Thanks!",
        "hello, do you have these trainers in a size 42?",
        "thank you so much, that was really helpful",
        "I'm not annoyed, just asking when it ships",
        "no problem, not bad at all",
        "this is helping, thanks",
    ],
)
def test_polite_messages_score_nothing(text: str) -> None:
    assert frustration_score(text) == Frustration(0.0, (), DEFAULT_THRESHOLD)


@pytest.mark.parametrize(
    "text",
    [
        "is the blue dress still available?",
        "can you show me those boots again",
        "I still need the invoice for my last order",
        "do you still ship to Ireland?",
        "could I order the same tea again?",
        "sorry, say again?",
    ],
)
def test_ordinary_requests_with_still_or_again_are_not_frustrated(text: str) -> None:
    assert frustration_score(text).score == 0.0


def test_waiting_alone_is_a_signal_below_the_threshold() -> None:
    frustration = frustration_score("it's still not clear to me which size I need")
    assert frustration.signals == ("still not",) and frustration.score == 0.25 and not frustration.frustrated


def test_shouting_alone_is_not_enough_but_shouting_with_another_signal_is() -> None:
    product = frustration_score("NIKE AIR MAX 90 IN BLUE")
    assert product.signals == ("shouting",) and not product.frustrated
    assert frustration_score("DO YOU HAVE THIS IN RED").score == product.score
    angry = frustration_score("WHERE IS MY ORDER?!")
    assert angry.signals == ("?!", "shouting") and angry.frustrated
    waiting = frustration_score("I AM STILL WAITING FOR MY REFUND")
    assert waiting.signals == ("still waiting", "shouting") and waiting.score == 0.65
    assert not frustration_score("WHERE").signals  # too short to be shouting


def test_demands_count_in_capitals_only_and_the_score_is_capped() -> None:
    assert frustration_score("I need it TODAY").signals == ("today",)
    assert frustration_score("can it arrive today or now?").score == 0.0
    furious = frustration_score("THIS IS A SCAM, STILL NOTHING, GIVE ME MY DAMN MONEY NOW!!")
    assert furious.score == 1.0 and len(furious.signals) == 6


def test_the_threshold_is_the_configured_one() -> None:
    assert not frustration_score("this is terrible").frustrated
    assert frustration_score("this is terrible", threshold=0.3).frustrated


def test_the_parse_data_shape_round_trips_and_bad_values_are_ignored() -> None:
    frustration = frustration_score("useless!!", threshold=0.7)
    assert frustration_in({"frustration": frustration.as_dict()}) == frustration
    assert frustration_in({"frustration": {"score": 0.4}}) == Frustration(0.4, (), DEFAULT_THRESHOLD)
    for bad in ({}, {"frustration": 0.9}, {"frustration": {"score": "high"}}, {"frustration": {"score": 7}}, None, []):
        assert frustration_in(bad) is None, bad
    many = frustration_in({"frustration": {"score": 1, "signals": ["x" * 100] * 20, "threshold": True}})
    assert many is not None and len(many.signals) == 8 and len(many.signals[0]) == 40 and many.threshold == 0.6


def test_the_component_scores_every_message_and_reroutes_a_frustrated_request() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from nlu_models.frustration import FrustrationScorer

    scorer = FrustrationScorer({**FrustrationScorer.get_default_config(), "threshold": 0.6})
    angry = Message(data={"text": "WHERE IS MY ORDER?!", "intent": {"name": "order_status", "confidence": 0.9}})
    calm = Message(data={"text": "where is my order?", "intent": {"name": "order_status", "confidence": 0.9}})
    human = Message(data={"text": "useless, get me a human", "intent": {"name": "request_human", "confidence": 0.8}})
    scorer.process([angry, calm, human])

    assert angry.get("intent") == {"name": "express_frustration", "confidence": 0.9}
    assert angry.get("frustrated_intent") == "order_status"
    assert angry.as_dict(only_output_properties=True)["frustration"] == {
        "score": 0.6,
        "signals": ["?!", "shouting"],
        "threshold": 0.6,
    }
    assert calm.get("intent")["name"] == "order_status" and calm.get("frustrated_intent") is None
    assert calm.get("frustration")["score"] == 0.0
    assert human.get("intent")["name"] == "request_human"  # already leads to a person
    assert human.get("frustration")["score"] == 0.6


def test_a_frustrated_shopper_who_asks_for_a_person_gets_one() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from nlu_models.frustration import FrustrationScorer

    scorer = FrustrationScorer(FrustrationScorer.get_default_config())

    def parsed(text: str, ranking: list) -> Message:
        top = {"name": ranking[0][0], "confidence": ranking[0][1]}
        return Message(
            data={"text": text, "intent": top, "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}
        )

    asks = parsed("this is ridiculous, get me a real person", [("express_frustration", 0.63), ("request_human", 0.3)])
    vents = parsed("this is ridiculous", [("express_frustration", 0.9), ("request_human", 0.05)])
    angry_order = parsed("this is ridiculous, WHERE IS MY ORDER", [("order_status", 0.7), ("request_human", 0.1)])
    calm = parsed("could I talk to someone please", [("contact_us", 0.6), ("request_human", 0.35)])
    scorer.process([asks, vents, angry_order, calm])
    assert asks.get("intent")["name"] == "request_human" and asks.get("frustrated_intent") == "express_frustration"
    assert vents.get("intent")["name"] == "express_frustration"  # an apology and the offer of a person
    assert angry_order.get("intent")["name"] == "express_frustration"
    assert calm.get("intent")["name"] == "contact_us"  # not frustrated: the classifier's choice stands
