"""The insights operations with the project's configuration filled in.

The CLI, the privacy blueprint and other parts call these; each takes an
optional ``sessions`` (tests pass their own database) and otherwise uses the
shop database, the broker and the tracker store of ``bot/endpoints.yml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from core.settings import get_settings
from insights import data_rights, erasure_requests
from insights.db import shop_sessions
from insights.stream import SQLEventSource, read_broker_config, tracker_store_url

CONFIGURED: Any = object()  # "use bot/endpoints.yml" (callers may pass None to skip, or their own)


def _existing(url: Optional[str]) -> Optional[str]:
    """``url``, unless it is a SQLite file that does not exist (nothing to read or erase; do not create it)."""
    if url is None:
        return None
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return None
    return url


def broker_source() -> Optional[SQLEventSource]:
    """The SQL broker's table, when the configured broker is the SQL one (RabbitMQ keeps nothing to read back)."""
    config = read_broker_config()
    url = _existing(config.sql_url()) if config is not None and config.is_sql else None
    return SQLEventSource.from_url(url) if url else None


def export_shopper(
    *,
    customer_id: Optional[str] = None,
    sender_id: Optional[str] = None,
    sessions: Optional[sessionmaker] = None,
    broker: Optional[SQLEventSource] = CONFIGURED,
) -> Dict[str, Any]:
    """Everything stored about a customer or a conversation (profiles, facts, raw broker events)."""
    return data_rights.export_data(
        customer_id=customer_id,
        sender_id=sender_id,
        sessions=sessions or shop_sessions(),
        broker=broker_source() if broker is CONFIGURED else broker,
    )


def delete_shopper(
    *,
    customer_id: Optional[str] = None,
    sender_id: Optional[str] = None,
    sessions: Optional[sessionmaker] = None,
    broker: Optional[SQLEventSource] = CONFIGURED,
    tracker_url: Optional[str] = CONFIGURED,
) -> Dict[str, int]:
    """Erase a customer's or a conversation's data everywhere this package knows of; returns counts.

    Besides profiles and facts: the SQL broker's raw events and the SQL tracker store's
    conversations of ``bot/endpoints.yml`` (pass ``broker``/``tracker_url`` to override, None to skip).
    """
    return data_rights.delete_data(
        customer_id=customer_id,
        sender_id=sender_id,
        sessions=sessions or shop_sessions(),
        broker=broker_source() if broker is CONFIGURED else broker,
        tracker_url=_existing(tracker_store_url()) if tracker_url is CONFIGURED else tracker_url,
    )


def carry_out_erasure_requests(
    sessions: Optional[sessionmaker] = None,
    broker: Optional[SQLEventSource] = CONFIGURED,
    tracker_url: Optional[str] = CONFIGURED,
) -> List[erasure_requests.ErasureRequest]:
    """Erase the data of every pending account-deletion request (:func:`delete_shopper`: the customer and
    the conversation the request came from) and mark each done with its counts."""
    sessions = sessions or shop_sessions()
    return erasure_requests.carry_out(
        sessions,
        lambda request: delete_shopper(
            customer_id=request.customer_id,
            sender_id=request.sender_id,
            sessions=sessions,
            broker=broker,
            tracker_url=tracker_url,
        ),
    )


def purge_expired(
    retention_days: Optional[int] = None,
    sessions: Optional[sessionmaker] = None,
    broker: Optional[SQLEventSource] = CONFIGURED,
) -> Dict[str, int]:
    """Apply the retention period (``SHOP_RETENTION_DAYS``, default 180)."""
    days = retention_days or get_settings().retention_days
    return data_rights.purge(
        retention_days=days,
        sessions=sessions or shop_sessions(),
        broker=broker_source() if broker is CONFIGURED else broker,
    )
