"""The scale-out topology on loopback, with the real PostgreSQL, Redis, RabbitMQ and nginx.

Two Rasa servers (``bot/endpoints.scaleout.yml``: PostgreSQL tracker store, Redis
lock store, RabbitMQ event broker) and an action server over a PostgreSQL
catalogue sit behind one nginx front, as ``docker-compose.yml`` runs them. A
shopper starts an order-status conversation through the front; one Rasa server
is killed with SIGKILL in the middle of the form; the shopper goes on through
the same front and the other server must finish the form from the tracker in
PostgreSQL. Then every user message must be in the tracker exactly once and in
order, and the RabbitMQ queue must hold every stored event exactly once.

Skipped only when PostgreSQL, Redis or RabbitMQ cannot be reached; needs nginx
(``make test`` installs it from Debian). Uses its own databases and queue, dropped after.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from perf.loadtest import run_load
from perf.scaleout_stack import (
    BackingServices,
    ScaleOutConfig,
    ScaleOutProcesses,
    account_events,
    build_catalogue,
    drain_queue,
    nginx_executable,
)
from web.client import new_conversation_id

pytestmark = [pytest.mark.slow, pytest.mark.services]

TEST_CATALOGUE_SIZE = 600
BASE_PORT = 7040  # front 7040, actions front 7041, Rasa 7042-7043, actions 7044


@pytest.fixture(scope="module")
def services() -> Iterator[BackingServices]:
    suffix = uuid.uuid4().hex[:8]
    backing = BackingServices(
        tracker_db=f"shop_scaleout_test_{suffix}",
        catalogue_db=f"shop_scaleout_test_cat_{suffix}",
        queue=f"shop_scaleout_test_{suffix}",
    )
    reason = backing.unreachable()
    if reason:
        pytest.skip(f"scale-out services unavailable: {reason}")
    backing.create_databases(drop_tracker=True)
    backing.reset_queue()
    yield backing
    backing.reset_queue(delete=True)
    backing.drop_databases()


@pytest.fixture(scope="module")
def stack(
    services: BackingServices, trained_model: Path, shop_env: Dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScaleOutProcesses]:
    nginx_executable()  # fails with the install hint when nginx is missing
    index_dir = tmp_path_factory.mktemp("scaleout-index")
    build_catalogue(services, index_dir, TEST_CATALOGUE_SIZE, env=shop_env)
    config = ScaleOutConfig(
        model=trained_model,
        rasa_servers=2,
        action_servers=1,
        base_port=BASE_PORT,
        services=services,
        index_dir=index_dir,
        run_dir=tmp_path_factory.mktemp("scaleout-run"),
    )
    processes = ScaleOutProcesses(config)
    processes.start()
    yield processes
    processes.stop()
    shutil.rmtree(index_dir, ignore_errors=True)


def say(url: str, sender: str, message: str) -> List[dict]:
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())


def stored_events(services: BackingServices, sender: str) -> List[tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(services.tracker_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT type_name, action_name, intent_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender},
            ).all()
    finally:
        engine.dispose()


def rasa_cpu(stack: ScaleOutProcesses) -> Dict[str, float]:
    return {name: stack.cpu_seconds(name) for name in ("rasa-1", "rasa-2") if name in stack.processes}


def test_both_servers_serve_and_the_front_balances(stack: ScaleOutProcesses) -> None:
    """Each Rasa server answers on its own port, and both do work under load through the front."""
    for port in stack.config.rasa_ports:
        assert say(f"http://127.0.0.1:{port}", f"direct-{port}-{uuid.uuid4().hex[:6]}", "hi")
    before = rasa_cpu(stack)
    result = asyncio.run(run_load(stack.config.url, shoppers=4, duration=60, max_turns=40, think=0.0))
    after = rasa_cpu(stack)
    assert len(result.turns) == 40 and result.errors == 0
    work = {name: after[name] - before[name] for name in before}
    assert all(seconds > 0.2 for seconds in work.values()), work  # ~40 turns at 10-50 ms CPU each, spread


def test_agent_reply_reaches_a_shopper_connected_to_the_other_server(stack: ScaleOutProcesses) -> None:
    """An agent works on one Rasa server, the shopper's socket is on the other: socket.io rooms are shared
    through Redis (SHOP_SOCKETIO_MESSAGE_QUEUE), so the reply still arrives, and both servers' trackers agree."""
    import secrets
    import subprocess
    import threading

    import requests
    import socketio

    agent_server, shopper_server = (f"http://127.0.0.1:{port}" for port in stack.config.rasa_ports)
    username, password = f"robin-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    created = subprocess.run(
        [sys.executable, "-m", "web", "create-agent", username, "--display-name", "Robin", "--password-stdin"],
        input=password + "\n",
        text=True,
        capture_output=True,
        env=stack.environment(),
    )
    assert created.returncode == 0, created.stderr

    sender = new_conversation_id(shopper_server)
    agent_text = f"Hello from the console {uuid.uuid4().hex[:6]}"
    texts: List[str] = []
    got_agent_reply = threading.Event()
    shopper = socketio.Client(reconnection=False)

    @shopper.on("bot_uttered")
    def bot_uttered(data: dict) -> None:
        texts.append(data.get("text") or "")
        if data.get("text") == f"Robin (support agent): {agent_text}":  # a client that labels no speakers
            got_agent_reply.set()

    shopper.connect(shopper_server, socketio_path="/socket.io", transports=["websocket"])
    try:
        shopper.emit("session_request", {"session_id": sender})
        shopper.emit("user_uttered", {"message": "/request_human", "session_id": sender})
        deadline = time.monotonic() + 60
        handoff: dict = {}
        while time.monotonic() < deadline and not handoff.get("ticket_id"):
            time.sleep(0.5)
            handoff = requests.get(f"{agent_server}/webhooks/shop/history/{sender}", timeout=10).json()["handoff"]
        assert handoff.get("ticket_id"), "the hand-off request made no ticket"

        agent = requests.Session()
        login = agent.post(
            f"{agent_server}/webhooks/shop/agent/login", json={"username": username, "password": password}, timeout=10
        )
        assert login.status_code == 200, login.text
        csrf = {"X-CSRF-Token": login.json()["csrf"]}
        ticket = f"{agent_server}/webhooks/shop/agent/tickets/{handoff['ticket_id']}"
        assert agent.post(f"{ticket}/take", headers=csrf, timeout=10).status_code == 200
        sent = agent.post(f"{ticket}/messages", json={"text": agent_text}, headers=csrf, timeout=10)
        assert sent.status_code == 201, sent.text
        assert got_agent_reply.wait(20), f"the shopper on the other server got only {texts}"
    finally:
        shopper.disconnect()

    # The agent's line went into the tracker through the agent's server; the shopper's server sees it too.
    history = requests.get(f"{shopper_server}/webhooks/shop/history/{sender}", timeout=10).json()["messages"]
    assert agent_text in [m["text"] for m in history]


