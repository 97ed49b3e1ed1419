"""Two measured hot spots of the Rasa 3.6 server, fixed without changing what it does.

Profiled with py-spy under the load test (``python -m assistant.loadtest``, embedded
default, 10 shoppers): of the Rasa process's CPU,

- ~17 % went to ``jsonschema.validate`` checking Rasa's *own* action-response
  schema against the JSON-Schema meta-schema on every custom-action call
  (``RemoteAction._validate_action_result`` calls ``validate(result, schema)``,
  which runs ``check_schema`` each time). :func:`install` compiles the validator
  once; every response is still validated against the same schema, with the same
  error;
- ~25 % went to SQLite commits of the tracker store and the SQL event broker
  (one commit per event, each an fsync in SQLite's default rollback-journal mode).
  :func:`install` puts Rasa's SQLite files in WAL mode with ``synchronous=NORMAL``
  and keeps one connection to each open (so the WAL is not checkpointed away on
  every session close): a commit no longer waits for the disk; a crash of the
  process loses nothing, a power cut can lose the last commits. PostgreSQL
  (scale-out) is untouched.

Rasa has no hook for either, so the shop channel (``web.channel``, loaded by every
``rasa run`` of this project through ``credentials.yml``) calls :func:`install`
when Rasa builds its routes, before the tracker store connects.
"""
from __future__ import annotations

import logging
import sqlite3
from typing import Any, Dict

logger = logging.getLogger(__name__)

_installed = False


def _compiled_action_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema: Dict[str, Any] = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, instead of on every action call
    return cls(schema)


def _patch_action_validation() -> None:
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import DOCS_BASE_URL, RemoteAction

    validator = _compiled_action_validator()

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        """Rasa's check, same schema, same error; the validator is compiled once."""
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]


# One idle connection per SQLite file, held for the life of the process. SQLAlchemy 1.4
# opens and closes a connection per session for file databases (NullPool), and the
# close of the *last* connection checkpoints and deletes the WAL, with an fsync: the
# cost WAL was meant to remove. While this one stays open, no close is the last.
_keep_open: Dict[str, sqlite3.Connection] = {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection) or getattr(dbapi_connection, "shop_managed", False):
        return  # PostgreSQL, or one of our own engines (knowledge.db sets its own pragmas)
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
    """Apply both fixes in this process (idempotent)."""
    global _installed
    if _installed:
        return
    _patch_action_validation()
    _patch_sqlite()
    _installed = True
    logger.debug("Rasa speed-ups installed (compiled action-response validator, SQLite WAL)")


__all__ = ["install"]
