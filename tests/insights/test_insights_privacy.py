"""A shopper's data: export finds all of it, delete removes all of it (and nobody else's), retention purges."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select

from core.settings import PROJECT_ROOT
from insights import data_rights
from insights.consumer import consume_sql
from insights.stream import SQLEventSource
from shopdb.models import InsightFact, ShopperProfile

from .conftest import Clock, publish, site, user


def customer_with_two_devices(shop, broker, clock=None):
    """C0000042 chats on a laptop and a phone; a stranger chats too."""
    boot = shop.product_id("BOOT-BRN-1")
    publish(
        broker,
        "laptop",
        SessionStarted(),
        user("my email is jane@example.com, boots please", "search_products", customer_id="C0000042"),
        clock=clock,
    )
    broker.publish(site("laptop", "purchased", clock, product_id=boot, customer_id="C0000042"))
    publish(broker, "phone", user("where is order 10000042", "track_order", customer_id="C0000042"), clock=clock)
    publish(broker, "stranger", user("hi", "greet"), clock=clock)
    consume_sql(broker.url, shop.sessions)


def counts(shop):
    with shop.sessions() as session:
        profiles = dict(session.execute(select(ShopperProfile.subject, ShopperProfile.scope)).all())
        senders = set(session.execute(select(InsightFact.sender_id).distinct()).scalars())
    return profiles, senders


def tracker_store(path: Path) -> SQLTrackerStore:
    return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))


def save_trackers(store: SQLTrackerStore, *senders: str) -> None:
    async def save() -> None:
        for sender in senders:
            await store.save(DialogueStateTracker.from_events(sender, [user("hello there", "greet")]))

    asyncio.run(save())


def tracker_rows(store: SQLTrackerStore) -> dict:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT sender_id, count(*) FROM events GROUP BY sender_id").all()
    return dict(rows)


def test_stored_profiles_and_facts_hold_no_raw_personal_data(shop, broker):
    customer_with_two_devices(shop, broker)
    with shop.sessions() as session:
        stored = json.dumps([p.data for p in session.execute(select(ShopperProfile)).scalars()])
        stored += json.dumps([(f.text, f.data) for f in session.execute(select(InsightFact)).scalars()])
    assert "jane@example.com" not in stored and "10000042" not in stored
    assert "<email>" in stored


def test_export_of_a_customer_covers_every_device_and_only_theirs(shop, broker):
    customer_with_two_devices(shop, broker)
    data = data_rights.export_data(
        customer_id="C0000042", sessions=shop.sessions, broker=SQLEventSource.from_url(broker.url)
    )
    assert data["conversations"] == ["laptop", "phone"]
    assert {(p["scope"], p["subject"]) for p in data["profiles"]} == {
        ("session", "laptop"),
        ("session", "phone"),
        ("customer", "C0000042"),
    }
    assert {f["sender_id"] for f in data["facts"]} == {"laptop", "phone"}
    assert "stranger" not in json.dumps(data)
    assert len(data["events"]) == 4  # the raw stream, as the shopper wrote it


def test_delete_a_customer_everywhere_including_rasa_stores(shop, broker, tmp_path):
    customer_with_two_devices(shop, broker)
    store = tracker_store(tmp_path / "tracker.db")
    save_trackers(store, "laptop", "phone", "stranger")
    source = SQLEventSource.from_url(broker.url)

    result = data_rights.delete_data(
        customer_id="C0000042",
        sessions=shop.sessions,
        broker=source,
        tracker_url=f"sqlite:///{tmp_path / 'tracker.db'}",
    )
    assert result["profiles"] == 3 and result["broker_events"] == 4 and result["tracker_events"] > 0
    profiles, senders = counts(shop)
    assert profiles == {"stranger": "session"} and senders == {"stranger"}
    assert [e["sender_id"] for e in source.events_of(["laptop", "phone", "stranger"])] == ["stranger"]
    assert set(tracker_rows(store)) == {"stranger"}
    # Nothing left to export.
    assert data_rights.export_data(customer_id="C0000042", sessions=shop.sessions, broker=source)["facts"] == []


def test_delete_one_conversation_keeps_the_rest(shop, broker):
    customer_with_two_devices(shop, broker)
    data_rights.delete_data(sender_id="phone", sessions=shop.sessions, broker=SQLEventSource.from_url(broker.url))
    profiles, senders = counts(shop)
    assert "phone" not in profiles and {"laptop", "C0000042", "stranger"} <= set(profiles)
    assert senders == {"laptop", "stranger"}


def test_retention_purge_removes_only_old_consumed_data(shop, broker):
    old = Clock(start=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    publish(broker, "old-1", SessionStarted(), user("hello", "greet"), clock=old)
    now = Clock(start=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    publish(broker, "new-1", SessionStarted(), user("hello", "greet"), clock=now)
    consume_sql(broker.url, shop.sessions)
    publish(broker, "old-2", user("not consumed yet", "greet"), clock=Clock(start=old.now))  # unread: must stay
    source = SQLEventSource.from_url(broker.url)

    result = data_rights.purge(retention_days=180, sessions=shop.sessions, broker=source, now=dt.datetime(2026, 1, 2))
    assert result == {"facts": 2, "profiles": 1, "broker_events": 2}
    profiles, senders = counts(shop)
    assert set(profiles) == {"new-1"} and senders == {"new-1"}
    assert {e["sender_id"] for e in source.events_of(["old-1", "old-2", "new-1"])} == {"old-2", "new-1"}


@pytest.mark.slow
def test_cli_export_delete_and_purge(shop, broker, tmp_path):
    customer_with_two_devices(
        shop, broker, clock=Clock(start=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    )
    env = dict(
        os.environ,
        SHOP_DATABASE_URL=shop.url,
        SHOP_EVENTS_DB=broker.url.replace("sqlite:///", ""),
        SHOP_VAR_DIR=str(tmp_path),
        SHOP_RETENTION_DAYS="30",
        HF_HUB_OFFLINE="1",
    )

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "insights", *args],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    out = tmp_path / "export.json"
    cli("export", "--customer", "C0000042", "--out", str(out))
    assert json.loads(out.read_text())["conversations"] == ["laptop", "phone"]
    assert "deleted: profiles 3, facts" in cli("delete", "--customer", "C0000042", "--yes")
    assert "purged: facts" in cli("purge")
    profiles, _ = counts(shop)
    assert set(profiles) == set()  # the stranger's events are a year old: SHOP_RETENTION_DAYS=30 purged them
    with shop.sessions() as session:
        assert session.execute(select(func.count()).select_from(InsightFact)).scalar_one() == 0
