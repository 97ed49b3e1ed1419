"""The consumer builds profiles from real Rasa events written through Rasa's SQLEventBroker."""

from __future__ import annotations

import json

from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    SessionStarted,
    SlotSet,
)
from sqlalchemy import func, select

from insights.consumer import consume_sql
from insights.handoff_rule import should_offer_human
from insights.handoff_summary import summarise_for_handoff
from insights.intent_meanings import Stage
from insights.profile_store import get_profile
from shopdb.models import ConsumerCursor, FactKind, InsightFact

from .conftest import Clock, action, publish, scored, site, user


def facts(shop, kind=None):
    with shop.sessions() as session:
        query = select(InsightFact).order_by(InsightFact.id)
        if kind:
            query = query.where(InsightFact.kind == kind)
        return session.execute(query).scalars().all()


def test_a_search_turn_becomes_a_browsing_profile_with_interests_and_recommendations(shop, broker):
    red = shop.product_id("RUN-RED-1")
    publish(
        broker,
        "s1",
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        user(
            "show me red running shoes from Acme",
            "search_products",
            0.91,
            [
                {"entity": "colour", "value": "red"},
                {"entity": "category", "value": "Shoes/Running shoes"},
                {"entity": "brand", "value": "Acme"},
            ],
        ),
        action("action_search_products"),
        SlotSet("last_results", [red, shop.product_id("RUN-RED-2")]),
        BotUttered("Here is what I found", data={"custom": {"products": [{"id": red, "title": "Acme Sprint runner"}]}}),
        ActionExecuted("action_listen"),
    )
    result = consume_sql(broker.url, shop.sessions)
    assert result.events == 8 and result.skipped == 0

    profile = get_profile("s1", sessions=shop.sessions)
    assert profile.stage is Stage.BROWSING
    assert profile.goal.startswith("find a product") and "red" in profile.goal
    assert profile.last_intent == "search_products" and profile.last_confidence == 0.91
    assert profile.top_interests()["colour"] == ["red"]
    assert profile.top_interests()["brand"] == ["acme"]
    assert list(profile.categories) == ["Shoes/Running shoes"]
    assert profile.recommended == [red, shop.product_id("RUN-RED-2")]
    kinds = [f.kind for f in facts(shop)]
    assert kinds.count(FactKind.TURN) == 1 and kinds.count(FactKind.SESSION) == 1
    assert kinds.count(FactKind.RECOMMENDATION) == 1  # slot and carousel name the same products once
    turn = facts(shop, FactKind.TURN)[0]
    assert turn.name == "search_products" and turn.confidence == 0.91 and turn.text is None
    assert turn.data["entities"] == ["brand", "category", "colour"]


def test_stage_moves_browsing_comparing_ready_post_purchase(shop, broker):
    clock = Clock()
    a, b = shop.product_id("RUN-RED-1"), shop.product_id("RUN-BLU-1")
    publish(broker, "s2", SessionStarted(), user("running shoes please", "search_products"), clock=clock)
    consume_sql(broker.url, shop.sessions)
    assert get_profile("s2", sessions=shop.sessions).stage is Stage.BROWSING

    broker.publish(site("s2", "product_viewed", clock, product_id=a))
    consume_sql(broker.url, shop.sessions)
    assert get_profile("s2", sessions=shop.sessions).stage is Stage.BROWSING  # one product is not a comparison

    broker.publish(site("s2", "product_viewed", clock, product_id=b))
    consume_sql(broker.url, shop.sessions)
    profile = get_profile("s2", sessions=shop.sessions)
    assert profile.stage is Stage.COMPARING
    assert profile.price_band() is not None and profile.price_band()[0] <= 89 <= profile.price_band()[1] + 31

    broker.publish(site("s2", "added_to_cart", clock, product_id=a, quantity=1))
    consume_sql(broker.url, shop.sessions)
    profile = get_profile("s2", sessions=shop.sessions)
    assert profile.stage is Stage.READY_TO_BUY and profile.carted == [a]
    assert profile.goal == "buy Acme Sprint runner"

    broker.publish(site("s2", "purchased", clock, product_ids=[a], price=89.0))
    consume_sql(broker.url, shop.sessions)
    profile = get_profile("s2", sessions=shop.sessions)
    assert profile.stage is Stage.POST_PURCHASE and profile.purchased == [a] and profile.carted == []

    # A new conversation starts over at browsing but keeps what the shopper likes.
    publish(broker, "s2", SessionStarted(), user("hi", "greet"), clock=clock)
    consume_sql(broker.url, shop.sessions)
    profile = get_profile("s2", sessions=shop.sessions)
    assert profile.stage is Stage.BROWSING and profile.conversation == 2
    assert "Shoes/Running shoes" in profile.categories and profile.purchased == [a]


