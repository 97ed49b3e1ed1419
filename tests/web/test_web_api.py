"""The channel's HTTP and socket.io endpoints against the running assistant (no browser)."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time

import pytest
import requests
import socketio

from web.client import new_conversation_id

pytestmark = pytest.mark.slow

# The "Talk to a person" quick reply: these tests check the channel, not the NLU model.
HUMAN = "/request_human"
ISSUED = "<an id the server issued>"  # filled in per test (ids are issued by the running server)


def new_session(shop) -> str:
    """A conversation id the server issued (it continues no other)."""
    return new_conversation_id(shop.url)


def post(shop, path: str, **kwargs) -> requests.Response:
    return requests.post(f"{shop.channel}{path}", timeout=60, **kwargs)


def test_rest_webhook_answers_in_rasa_format(live_shop) -> None:
    sender = new_session(live_shop)
    reply = post(live_shop, "/webhook", json={"sender": sender, "message": "hi"})
    assert reply.status_code == 200
    messages = reply.json()
    assert messages and all(m["recipient_id"] == sender for m in messages)
    assert any(m.get("text") for m in messages)


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json", "JSON object"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe\x00garbage", "JSON object"),
        (json.dumps({"message": "hi"}).encode(), "conversation id"),
        (json.dumps({"sender": "x" * 500, "message": "hi"}).encode(), "conversation id"),
        (json.dumps({"sender": 12345678901234567890, "message": "hi"}).encode(), "conversation id"),
        (json.dumps({"sender": ISSUED, "message": ""}).encode(), "empty"),
        (json.dumps({"sender": ISSUED, "message": " \n\t "}).encode(), "empty"),
        (json.dumps({"sender": ISSUED, "message": 42}).encode(), "string"),
        (json.dumps({"sender": ISSUED, "message": "x" * 100_000}).encode(), "longer than"),
    ],
)
def test_rest_webhook_refuses_bad_input_clearly(live_shop, body: bytes, reason: str) -> None:
    body = body.replace(f'"{ISSUED}"'.encode(), f'"{new_session(live_shop)}"'.encode())
    reply = post(live_shop, "/webhook", data=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    assert reason in reply.json()["error"]


def test_history_needs_a_conversation_id_this_server_issued(live_shop) -> None:
    assert requests.get(f"{live_shop.channel}/history/short", timeout=10).status_code == 404
    fresh = requests.get(f"{live_shop.channel}/history/{new_session(live_shop)}", timeout=10).json()
    assert fresh["messages"] == [] and fresh["handoff"] == {"status": None}
    made_up = secrets.token_hex(16)  # well-formed, but never issued here
    assert requests.get(f"{live_shop.channel}/history/{made_up}", timeout=10).status_code == 404
    refused = post(live_shop, "/webhook", json={"sender": made_up, "message": "hi"})
    assert refused.status_code == 400 and "/webhooks/shop/session" in refused.json()["error"]


def test_socketio_speaks_rasas_protocol(live_shop) -> None:
    """A third-party Rasa widget's exchange: session_request/confirm, user_uttered -> bot_uttered."""
    received: dict = {"bot_uttered": [], "shop_error": [], "session_confirm": []}
    got_reply = threading.Event()
    client = socketio.Client(reconnection=False)
    client.on("session_confirm", lambda data: received["session_confirm"].append(data))
    client.on("shop_error", lambda data: received["shop_error"].append(data))

    @client.on("bot_uttered")
    def bot_uttered(data) -> None:
        received["bot_uttered"].append(data)
        got_reply.set()

    session_id = new_session(live_shop)
    client.connect(live_shop.url, socketio_path="/socket.io", transports=["websocket"])
    try:
        assert client.transport() == "websocket"
        client.emit("session_request", {"session_id": session_id})
        client.emit("user_uttered", {"message": "hi", "session_id": session_id})
        assert got_reply.wait(60)
        client.emit("session_request", {"session_id": secrets.token_hex(16)})  # an id never issued here
        client.emit("user_uttered", "not an object")
        client.emit("user_uttered", {"message": "", "session_id": session_id})
        deadline = time.monotonic() + 10
        while len(received["shop_error"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        client.disconnect()
    assert received["session_confirm"][0] == session_id
    assert received["session_confirm"][1] != session_id and len(received["session_confirm"]) == 2  # a new one
    assert received["bot_uttered"][0].get("text")
    assert [e["error"] for e in received["shop_error"]] == [
        "send an object: {message, session_id, metadata}",
        "the message is empty",
    ]


def _login(shop, account) -> tuple:
    session = requests.Session()
    reply = session.post(
        f"{shop.channel}/agent/login", json={"username": account.username, "password": account.password}, timeout=10
    )
    assert reply.status_code == 200, reply.text
    return session, {"X-CSRF-Token": reply.json()["csrf"]}


def test_console_api_needs_login_csrf_and_the_ticket_holder(live_shop, agent_account, make_agent) -> None:
    base = live_shop.channel
    sender = new_session(live_shop)
    queued = post(live_shop, "/webhook", json={"sender": sender, "message": HUMAN}).json()
    assert any("queue" in (m.get("text") or "") for m in queued)
    handoff = requests.get(f"{base}/history/{sender}", timeout=10).json()["handoff"]
    assert handoff["status"] == "waiting"
    ticket = f"{base}/agent/tickets/{handoff['ticket_id']}"
    # While queued the bot is silent: the line goes to the team, and the shopper hears where the queue is.
    waiting = post(live_shop, "/webhook", json={"sender": sender, "message": "how long will I have to wait?"}).json()
    assert waiting[-1] == {"recipient_id": sender, "custom": {"handoff": handoff, "delivered": True}}
    [notice] = waiting[:-1]
    assert notice["metadata"] == {"role": "system"} and f"number {handoff['position']} in the queue" in notice["text"]
    assert re.search(r"about \d+ min", notice["text"])
    # More detail right after: a receipt only, no second reminder
    detail = post(live_shop, "/webhook", json={"sender": sender, "message": "it is about my parcel"}).json()
    assert detail == [{"recipient_id": sender, "custom": {"handoff": handoff, "delivered": True}}]

    assert requests.get(f"{base}/agent/queue", timeout=10).status_code == 401
    assert requests.post(f"{ticket}/take", timeout=10).status_code == 401
    forged = requests.get(f"{base}/agent/queue", cookies={"shop_agent_session": "eyJhIjoxfQ.forged.sig"}, timeout=10)
    assert forged.status_code == 401

    robin, robin_csrf = _login(live_shop, agent_account)
    assert robin.post(f"{ticket}/take", timeout=10).status_code == 403
    assert robin.post(f"{ticket}/take", headers={"X-CSRF-Token": "wrong"}, timeout=10).status_code == 403
    taken = robin.post(f"{ticket}/take", headers=robin_csrf, timeout=10)
    assert taken.status_code == 200 and taken.json()["ticket"]["status"] == "assigned"
    assert taken.headers["X-Frame-Options"] == "DENY" and taken.headers["Cache-Control"] == "no-store"

    released = robin.post(f"{ticket}/release", headers=robin_csrf, timeout=10)
    assert released.json()["ticket"]["status"] == "waiting"
    assert requests.get(f"{base}/history/{sender}", timeout=10).json()["handoff"]["status"] == "waiting"
    assert robin.post(f"{ticket}/take", headers=robin_csrf, timeout=10).status_code == 200

    sam, sam_csrf = _login(live_shop, make_agent("Sam"))
    assert sam.post(f"{ticket}/take", headers=sam_csrf, timeout=10).status_code == 409
    assert sam.post(f"{ticket}/messages", json={"text": "mine now"}, headers=sam_csrf, timeout=10).status_code == 409
    assert sam.post(f"{ticket}/resolve", json={"outcome": "closed"}, headers=sam_csrf, timeout=10).status_code == 409

    for bad in ({"text": ""}, {"text": "x" * 5000}, {"text": ["list"]}, {}):
        assert robin.post(f"{ticket}/messages", json=bad, headers=robin_csrf, timeout=10).status_code == 400
    assert robin.post(f"{ticket}/messages", data=b"{bad", headers=robin_csrf, timeout=10).status_code == 400
    sent = robin.post(f"{ticket}/messages", json={"text": "Hello from the console"}, headers=robin_csrf, timeout=10)
    assert sent.status_code == 201 and sent.json()["message"]["agent_name"] == "Robin"
    assert (
        robin.post(f"{ticket}/resolve", json={"outcome": "delete"}, headers=robin_csrf, timeout=10).status_code == 400
    )
    assert robin.post(f"{base}/agent/tickets/abc/take", headers=robin_csrf, timeout=10).status_code == 404
    assert robin.post(f"{base}/agent/tickets/99999999/take", headers=robin_csrf, timeout=10).status_code == 404

    detail = robin.get(ticket, timeout=10).json()
    assert [m["text"] for m in detail["messages"]][-1] == "Hello from the console"
    assert "how long will I have to wait?" in [m["text"] for m in detail["messages"]]
    closed = robin.post(f"{ticket}/resolve", json={"outcome": "closed"}, headers=robin_csrf, timeout=10)
    assert closed.json()["ticket"]["status"] == "closed"

    # Closed: the shopper talks to the bot again, and the history kept every line.
    again = post(live_shop, "/webhook", json={"sender": sender, "message": "hi"}).json()
    assert any(m.get("text") for m in again)
    texts = [m["text"] for m in requests.get(f"{base}/history/{sender}", timeout=10).json()["messages"]]
    assert "how long will I have to wait?" in texts and "Hello from the console" in texts


def test_login_throttle_answers_429_after_repeated_failures(live_shop, make_agent) -> None:
    account = make_agent("Guessed")
    url = f"{live_shop.channel}/agent/login"
    for _ in range(5):
        wrong = requests.post(url, json={"username": account.username, "password": "not-it-123"}, timeout=10)
        assert wrong.status_code == 401 and wrong.json() == {"error": "wrong username or password"}
    blocked = requests.post(url, json={"username": account.username, "password": account.password}, timeout=10)
    assert blocked.status_code == 429
    unknown = requests.post(url, json={"username": "nobody-here", "password": "whatever-123"}, timeout=10)
    assert unknown.status_code == 401 and unknown.json() == {"error": "wrong username or password"}
    assert requests.post(url, data=b"nope", timeout=10).status_code == 415  # JSON only (login CSRF)


def test_insights_endpoints_are_for_admins_only(live_shop, agent_account, make_agent) -> None:
    pytest.importorskip("insights.api")
    report = f"{live_shop.url}/insights/analytics/api/report"
    export = f"{live_shop.url}/insights/privacy/export"
    assert requests.get(report, timeout=30).status_code == 401
    robin, robin_csrf = _login(live_shop, agent_account)
    assert robin.get(report, timeout=30).status_code == 403
    assert robin.post(export, json={"customer_id": "C0000001"}, headers=robin_csrf, timeout=30).status_code == 403

    admin, admin_csrf = _login(live_shop, make_agent("Ada", admin=True))
    assert admin.get(report, timeout=60).status_code == 200
    assert admin.post(export, json={"customer_id": "C0000001"}, timeout=30).status_code == 403  # no CSRF token
    sender = new_session(live_shop)
    post(live_shop, "/webhook", json={"sender": sender, "message": HUMAN})
    exported = admin.post(export, json={"sender_id": sender}, headers=admin_csrf, timeout=60)
    assert exported.status_code == 200
    assert [t["sender_id"] for t in exported.json()["handoff"]["tickets"]] == [sender]


def test_site_events_take_identity_from_the_widget_headers(live_shop) -> None:
    pytest.importorskip("insights.api")
    url = f"{live_shop.url}/insights/events"
    event = {"type": "product_viewed", "product_id": "1", "customer_id": "C0000002"}
    headers = {"X-Shop-Session": new_session(live_shop), "X-Shop-Customer-Token": "forged"}
    recorded = requests.post(url, json=event, headers=headers, timeout=30)
    assert recorded.status_code == 202 and recorded.json()["recorded"] == 1
    assert requests.post(url, json={"type": "teleported"}, headers=headers, timeout=30).status_code == 400
