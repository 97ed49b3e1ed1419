"""Rasa's SQLite tracker store and event broker without an fsync per commit.

Profiled under the load test, ~25 % of the Rasa process's CPU went to SQLite commits of the tracker
store and the SQL event broker (one commit per event, each an fsync in SQLite's default
rollback-journal mode). :func:`install` puts Rasa's SQLite files in WAL mode with
``synchronous=NORMAL`` and keeps one connection to each open (so the WAL is not checkpointed away
on every session close): a commit no longer waits for the disk; a crash of the process loses
nothing, a power cut can lose the last commits. PostgreSQL (scale-out) is untouched.

Rasa builds these engines itself, so the listener is on every SQLAlchemy engine of the process;
it leaves alone the connections of our own engines (``shopdb.db``, marked ``shop_managed``), which
set their own pragmas.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Dict

_installed = False


# One idle connection per SQLite file, held for the life of the process. SQLAlchemy 1.4
# opens and closes a connection per session for file databases (NullPool), and the
# close of the *last* connection checkpoints and deletes the WAL, with an fsync: the
# cost WAL was meant to remove. While this one stays open, no close is the last.
_keep_open: Dict[str, sqlite3.Connection] = {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection) or getattr(dbapi_connection, "shop_managed", False):
        return  # PostgreSQL, or one of our own engines (shopdb.db sets its own pragmas)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        files = [row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"]
    finally:
        cursor.close()
    path = files[0] if files else ""
    if path and path not in _keep_open:
        keeper = sqlite3.connect(path, check_same_thread=False)
        keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()  # attach it to the WAL
        _keep_open[path] = keeper


def _patch_sqlite() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


def install() -> None:
    """Listen for new SQLite connections of Rasa's stores (idempotent)."""
    global _installed
    if not _installed:
        _patch_sqlite()
        _installed = True


__all__ = ["install"]
