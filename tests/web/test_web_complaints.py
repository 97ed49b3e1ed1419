"""Agents see complaints in the console, with the shopper's words, while the bot keeps the conversation.

The shop channel's real blueprint on a Sanic server on a free loopback port, a complaint recorded by
the real path of ``action_record_complaint`` (:func:`handoff.tickets.record_complaint`), an agent
logged in over HTTP. No bot is needed.
"""

from __future__ import annotations

from typing import Any, Dict

import aiohttp
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from sanic import Sanic

from handoff.store import default_store
from handoff.tickets import create_ticket, record_complaint

PASSWORD = "a long enough test password"
WORDS = "The courier left my parcel in the rain and the books inside are ruined"


def _conversation() -> list:
    return [
        ActionExecuted("action_listen").as_dict(),
        UserUttered("hi", {"name": "greet", "confidence": 0.9}).as_dict(),
        BotUttered("Hi! How can I help?").as_dict(),
        UserUttered(WORDS, {"name": "complaint", "confidence": 0.9}).as_dict(),
    ]


async def _json(reply: aiohttp.ClientResponse, status: int = 200) -> Dict[str, Any]:
    assert reply.status == status, await reply.text()
    return await reply.json()


def test_agents_see_complaints_with_the_words_and_mark_them_dealt_with(web_settings, serve_app) -> None:
    from web.channel import ShopChannel

    store = default_store()
    store.create_agent("robin", PASSWORD, "Robin")
    complaint, is_new = record_complaint(
        "conversation-complaint-1", _conversation(), WORDS, customer_id="C0000001", order_number="10000003"
    )
    handoff, _, _ = create_ticket("conversation-handoff-1", [])
    assert is_new and complaint.kind == "complaint"

    async def on_new_message(_: Any) -> None:  # the bot is never asked here
        raise AssertionError("no message goes to the bot")

    Sanic.test_mode = True
    app = Sanic("console_complaints_test")
    channel = ShopChannel.from_credentials({})
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/shop")

    async def scenario(base: str) -> None:
        # The channel's routing: an open ticket sends the shopper to agents; a complaint opens none.
        assert await channel.active_ticket("conversation-complaint-1") is None
        assert (await channel.active_ticket("conversation-handoff-1")).id == handoff.id

        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            login = await _json(
                await client.post(f"{base}/agent/login", json={"username": "robin", "password": PASSWORD})
            )
            csrf = {"X-CSRF-Token": login["csrf"]}

            queue = await _json(await client.get(f"{base}/agent/queue"))
            assert [t["id"] for t in queue["tickets"]] == [handoff.id]  # the hand-off queue only
            [listed] = queue["followups"]
            assert (listed["id"], listed["kind"], listed["status"]) == (complaint.id, "complaint", "recorded")
            assert listed["summary"].splitlines() == [
                f"Complaint: “{WORDS}”",
                "Order 10000003 (named, not verified).",
            ]

            detail = await _json(await client.get(f"{base}/agent/tickets/{complaint.id}"))
            assert [(m["author"], m["text"]) for m in detail["messages"]] == [("shopper", WORDS)]
            assert [m["text"] for m in detail["ticket"]["transcript"]] == ["hi", "Hi! How can I help?", WORDS]
            assert detail["ticket"]["customer_id"] == "C0000001"

            # Not a live chat: it cannot be taken (answering it is tests/web/test_web_followups.py's).
            taken = await client.post(f"{base}/agent/tickets/{complaint.id}/take", headers=csrf)
            assert taken.status == 409

            refused = await client.post(f"{base}/agent/tickets/{complaint.id}/close_followup")
            assert refused.status == 403  # CSRF header missing
            closed = await _json(await client.post(f"{base}/agent/tickets/{complaint.id}/close_followup", headers=csrf))
            assert closed["ticket"]["status"] == "closed" and closed["ticket"]["agent_name"] == "Robin"
            again = await client.post(f"{base}/agent/tickets/{complaint.id}/close_followup", headers=csrf)
            assert again.status == 409
            not_a_complaint = await client.post(f"{base}/agent/tickets/{handoff.id}/close_followup", headers=csrf)
            assert not_a_complaint.status == 409

            queue = await _json(await client.get(f"{base}/agent/queue"))
            assert queue["followups"] == []
            assert complaint.id in [t["id"] for t in queue["resolved"]]

    serve_app(app, lambda root: scenario(root + "/webhooks/shop"))


def test_a_second_complaint_of_the_conversation_adds_to_the_first(web_settings) -> None:
    first, is_new = record_complaint(
        "conversation-complaint-2", [], "The lid is cracked", customer_id="C0000001", order_number="10000003"
    )
    again, again_new = record_complaint("conversation-complaint-2", [], "And the handle came off")
    assert is_new and not again_new and again.id == first.id
    assert [m.text for m in default_store().messages(first.id)] == ["The lid is cracked", "And the handle came off"]
    # what the agent saw first stays: the first words, the customer, the order
    assert again.summary == first.summary == "Complaint: “The lid is cracked”\nOrder 10000003 (named, not verified)."
    assert again.customer_id == "C0000001" and again.context["order_number"] == "10000003"
