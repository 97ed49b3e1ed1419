"""`shop backup` under load and `shop restore` into a fresh folder: every conversation, order and
hand-off that existed when the backup began is there, read back by Rasa's own tracker store."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest

from assistant.backup import FORMAT_VERSION, MANIFEST, verify
from assistant.launcher import AssistantProcesses, server_environment
from core.settings import PROJECT_ROOT

SHOPPERS = 6


def _post(url: str, body: Dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _shop(command: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.shop", *command], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def own_assistant(assistant_on_a_copy) -> Iterator[AssistantProcesses]:
    """The assistant on a copy of the test shop: this test writes orders and hand-offs of its own."""
    with assistant_on_a_copy(SHOP_SUPPORT_HOURS="always") as processes:
        yield processes


class Load:
    """Shoppers chatting and the shop's order feed writing, until stopped; remembers what finished when."""

    def __init__(self, rasa_url: str, shop_db: Path) -> None:
        self.rasa_url, self.shop_db = rasa_url, shop_db
        self.stop = threading.Event()
        self.answered: List[Tuple[float, str, int]] = []  # (finished at, conversation, user messages answered)
        self.orders: List[Tuple[float, str]] = []  # (committed at, order number)
        self.handoffs: List[Tuple[float, str]] = []
        self.errors: List[BaseException] = []

    def shopper(self, index: int) -> None:
        lines = ["hi", "do you have running shoes?", "what are your delivery times?", "thanks"]
        try:
            while not self.stop.is_set():
                session = _post(f"{self.rasa_url}/webhooks/shop/session", {})["session_id"]
                for count, line in enumerate(lines, 1):
                    if self.stop.is_set():
                        break
                    assert _post(f"{self.rasa_url}/webhooks/shop/webhook", {"sender": session, "message": line})
                    self.answered.append((time.monotonic(), session, count))
                if index == 0 and not self.stop.is_set():  # one shopper asks for a person each round
                    _post(
                        f"{self.rasa_url}/webhooks/shop/webhook",
                        {"sender": session, "message": "I want to talk to a human agent"},
                    )
                    self.handoffs.append((time.monotonic(), session))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.errors.append(error)

    def order_feed(self) -> None:
        """New orders arrive as the shop's own system writes them (a copy of an existing row)."""
        connection = sqlite3.connect(self.shop_db, timeout=30)
        columns = [row[1] for row in connection.execute("PRAGMA table_info(orders)") if row[1] not in ("id",)]
        copied = ", ".join(c if c != "order_number" else "?" for c in columns)
        try:
            number = 90_000_000
            while not self.stop.is_set():
                number += 1
                connection.execute(
                    f"INSERT INTO orders ({', '.join(columns)}) SELECT {copied} FROM orders ORDER BY id LIMIT 1",
                    (str(number),),
                )
                connection.commit()
                self.orders.append((time.monotonic(), str(number)))
                time.sleep(0.02)
        except BaseException as error:  # noqa: BLE001
            self.errors.append(error)
        finally:
            connection.close()


