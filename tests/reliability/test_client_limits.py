"""Limits shared by every process (the shared counters), and the per-client limit on order-verification
misses in the order form (the live tests are in test_process_faults.py and test_attacks.py).

The fixed windows of the shop database's counters (exact under concurrency, expiring, surviving a
new process), the client tag (a keyed hash, never the address, never the caller's word) and the
order form refusing to look anything up once a client is blocked, even for the right order
number and e-mail.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from shopdb.counters import Limit, SharedLimiter, SQLCounterStorage
from web.hardening import CLIENT_METADATA_KEY, clean_rest_body, client_address, client_tag


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path):
    from shopdb.db import create_db_engine, migrate

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    migrate(url)
    return create_db_engine(url)


def test_a_window_counts_every_hit_and_then_expires(engine) -> None:
    clock = Clock()
    limiter = SharedLimiter(SQLCounterStorage(engine, clock=clock))
    limit = Limit("test", 3, 60)
    assert [limiter.hit(limit, "a") for _ in range(4)] == [True, True, True, False]
    assert not limiter.allowed(limit, "a") and limiter.allowed(limit, "b") and limiter.count(limit, "a") == 4
    clock.now += 60  # the window is over: a fresh count
    assert limiter.allowed(limit, "a") and limiter.count(limit, "a") == 0 and limiter.hit(limit, "a")
    limiter.clear(limit, "a")
    assert limiter.count(limit, "a") == 0
    assert limiter.hit(limit, None) and limiter.allowed(limit, "") and limiter.count(limit, None) == 0


def test_simultaneous_hits_are_counted_exactly_and_seen_by_another_process(engine) -> None:
    limit = Limit("parallel", 5, 300)
    results: List[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(SharedLimiter.from_url(None, engine).hit(limit, "k")))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 5 and results.count(False) == 15
    from shopdb.db import create_db_engine

    another = SharedLimiter.from_url(None, create_db_engine(str(engine.url)))  # a second server, or a restart
    assert another.count(limit, "k") == 20 and not another.allowed(limit, "k")


def test_counters_never_store_the_key_itself(engine) -> None:
    SharedLimiter.from_url(None, engine).hit(Limit("login-account", 5, 300), "203.0.113.7|anna")
    with engine.connect() as connection:
        keys = [row[0] for row in connection.exec_driver_sql("SELECT key FROM rate_counters")]
    assert keys and not any("203.0.113.7" in k or "anna" in k for k in keys)


def test_limits_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from actions.orders import client_misses_limit
    from core.settings import get_settings

    monkeypatch.setenv("SHOP_VERIFY_CLIENT_LIMIT", "4")
    monkeypatch.setenv("SHOP_VERIFY_CLIENT_WINDOW", "120")
    get_settings.cache_clear()
    try:
        assert client_misses_limit() == Limit("verify-client", 4, 120)
    finally:
        get_settings.cache_clear()


def test_client_tag_is_a_keyed_hash_of_the_address() -> None:
    tag = client_tag("203.0.113.7", b"k1")
    assert tag and len(tag) == 16 and "203" not in tag
    assert tag == client_tag("203.0.113.7", b"k1") != client_tag("203.0.113.8", b"k1")
    assert tag != client_tag("203.0.113.7", b"k2")
    assert client_tag("", b"k1") is None

    class Request:
        remote_addr = ""  # Sanic sets it only when told to trust a proxy
        ip = "198.51.100.1"

    assert client_address(Request()) == "198.51.100.1"
    Request.remote_addr = "203.0.113.9"
    assert client_address(Request()) == "203.0.113.9"


def test_a_rest_caller_cannot_choose_its_client_tag() -> None:
    class Channel:  # the shop channel's metadata rules: only page context passes
        def clean_metadata(self, raw: Any) -> Dict[str, Any]:
            return {"page": raw["page"]} if isinstance(raw, dict) and "page" in raw else {}

    body = b'{"sender": "s1", "message": "hi", "metadata": {"client": "someone-else", "page": {"url": "/"}}}'
    assert CLIENT_METADATA_KEY not in clean_rest_body(body, Channel())["metadata"]


# --------------------------------------------------------------------------- the order form
class Tracker:
    """The few parts of rasa_sdk's Tracker the order form reads."""

    def __init__(self, client: Optional[str], slots: Optional[Dict[str, Any]] = None) -> None:
        self.sender_id = "conversation-1"
        self.slots = {"verification_failures": 0, **(slots or {})}
        self.latest_message = {"metadata": {CLIENT_METADATA_KEY: client} if client else {}}

    def get_slot(self, name: str) -> Any:
        return self.slots.get(name)

    def slots_to_validate(self) -> Dict[str, Any]:
        return {}

    @property
    def events(self) -> List[Dict[str, Any]]:
        return []


class Dispatcher:
    def __init__(self) -> None:
        self.texts: List[str] = []

    def utter_message(self, text: str = "", response: str = "", **_: Any) -> None:
        self.texts.append(text or response)


class Knowledge:
    def __init__(self) -> None:
        self.lookups = 0
        self.limiter = SharedLimiter.from_url("memory://")

    def verify_order(self, number: str, email: str) -> Optional[str]:
        self.lookups += 1
        return "the order" if (number, email) == ("10000001", "alex.morgan@example.com") else None


def test_the_order_form_stops_checking_for_a_blocked_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from actions import orders

    knowledge = Knowledge()
    monkeypatch.setattr(orders, "shop_orders", lambda: knowledge)
    monkeypatch.setattr(orders, "client_misses_limit", lambda: Limit("verify-client", 2, 600))
    form = orders.ValidateOrderForm()

    def check(client: Optional[str], email: str) -> Dict[str, Any]:
        dispatcher = Dispatcher()
        tracker = Tracker(client, {"order_number": "10000001"})
        result = asyncio.run(form.validate_email(email, dispatcher, tracker, {}))
        return {**result, "said": " ".join(dispatcher.texts)}

    for conversation in range(2):  # two conversations, one miss each: the client's limit
        assert check("tag-a", f"guess{conversation}@example.com")["email"] is None
    lookups = knowledge.lookups
    blocked = check("tag-a", "alex.morgan@example.com")  # the right pair, from the blocked client
    assert blocked["email"] is None and "utter_too_many_order_checks" in blocked["said"]
    assert blocked["verification_failures"] == orders.MAX_VERIFICATION_FAILURES
    assert knowledge.lookups == lookups, "a blocked client must not learn anything from the database"
    assert check("tag-b", "alex.morgan@example.com")["email"] == "alex.morgan@example.com"
