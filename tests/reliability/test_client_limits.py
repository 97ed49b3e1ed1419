"""The per-client limit on order-verification misses, in process (the live test is in test_process_faults.py).

The sliding window, its memory bound, the client tag (a keyed hash, never the
address, never the caller's word) and the order form refusing to look anything
up once a client is blocked, even for the right order number and e-mail.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest

from assistant.ratelimit import SlidingWindowLimiter, verification_limiter
from web.hardening import CLIENT_METADATA_KEY, clean_rest_body, client_address, client_tag


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides_hit_by_hit() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 60, clock=clock)
    for second in (0, 10, 20):
        clock.now = 1000 + second
        assert not limiter.blocked("a")
        limiter.hit("a")
    assert limiter.blocked("a") and not limiter.blocked("b")
    clock.now = 1059.9
    assert limiter.blocked("a")
    clock.now = 1060.0  # the first miss has left the window, the other two have not
    assert not limiter.blocked("a") and limiter.count("a") == 2
    limiter.hit("a")
    assert limiter.blocked("a")
    clock.now = 1200
    assert limiter.count("a") == 0


def test_memory_is_bounded_and_missing_keys_never_count() -> None:
    limiter = SlidingWindowLimiter(1, 60, max_keys=100)
    for n in range(1000):
        limiter.hit(f"client-{n}")
    assert len(limiter._hits) == 100 and limiter.blocked("client-999") and not limiter.blocked("client-0")
    assert limiter.hit(None) == 0 and not limiter.blocked(None) and not limiter.blocked("")


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_VERIFY_CLIENT_LIMIT", "4")
    monkeypatch.setenv("SHOP_VERIFY_CLIENT_WINDOW", "not a number")
    limiter = verification_limiter()
    assert limiter.limit == 4 and limiter.window == 900


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


class Dispatcher:
    def __init__(self) -> None:
        self.texts: List[str] = []

    def utter_message(self, text: str = "", **_: Any) -> None:
        self.texts.append(text)


class Knowledge:
    def __init__(self) -> None:
        self.lookups = 0

    def verify_order(self, number: str, email: str) -> Optional[str]:
        self.lookups += 1
        return "the order" if (number, email) == ("10000001", "alex.morgan@example.com") else None


def test_the_order_form_stops_checking_for_a_blocked_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from actions import orders

    knowledge = Knowledge()
    monkeypatch.setattr(orders, "get_knowledge", lambda: knowledge)
    monkeypatch.setattr(orders, "CLIENT_MISSES", SlidingWindowLimiter(2, 600))
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
    assert blocked["email"] is None and "too many order checks" in blocked["said"]
    assert blocked["verification_failures"] == orders.MAX_VERIFICATION_FAILURES
    assert knowledge.lookups == lookups, "a blocked client must not learn anything from the database"
    assert check("tag-b", "alex.morgan@example.com")["email"] == "alex.morgan@example.com"