def test_fallbacks_count_once_per_turn_and_lead_to_needs_help_and_an_offer(shop, broker):
    publish(
        broker,
        "s3",
        SessionStarted(),
        user("blorp my parcel, mail me at jane@example.com", "nlu_fallback", 0.2),
        action("action_default_fallback"),  # same turn: counted once
    )
    consume_sql(broker.url, shop.sessions)
    profile = get_profile("s3", sessions=shop.sessions)
    assert profile.fallback_count == 1 and profile.stage is not Stage.NEEDS_HELP
    assert not should_offer_human(profile)

    publish(broker, "s3", user("where is order AB123456", "track_order", 0.4), action("action_two_stage_fallback"))
    consume_sql(broker.url, shop.sessions)
    profile = get_profile("s3", sessions=shop.sessions)
    assert profile.fallback_count == 2 and profile.consecutive_fallbacks == 2
    assert profile.stage is Stage.NEEDS_HELP and should_offer_human(profile)

    fallback_facts = facts(shop, FactKind.FALLBACK)
    assert [f.name for f in fallback_facts] == ["nlu_fallback", "action_two_stage_fallback"]
    stored = json.dumps([f.text for f in fallback_facts]) + json.dumps(profile.dict(), default=str)
    assert "jane@example.com" not in stored and "AB123456" not in stored
    assert "<email>" in stored and "<reference>" in stored

    summary = summarise_for_handoff(profile)
    assert "needs help" in summary and "2 message(s) not understood" in summary and "<reference>" in summary

    # An understood turn ends the streak.
    publish(broker, "s3", user("show me boots", "search_products"), action("action_search_products"))
    consume_sql(broker.url, shop.sessions)
    assert get_profile("s3", sessions=shop.sessions).consecutive_fallbacks == 0


def test_handoff_pauses_and_resume_ends_needs_help(shop, broker):
    publish(
        broker,
        "s4",
        SessionStarted(),
        user("I want a human", "request_human"),
        action("action_handoff_to_human"),
        ConversationPaused(),
    )
    consume_sql(broker.url, shop.sessions)
    profile = get_profile("s4", sessions=shop.sessions)
    assert profile.paused and profile.stage is Stage.NEEDS_HELP and profile.goal == "talk to a person"
    assert not should_offer_human(profile)  # a human has it already
    assert {f.name for f in facts(shop, FactKind.HANDOFF)} == {"action_handoff_to_human", "pause"}

    publish(
        broker,
        "s4",
        ConversationResumed(),
        user("thanks", "thank_you"),
        user("show me jackets", "search_products"),
        user("blue ones", "search_products"),
    )
    consume_sql(broker.url, shop.sessions)
    profile = get_profile("s4", sessions=shop.sessions)
    assert not profile.paused and profile.stage is Stage.BROWSING


def test_complaint_and_frustration_offer_a_human(shop, broker):
    publish(broker, "s5", SessionStarted(), user("this is USELESS, you don't understand!!", "complaint"))
    consume_sql(broker.url, shop.sessions)
    profile = get_profile("s5", sessions=shop.sessions)
    assert profile.frustration_count >= 2 and profile.stage is Stage.NEEDS_HELP
    assert should_offer_human(profile)

    publish(broker, "s5", action("utter_offer_human"))  # the bot offered: do not nag on the next turn
    consume_sql(broker.url, shop.sessions)
    assert not should_offer_human(get_profile("s5", sessions=shop.sessions))


def test_each_turn_keeps_the_nlu_frustration_score_and_the_request_behind_it(shop, broker):
    publish(
        broker,
        "s10",
        SessionStarted(),
        scored("WHERE IS MY ORDER?!", "express_frustration", original="order_status"),
        scored("is the blue one still in stock?", "product_question"),
        scored("useless, get me a person", "request_human"),
        user("hello", "greet"),  # a message the NLU did not score (no scorer in the pipeline yet)
    )
    consume_sql(broker.url, shop.sessions)
    turns = facts(shop, FactKind.TURN)
    assert [t.name for t in turns] == ["express_frustration", "product_question", "request_human", "greet"]
    assert turns[0].data["frustration"] == {
        "score": 0.6,
        "frustrated": True,
        "signals": ["?!", "shouting"],
        "intent": "order_status",  # what the shopper asked for, not express_frustration
    }
    assert turns[1].data["frustration"] == {
        "score": 0.0,
        "frustrated": False,
        "signals": [],
        "intent": "product_question",
    }
    assert turns[2].data["frustration"]["frustrated"] and turns[2].data["frustration"]["signals"] == ["useless"]
    assert "frustration" not in turns[3].data


