"""Messages left outside opening hours, and complaints, answered from the console: in the chat and by e-mail.

The shop channel's real blueprint on a Sanic server on a free loopback port, with a Rasa ``Agent``
holding the bot's domain and Rasa's in-memory tracker store (no model: nothing here asks the bot),
the message left by the real path of ``action_leave_message`` (:func:`handoff.tickets.leave_message`),
an agent logged in over HTTP, and a real SMTP server (aiosmtpd) on loopback receiving the e-mails.
"""

from __future__ import annotations

from typing import Any, Dict, List

import aiohttp
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from handoff.store import default_store
from handoff.tickets import leave_message, record_complaint

PASSWORD = "a long enough test password"
WORDS = "My parcel says delivered but it is not here. Order 10000003. Please call me back."
ANSWER = "Hi! The courier left it with your neighbour at no. 12 {they signed for it}. Sorry for the worry!"


def _conversation() -> List[Dict[str, Any]]:
    return [
        ActionExecuted("action_listen").as_dict(),
        UserUttered("can I talk to a person", {"name": "request_human", "confidence": 0.97}).as_dict(),
        BotUttered("Our support team is away right now").as_dict(),
    ]


async def _json(reply: aiohttp.ClientResponse, status: int = 200) -> Dict[str, Any]:
    assert reply.status == status, await reply.text()
    return await reply.json()


def test_an_answer_to_a_left_message_reaches_the_chat_and_the_email(smtp_server, serve_app, channel_app) -> None:
    store = default_store()
    store.create_agent("robin", PASSWORD, "Robin")
    app, channel = channel_app("followup_message_test")
    conversation = channel.conversation_ids.new()
    message, is_new = leave_message(conversation, _conversation(), WORDS, contact_email="sam.shopper@example.org")
    assert is_new and (message.kind, message.status) == ("message", "recorded")
    # a complaint of a guest, its order named but never verified: no address to write to
    complaint, _ = record_complaint("conversation-guest", [], "Rude courier", order_number="10000003")

    async def scenario(base: str) -> None:
        assert await channel.active_ticket(conversation) is None  # the shopper keeps talking to the bot
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            login = await _json(
                await client.post(f"{base}/agent/login", json={"username": "robin", "password": PASSWORD})
            )
            csrf = {"X-CSRF-Token": login["csrf"]}
            queue = await _json(await client.get(f"{base}/agent/queue"))
            assert [(t["id"], t["kind"]) for t in queue["followups"]] == [
                (message.id, "message"),
                (complaint.id, "complaint"),
            ]
            assert queue["followups"][0]["summary"].startswith("Message left outside opening hours: “My parcel")

            sent = await _json(
                await client.post(f"{base}/agent/tickets/{message.id}/messages", headers=csrf, json={"text": ANSWER}),
                201,
            )
            assert sent["delivered_by"] == "chat and e-mail"
            assert sent["message"]["author"] == "agent" and sent["message"]["text"] == ANSWER

            # answered once: a second answer (another agent at the same moment) is refused
            again = await client.post(
                f"{base}/agent/tickets/{message.id}/messages", headers=csrf, json={"text": "Me too"}
            )
            assert again.status == 409

            # the shopper's widget finds the answer in the conversation when they come back
            history = await _json(await client.get(f"{base}/history/{conversation}"))
            lines = [(m["role"], m.get("agent"), m["text"]) for m in history["messages"]]
            assert lines[-1] == ("agent", "Robin", ANSWER)

            guest = await _json(
                await client.post(
                    f"{base}/agent/tickets/{complaint.id}/messages", headers=csrf, json={"text": "We are sorry"}
                ),
                201,
            )
            assert guest["delivered_by"] == "chat (no verified e-mail address)"
            assert (await _json(await client.get(f"{base}/agent/queue")))["followups"] == []

    serve_app(app, lambda root: scenario(root + "/webhooks/shop"))

    [mail] = smtp_server.messages  # the guest's complaint was not e-mailed to anyone
    assert mail["To"] == "sam.shopper@example.org"
    assert mail["Subject"] == "Your message to Larkspur Market"
    assert mail["From"] == "Larkspur Market support <help@larkspur-market.example>"
    body = mail.get_payload(decode=True).decode()
    assert "Robin from the Larkspur Market support team has answered your message" in body
    assert ANSWER in body  # braces and all, as the agent wrote it
    assert default_store().get_ticket(message.id).status == "closed"


def test_without_a_mail_server_the_answer_reaches_the_chat_only(web_settings, serve_app, channel_app) -> None:
    store = default_store()
    store.create_agent("sam", PASSWORD, "Sam")
    app, channel = channel_app("followup_no_mail_test")
    conversation = channel.conversation_ids.new()
    message, _ = leave_message(conversation, _conversation(), WORDS, contact_email="sam.shopper@example.org")

    async def scenario(base: str) -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            login = await _json(
                await client.post(f"{base}/agent/login", json={"username": "sam", "password": PASSWORD})
            )
            sent = await _json(
                await client.post(
                    f"{base}/agent/tickets/{message.id}/messages",
                    headers={"X-CSRF-Token": login["csrf"]},
                    json={"text": ANSWER},
                ),
                201,
            )
            assert sent["delivered_by"] == "chat (no mail server configured)"
            history = await _json(await client.get(f"{base}/history/{conversation}"))
            assert history["messages"][-1]["text"] == ANSWER

    serve_app(app, lambda root: scenario(root + "/webhooks/shop"))
