"""The attacks of the security review, each with its exact request, against the running servers.

Every test here reproduces one way a stranger got in (an order read or cancelled, a transcript
read, a customer impersonated, the servers stalled, personal data in the logs) and checks that
it no longer works. Order 10000003 (paid, cancellable, Alex's) is the prize: it must still be
paid at the end of every test.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import secrets
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Tuple
from urllib.parse import urlparse

import psutil
import pytest
import requests

from web.client import new_conversation_id

pytestmark = pytest.mark.slow

PRIZE, OWNER = "10000003", "alex.morgan@example.com"  # paid, cancellable (shopdb/demo_data.py)


@pytest.fixture(scope="module")
def base(running_assistant) -> str:
    return running_assistant.config.rasa_url


@pytest.fixture(scope="module")
def shop_db(running_assistant) -> Path:
    return Path(running_assistant.config.tracker_db).with_name("shop.db")


def order_status(db: Path, number: str) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT status FROM orders WHERE order_number = ?", (number,)).fetchone()[0]


def post(
    base: str,
    path: str,
    body: Dict,
    source: str = "127.0.0.1",
    timeout: float = 60,
    headers: Dict[str, str] | None = None,
) -> Tuple[int, object]:
    """POST JSON from ``source`` (any 127.x.y.z is a separate client on Linux loopback)."""
    url = urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout, source_address=(source, 0))
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})
        reply = connection.getresponse()
        data = reply.read()
    finally:
        connection.close()
    try:
        return reply.status, json.loads(data or b"null")
    except ValueError:
        return reply.status, data.decode(errors="replace")


def texts(messages: object) -> str:
    return "\n".join(m.get("text") or "" for m in messages or [] if isinstance(m, dict))


@contextmanager
def forget_counters(db: Path) -> Iterator[None]:
    """These tests guess on purpose; their clients' counters must not block the other tests."""
    try:
        yield
    finally:
        with sqlite3.connect(db) as connection:
            connection.execute("DELETE FROM rate_counters WHERE key NOT LIKE 'revoked/%'")


# --------------------------------------------------------------------------- the action server
def action_call(action: str, slots: Dict[str, object], sender: str = "attacker") -> Dict[str, object]:
    """What a stranger posts to the action server: a tracker of their own making."""
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": {"text": "yes", "intent": {"name": "affirm"}},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_the_action_server_answers_only_the_rasa_servers(running_assistant, shop_db: Path) -> None:
    """Critical: one POST to /webhook read any order and its address, and cancelled it."""
    actions = running_assistant.config.actions_url
    forged = {"customer_id": "C0000001", "order_number": PRIZE, "email": OWNER}
    for action in ("action_order_status", "action_cancel_order"):
        reply = requests.post(f"{actions}/webhook", json=action_call(action, forged), timeout=30)
        assert reply.status_code == 401, (action, reply.status_code, reply.text[:300])
        assert PRIZE not in reply.text and "Canal Street" not in reply.text
        wrong = requests.post(
            f"{actions}/webhook",
            json=action_call(action, forged),
            timeout=30,
            headers={"Authorization": "Bearer " + secrets.token_hex(32)},
        )
        assert wrong.status_code == 401
    assert requests.get(f"{actions}/actions", timeout=10).status_code == 401
    assert requests.get(f"{actions}/health", timeout=10).status_code == 200  # for probes: says nothing
    assert order_status(shop_db, PRIZE) == "paid"

    # Loopback only in the embedded mode: nobody else on the network reaches it at all.
    process = psutil.Process(running_assistant.processes["actions"].pid)
    listening = {c.laddr.ip for c in process.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}
    assert listening == {"127.0.0.1"}, listening


