"""Analytics figures on a known set of events (written through Rasa's SQLEventBroker, consumed for real)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from rasa.shared.core.events import ConversationPaused, SessionStarted, SlotSet

from insights.analytics import Analytics, write_csv
from insights.consumer import consume_sql
from insights.report import format_report

from .conftest import Clock, action, publish, scored, site, user

DAY = 86_400.0


@pytest.fixture
def known_events(shop, broker):
    """Four conversations over two days (2026-01-01 and 2026-01-02, UTC):

    a#1: search, question, a fallback; the bot shows p1+p2; the shopper adds p1 to the cart -> converted
    b#1: a fallback (same question, other wording), asks for a human -> handed off
    c#1: the bot shows p3; the shopper carts p4 (not shown), buys p3 ten days later (outside the window)
    a#2 (next day): a greeting
    """
    p1, p2, p3, p4 = (shop.product_id(s) for s in ("RUN-RED-1", "RUN-RED-2", "TEE-RED-1", "MUG-1"))
    clock = Clock()
    publish(
        broker,
        "a",
        SessionStarted(),
        user("red running shoes", "search_products", 0.9),
        action("action_search_products"),
        SlotSet("last_results", [p1, p2]),
        user("are they waterproof?", "product_question", 0.7),
        user("Do you sell unicorn saddles?", "nlu_fallback", 0.3),
        action("action_default_fallback"),
        clock=clock,
    )
    broker.publish(site("a", "added_to_cart", clock, product_id=p1))
    publish(
        broker,
        "b",
        SessionStarted(),
        user("do you sell UNICORN saddles", "nlu_fallback", 0.2),
        action("action_default_fallback"),
        user("human please", "request_human", 0.99),
        action("action_handoff_to_human"),
        ConversationPaused(),
        clock=clock,
    )
    publish(
        broker,
        "c",
        SessionStarted(),
        user("a red tee", "search_products", 0.8),
        action("action_search_products"),
        SlotSet("last_results", [p3]),
        clock=clock,
    )
    broker.publish(site("c", "added_to_cart", clock, product_id=p4))
    clock.tick(10 * DAY)
    broker.publish(site("c", "purchased", clock, product_ids=[p3]))
    clock.now = 1_767_225_600.0 + DAY + 60  # 2026-01-02 00:01
    publish(broker, "a", SessionStarted(), user("hello again", "greet", 0.99), clock=clock)
    consume_sql(broker.url, shop.sessions)
    return shop


def test_rates_containment_and_conversion(known_events):
    analytics = Analytics(known_events.sessions)
    fallback = analytics.fallback_rate()
    assert (fallback.numerator, fallback.denominator) == (2, 7)
    handoff = analytics.handoff_rate()
    assert (handoff.numerator, handoff.denominator) == (1, 4) and handoff.rate == 0.25
    assert analytics.containment().rate == 0.75
    conversion = analytics.recommendation_conversion()
    assert conversion["conversations_with_recommendations"] == 2
    assert conversion["added_to_cart"] == 1 and conversion["cart_rate"] == 0.5
    assert conversion["purchased"] == 0  # bought p3, but ten days after it was shown
    assert analytics.recommendation_conversion(window=dt.timedelta(days=30))["purchased"] == 1


def test_intent_volumes_and_unanswered_questions(known_events):
    analytics = Analytics(known_events.sessions)
    volumes = {(r["bucket"], r["intent"]): r["count"] for r in analytics.intent_volumes("day")}
    assert volumes == {
        ("2026-01-01", "search_products"): 2,
        ("2026-01-01", "nlu_fallback"): 2,
        ("2026-01-01", "product_question"): 1,
        ("2026-01-01", "request_human"): 1,
        ("2026-01-02", "greet"): 1,
    }
    totals = {r["intent"]: r for r in analytics.intent_totals()}
    assert totals["search_products"]["count"] == 2 and totals["search_products"]["mean_confidence"] == pytest.approx(
        0.85
    )
    top = analytics.top_unanswered()
    assert top[0]["count"] == 2 and top[0]["question"].lower().startswith("do you sell unicorn saddles")
    assert len(top) == 1


def test_period_filters_every_figure(known_events):
    second_day = Analytics(known_events.sessions, since=dt.datetime(2026, 1, 2))
    assert second_day.fallback_rate().denominator == 1 and second_day.fallback_rate().rate == 0.0
    assert second_day.handoff_rate().denominator == 1 and second_day.handoff_rate().numerator == 0
    assert second_day.top_unanswered() == []
    first_day = Analytics(known_events.sessions, until=dt.datetime(2026, 1, 2))
    assert first_day.fallback_rate().denominator == 6


def test_report_text_and_csv(known_events):
    report = Analytics(known_events.sessions).overview()
    text = format_report(report)
    assert "hand-off rate" in text and "25.0 %" in text and "unicorn saddles" in text.lower()
    buffer = io.StringIO()
    write_csv(report.rows(), buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert {"section", "key", "name", "value"} == set(rows[0])
    assert {"section": "handoff", "key": "rate", "name": "", "value": "0.25"} in rows


@pytest.fixture
def frustrated_events(shop, broker):
    """f1: frustrated about an order, then asks for a person, handed off; f2: twice frustrated about a
    refund, no hand-off; f3: calm; f4: a message the NLU did not score (left out of the figures)."""
    clock = Clock()
    publish(
        broker,
        "f1",
        SessionStarted(),
        scored("WHERE IS MY ORDER?!", "express_frustration", original="order_status"),  # 0.6
        scored("useless, get me a person", "request_human"),  # 0.6
        action("action_handoff_to_human"),
        clock=clock,
    )
    publish(
        broker,
        "f2",
        SessionStarted(),
        scored("this is terrible and useless, still waiting for my refund", "express_frustration", "refund_status"),
        scored("STILL NO REFUND?!", "express_frustration", original="refund_status"),  # 0.85
        clock=clock,
    )
    publish(broker, "f3", SessionStarted(), scored("hi", "greet"), scored("is it still in stock?", "ask"), clock=clock)
    publish(broker, "f4", SessionStarted(), user("hello", "greet"), clock=clock)
    consume_sql(broker.url, shop.sessions)
    return shop


def test_frustration_figures(frustrated_events):
    figures = Analytics(frustrated_events.sessions).frustration()
    assert figures == {
        "scored_messages": 6,
        "frustrated_messages": 4,
        "rate": 0.6667,
        "mean_score": pytest.approx((0.6 + 0.6 + 1.0 + 0.85) / 6, abs=1e-4),
        "frustrated_conversations": 2,
        "handed_off": 1,
        "handoff_rate": 0.5,
        "top_intents": [
            {"intent": "refund_status", "count": 2},
            {"intent": "order_status", "count": 1},
            {"intent": "request_human", "count": 1},
        ],
    }
    assert Analytics(frustrated_events.sessions).frustration(top=1)["top_intents"] == [
        {"intent": "refund_status", "count": 2}
    ]
    later = Analytics(frustrated_events.sessions, since=dt.datetime(2026, 1, 1, 0, 0, 7))  # from f2's second turn
    assert later.frustration()["frustrated_messages"] == 1 and later.frustration()["handed_off"] == 0


def test_frustration_in_the_report_text_and_csv(frustrated_events):
    report = Analytics(frustrated_events.sessions).overview()
    text = format_report(report)
    assert "frustrated messages" in text and "66.7 %" in text and "4/6 scored messages" in text
    assert "1/2 frustrated conversations" in text and "mean score" in text and "0.51" in text
    assert text.index("refund_status", text.index("most frustrated requests")) < text.index("order_status")
    rows = report.rows()
    assert {"section": "frustration", "key": "rate", "name": "", "value": 0.6667} in rows
    assert {"section": "frustrated_intents", "key": "count", "name": "refund_status", "value": 2} in rows


def test_a_report_without_scored_messages_says_so(known_events):
    report = Analytics(known_events.sessions).overview()
    assert report.frustration["scored_messages"] == 0 and report.frustration["rate"] is None
    assert "(no scored messages)" in format_report(report)


def test_csv_cells_cannot_become_formulas():
    buffer = io.StringIO()
    write_csv([{"question": '=HYPERLINK("http://x")', "count": 1}], buffer)
    assert "'=HYPERLINK" in buffer.getvalue()


def test_an_ab_test_compares_the_models_that_answered(shop, broker):
    """Rasa stamps each event with the answering model's id; the consumer keeps it, and the A/B
    comparison puts each conversation under the model that read its first message."""
    from insights.experiments import compare

    clock = Clock()
    for i in range(6):
        model = "model-old" if i < 3 else "model-new"
        handed = [action("action_handoff_to_human"), ConversationPaused()] if i in (0, 1, 3) else []
        publish(
            broker,
            f"ab-{i}",
            SessionStarted(),
            user("where is my parcel", "order_status", 0.9, model_id=model),
            user("do you sell unicorn saddles", "nlu_fallback", 0.2, model_id=model),
            action("action_default_fallback"),
            *handed,
            clock=clock,
        )
    publish(broker, "no-stamp", SessionStarted(), user("hi", "greet", 0.99), clock=clock)  # before any test
    consume_sql(broker.url, shop.sessions)
    result = compare(shop.sessions, [(1, "model-old"), (2, "model-new")], min_conversations=3)
    old, new = result.arms
    assert (old.conversations, new.conversations) == (3, 3)
    assert (old.rates["handoff_rate"].numerator, new.rates["handoff_rate"].numerator) == (2, 1)
    assert old.rates["fallback_rate"].as_dict("f", "m") == {"f": 3, "m": 6, "rate": 0.5}
    assert result.winner is None and "no significant difference" in result.verdict  # 3 against 3 proves nothing
