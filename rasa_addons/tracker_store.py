"""Rasa's SQL tracker store without the re-reads: each conversation's tracker stays in memory.

Profiled under the load test (``python -m perf.loadtest``, embedded default,
20 shoppers), Rasa 3.6's ``SQLTrackerStore`` took about a third of the Rasa
server's CPU: every turn reads the whole conversation back from the database
(all events, JSON-decoded and replayed into a tracker), and saving reads it a
second time to find which events are new (``stream_events``) and counts them a
third time (``_additional_events``). The SQL event broker then opens a session
and commits once per event.

:class:`CachedSQLTrackerStore` is the same store, same tables, same rows, with
three changes:

- the tracker a turn saved is kept in memory (a bounded LRU) and handed to the
  next turn of that conversation as long as the database still ends at the event
  this process last wrote for it: one indexed ``max(id)`` query instead of the
  whole conversation. Another process that writes to the conversation (a second
  Rasa server in the scale-out stack, an agent's hand-back) moves ``max(id)``, and
  the next retrieve reads the database as before;
- saving knows how many events are stored, so it neither re-reads nor counts,
  and writes the new events (and, with Rasa's SQL event broker, their copies on
  the event stream) in one transaction each;
- SQLite files get a pooled engine (SQLAlchemy 1.4 opens a new connection per
  session for them), PostgreSQL keeps Rasa's pool.

Configured in ``bot/endpoints.yml`` (``type: rasa_addons.tracker_store.CachedSQLTrackerStore``)
with the same keys as Rasa's ``SQL`` type. ``SHOP_TRACKER_CACHE_SIZE`` bounds the
number of conversations kept (0 turns the cache off: every retrieve reads the database).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from core.settings import get_settings
from monitoring import metrics

logger = logging.getLogger(__name__)

SQLITE_POOL_SIZE = 4


def pooled_sqlite_engine(engine: sa.engine.Engine) -> sa.engine.Engine:
    """A pooled engine for a SQLite *file* (other databases: ``engine`` unchanged).

    SQLAlchemy 1.4 gives SQLite files a ``NullPool``: every session connects
    anew (and the WAL pragmas of ``rasa_addons.patches.sqlite_stores`` run again).
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return engine
    pooled = sa.create_engine(
        url,
        poolclass=sa.pool.QueuePool,
        pool_size=SQLITE_POOL_SIZE,
        max_overflow=2 * SQLITE_POOL_SIZE,
        connect_args={"check_same_thread": False},
    )
    engine.dispose()
    return pooled


def use_pooled_engine(holder: Any) -> None:
    """Swaps the engine (and session factory) of a Rasa SQL store or broker for a pooled one."""
    pooled = pooled_sqlite_engine(holder.engine)
    if pooled is not holder.engine:
        holder.engine = pooled
        holder.sessionmaker = sa.orm.sessionmaker(bind=pooled)


@dataclass
class _Stored:
    """What this process knows is in the database for one conversation."""

    tracker: DialogueStateTracker  # the tracker object last saved or loaded
    events: int  # events of its latest session that are stored
    last_id: Optional[int]  # the conversation's highest event id in the database


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that hands a conversation's saved tracker to its next turn."""

    def __init__(self, *args: Any, cache_size: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_pooled_engine(self)
        if isinstance(self.event_broker, SQLEventBroker):
            use_pooled_engine(self.event_broker)
        if cache_size is None:
            cache_size = get_settings().tracker_cache_size
        self.cache_size = max(0, cache_size)
        self._stored: "OrderedDict[str, _Stored]" = OrderedDict()
        self.hits = 0
        self.misses = 0

    # --- reading ---------------------------------------------------------------------------------

    def _last_event_id(self, session: Any, sender_id: Text) -> Optional[int]:
        return session.query(sa.func.max(self.SQLEvent.id)).filter(self.SQLEvent.sender_id == sender_id).scalar()

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session's tracker: from memory when the database has nothing newer."""
        stored = self._stored.get(sender_id)
        with self.session_scope() as session:
            last_id = self._last_event_id(session, sender_id)
        if (
            stored is not None
            and stored.last_id == last_id
            and len(stored.tracker.events) == stored.events  # nobody changed it since it was stored
        ):
            self._stored.move_to_end(sender_id)
            self.hits += 1
            metrics.TRACKER_CACHE.labels("hit").inc()
            return stored.tracker
        self.misses += 1
        metrics.TRACKER_CACHE.labels("miss").inc()
        # Rasa's own read. A write between the two queries leaves last_id behind the events read,
        # so the next retrieve reads the database again: never stale, at worst one more read.
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions=False)
        self._remember(sender_id, tracker, last_id)
        return tracker

    def _remember(self, sender_id: Text, tracker: Optional[DialogueStateTracker], last_id: Optional[int]) -> None:
        if tracker is None or self.cache_size == 0:
            self._stored.pop(sender_id, None)
            return
        self._stored[sender_id] = _Stored(tracker, len(tracker.events), last_id)
        self._stored.move_to_end(sender_id)
        while len(self._stored) > self.cache_size:
            self._stored.popitem(last=False)

    # --- writing ---------------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Writes the tracker's new events (and streams them), reading nothing back."""
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            last_id = self._last_event_id(session, sender_id)
            stored = self._stored.get(sender_id)
            if stored is not None and stored.tracker is tracker and stored.last_id == last_id:
                already = stored.events
            else:  # a tracker this process did not load, or the database moved on: count as Rasa does
                already = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            new_events: List[Event] = list(itertools.islice(tracker.events, already, len(tracker.events)))
            await self._publish(new_events, sender_id)
            rows = [self._row(sender_id, event) for event in new_events]
            session.add_all(rows)
            session.flush()
            if rows:
                last_id = rows[-1].id
            session.commit()
        if any(isinstance(event, SessionStarted) for event in new_events):
            # a new session began in this tracker: a fresh read holds only that session
            self._stored.pop(sender_id, None)
        else:
            self._remember(sender_id, tracker, last_id)
        logger.debug("Tracker with sender_id '%s' stored (%d new events)", sender_id, len(new_events))

    def _row(self, sender_id: Text, event: Event) -> Any:
        data: Dict[Text, Any] = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    async def _publish(self, new_events: List[Event], sender_id: Text) -> None:
        """Streams the new events as Rasa does; Rasa's SQL broker gets them in one transaction."""
        broker: Optional[EventBroker] = self.event_broker
        if broker is None or not new_events:
            return
        if not isinstance(broker, SQLEventBroker):
            await self._stream_new_events(broker, new_events, sender_id)  # Rasa's: one publish per event
            metrics.EVENTS_PUBLISHED.inc(len(new_events))
            return
        with broker.session_scope() as session:
            session.add_all(
                broker.SQLBrokerEvent(sender_id=sender_id, data=json.dumps({"sender_id": sender_id, **event.as_dict()}))
                for event in new_events
            )
            session.commit()
        metrics.EVENTS_PUBLISHED.inc(len(new_events))
