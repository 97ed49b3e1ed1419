"""Account deletion asked for in the chat: recorded by ``action_delete_account``, carried out by the
operator's ``shop insights requests --carry-out`` through the existing erase (:mod:`insights.data_rights`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any, Dict, List

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from insights import erasure_requests
from insights.consumer import consume_sql
from shopdb.models import Base, ShopperProfile

from .conftest import publish, user
from .test_insights_privacy import save_trackers, tracker_rows, tracker_store

CHAT = "laptop"  # the conversation the customer asks in


def _customer_with_data(shop, broker, tmp_path: Path):
    """C0000042's profile, facts, raw events, conversation and a complaint ticket; a stranger's too."""
    from handoff.store import HandoffStore

    publish(broker, CHAT, user("my boots are too small", "search_products", customer_id="C0000042"))
    publish(broker, "stranger", user("hi", "greet"))
    consume_sql(broker.url, shop.sessions)
    store = tracker_store(tmp_path / "tracker.db")
    save_trackers(store, CHAT, "stranger")
    handoff = HandoffStore.from_url(shop.url)
    handoff.record_followup(CHAT, "The boots fell apart", customer_id="C0000042")
    handoff.record_followup("stranger", "Slow delivery")
    return store, handoff


def _settings(monkeypatch: pytest.MonkeyPatch, shop, broker, tmp_path: Path) -> None:
    """The action server's and the operator's configuration: this shop, its broker and tracker store."""
    from core.settings import get_settings
    from insights.db import shop_sessions

    monkeypatch.setenv("SHOP_DATABASE_URL", shop.url)
    monkeypatch.setenv("SHOP_EVENTS_DB", broker.url.replace("sqlite:///", ""))
    monkeypatch.setenv("SHOP_TRACKER_DB", str(tmp_path / "tracker.db"))
    monkeypatch.setenv("SHOP_SECRET_KEY", "test-secret-for-erasure-requests")
    for cached in (get_settings, shop_sessions, erasure_requests.default_sessions):
        cached.cache_clear()


def _ask(text: str, intent: str, slots: Dict[str, Any], history: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``action_delete_account`` on a message of the signed-in customer's widget; returns the events."""
    from actions.account import ActionDeleteAccount
    from actions.common import customer_proofs

    metadata = {"customer_id": "C0000042", "customer_proof": customer_proofs().issue(CHAT, "C0000042")}
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": [], "metadata": metadata}
    events = history + [{"event": "user", "text": text, "parse_data": latest, "input_channel": "shop"}]
    tracker = Tracker(CHAT, {"customer_id": "C0000042", **slots}, latest, events, False, None, {}, "action_listen")
    return asyncio.run(ActionDeleteAccount().run(CollectingDispatcher(), tracker, {}))


def _operator(*argv: str) -> int:
    """``shop insights ...`` as the operator runs it (``insights.__main__``'s parser and command)."""
    from insights.__main__ import build_parser

    args = build_parser().parse_args(list(argv))
    return int(args.func(args))


def test_the_request_made_in_the_chat_is_carried_out_by_the_operator_command(
    shop, broker, tmp_path, monkeypatch, capsys
):
    from handoff.store import HandoffStore

    store, handoff = _customer_with_data(shop, broker, tmp_path)
    _settings(monkeypatch, shop, broker, tmp_path)

    asked = _ask("delete my account", "delete_account", {}, [])
    assert {"event": "slot", "timestamp": None, "name": "account_deletion_pending", "value": True} in asked
    assert erasure_requests.pending_requests(shop.sessions) == []
    history = [{"event": "action", "name": "action_delete_account"}, {"event": "action", "name": "action_listen"}]
    _ask("/affirm", "affirm", {"account_deletion_pending": True}, history)
    [request] = erasure_requests.pending_requests(shop.sessions)
    assert (request.customer_id, request.sender_id) == ("C0000042", CHAT)

    # Listed for the operator; a "no" at the prompt erases nothing.
    monkeypatch.setattr("builtins.input", lambda _: "no")
    assert _operator("requests", "--carry-out") == 1
    listing = capsys.readouterr().out
    assert f"request {request.id}: erase customer C0000042" in listing and "1 pending account deletion(s)" in listing
    assert [r.id for r in erasure_requests.pending_requests(shop.sessions)] == [request.id]
    assert set(tracker_rows(store)) == {CHAT, "stranger"}

    assert _operator("requests", "--carry-out", "--yes") == 0
    assert f"request {request.id} done: deleted profiles" in capsys.readouterr().out

    # Erased everywhere the existing erase reaches; the stranger's data stays.
    with shop.sessions() as session:
        subjects = set(session.execute(select(ShopperProfile.subject)).scalars())
    assert subjects == {"stranger"}
    assert set(tracker_rows(store)) == {"stranger"}
    assert [c.sender_id for c in HandoffStore.from_url(shop.url).followups()] == ["stranger"]
    # The request stays as the record, done, with what was erased.
    assert erasure_requests.pending_requests(shop.sessions) == []
    with shop.sessions() as session:
        from shopdb.models import DataRightsRequest

        row = session.execute(select(DataRightsRequest)).scalar_one()
    assert row.status == "done" and row.done_at is not None
    assert row.result["profiles"] >= 2 and row.result["handoff"] == 1 and row.result["tracker_events"] > 0


def test_one_pending_request_per_customer_and_nothing_to_carry_out_twice(shop):
    when = dt.datetime(2026, 3, 1, 12, 0)
    first, new = erasure_requests.request_erasure(shop.sessions, customer_id="C0000042", sender_id="a", now=when)
    again, again_new = erasure_requests.request_erasure(shop.sessions, customer_id="C0000042", sender_id="b")
    assert new and not again_new and again.id == first.id and first.due_at == dt.datetime(2026, 3, 31, 12, 0)
    erased: List[str] = []
    done = erasure_requests.carry_out(shop.sessions, lambda r: erased.append(r.customer_id) or {"profiles": 0})
    assert [r.id for r in done] == [first.id] and erased == ["C0000042"]
    assert erasure_requests.carry_out(shop.sessions, lambda r: erased.append(r.customer_id) or {}) == []
    later, later_new = erasure_requests.request_erasure(shop.sessions, customer_id="C0000042", sender_id="c")
    assert later_new and later.id != first.id  # a new account of the same id may ask again


def test_the_migration_builds_the_tables_the_models_describe(shop):
    engine = shop.sessions.kw["bind"]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    ours = [d for d in diff if "data_rights_requests" in repr(d) or "handoff_tickets" in repr(d)]
    assert ours == []
