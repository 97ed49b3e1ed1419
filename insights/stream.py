"""The event stream: Rasa's event broker as configured in ``bot/endpoints.yml``.

Publishing uses Rasa's own brokers (``SQLEventBroker``, ``PikaEventBroker``).
Reading is what Rasa leaves to us: :class:`SQLEventSource` reads the SQL
broker's ``events`` table incrementally by id; :class:`PikaEventSource`
consumes the RabbitMQ queue the Pika broker publishes to (``shop_events``).
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, func, select
from sqlalchemy.engine import Engine

from core.settings import Settings, get_settings

logger = logging.getLogger(__name__)

# The SQL broker's table, as rasa.core.brokers.sql.SQLEventBroker defines it.
_metadata = MetaData()
BROKER_EVENTS = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("data", Text),
)


# Endpoint types that keep their data in Rasa's SQL tables (rasa_addons/tracker_store.py is one).
SQL_TYPES = {"sql", "rasa_addons.tracker_store.cachedsqltrackerstore"}


@dataclass
class BrokerConfig:
    """The ``event_broker`` section of an endpoints file."""

    type: str  # "sql" | "pika" | other Rasa broker types
    url: Optional[str]
    kwargs: Dict[str, Any]

    @property
    def is_sql(self) -> bool:
        """Rasa's SQL broker or store, or the shop's SQL tracker store (same tables)."""
        return self.type.lower() in SQL_TYPES

    @property
    def is_pika(self) -> bool:
        return self.type.lower() == "pika"

    def sql_url(self) -> str:
        """SQLAlchemy URL of the SQL broker's (or tracker store's) database, built as Rasa builds it.

        Same rules as ``rasa.core.tracker_store.SQLTrackerStore.get_db_url`` (a test
        keeps them equal); importing that module costs seconds (pymongo, lock stores).
        """
        from urllib.parse import urlsplit

        from sqlalchemy.engine import URL

        host, port = self.url, self.kwargs.get("port")
        if host and "://" in host:
            return host
        if host:
            parsed = urlsplit(f"scheme://{host}")
            port, host = parsed.port or port, parsed.hostname or host
        url = URL.create(
            self.kwargs.get("dialect", "sqlite"),
            self.kwargs.get("username"),
            self.kwargs.get("password"),
            host,
            int(port) if port else None,
            database=self.kwargs.get("login_db") or self.kwargs.get("db", "rasa.db"),
        )
        return url.render_as_string(hide_password=False)


@contextmanager
def _embedded_defaults(settings: Settings) -> Iterator[None]:
    """Fill the variables ``bot/endpoints.yml`` names with the launcher's defaults, for this read only."""
    defaults = {
        "SHOP_EVENTS_DB": str(settings.resolved_events_db),
        "SHOP_TRACKER_DB": str(settings.resolved_tracker_db),
        "SHOP_ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
        "SHOP_ACTION_TOKEN": "not-read-by-the-consumer",  # Rasa expands every variable of the file
    }
    added = [name for name in defaults if name not in os.environ]
    os.environ.update({name: defaults[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def read_endpoint(
    section: str, endpoints: Optional[Path] = None, settings: Optional[Settings] = None
) -> Optional[BrokerConfig]:
    """One section of ``endpoints`` (default ``bot/endpoints.yml``), read by Rasa's own reader."""
    from rasa.utils.endpoints import read_endpoint_config

    settings = settings or get_settings()
    with _embedded_defaults(settings):
        config = read_endpoint_config(str(endpoints or settings.endpoints), section)
    if config is None:
        return None
    return BrokerConfig(type=str(config.type or ""), url=config.url, kwargs=dict(config.kwargs))


def read_broker_config(endpoints: Optional[Path] = None, settings: Optional[Settings] = None) -> Optional[BrokerConfig]:
    """The ``event_broker`` of ``endpoints``; None when none is configured.

    ``SHOP_EVENTS_DB`` defaults to ``<var_dir>/events.db`` here, as the launcher sets it for Rasa.
    """
    return read_endpoint("event_broker", endpoints, settings)


def tracker_store_url(endpoints: Optional[Path] = None, settings: Optional[Settings] = None) -> Optional[str]:
    """The SQL tracker store's URL (for erasing a shopper's conversations), or None for other stores."""
    config = read_endpoint("tracker_store", endpoints, settings)
    return config.sql_url() if config is not None and config.is_sql else None


def sql_broker(url_or_path: str) -> Any:
    """Rasa's real ``SQLEventBroker`` writing to ``url_or_path`` (a SQLAlchemy URL or a SQLite file)."""
    from rasa.core.brokers.sql import SQLEventBroker

    if "://" in url_or_path:
        return SQLEventBroker(host=url_or_path)
    Path(url_or_path).parent.mkdir(parents=True, exist_ok=True)
    return SQLEventBroker(dialect="sqlite", db=url_or_path)


_default_broker: Any = None


def default_broker() -> Any:
    """The broker of ``bot/endpoints.yml`` for synchronous callers (scripts, tests).

    Only the SQL broker can be built outside an event loop; inside the Rasa
    server use the agent's broker, elsewhere ``await EventBroker.create(...)``.
    """
    global _default_broker
    if _default_broker is None:
        config = read_broker_config()
        if config is None:
            raise RuntimeError("no event_broker in the endpoints file")
        if not config.is_sql:
            raise RuntimeError(
                f"a {config.type} broker needs an event loop: pass the Rasa agent's broker, "
                "or create one with `await rasa.core.brokers.broker.EventBroker.create(...)`"
            )
        _default_broker = sql_broker(config.sql_url())
    return _default_broker


class SQLEventSource:
    """Reads the SQL broker's ``events`` table after a given id, in id order."""

    def __init__(self, engine: Engine, name: Optional[str] = None) -> None:
        self.engine = engine
        self.name = name or f"sql:{engine.url.render_as_string(hide_password=True)}"

    @classmethod
    def from_url(cls, url: str) -> "SQLEventSource":
        from shopdb.db import create_db_engine

        return cls(create_db_engine(url))

    def ensure_table(self) -> None:
        """Create the table as the broker would (the consumer may start before Rasa)."""
        _metadata.create_all(self.engine, tables=[BROKER_EVENTS])

    def latest_id(self) -> int:
        """The id of the newest event (0 for none): how far the broker's stream has come."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(BROKER_EVENTS.c.id))).scalar() or 0)

    def read_after(self, last_id: int, limit: int = 500) -> List[Tuple[int, Dict[str, Any]]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(BROKER_EVENTS.c.id, BROKER_EVENTS.c.data)
                .where(BROKER_EVENTS.c.id > last_id)
                .order_by(BROKER_EVENTS.c.id)
                .limit(limit)
            ).all()
        out = []
        for row_id, data in rows:
            try:
                out.append((row_id, json.loads(data)))
            except (TypeError, json.JSONDecodeError):
                logger.warning("broker event %s is not JSON; skipped", row_id)
                out.append((row_id, {}))
        return out

    def delete_senders(self, sender_ids: List[str]) -> int:
        """Erase a shopper's raw events (a deletion request)."""
        from sqlalchemy import inspect

        if not sender_ids or not inspect(self.engine).has_table("events"):
            return 0
        with self.engine.begin() as conn:
            return conn.execute(delete(BROKER_EVENTS).where(BROKER_EVENTS.c.sender_id.in_(sender_ids))).rowcount

    def events_of(self, sender_ids: List[str]) -> List[Dict[str, Any]]:
        from sqlalchemy import inspect

        if not inspect(self.engine).has_table("events"):
            return []
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(BROKER_EVENTS.c.data)
                    .where(BROKER_EVENTS.c.sender_id.in_(sender_ids))
                    .order_by(BROKER_EVENTS.c.id)
                )
                .scalars()
                .all()
            )
        return [json.loads(r) for r in rows]

    def purge_before(self, cutoff_ts: float, upto_id: Optional[int] = None, batch: int = 2000) -> int:
        """Delete raw events older than ``cutoff_ts`` (epoch seconds), oldest first.

        Ids grow with time, so the scan stops at the first batch holding only newer events.
        ``upto_id`` keeps events the consumer has not read yet.
        """
        from sqlalchemy import inspect

        if not inspect(self.engine).has_table("events"):
            return 0
        removed, last_id = 0, 0
        while True:
            rows = self.read_after(last_id, batch)
            if upto_id is not None:
                rows = [(i, d) for i, d in rows if i <= upto_id]
            if not rows:
                return removed
            old = [i for i, d in rows if float(d.get("timestamp") or 0) < cutoff_ts]
            if old:
                with self.engine.begin() as conn:
                    removed += conn.execute(delete(BROKER_EVENTS).where(BROKER_EVENTS.c.id.in_(old))).rowcount
            if len(old) < len(rows) * 0.5:
                return removed
            last_id = rows[-1][0]


class PikaEventSource:
    """Consumes the RabbitMQ queue that Rasa's ``PikaEventBroker`` publishes to.

    Declares the queue as the broker does (durable, bound to its fanout
    exchange), acknowledges a batch only after ``handle`` has committed it.
    """

    def __init__(
        self,
        host: str,
        username: str,
        password: str,
        port: int = 5672,
        queue: str = "shop_events",
        exchange: str = "rasa-exchange",
        virtual_host: str = "/",
    ) -> None:
        self.params = dict(host=host, username=username, password=password, port=int(port), virtual_host=virtual_host)
        self.queue, self.exchange = queue, exchange
        self._connection: Any = None
        self._channel: Any = None
        self._consumer: Any = None

    @classmethod
    def from_config(cls, config: BrokerConfig) -> "PikaEventSource":
        queues = config.kwargs.get("queues") or config.kwargs.get("queue") or ["rasa_core_events"]
        queue = queues[0] if isinstance(queues, (list, tuple)) else str(queues)
        return cls(
            host=str(config.url),
            username=str(config.kwargs.get("username", "guest")),
            password=str(config.kwargs.get("password", "guest")),
            port=int(config.kwargs.get("port", 5672)),
            queue=queue,
            exchange=str(config.kwargs.get("exchange_name", "rasa-exchange")),
        )

    def connect(self) -> None:
        import pika

        p = self.params
        credentials = pika.PlainCredentials(p["username"], p["password"])
        self._connection = pika.BlockingConnection(
            pika.ConnectionParameters(
                host=p["host"],
                port=p["port"],
                virtual_host=p["virtual_host"],
                credentials=credentials,
                heartbeat=60,
                connection_attempts=3,
                retry_delay=2,
            )
        )
        self._channel = self._connection.channel()
        self._channel.exchange_declare(self.exchange, exchange_type="fanout", durable=False)
        self._channel.queue_declare(self.queue, durable=True)
        self._channel.queue_bind(self.queue, self.exchange, routing_key="")
        self._channel.basic_qos(prefetch_count=500)

    @property
    def connected(self) -> bool:
        return self._connection is not None and self._connection.is_open

    def queued(self) -> int:
        """Messages waiting in the queue (delivered but unacknowledged ones not counted)."""
        if self._channel is None:
            return 0
        return int(self._channel.queue_declare(self.queue, durable=True, passive=True).method.message_count)

    def close(self) -> None:
        if self._connection is not None and self._connection.is_open:
            self._connection.close()
        self._connection = self._channel = self._consumer = None

    def drain(self, handle: Callable[[List[Dict[str, Any]]], Any], max_wait: float = 0.1, batch: int = 200) -> int:
        """Hand every queued message to ``handle`` in batches; ack after each batch. Returns the count."""
        if self._channel is None:
            self.connect()
        assert self._channel is not None  # connect() opened it or raised
        total = 0
        if self._consumer is None:
            self._consumer = self._channel.consume(self.queue, inactivity_timeout=max_wait, auto_ack=False)
        while True:
            messages = []
            for method, _props, body in self._consumer:
                if method is None:  # nothing arrived within max_wait
                    break
                messages.append((method.delivery_tag, body))
                # Hand over what is already here instead of waiting for a full batch.
                if len(messages) >= batch or self._channel.get_waiting_message_count() == 0:
                    break
            if not messages:
                return total
            events = []
            for _, body in messages:
                try:
                    events.append(json.loads(body))
                except (TypeError, json.JSONDecodeError):
                    logger.warning("RabbitMQ message is not JSON; dropped")
            handle(events)
            self._channel.basic_ack(messages[-1][0], multiple=True)
            total += len(messages)
