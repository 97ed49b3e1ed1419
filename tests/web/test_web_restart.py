"""A hand-off survives ``kill -9`` of the Rasa server: nothing written is lost, the chat goes on."""

from __future__ import annotations

import os

import pytest
import requests

from web.client import new_conversation_id

pytestmark = pytest.mark.slow


def test_handoff_survives_a_killed_rasa_server(request, live_shop, agent_account) -> None:
    if os.environ.get("SHOP_WEB_TEST_SERVER"):
        pytest.skip("restarts the server: needs the assistant started by the test session")
    assistant = request.getfixturevalue("running_assistant")
    base = live_shop.channel
    sender = new_conversation_id(live_shop.url)

    def shopper(text: str) -> list:
        reply = requests.post(f"{base}/webhook", json={"sender": sender, "message": text}, timeout=60)
        assert reply.status_code == 200, reply.text
        return reply.json()

    shopper("/request_human")  # the "Talk to a person" button: this test checks durability, not NLU
    handoff = requests.get(f"{base}/history/{sender}", timeout=10).json()["handoff"]
    assert handoff["status"] == "waiting"
    ticket = f"{base}/agent/tickets/{handoff['ticket_id']}"
    agent = requests.Session()
    csrf = {
        "X-CSRF-Token": agent.post(
            f"{base}/agent/login",
            timeout=10,
            json={"username": agent_account.username, "password": agent_account.password},
        ).json()["csrf"]
    }
    assert agent.post(f"{ticket}/take", headers=csrf, timeout=10).status_code == 200
    assert (
        agent.post(f"{ticket}/messages", json={"text": "Before the crash"}, headers=csrf, timeout=10).status_code == 201
    )
    shopper("Did you get my message?")

    assistant.stop("rasa", kill=True)  # SIGKILL: no clean shutdown
    assistant.start_rasa()

    history = requests.get(f"{base}/history/{sender}", timeout=30).json()
    texts = [m["text"] for m in history["messages"]]
    assert "Before the crash" in texts and "Did you get my message?" in texts
    assert history["handoff"]["status"] == "assigned"
    # Still with the agent: the bot stays silent (a receipt only), the agent's session cookie still works.
    assert shopper("Are you still there?") == [
        {"recipient_id": sender, "custom": {"handoff": history["handoff"], "delivered": True}}
    ]
    assert (
        agent.post(f"{ticket}/messages", json={"text": "After the crash"}, headers=csrf, timeout=10).status_code == 201
    )
    lines = [m["text"] for m in agent.get(ticket, timeout=10).json()["messages"]]
    assert lines[-4:] == ["Before the crash", "Did you get my message?", "Are you still there?", "After the crash"]
    assert agent.post(f"{ticket}/resolve", json={"outcome": "handed_back"}, headers=csrf, timeout=10).status_code == 200
    assert any(m.get("text") for m in shopper("hi"))
