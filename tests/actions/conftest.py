"""Fixtures for the action tests: a real generated shop (SQLite + FAISS) and rasa_sdk trackers.

The shop is the session's small catalogue built by ``shop build``
(``shop_env`` in tests/conftest.py). Tests that change orders get their own copy
of the SQLite file, so cancelling order 10000003 here never leaks into another test.

Actions send domain responses (``utter_message(response=..., <values>)``); :func:`run_action`
renders them with Rasa's own NLG and ``bot/domain.yml``, as the Rasa server does, so the tests
read the words a shopper reads. Rendering checks that every variation of a response is filled
completely; tests assert on words that every variation shares.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import shop
from core.settings import PROJECT_ROOT, Settings

ALEX = "alex.morgan@example.com"
SAM = "sam.lee@example.com"
DOMAIN_FILE = PROJECT_ROOT / "bot" / "domain.yml"
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


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


@pytest.fixture(autouse=True)
def kb(catalogue) -> Iterator[Any]:
    """Actions use the shared shop; its orders are the session shop's (tests that change orders use orders_kb).

    Used by every action test: an action that asks the shop (a fallback looks in the policy texts) must
    never reach the default ``var/``, which a fresh clone does not have.
    """
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


def _tracker(
    text: str = "",
    intent: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    channel: str = "rest",
    slot_events: Optional[Dict[str, Any]] = None,
    history: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    """A tracker whose latest message is ``text``; ``slot_events`` were set after it (form extraction)."""
    entities = [dict(e) for e in entities or []]
    for entity in entities:
        if "start" not in entity and entity.get("value") in text:
            entity["start"] = text.index(entity["value"])
            entity["end"] = entity["start"] + len(entity["value"])
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities,
        "metadata": metadata or {},
        "intent_ranking": [{"name": intent, "confidence": 1.0}] if intent else [],
    }
    user_event = {
        "event": "user",
        "text": text,
        "parse_data": latest,
        "input_channel": channel,
        "metadata": metadata or {},
    }
    events = list(history or []) + [user_event]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (slot_events or {}).items()]
    all_slots = dict(slots or {})
    all_slots.update(slot_events or {})
    return Tracker(
        "test-conversation",
        all_slots,
        latest,
        events,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


@pytest.fixture
def tracker() -> Callable[..., Tracker]:
    return _tracker


def proven_slots(slots: Dict[str, Any], sender: str = "test-conversation") -> Dict[str, Any]:
    """``slots`` plus the order proof the order form issues when number and e-mail (or the
    signed-in customer) matched: what every order action needs before it shows or changes anything."""
    from actions.common import order_proofs

    customer_id = slots.get("customer_id")
    proof = order_proofs().issue(
        sender, slots["order_number"], email=None if customer_id else slots.get("email"), customer_id=customer_id
    )
    return {**slots, "order_proof": proof}


@pytest.fixture
def proven() -> Callable[..., Dict[str, Any]]:
    return proven_slots


@lru_cache(maxsize=1)
def _domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(DOMAIN_FILE))


@lru_cache(maxsize=1)
def _nlg():
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    return TemplatedNaturalLanguageGenerator(_domain().responses)


def render_message(
    message: Dict[str, Any], slots: Optional[Dict[str, Any]] = None, channel: Optional[str] = "rest"
) -> Dict[str, Any]:
    """A dispatcher message as the Rasa server sends it (``RemoteAction._utter_responses``).

    A message with ``"response"`` is generated from the domain with the tracker's slots and the
    message's other keys as values; its extra ``buttons`` follow the response's own, other non-empty
    keys (an ``attachment``, the values) are kept, and so is ``"response"``. Fails when a variation of
    the response would keep a ``{placeholder}`` unfilled (Rasa would then send it as it stands).
    """
    from rasa.core.nlg.generator import ResponseVariationFilter

    values = dict(message)
    name = values.pop("response", None)
    if not name:
        return dict(message)
    nlg = _nlg()
    assert name in nlg.responses, f"{name} is not a response in bot/domain.yml"
    filled_slots = {slot.name: None for slot in _domain().slots}
    filled_slots.update(slots or {})
    variations = ResponseVariationFilter(nlg.responses).responses_for_utter_action(name, channel, filled_slots)
    assert variations, f"{name} has no variation for channel {channel}"
    for variation in variations:
        template = json.dumps(variation)
        filled = json.dumps(nlg._fill_response(copy.deepcopy(variation), filled_slots, **values))
        unfilled = sorted({p for p in PLACEHOLDER_RE.findall(template) if "{" + p + "}" in filled})
        assert not unfilled, f"{name}: no value for {unfilled} (values given: {sorted(values)})"
    draft = nlg.generate_from_slots(name, filled_slots, channel, **values)
    assert draft, name
    draft["utter_action"] = name
    buttons = values.pop("buttons", []) or []
    if buttons:
        draft.setdefault("buttons", [])
        draft["buttons"].extend(buttons)
    draft.update({k: v for k, v in values.items() if v})
    draft["response"] = name
    return draft


def run_action(action: Action, tracker: Tracker, domain: Dict[str, Any]):
    """Runs an action like the action server does; returns (messages, events as dicts).

    The messages are rendered like the Rasa server renders them (:func:`render_message`).
    """
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    channel = tracker.get_latest_input_channel()
    messages = [render_message(m, tracker.slots, channel) for m in dispatcher.messages]
    return messages, events


@pytest.fixture
def run() -> Callable[..., Any]:
    return run_action


@pytest.fixture
def render() -> Callable[..., Dict[str, Any]]:
    """:func:`render_message`: a ``{"response": ..., <values>}`` message as the shopper sees it."""
    return render_message


def variants(name: str, **values: Any) -> List[str]:
    """Every text variation of the domain response ``name``, filled with ``values``."""
    return [_nlg()._fill_response(copy.deepcopy(v), {}, **values)["text"] for v in _nlg().responses[name]]


@pytest.fixture
def texts_of() -> Callable[..., List[str]]:
    return variants


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