def test_a_malformed_score_is_dropped_and_signals_are_masked(shop, broker):
    from rasa.shared.core.events import UserUttered

    intent = {"name": "order_status", "confidence": 1.0}
    malformed = {"intent": intent, "frustration": {"score": "very", "signals": "x"}}
    foreign = {"intent": intent, "frustration": {"score": 0.7, "signals": ["order 10000042 late"], "threshold": 0.8}}
    publish(
        broker,
        "s11",
        UserUttered("hi", intent=intent, parse_data=malformed),
        UserUttered("order 10000042 late", intent=intent, parse_data=foreign),
    )
    consume_sql(broker.url, shop.sessions)
    first, second = facts(shop, FactKind.TURN)
    assert "frustration" not in first.data
    assert second.data["frustration"] == {
        "score": 0.7,
        "frustrated": False,  # judged by the threshold the message was scored with
        "signals": ["order <number> late"],
        "intent": "order_status",
    }


def test_consumption_is_incremental_and_duplicates_are_skipped(shop, broker):
    publish(broker, "s6", SessionStarted(), user("hello", "greet"))
    assert consume_sql(broker.url, shop.sessions).events == 2
    assert consume_sql(broker.url, shop.sessions).events == 0
    event = user("boots", "search_products")
    publish(broker, "s6", event)
    publish(broker, "s6", event)  # redelivered by an at-least-once broker
    result = consume_sql(broker.url, shop.sessions)
    assert result.events == 2 and result.skipped == 1
    assert get_profile("s6", sessions=shop.sessions).total_turns == 2
    with shop.sessions() as session:
        assert session.execute(select(func.max(ConsumerCursor.last_id))).scalar_one() == 4


def test_login_links_sessions_to_the_customer_profile(shop, broker):
    clock = Clock()
    boot = shop.product_id("BOOT-BRN-1")
    # Anonymous browsing first, then the shopper logs in (the channel adds the verified customer id).
    broker.publish(site("anon-1", "product_viewed", clock, product_id=boot))
    publish(broker, "anon-1", user("do you have it in 44?", "product_question", customer_id="C0000042"), clock=clock)
    broker.publish(site("anon-1", "purchased", clock, product_id=boot, customer_id="C0000042"))
    consume_sql(broker.url, shop.sessions)

    customer = get_profile(customer_id="C0000042", sessions=shop.sessions)
    assert customer.scope == "customer" and customer.purchased == [boot]
    assert "Shoes/Boots" in customer.categories  # learnt before the login, kept by the customer

    # A new device: the session knows nothing yet, the customer profile fills in.
    publish(broker, "phone-7", user("hi", "greet", customer_id="C0000042"), clock=clock)
    consume_sql(broker.url, shop.sessions)
    merged = get_profile("phone-7", sessions=shop.sessions)
    assert merged.customer_id == "C0000042" and merged.purchased == [boot]
    assert "Shoes/Boots" in merged.categories
    # A customer's facts carry the id; anonymous ones before the login do not.
    assert {f.customer_id for f in facts(shop, FactKind.SITE)} == {None, "C0000042"}


def test_an_action_sees_its_own_turn_before_the_stream_does(shop, broker):
    """Rasa publishes a turn after it; ``recent_events`` (the action's tracker.events) closes the gap."""
    clock = Clock()
    history = [SessionStarted(), user("show me boots", "search_products"), action("action_search_products")]
    publish(broker, "s7", *history, clock=clock)
    consume_sql(broker.url, shop.sessions)
    current = [
        user("argh", "nlu_fallback", 0.1),
        action("action_default_fallback"),
        user("this is useless!!", "nlu_fallback", 0.1),
    ]
    for event in current:
        event.timestamp = clock.tick()
    tracker_events = [e.as_dict() for e in history + current]  # as rasa_sdk's Tracker.events holds them

    profile = get_profile("s7", recent_events=tracker_events, sessions=shop.sessions)
    assert profile.total_turns == 3  # the consumed turn is not counted twice
    assert profile.consecutive_fallbacks == 2 and should_offer_human(profile)
    assert get_profile("s7", sessions=shop.sessions).total_turns == 1  # nothing was written


def test_without_insights_tables_recent_events_still_make_a_profile(tmp_path):
    from shopdb.db import create_db_engine, session_factory

    empty = session_factory(create_db_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    events = [SessionStarted().as_dict(), user("I want to complain", "complaint").as_dict()]
    profile = get_profile("s8", recent_events=events, sessions=empty)
    assert profile.stage is Stage.NEEDS_HELP and "complaint" in summarise_for_handoff(profile)


def test_the_bot_offering_a_human_through_its_slot_counts_as_an_offer(shop, broker):
    publish(
        broker,
        "s9",
        SessionStarted(),
        user("???", "nlu_fallback", 0.1),
        action("action_default_fallback"),
        user("hm?", "nlu_fallback", 0.1),
        action("action_default_fallback"),
    )
    consume_sql(broker.url, shop.sessions)
    assert should_offer_human(get_profile("s9", sessions=shop.sessions))
    publish(broker, "s9", SlotSet("human_offered", True))
    consume_sql(broker.url, shop.sessions)
    assert not should_offer_human(get_profile("s9", sessions=shop.sessions))