def test_kill_one_server_mid_conversation(stack: ScaleOutProcesses, services: BackingServices) -> None:
    sender = f"shopper-{uuid.uuid4().hex[:12]}"
    before_kill = ["hi", "I'm looking for running shoes", "where is my order?"]
    after_kill = ["10000001", "alex.morgan@example.com", "thanks, bye"]
    replies = [say(stack.config.url, sender, message) for message in before_kill[:-1]]
    before = rasa_cpu(stack)
    replies.append(say(stack.config.url, sender, before_kill[-1]))
    after = rasa_cpu(stack)
    assert all(replies), replies
    assert "order number" in replies[-1][0]["text"].lower()  # the order form asks for the number

    # Kill the server that just served this conversation (the one that did the turn's work).
    served = max(before, key=lambda name: after[name] - before[name])
    stack.kill(served)  # SIGKILL: no clean shutdown, no lock release, no flush
    assert stack.processes[served].poll() is not None

    replies += [say(stack.config.url, sender, message) for message in after_kill]
    assert all(replies), replies
    # The surviving server resumed the form from PostgreSQL: it asked for the e-mail, then answered.
    assert "e-mail" in replies[3][0]["text"].lower()
    assert "10000001" in replies[4][0]["text"]

    events = stored_events(services, sender)
    user_texts = [json.loads(data).get("text") for type_name, _a, _i, data in events if type_name == "user"]
    assert user_texts == before_kill + after_kill  # every message exactly once, in order
    actions = [action for type_name, action, _i, _d in events if type_name == "action"]
    assert "action_order_status" in actions

    published = drain_queue(services)
    account = account_events(services.tracker_url, published, senders=[sender])
    assert account.tracker_events == len(events)
    assert account.consistent, account
    assert account.broker_events == account.tracker_events


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
