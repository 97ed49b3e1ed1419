"""The patches keep Rasa's behaviour: same validation errors, same stored events, faster commits; and
install_all refuses versions it was not written for."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from jsonschema import ValidationError

from rasa_addons import patches
from rasa_addons.patches import action_validation, sqlite_stores


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    action_validation.install()
    sqlite_stores.install()


def test_action_responses_are_still_validated() -> None:
    from rasa.core.actions.action import RemoteAction

    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "a", "value": 1}], "responses": []})
    with pytest.raises(ValidationError) as refused:
        action._validate_action_result({"events": [{"event": "no_such_event"}], "responses": []})
    assert "Failed to validate Action server response" in refused.value.message
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "not a list"})


def test_sql_event_broker_on_sqlite_is_wal_and_keeps_every_event(tmp_path: Path) -> None:
    from rasa.core.brokers.sql import SQLEventBroker

    path = tmp_path / "events.db"
    broker = SQLEventBroker(db=str(path))
    for index in range(100):
        broker.publish({"sender_id": "s", "event": "user", "timestamp": float(index)})
    # Each publish opened and closed its own connection (NullPool); the WAL outlived them all,
    # so no publish paid a checkpoint (~15 ms with an fsync on this machine's disk, measured).
    assert path.with_name("events.db-wal").exists()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("SELECT count(*) FROM events").fetchone()[0] == 100


def test_install_is_idempotent() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    sqlite_stores.install()
    sqlite_stores.install()
    assert event.contains(Engine, "connect", sqlite_stores._sqlite_pragmas)


def test_the_patches_refuse_versions_they_were_not_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    patches.check_versions()  # the locked versions
    monkeypatch.setitem(patches.PINNED, "sanic", "99.0")
    with pytest.raises(patches.UnpatchedVersion) as refused:
        patches.install_all()
    assert "sanic 21.12.2 (patched: 99.0)" in str(refused.value)