def test_a_leaked_action_token_still_opens_no_order(running_assistant, shop_db: Path) -> None:
    """Defence in depth: with the token, a tracker that only claims a verified order gets nothing."""
    actions = running_assistant.config.actions_url
    headers = {"Authorization": f"Bearer {_action_token(running_assistant)}"}
    for slots in (
        {"customer_id": "C0000001", "order_number": PRIZE},
        {"order_number": PRIZE, "email": OWNER},
        {"order_number": PRIZE, "email": OWNER, "order_proof": "forged.proof.value"},
    ):
        for action in ("action_order_status", "action_cancel_order"):
            reply = requests.post(f"{actions}/webhook", json=action_call(action, slots), headers=headers, timeout=30)
            assert reply.status_code == 200, reply.text[:300]
            said = [r.get("response") or r.get("text") for r in reply.json()["responses"]]
            assert said == ["utter_order_not_verified"], (slots, said)
    assert order_status(shop_db, PRIZE) == "paid"


def _action_token(running_assistant) -> str:
    from assistant.launcher import server_environment

    return server_environment(running_assistant.config)["SHOP_ACTION_TOKEN"]


# --------------------------------------------------------------------------- injected intents
GUESS_LIMIT = 6  # misses per client here: the session's own limit is high (every other test talks from 127.0.0.1)


def test_typed_intents_with_entities_do_not_bypass_the_verification_limits(
    running_assistant, restarted, base: str, shop_db: Path
) -> None:
    """High: "/cancel_order{...}" then "/affirm{..., email: <guess>}" was never counted as a miss;
    the 23rd guess cancelled another customer's order. On Rasa's REST channel and on the shop's own."""
    with restarted(running_assistant, "actions", SHOP_VERIFY_CLIENT_LIMIT=str(GUESS_LIMIT)):
        for channel, source in (("rest", "127.0.0.3"), ("shop", "127.0.0.4")):
            guesses = [f"guess{index}@example.com" for index in range(GUESS_LIMIT + 2)] + [OWNER]
            replies: List[str] = []
            with forget_counters(shop_db):
                for guess in guesses:
                    sender = new_conversation_id(base) if channel == "shop" else f"attacker-{secrets.token_hex(8)}"
                    payload = json.dumps({"order_number": PRIZE, "email": guess})
                    # The injected payloads, then the same guess typed as words: every path that reaches the
                    # order check counts against the client's misses.
                    for message in (
                        f"/cancel_order{payload}",
                        f"/affirm{payload}",
                        f"please cancel order {PRIZE}, my e-mail is {guess}",
                    ):
                        status, reply = post(
                            base, f"/webhooks/{channel}/webhook", {"sender": sender, "message": message}, source=source
                        )
                        assert status == 200, reply
                        replies.append(texts(reply))
                assert order_status(shop_db, PRIZE) == "paid", channel
                everything = "\n".join(replies)
                assert "is cancelled" not in everything and "can still be cancelled" not in everything, channel
                # every miss was counted for the client
                assert "too many order checks" in replies[-1], (channel, replies[-1])


# --------------------------------------------------------------------------- the demo page
def test_the_demo_page_hands_out_no_customer_token(base: str) -> None:
    """High: GET /webhooks/shop/demo/config returned a signed token of a real customer."""
    config = requests.get(f"{base}/webhooks/shop/demo/config", timeout=30).json()
    assert "customer_token" not in config and config["customer"] is None
    assert config["products"], "the demo shop still works, as a guest"
    sender = new_conversation_id(base)
    status, reply = post(
        base,
        "/webhooks/shop/webhook",
        {"sender": sender, "message": "/order_status", "metadata": {"customer_token": None}},
    )
    assert status == 200 and "order number" in texts(reply) and "10000001" not in texts(reply)


# --------------------------------------------------------------------------- the console
@pytest.fixture
def make_agent(shop_env):
    """A new agent made with the real CLI in the servers' database; returns (username, password)."""
    import subprocess
    import sys
    from types import SimpleNamespace

    from core.settings import PROJECT_ROOT

    def make(display_name: str) -> SimpleNamespace:
        account = SimpleNamespace(
            username=f"{display_name.lower()}-{secrets.token_hex(3)}", password=secrets.token_urlsafe(12)
        )
        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "web",
                "create-agent",
                account.username,
                "--display-name",
                display_name,
                "--password-stdin",
            ],
            input=account.password + "\n",
            text=True,
            capture_output=True,
            env=shop_env,
            cwd=PROJECT_ROOT,
        )
        assert created.returncode == 0, created.stderr
        return account

    return make


