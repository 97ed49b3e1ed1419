"""``action_handoff_to_human`` against a real database: ticket, message, ConversationPaused."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoffToHuman
from handoff.store import default_store


def _tracker(sender_id: str, slots=None) -> Tracker:
    page = {"product_id": "12", "title": "Blue kettle", "cart": [{"product_id": "12", "quantity": 1}]}
    events = [
        ActionExecuted("action_listen"),
        UserUttered(
            "my kettle arrived broken",
            {"name": "report_problem", "confidence": 0.9},
            [],
            parse_data={"intent": {"name": "report_problem", "confidence": 0.9}, "entities": []},
            metadata={"page": page, "customer_id": "C0000001"},
        ),
        BotUttered("Sorry to hear that! Which order was it?"),
        UserUttered(
            "I want a human",
            {"name": "request_human", "confidence": 0.98},
            [],
            parse_data={"intent": {"name": "request_human", "confidence": 0.98}, "entities": []},
        ),
    ]
    dicts = [e.as_dict() for e in events]
    return Tracker(sender_id, slots or {}, dicts[-1]["parse_data"], dicts, False, None, {}, "action_listen")


def _run(tracker: Tracker, domain=None):
    dispatcher = CollectingDispatcher()
    coroutine = ActionHandoffToHuman().run(dispatcher, tracker, domain or {"responses": {}})
    # Own thread, own event loop: Playwright's sync API may hold this thread's loop in the same session.
    with ThreadPoolExecutor(max_workers=1) as pool:
        events = pool.submit(asyncio.run, coroutine).result()
    return dispatcher.messages, events


def test_handoff_stores_a_ticket_and_pauses(web_settings) -> None:
    messages, events = _run(_tracker("conversation-handoff-1"))
    assert events == [{"event": "pause", "timestamp": None}]
    assert messages[0]["response"] == "utter_handoff_queued" and messages[0]["position"] == 1

    ticket = default_store().active_ticket("conversation-handoff-1")
    assert ticket is not None and ticket.status == "waiting"
    assert ticket.reason == "request_human" and ticket.customer_id == "C0000001"
    assert [m["text"] for m in ticket.transcript] == [
        "my kettle arrived broken",
        "Sorry to hear that! Which order was it?",
        "I want a human",
    ]
    assert [i["name"] for i in ticket.intents] == ["report_problem", "request_human"]
    assert "Wants help with: report problem." in ticket.summary
    assert "Viewing: Blue kettle." in ticket.summary
    assert ticket.context["page"]["product_id"] == "12"


def test_asking_twice_keeps_the_place_in_the_queue(web_settings) -> None:
    _run(_tracker("conversation-handoff-2"))
    first = default_store().active_ticket("conversation-handoff-2")
    messages, events = _run(_tracker("conversation-handoff-2"))
    assert messages[0]["response"] == "utter_handoff_already_queued" and events[0]["event"] == "pause"
    assert default_store().active_ticket("conversation-handoff-2").id == first.id


def test_database_down_means_an_apology_and_no_pause(web_settings, monkeypatch, tmp_path) -> None:
    from core.settings import get_settings

    (tmp_path / "broken.db").mkdir()  # a directory where the database file should be
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'broken.db'}")
    get_settings.cache_clear()
    default_store.cache_clear()
    messages, events = _run(_tracker("conversation-handoff-4"))
    assert events == [] and messages[0]["response"] == "utter_handoff_unavailable"


def test_the_dialogues_handoff_reason_is_kept(web_settings) -> None:
    _run(_tracker("conversation-handoff-5", {"handoff_reason": "repeated_failure"}))
    assert default_store().active_ticket("conversation-handoff-5").reason == "repeated_failure"


def _closed_hours(monkeypatch, hours: str) -> None:
    from core.settings import get_settings

    monkeypatch.setenv("SHOP_SUPPORT_HOURS", hours)
    monkeypatch.setenv("SHOP_SUPPORT_TIMEZONE", "UTC")
    get_settings.cache_clear()


def test_outside_opening_hours_no_ticket_waits_and_a_message_is_offered(web_settings, monkeypatch) -> None:
    import datetime as dt

    from core.clock import utcnow
    from handoff.hours import DAYS

    day_after_tomorrow = DAYS[(utcnow().weekday() + 2) % 7].title()
    _closed_hours(monkeypatch, f"{day_after_tomorrow} 09:00-17:00")
    messages, events = _run(_tracker("conversation-closed-1"))

    assert default_store().active_ticket("conversation-closed-1") is None  # nobody would answer it
    assert {"event": "pause", "timestamp": None} not in events
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "leave_message_form"}
    [said] = messages
    opening = (utcnow() + dt.timedelta(days=2)).strftime("%A")
    assert said["response"] == "utter_handoff_team_away"
    assert said["back"] == f"on {opening} {(utcnow() + dt.timedelta(days=2)).day} " + (
        utcnow() + dt.timedelta(days=2)
    ).strftime("%B at 09:00 (UTC)")
    assert said["hours"] == f"{day_after_tomorrow} 09:00-17:00"


def test_a_team_that_never_chats_live_still_takes_messages(web_settings, monkeypatch) -> None:
    _closed_hours(monkeypatch, "never")
    messages, events = _run(_tracker("conversation-closed-2"))
    assert messages[0]["response"] == "utter_handoff_no_live_support"
    assert events[-1]["name"] == "leave_message_form"


def test_words_that_turn_a_person_down_never_queue_the_shopper(web_settings) -> None:
    """ "no i dont want a person just tell me how", read as a request for one, is a no: no ticket, no pause."""
    from actions.handoff import declines_a_person

    tracker = _tracker("conversation-handoff-declined")
    declined = dict(tracker.latest_message, text="no i dont want a person just tell me how")
    tracker.latest_message = declined
    tracker.events[-1] = dict(tracker.events[-1], text=declined["text"], parse_data=declined)
    messages, events = _run(tracker)
    assert [m["response"] for m in messages] == ["utter_decline_human"]
    assert {"event": "pause", "timestamp": None} not in events
    assert default_store().active_ticket("conversation-handoff-declined") is None
    # a person asked for, even next to a "not", is still asked for
    assert not declines_a_person("not a bot, a real person please")
    assert not declines_a_person("dont want a bot i want a person")
    assert declines_a_person("i do not need anyone, just the refund")
