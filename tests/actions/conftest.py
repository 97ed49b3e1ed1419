"""Fixtures for the action tests: a real generated shop (SQLite + FAISS) and rasa_sdk trackers.

The shop is the session's small catalogue built by ``shop build``
(``shop_env`` in tests/conftest.py). Tests that change orders get their own copy
of the SQLite file, so cancelling order 10000003 here never leaks into another test.
"""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import shop
from core.settings import PROJECT_ROOT, Settings

ALEX = "alex.morgan@example.com"
SAM = "sam.lee@example.com"


@pytest.fixture(scope="session")
def shop_settings(shop_env: Dict[str, str]) -> Settings:
    return Settings(var_dir=Path(shop_env["SHOP_VAR_DIR"]))


@pytest.fixture(scope="session")
def catalogue(shop_settings: Settings):
    """The shared, read-only shop search (products and policies; retrieval loads once)."""
    from retrieval.shop_search import ShopSearch

    search = ShopSearch.from_settings(shop_settings)
    yield search
    search.engine.dispose()


@pytest.fixture
def kb(catalogue) -> Iterator[Any]:
    """Actions use the shared shop; its orders are the session shop's (tests that change orders use orders_kb)."""
    shop.use_shop(search=catalogue)
    yield catalogue
    shop.use_shop()


@pytest.fixture
def orders_kb(catalogue, shop_settings: Settings, tmp_path: Path) -> Iterator[Any]:
    """Actions use a private copy of the shop database for its orders (for tests that change orders)."""
    from shopdb.db import create_db_engine
    from shopdb.orders import Orders

    copy = tmp_path / "shop.db"
    shutil.copyfile(shop_settings.var_dir / "shop.db", copy)
    orders = Orders(create_db_engine(f"sqlite:///{copy}"))
    shop.use_shop(search=catalogue, orders=orders)
    yield orders
    shop.use_shop()
    orders.engine.dispose()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(PROJECT_ROOT / "bot" / "domain.yml")).as_dict()


def _tracker(text: str = "", intent: Optional[str] = None, entities: Optional[List[Dict[str, Any]]] = None,
             slots: Optional[Dict[str, Any]] = None, metadata: Optional[Dict[str, Any]] = None,
             active_loop: Optional[str] = None, channel: str = "rest",
             slot_events: Optional[Dict[str, Any]] = None, history: Optional[List[Dict[str, Any]]] = None) -> Tracker:
    """A tracker whose latest message is ``text``; ``slot_events`` were set after it (form extraction)."""
    entities = [dict(e) for e in entities or []]
    for entity in entities:
        if "start" not in entity and entity.get("value") in text:
            entity["start"] = text.index(entity["value"])
            entity["end"] = entity["start"] + len(entity["value"])
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0} if intent else {},
              "entities": entities, "metadata": metadata or {},
              "intent_ranking": [{"name": intent, "confidence": 1.0}] if intent else []}
    user_event = {"event": "user", "text": text, "parse_data": latest, "input_channel": channel,
                  "metadata": metadata or {}}
    events = list(history or []) + [user_event]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (slot_events or {}).items()]
    all_slots = dict(slots or {})
    all_slots.update(slot_events or {})
    return Tracker("test-conversation", all_slots, latest, events, False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


@pytest.fixture
def tracker() -> Callable[..., Tracker]:
    return _tracker


def proven_slots(slots: Dict[str, Any], sender: str = "test-conversation") -> Dict[str, Any]:
    """``slots`` plus the order proof the order form issues when number and e-mail (or the
    signed-in customer) matched: what every order action needs before it shows or changes anything."""
    from actions.common import order_proofs

    customer_id = slots.get("customer_id")
    proof = order_proofs().issue(sender, slots["order_number"], email=None if customer_id else slots.get("email"),
                                 customer_id=customer_id)
    return {**slots, "order_proof": proof}


@pytest.fixture
def proven() -> Callable[..., Dict[str, Any]]:
    return proven_slots


def run_action(action: Action, tracker: Tracker, domain: Dict[str, Any]):
    """Runs an action like the action server does; returns (messages, events as dicts)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, events


@pytest.fixture
def run() -> Callable[..., Any]:
    return run_action


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def slot_values(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture
def say() -> Callable[[List[Dict[str, Any]]], str]:
    return texts


@pytest.fixture
def slots_of() -> Callable[[List[Dict[str, Any]]], Dict[str, Any]]:
    return slot_values