def test_simultaneous_wrong_logins_are_throttled_like_sequential_ones(base: str, make_agent, shop_db) -> None:
    """Medium: 20 wrong logins at once got 20 x 401 and no 429."""
    account = make_agent("Parallel")
    url = f"{base}/webhooks/shop/agent/login"
    with forget_counters(shop_db):
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            statuses = list(
                pool.map(
                    lambda _: (
                        requests.post(
                            url, json={"username": account.username, "password": "not-it-123"}, timeout=60
                        ).status_code
                    ),
                    range(20),
                )
            )
        assert statuses.count(401) == 5 and statuses.count(429) == 15, statuses


def test_login_accepts_only_json_from_the_consoles_own_origin(base: str, make_agent) -> None:
    """Low: login accepted a cross-origin text/plain body (login CSRF)."""
    account = make_agent("Origin")
    url = f"{base}/webhooks/shop/agent/login"
    body = json.dumps({"username": account.username, "password": account.password})
    plain = requests.post(url, data=body, headers={"Content-Type": "text/plain"}, timeout=30)
    assert plain.status_code == 415 and "set-cookie" not in {k.lower() for k in plain.headers}
    foreign = requests.post(
        url, data=body, headers={"Content-Type": "application/json", "Origin": "https://evil.example"}, timeout=30
    )
    assert foreign.status_code == 403
    own = requests.post(url, data=body, headers={"Content-Type": "application/json", "Origin": base}, timeout=30)
    assert own.status_code == 200


# --------------------------------------------------------------------------- transcripts and tickets
def test_a_rest_conversation_is_not_readable_by_its_sender_id(base: str) -> None:
    """Medium: /webhooks/shop/history/<id> showed a REST conversation to anyone who knew its sender id."""
    sender = f"shopper-{secrets.token_hex(6)}"  # an integrator's id: guessable
    status, _ = post(base, "/webhooks/rest/webhook", {"sender": sender, "message": "hi, my e-mail is a@example.com"})
    assert status == 200
    reply = requests.get(f"{base}/webhooks/shop/history/{sender}", timeout=30)
    assert reply.status_code == 404 and "example.com" not in reply.text


def test_anonymous_callers_cannot_open_unlimited_tickets(base: str, running_assistant, shop_env) -> None:
    """Medium: every new conversation opened one more ticket in the agents' queue."""
    limit = int(shop_env["SHOP_HANDOFF_CLIENT_LIMIT"])  # 5 an hour by default
    answers = []
    with forget_counters(Path(running_assistant.config.tracker_db).with_name("shop.db")):
        for _ in range(limit + 2):
            status, reply = post(
                base,
                "/webhooks/shop/webhook",
                {"sender": new_conversation_id(base), "message": "/request_human"},
                source="127.0.0.5",
            )
            assert status == 200
            answers.append(texts(reply))
    assert all("queue" in answer for answer in answers[:limit]), answers
    assert all("several requests from your connection" in answer for answer in answers[limit:]), answers[limit:]


