"""The cached SQL tracker store writes exactly what Rasa's SQLTrackerStore writes, and never serves stale state."""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
from pathlib import Path
from typing import Any, Awaitable, Callable, List

import pytest
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.tracker_store import CachedSQLTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, search_products]
slots:
  product_query:
    type: text
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: hi}]
"""
)


def synchronously(test: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """Runs an async test on its own event loop (the store's API is async, as Rasa's)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(test(*args, **kwargs))

    return run


def turn(text: str, intent: str) -> list:
    return [
        UserUttered(text, {"name": intent, "confidence": 0.9}),
        SlotSet("product_query", text),
        BotUttered(f"answer to {text}"),
        ActionExecuted("action_listen"),
    ]


def stored_events(path: Path, sender: str) -> List[dict]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [json.loads(data) for (data,) in rows]


async def greeted(store: SQLTrackerStore, sender: str) -> DialogueStateTracker:
    """A conversation with one saved turn ("hello"), as the next turn's store holds it."""
    tracker = await store.get_or_create_tracker(sender)
    tracker.update_with_events(turn("hello", "greet"), DOMAIN)
    await store.save(tracker)
    return tracker


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"


@synchronously
async def test_rows_are_the_rows_rasas_store_writes(db: Path, tmp_path: Path) -> None:
    cached = CachedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    plain_db = tmp_path / "plain.db"
    plain = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(plain_db))
    for store in (cached, plain):
        tracker = await store.get_or_create_tracker("shopper")
        for text in ("hello", "running shoes", "cheaper ones"):
            tracker = await store.retrieve("shopper")
            tracker.update_with_events(turn(text, "search_products"), DOMAIN)
            await store.save(tracker)

    def without_time(events: List[dict]) -> List[dict]:
        return [{k: v for k, v in e.items() if k != "timestamp"} for e in events]

    assert without_time(stored_events(db, "shopper")) == without_time(stored_events(plain_db, "shopper"))
    assert len(stored_events(db, "shopper")) == 13  # action_listen + 3 turns of 4 events, each once
    reread = await SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db)).retrieve("shopper")
    assert reread.current_state() == (await cached.retrieve("shopper")).current_state()


@synchronously
async def test_next_turn_gets_the_saved_tracker_without_reading_the_conversation(db: Path) -> None:
    store = CachedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    tracker = await greeted(store, "s1")
    misses = store.misses
    assert await store.retrieve("s1") is tracker
    assert store.misses == misses and store.hits >= 1


@synchronously
async def test_a_write_by_another_process_is_seen(db: Path) -> None:
    """A second Rasa server (or the agent console) appends to the conversation: the cache must not hide it."""
    store = CachedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    other = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    tracker = await greeted(store, "s2")

    elsewhere = await other.retrieve("s2")
    elsewhere.update_with_events(turn("a yoga mat", "search_products"), DOMAIN)
    await other.save(elsewhere)

    fresh = await store.retrieve("s2")
    assert fresh is not tracker
    assert fresh.get_slot("product_query") == "a yoga mat"
    fresh.update_with_events(turn("blue", "search_products"), DOMAIN)
    await store.save(fresh)
    texts = [e.get("text") for e in stored_events(db, "s2") if e["event"] == "user"]
    assert texts == ["hello", "a yoga mat", "blue"]  # nothing lost, nothing written twice


@synchronously
async def test_changes_that_were_never_saved_are_not_served(db: Path) -> None:
    """A turn that failed half-way leaves its tracker changed in memory; the next turn reads the database."""
    store = CachedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    tracker = await greeted(store, "s3")
    tracker.update_with_events(turn("never saved", "search_products"), DOMAIN)

    again = await store.retrieve("s3")
    assert again is not tracker
    assert again.get_slot("product_query") == "hello"


@synchronously
async def test_a_new_session_is_read_back_alone(db: Path) -> None:
    store = CachedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    tracker = await greeted(store, "s4")
    tracker.update_with_events(
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")], DOMAIN
    )
    tracker.update_with_events(turn("new day", "greet"), DOMAIN)
    await store.save(tracker)
    latest = await store.retrieve("s4")
    assert latest is not tracker
    assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["new day"]


@synchronously
async def test_sql_event_broker_gets_every_new_event_once_in_order(db: Path, tmp_path: Path) -> None:
    broker_db = tmp_path / "events.db"
    store = CachedSQLTrackerStore(
        DOMAIN, dialect="sqlite", db=str(db), event_broker=SQLEventBroker(dialect="sqlite", db=str(broker_db))
    )
    tracker = await store.get_or_create_tracker("s5")
    for text in ("hello", "running shoes"):
        tracker = await store.retrieve("s5")
        tracker.update_with_events(turn(text, "search_products"), DOMAIN)
        await store.save(tracker)
    with sqlite3.connect(broker_db) as events:
        published = [json.loads(d) for (d,) in events.execute("SELECT data FROM events ORDER BY id")]
    assert [(e["sender_id"], e["event"], e.get("timestamp")) for e in published] == [
        ("s5", e["event"], e.get("timestamp")) for e in stored_events(db, "s5")
    ]


@synchronously
async def test_cache_size_zero_reads_the_database_every_time(db: Path) -> None:
    store = CachedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db), cache_size=0)
    tracker = await store.get_or_create_tracker("s6")
    await store.save(tracker)
    assert await store.retrieve("s6") is not tracker
    assert store.hits == 0
