"""Conversation ratings (CSAT): when they are offered, how a click is kept, what the analytics show.

The channel's real blueprint on a Sanic server on a loopback port with the bot's domain, a hand-off
ended by an agent over the console's HTTP API, the shopper's click sent to the REST fallback; the
ratings in the real (migrated) shop database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict

import aiohttp
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SessionStarted, UserUttered

from handoff.store import default_store
from handoff.tickets import create_ticket
from insights.analytics import Analytics
from shopdb.db import session_factory
from shopdb.ratings import (
    add_comment,
    erase_shopper_ratings,
    export_shopper_ratings,
    ratings_between,
    record_rating,
)
from web.csat import rating_of, should_offer_after
from web.payloads import accept_payload

PASSWORD = "a long enough test password"


def _turn(text: str, intent: str, *actions: str) -> list:
    events = [UserUttered(text, {"name": intent, "confidence": 0.95})]
    events += [ActionExecuted(name) for name in actions]
    return events


def test_a_rating_is_offered_when_a_successful_conversation_closes_once() -> None:
    answered = _turn("where is my order", "order_status", "order_form", "action_order_status")
    assert should_offer_after(answered + _turn("thanks!", "thank", "utter_you_are_welcome"))
    assert should_offer_after(answered + _turn("bye", "goodbye", "utter_goodbye"))
    # Small talk only, or the last request went unanswered: nothing to rate yet.
    assert not should_offer_after(_turn("hi", "greet", "utter_greet") + _turn("bye", "goodbye", "utter_goodbye"))
    failed = answered + _turn("blorp", "nlu_fallback", "action_default_fallback")
    assert not should_offer_after(failed + _turn("bye", "goodbye", "utter_goodbye"))
    unplaced = _turn("blorp", "nlu_fallback", "action_fallback_answer", "action_two_stage_fallback")
    assert not should_offer_after(answered + unplaced + _turn("bye", "goodbye", "utter_goodbye"))
    weather = _turn("whats the weather", "out_of_scope", "action_out_of_scope")
    assert not should_offer_after(weather + _turn("bye", "goodbye", "utter_goodbye"))
    # A form still waits for an answer ("what's your order number?"): the conversation has not ended.
    asking = answered + _turn("and my other order", "order_status", "order_form") + [ActiveLoop("order_form")]
    assert not should_offer_after(asking + _turn("thanks", "thank", "utter_you_are_welcome"))
    assert should_offer_after(asking + [ActiveLoop(None)] + _turn("thanks", "thank", "utter_you_are_welcome"))
    # Not a closing line; or already offered in this session; a new session starts afresh.
    assert not should_offer_after(answered + _turn("and returns?", "ask_refund_policy", "action_answer_policy"))
    offered = [BotUttered("How did we do?", metadata={"rating_offer": True})]
    closing = _turn("thanks", "thank", "utter_you_are_welcome")
    assert not should_offer_after(answered + offered + closing)
    assert should_offer_after(answered + offered + [SessionStarted()] + answered + closing)


def test_only_an_offered_rating_button_counts() -> None:
    payload = '/rate_conversation{"rating": "4"}'
    assert rating_of(payload) == 4
    for text in ('/rate_conversation{"rating": "9"}', '/rate_conversation{"rating": "x"}', "/rate_conversation", "4"):
        assert rating_of(text) is None, text
    # A payload the bot never offered loses its slash in the channel's guard: it is read as text.
    assert rating_of(accept_payload(payload, offered=set())) is None
    assert rating_of(accept_payload(payload, offered={payload})) == 4


def test_ratings_are_kept_per_conversation_with_whether_a_person_took_part(web_settings, store) -> None:
    agent = store.create_agent("robin", PASSWORD, "Robin")
    ticket, _, _ = create_ticket("with-agent", [])
    store.take(ticket.id, agent.id)
    store.resolve(ticket.id, agent.id, "handed_back")
    create_ticket("queued-only", [])  # nobody took it: the bot's conversation still
    sessions = session_factory(store.engine)
    with sessions.begin() as session:
        assert record_rating(session, "with-agent", 5, customer_id="C0000001") is True
        assert record_rating(session, "queued-only", 2) is False
        assert record_rating(session, "bot-alone", 4) is False
        assert add_comment(session, "with-agent", "  Robin sorted it out in minutes.  ")
        assert not add_comment(session, "never-rated", "hello")
    with sessions.begin() as session:
        record_rating(session, "bot-alone", 3)  # rating again replaces the first
        rows = ratings_between(session)
        assert [(r.sender_id, r.rating, r.with_agent) for r in rows] == [
            ("with-agent", 5, True),
            ("queued-only", 2, False),
            ("bot-alone", 3, False),
        ]
        assert rows[0].comment == "Robin sorted it out in minutes."
        assert ratings_between(session, since=dt.datetime.utcnow() + dt.timedelta(hours=1)) == []

    figures = Analytics(sessions).satisfaction()
    assert figures["agent"] == {"rated": 1, "average": 5.0, "satisfied": 1.0, "distribution": {**_none(), "5": 1}}
    assert figures["bot"]["rated"] == 2 and figures["bot"]["average"] == 2.5 and figures["bot"]["satisfied"] == 0.0
    assert figures["all"]["rated"] == 3
    report = Analytics(sessions).overview()
    assert report.satisfaction == figures
    assert {"section": "satisfaction", "key": "average", "name": "agent", "value": 5.0} in report.rows()
    exported = Analytics(sessions).ratings()
    assert exported[0]["comment"] == "Robin sorted it out in minutes." and exported[0]["with_agent"] is True

    with sessions.begin() as session:  # a customer's data rights: their ratings go with the rest
        assert [r["rating"] for r in export_shopper_ratings(session, [], "C0000001")] == [5]
        assert erase_shopper_ratings(session, ["bot-alone"], "C0000001") == 2
        assert [r.sender_id for r in ratings_between(session)] == ["queued-only"]


def _none() -> Dict[str, int]:
    return {str(n): 0 for n in range(1, 6)}


async def _json(reply: aiohttp.ClientResponse, status: int = 200) -> Any:
    assert reply.status == status, await reply.text()
    return await reply.json()


def test_a_resolved_hand_off_asks_for_a_rating_and_the_click_is_kept(web_settings, channel_app, serve_app) -> None:
    app, channel = channel_app("csat_test")
    store = default_store()
    store.create_agent("robin", PASSWORD, "Robin")
    sender = channel.conversation_ids.new()
    ticket, _, _ = create_ticket(sender, [])

    async def scenario(base: str) -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            login = await _json(
                await client.post(f"{base}/agent/login", json={"username": "robin", "password": PASSWORD})
            )
            csrf = {"X-CSRF-Token": login["csrf"]}
            await _json(await client.post(f"{base}/agent/tickets/{ticket.id}/take", headers=csrf))
            resolved = {"outcome": "closed"}
            await _json(await client.post(f"{base}/agent/tickets/{ticket.id}/resolve", json=resolved, headers=csrf))

            tracker = await app.ctx.agent.tracker_store.retrieve(sender)
            [offer] = [e for e in tracker.events if isinstance(e, BotUttered) and e.metadata.get("rating_offer")]
            payloads = [b["payload"] for b in offer.data["buttons"]]
            assert payloads == [f'/rate_conversation{{"rating": "{n}"}}' for n in range(1, 6)]

            body = {"sender": sender, "message": payloads[3], "metadata": {"rating_comment": "Quick and kind."}}
            answer = await _json(await client.post(f"{base}/webhook", json=body))
            assert [m["text"] for m in answer] == [
                "Thank you for rating us 4 out of 5, and for your comment: our team reads every one."
            ]

        with store.session() as session:
            [kept] = ratings_between(session)
            assert (kept.sender_id, kept.rating, kept.with_agent, kept.comment) == (sender, 4, True, "Quick and kind.")
        history = await channel.service.history_events(sender)
        texts = [e.get("text") for e in history if e.get("event") in ("user", "bot")]
        assert texts[-2:] == [
            payloads[3],
            "Thank you for rating us 4 out of 5, and for your comment: our team reads every one.",
        ]

    serve_app(app, lambda root: scenario(root + "/webhooks/shop"))