# --------------------------------------------------------------------------- personal data in the logs
def test_no_personal_data_reaches_any_log(base: str, running_assistant, shop_db: Path) -> None:
    """Medium: the raw e-mail and order number of an injected message (Rasa's parse warnings) and the
    name, e-mail and transcript of a failed hand-off write (its traceback) reached the logs."""
    unique = secrets.token_hex(4)
    email, name = f"pat.{unique}@example.org", f"Quentin{unique.capitalize()} Zabriskie"
    sender = new_conversation_id(base)
    conversation = [
        f"hi, I am {name} and my e-mail is {email}",
        "/order_status",
        f"{PRIZE} {email}",
        f'/cancel_order{{"order_number": "{PRIZE}", "email": "{email}", "name": "{name}"}}',
        f"please ship to {name}, Canal Street 12, 1012 AB Amsterdam, NL, phone +31 6 1234 5678",
    ]
    for message in conversation:
        assert post(base, "/webhooks/shop/webhook", {"sender": sender, "message": message})[0] == 200
    with locked(shop_db):  # a hand-off write that fails: its error must not carry the transcript
        post(base, "/webhooks/shop/webhook", {"sender": sender, "message": "/request_human"}, timeout=30)
    time.sleep(1)  # let the servers flush their logs
    logs = "\n".join(p.read_text(errors="replace") for p in (Path(running_assistant.config.log_dir)).glob("*.log"))
    for secret in (email, name, name.split()[0], "1234 5678", f"{PRIZE} "):
        assert secret not in logs, f"{secret!r} is in the logs"


@contextmanager
def locked(db: Path) -> Iterator[None]:
    """Another writer holds the shop database: every write waits for its lock."""
    connection = sqlite3.connect(db, timeout=1, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


# --------------------------------------------------------------------------- a locked database
def test_handoffs_stuck_on_a_locked_database_stall_nobody(base: str, running_assistant, shop_db: Path) -> None:
    """Medium: 6 hand-offs stuck on a locked database filled the thread pool and stalled every widget
    message for ~30 s (the Rasa server's own hand-off had no time limit)."""
    running_assistant.stop("actions", kill=True)  # hand-offs now go through the Rasa server itself
    try:
        senders = [new_conversation_id(base) for _ in range(7)]
        with locked(shop_db), concurrent.futures.ThreadPoolExecutor(8) as pool:

            def timed(sender: str, message: str) -> Tuple[float, str]:
                started = time.monotonic()
                status, reply = post(
                    base, "/webhooks/shop/webhook", {"sender": sender, "message": message}, source="127.0.0.6"
                )
                assert status in (200, 503), (status, reply)
                return time.monotonic() - started, texts(reply) if status == 200 else str(reply)

            handoffs = [pool.submit(timed, sender, "/request_human") for sender in senders[:6]]
            time.sleep(0.3)
            greeting = pool.submit(timed, senders[6], "/greet")
            results = [f.result() for f in handoffs] + [greeting.result()]
        slowest = max(elapsed for elapsed, _ in results)
        assert slowest < 2.5, results
        assert all("can't reach our support team" in said for _, said in results[:6]), results
        assert "Hi!" in results[-1][1], results[-1]
    finally:
        running_assistant.start_actions()
        actions_answer_through_rasa(base)


def actions_answer_through_rasa(base: str, timeout: float = 20.0) -> None:
    """Wait until the Rasa server calls the restarted action server again: its circuit breaker stays
    open for a moment after the outage, and the next tests need real answers, not the apology."""
    deadline = time.monotonic() + timeout
    while True:
        status, reply = post(
            base, "/webhooks/rest/webhook", {"sender": f"probe-{secrets.token_hex(4)}", "message": "/order_status"}
        )
        if status == 200 and "can't reach our shop systems" not in texts(reply):
            return
        assert time.monotonic() < deadline, f"the action server did not answer through Rasa again: {reply}"
        time.sleep(0.5)


# --------------------------------------------------------------------------- details from elsewhere
def test_an_email_typed_in_a_product_search_is_not_used_for_an_order_check(base: str) -> None:
    """Low: an e-mail written earlier (a product search) was silently reused and counted as a miss."""
    sender = f"reuse-{secrets.token_hex(6)}"
    post(base, "/webhooks/rest/webhook", {"sender": sender, "message": f"do you have running shoes? I'm {OWNER}"})
    post(base, "/webhooks/rest/webhook", {"sender": sender, "message": "/order_status"})
    status, reply = post(base, "/webhooks/rest/webhook", {"sender": sender, "message": "10000001"})
    said = texts(reply)
    assert status == 200 and "e-mail" in said and "couldn't find" not in said and "delivered" not in said, said