def _user_messages(tracker_db: Path, senders: Set[str]) -> Dict[str, int]:
    """User messages per conversation, read by Rasa's own SQL tracker store."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import UserUttered

    store = SQLTrackerStore(dialect="sqlite", db=str(tracker_db))

    async def read() -> Dict[str, int]:
        counts = {}
        for sender in senders:
            tracker = await store.retrieve_full_tracker(sender)
            counts[sender] = sum(isinstance(e, UserUttered) for e in tracker.events) if tracker else 0
        return counts

    return asyncio.run(read())


def test_backup_under_load_restores_every_conversation_order_and_handoff(own_assistant, tmp_path) -> None:
    env = server_environment(own_assistant.config)
    var = Path(env["SHOP_VAR_DIR"])
    load = Load(own_assistant.config.rasa_url, var / "shop.db")
    with ThreadPoolExecutor(SHOPPERS + 1) as pool:
        for index in range(SHOPPERS):
            pool.submit(load.shopper, index)
        pool.submit(load.order_feed)
        time.sleep(8)  # conversations, orders and a hand-off are under way
        backup_dir = tmp_path / "backup"
        began = time.monotonic()
        result = _shop(["backup", str(backup_dir)], env)
        ended = time.monotonic()
        time.sleep(1)  # the load goes on after the backup too
        load.stop.set()
    assert result.returncode == 0, result.stderr
    assert not load.errors, load.errors

    conversations: Dict[str, int] = {}
    for finished, session, count in load.answered:
        if finished < began:
            conversations[session] = max(conversations.get(session, 0), count)
    orders = {number for committed, number in load.orders if committed < began}
    handoffs = {session for asked, session in load.handoffs if asked < began}
    assert len(conversations) >= SHOPPERS and len(orders) >= 50 and handoffs
    assert any(committed > ended for committed, _ in load.orders), "the load stopped before the backup ended"

    manifest = verify(backup_dir)
    assert manifest["format"] == FORMAT_VERSION and set(manifest["stores"]) == {"shop", "tracker", "events"}

    # Restore into a fresh folder, as a new machine would: only SHOP_VAR_DIR says where.
    fresh = tmp_path / "fresh"
    fresh_env = {k: v for k, v in env.items() if k not in ("SHOP_TRACKER_DB", "SHOP_EVENTS_DB", "SHOP_INDEX_DIR")}
    fresh_env["SHOP_VAR_DIR"] = str(fresh)
    restored = _shop(["restore", str(backup_dir)], fresh_env)
    assert restored.returncode == 0, restored.stderr
    for name in ("shop.db", "tracker.db", "events.db"):
        with sqlite3.connect(fresh / name) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    found = _user_messages(fresh / "tracker.db", set(conversations))
    missing = {s: (n, found.get(s)) for s, n in conversations.items() if found.get(s, 0) < n}
    assert not missing, f"conversations short of messages after the restore: {missing}"
    with sqlite3.connect(fresh / "shop.db") as connection:
        restored_orders = {row[0] for row in connection.execute("SELECT order_number FROM orders")}
        tickets = {row[0] for row in connection.execute("SELECT sender_id FROM handoff_tickets")}
    assert orders <= restored_orders
    assert handoffs <= tickets
    for source in sorted((var / "index").rglob("*")):
        if source.is_file():
            assert (fresh / "index" / source.relative_to(var / "index")).read_bytes() == source.read_bytes()

    again = _shop(["restore", str(backup_dir)], fresh_env)  # the databases are there now: no silent overwrite
    assert again.returncode == 1 and "--force" in again.stderr


def test_restore_refuses_a_damaged_backup(tmp_path, shop_env) -> None:
    env = {**shop_env, "SHOP_VAR_DIR": str(tmp_path / "var")}
    shutil.copytree(Path(shop_env["SHOP_VAR_DIR"]) / "index", tmp_path / "var" / "index")
    shutil.copyfile(Path(shop_env["SHOP_VAR_DIR"]) / "shop.db", tmp_path / "var" / "shop.db")
    assert _shop(["backup", str(tmp_path / "b")], env).returncode == 0
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text())
    with (tmp_path / "b" / manifest["stores"]["shop"]["path"]).open("r+b") as db:
        db.seek(5000)
        flipped = bytes(255 - b for b in db.read(16))
        db.seek(5000)
        db.write(flipped)
    result = _shop(["restore", str(tmp_path / "b")], {**env, "SHOP_VAR_DIR": str(tmp_path / "new")})
    assert result.returncode == 1 and "damaged" in result.stderr
    assert not (tmp_path / "new" / "shop.db").exists()


@pytest.mark.services
def test_postgresql_stores_are_dumped_and_restored_into_other_databases(tmp_path) -> None:
    """The scale-out mode: the shop database and Rasa's tracker store in PostgreSQL go through
    pg_dump and pg_restore into two empty databases, conversations and tickets intact."""
    import uuid

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy import create_engine, text

    from assistant.backup import backup, restore
    from core.settings import Settings
    from handoff.store import HandoffStore
    from perf.scaleout_stack import BackingServices
    from shopdb.db import migrate

    services = BackingServices()
    reason = services.unreachable()
    if reason or shutil.which("pg_dump") is None:
        pytest.skip(f"PostgreSQL or pg_dump unavailable: {reason}")
    suffix = uuid.uuid4().hex[:8]
    names = {role: f"shop_backup_{role}_{suffix}" for role in ("shop", "tracker", "shop2", "tracker2")}
    admin = create_engine(services.postgres_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names.values():
            connection.execute(text(f'CREATE DATABASE "{name}"'))

    def tracker_store(database: str) -> SQLTrackerStore:
        return SQLTrackerStore(
            dialect="postgresql",
            host=services.postgres_host,
            port=services.postgres_port,
            db=database,
            username=services.postgres_user,
            password=services.postgres_password,
        )

    def configured(shop: str, tracker: str, folder: Path) -> tuple:
        folder.mkdir()
        (folder / "index").mkdir()
        (folder / "index" / "products.faiss").write_bytes(b"index bytes")
        endpoints = folder / "endpoints.yml"
        endpoints.write_text(
            "tracker_store:\n  type: SQL\n  dialect: postgresql\n"
            f"  url: {services.postgres_host}\n  port: {services.postgres_port}\n  db: {tracker}\n"
            f"  username: {services.postgres_user}\n  password: '{services.postgres_password}'\n"
        )
        return Settings(var_dir=folder, database_url=services.postgres_url(shop)), endpoints

    try:
        settings, endpoints = configured(names["shop"], names["tracker"], tmp_path / "source")
        migrate(settings.resolved_database_url, "heads")
        ticket = HandoffStore.from_url(settings.resolved_database_url).open_ticket("conversation-pg", summary="late")
        trackers = tracker_store(names["tracker"])
        asyncio.run(trackers.save(DialogueStateTracker.from_events("conversation-pg", [UserUttered("where is it?")])))

        manifest = backup(tmp_path / "backup", settings, endpoints)
        assert {name: entry["dialect"] for name, entry in manifest["stores"].items()} == {
            "shop": "postgresql",
            "tracker": "postgresql",
        }
        settings2, endpoints2 = configured(names["shop2"], names["tracker2"], tmp_path / "target")
        restore(tmp_path / "backup", settings2, endpoints2)

        restored = HandoffStore.from_url(settings2.resolved_database_url).get_ticket(ticket.id)
        assert (restored.sender_id, restored.summary) == ("conversation-pg", "late")
        trackers2 = tracker_store(names["tracker2"])
        tracker = asyncio.run(trackers2.retrieve_full_tracker("conversation-pg"))
        assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["where is it?"]
        assert (tmp_path / "target" / "index" / "products.faiss").read_bytes() == b"index bytes"
        for store in (trackers, trackers2):
            store.engine.dispose()
    finally:
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
