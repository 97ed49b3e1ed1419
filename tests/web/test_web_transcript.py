"""Transcript, intents, summary and page context read from Rasa event dicts."""

from __future__ import annotations

from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    SlotSet,
    UserUttered,
)

from actions.cards import product_carousel
from handoff.transcript import conversation_messages, detected_intents, page_context, peak_frustration, summarize
from nlu_models.frustration_score import frustration_score


def _user(text, intent, confidence=0.9, entities=(), metadata=None):
    return UserUttered(
        text,
        {"name": intent, "confidence": confidence},
        list(entities),
        parse_data={"intent": {"name": intent, "confidence": confidence}, "entities": list(entities), "text": text},
        metadata=metadata or {},
    )


def _events():
    page = {
        "url": "/p/42",
        "product_id": "42",
        "title": "Trail runner X",
        "cart": [{"product_id": "42", "quantity": 2}],
    }
    events = [
        ActionExecuted("action_listen"),
        _user("hello", "greet", 0.99),
        BotUttered("Hi! How can I help?"),
        _user(
            "where is my order 10000001",
            "order_status",
            0.8,
            [{"entity": "order_number", "value": "10000001", "start": 18, "end": 26}],
            {"page": page},
        ),
        BotUttered(
            "Here is what I found:",
            data={
                "attachment": product_carousel([{"id": 1, "title": "Shoe", "price": 10}]),
                "buttons": [{"title": "Yes", "payload": "/affirm"}],
            },
        ),
        SlotSet("order_number", "10000001"),
        _user("it never arrived", "order_status", 0.95, metadata={"page": page, "customer_id": "C0000001"}),
        _user("/affirm", "affirm", 1.0, metadata={"display_text": "Yes"}),
        _user("let me talk to a person", "request_human", 0.97),
        ConversationPaused(),
        UserUttered("hello? anyone", intent={}, metadata={"handoff_ticket": 3}),
        BotUttered("Anna joined", metadata={"system": True}),
        BotUttered("Hi, Anna here", metadata={"agent": "Anna"}),
        ConversationResumed(),
    ]
    return [e.as_dict() for e in events]


def test_conversation_messages_keep_roles_order_and_rich_payloads() -> None:
    messages = conversation_messages(_events())
    assert [m["role"] for m in messages] == [
        "user",
        "bot",
        "user",
        "bot",
        "user",
        "user",
        "user",
        "event",
        "user",
        "system",
        "agent",
        "event",
    ]
    assert messages[3]["attachment"]["payload"]["elements"][0]["title"] == "Shoe"
    assert messages[3]["quick_replies"] == [{"content_type": "text", "title": "Yes", "payload": "/affirm"}]
    assert messages[5]["text"] == "Yes"  # the button's title, not its payload
    assert messages[8]["to_agent"] is True and messages[2]["to_agent"] is False
    assert messages[10]["agent"] == "Anna"
    assert [m["text"] for m in messages if m["role"] == "event"] == ["pause", "resume"]
    assert all(m["at"] and m["at"].endswith("+00:00") for m in messages)


def _scored(text: str, intent: str) -> dict:
    parse = {
        "intent": {"name": intent, "confidence": 0.9},
        "entities": [],
        "frustration": frustration_score(text).as_dict(),
    }
    return UserUttered(text, parse["intent"], [], parse_data=parse).as_dict()


def test_shopper_lines_carry_their_frustration_and_the_peak_is_the_highest() -> None:
    events = [
        _scored("where is my parcel?", "order_status"),
        BotUttered("Let me check.").as_dict(),
        _scored("STILL NO PARCEL?!", "express_frustration"),
        _scored("this is terrible", "complaint"),
        UserUttered("hello? anyone", intent={}, metadata={"handoff_ticket": 3}).as_dict(),  # not scored
    ]
    messages = conversation_messages(events)
    assert messages[0]["frustration"] == {"score": 0.0, "frustrated": False, "signals": []}
    assert "frustration" not in messages[1] and "frustration" not in messages[4]
    assert messages[2]["frustration"] == {"score": 0.85, "frustrated": True, "signals": ["still no", "?!", "shouting"]}
    assert messages[3]["frustration"] == {"score": 0.35, "frustrated": False, "signals": ["terrible"]}
    assert peak_frustration(messages) == {"score": 0.85, "frustrated": True}
    assert peak_frustration(conversation_messages(_events())) is None  # nothing scored: no peak, not 0
    assert peak_frustration([{"role": "bot", "frustration": {"score": 1.0, "frustrated": True}}]) is None


def test_detected_intents_count_and_keep_the_best_confidence() -> None:
    intents = {i["name"]: i for i in detected_intents(_events())}
    assert list(intents) == ["greet", "order_status", "affirm", "request_human"]
    assert intents["order_status"] == {"name": "order_status", "count": 2, "confidence": 0.95}


def test_page_context_is_the_latest_page_and_verified_customer() -> None:
    context = page_context(_events())
    assert context["page"]["product_id"] == "42"
    assert context["customer_id"] == "C0000001"


def test_summary_tells_the_agent_what_the_shopper_wanted() -> None:
    summary = summarize(_events())
    assert "Wants help with: order status." in summary
    assert "order number 10000001" in summary
    assert "Viewing: Trail runner X." in summary
    assert "Cart: 2 item(s)." in summary
    assert "First asked: “where is my order 10000001”" in summary
    assert "last said: “hello? anyone”" in summary


def test_summary_of_an_empty_conversation() -> None:
    assert summarize([]) == "Asked for a person before writing anything."
