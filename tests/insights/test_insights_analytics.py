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

from .conftest import Clock, action, publish, site, user

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


def test_csv_cells_cannot_become_formulas():
    buffer = io.StringIO()
    write_csv([{"question": '=HYPERLINK("http://x")', "count": 1}], buffer)
    assert "'=HYPERLINK" in buffer.getvalue()
