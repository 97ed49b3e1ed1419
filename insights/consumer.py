"""The consumer: broker events in, session and customer profiles and analytics facts out.

One batch is one database transaction: the facts, the profiles and (for the
SQL broker) the cursor move together, so a crash neither loses nor repeats
events. RabbitMQ delivers at least once; each profile remembers the hashes of
its recent events and skips a redelivered one.
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple

from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from insights import profile_store
from insights.catalogue import Catalogue
from insights.interpret import interpret
from insights.profile import Profile
from insights.profile_updates import observe
from insights.stream import BrokerConfig, PikaEventSource, SQLEventSource
from monitoring import metrics
from monitoring.health import Check, NotReady, sql_reachable
from shopdb.models import ConsumerCursor, InsightFact, ProfileScope

logger = logging.getLogger(__name__)

LAG_EVERY = 1.0  # seconds between two measurements of the broker's backlog
STALLED_AFTER = 30.0  # seconds without a loop round: /health/ready says the consumer is stuck


class _Heartbeat:
    """When the consumer's loop last went round, and when it last measured the backlog."""

    def __init__(self) -> None:
        self.beat_at: Optional[float] = None
        self.lag_at = 0.0

    def beat(self) -> None:
        self.beat_at = time.monotonic()

    def lag_due(self) -> bool:
        if time.monotonic() - self.lag_at < LAG_EVERY:
            return False
        self.lag_at = time.monotonic()
        return True

    def check(self) -> None:
        if self.beat_at is None:
            raise NotReady("not consuming yet")
        if time.monotonic() - self.beat_at > STALLED_AFTER:
            raise NotReady(f"no round of the consumer's loop for {time.monotonic() - self.beat_at:.0f} s")


@dataclass
class BatchResult:
    events: int = 0
    facts: int = 0
    profiles: int = 0
    skipped: int = 0


@dataclass
class ProfileUpdater:
    """Applies broker events to profiles and facts inside one database session."""

    sessions: sessionmaker
    catalogue: Catalogue = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.catalogue is None:
            self.catalogue = Catalogue(self.sessions)

    def apply(self, session: Session, raws: Iterable[Mapping[str, Any]]) -> BatchResult:
        result = BatchResult()
        cache: Dict[Tuple[str, str], Profile] = {}

        def profile_for(scope: str, subject: str) -> Profile:
            key = (scope, subject)
            if key not in cache:
                cache[key] = profile_store.load(session, scope, subject) or Profile(scope=scope, subject=subject)
            return cache[key]

        for raw in raws:
            result.events += 1
            obs = interpret(raw)
            if obs is None:
                result.skipped += 1
                continue
            own = profile_for(ProfileScope.SESSION, obs.sender_id)
            if own.seen(obs.key):
                result.skipped += 1
                continue
            customer_id = obs.customer_id or own.customer_id
            if obs.customer_id and obs.customer_id != own.customer_id:
                # The shopper just logged in: the customer keeps what the anonymous session learnt.
                profile_store.absorb(profile_for(ProfileScope.CUSTOMER, obs.customer_id), own)
            facts = observe(own, obs, self.catalogue)
            if customer_id:
                customer = profile_for(ProfileScope.CUSTOMER, customer_id)
                customer.customer_id = customer_id
                customer.seen(obs.key)
                observe(customer, obs, self.catalogue)
            for fact in facts:
                session.add(
                    InsightFact(
                        at=obs.at,
                        sender_id=obs.sender_id,
                        conversation=own.conversation,
                        customer_id=customer_id,
                        kind=fact.kind,
                        name=(fact.name or "")[:100],
                        confidence=fact.confidence,
                        text=fact.text,
                        data=fact.data,
                    )
                )
            result.facts += len(facts)
        for profile in cache.values():
            profile_store.store(session, profile)
        result.profiles = len(cache)
        return result

    def process(self, raws: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Apply a batch in its own transaction (the entry point for tests and the Pika consumer)."""
        with self.sessions.begin() as session:
            return self.apply(session, raws)


class SQLConsumer:
    """Follows the SQL broker's ``events`` table by id; the cursor lives in the shop database."""

    def __init__(self, source: SQLEventSource, updater: ProfileUpdater, batch: int = 500) -> None:
        self.source, self.updater, self.batch = source, updater, batch
        self.heartbeat = _Heartbeat()
        self.last_id: Optional[int] = None  # the cursor after the latest batch

    def readiness_checks(self) -> Dict[str, Check]:
        return {"event_broker": sql_reachable(self.source.engine), "consumer_loop": self.heartbeat.check}

    def measure_lag(self) -> None:
        """``shop_event_broker_lag_events``: rows of the broker's table after the cursor."""
        cursor = self.last_id if self.last_id is not None else self.cursor()
        metrics.EVENT_BROKER_LAG.set(max(0, self.source.latest_id() - cursor))

    def cursor(self) -> int:
        with self.updater.sessions() as session:
            row = session.get(ConsumerCursor, self.source.name)
            return int(row.last_id) if row is not None else 0

    def consume_once(self) -> BatchResult:
        """Read and apply everything new (in batches); returns the totals."""
        total = BatchResult()
        while True:
            started = time.perf_counter()
            with self.updater.sessions.begin() as session:
                row = session.get(ConsumerCursor, self.source.name, with_for_update=True)
                last_id = int(row.last_id) if row is not None else 0
                batch = self.source.read_after(last_id, self.batch)
                if not batch:
                    return total
                result = self.updater.apply(session, [data for _, data in batch])
                if row is None:
                    row = ConsumerCursor(name=self.source.name)
                    session.add(row)
                row.last_id = batch[-1][0]
                row.updated_at = utcnow()
            self.last_id = batch[-1][0]
            metrics.EVENTS_CONSUMED.inc(len(batch))
            metrics.CONSUMER_BATCH_SECONDS.observe(time.perf_counter() - started)
            for name in ("events", "facts", "profiles", "skipped"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
            if len(batch) < self.batch:
                return total

    def run(self, poll_seconds: float = 0.1, stop: Optional[Any] = None) -> None:
        """Poll until ``stop()`` is true or SIGTERM/SIGINT arrives."""
        stopping = _Stopper(stop)
        self.source.ensure_table()
        while not stopping():
            self.heartbeat.beat()
            try:
                result = self.consume_once()
                if self.heartbeat.lag_due():
                    self.measure_lag()
            except Exception:  # a locked or briefly unavailable database: retry, never die
                logger.exception("consuming the SQL event broker failed; retrying")
                time.sleep(min(5.0, poll_seconds * 20))
                continue
            if result.events:
                logger.info("consumed %d events (%d facts)", result.events, result.facts)
            else:
                time.sleep(poll_seconds)


class PikaConsumer:
    """Drains the RabbitMQ queue into profiles; acks only committed batches."""

    def __init__(self, source: PikaEventSource, updater: ProfileUpdater) -> None:
        self.source, self.updater = source, updater
        self.heartbeat = _Heartbeat()

    def readiness_checks(self) -> Dict[str, Check]:
        def connected() -> None:
            if not self.source.connected:
                raise NotReady("not connected to RabbitMQ")

        return {"event_broker": connected, "consumer_loop": self.heartbeat.check}

    def consume_once(self, max_wait: float = 0.1) -> int:
        started = time.perf_counter()
        count = self.source.drain(self.updater.process, max_wait=max_wait)
        if count:
            metrics.EVENTS_CONSUMED.inc(count)
            metrics.CONSUMER_BATCH_SECONDS.observe(time.perf_counter() - started)
        return count

    def run(self, stop: Optional[Any] = None) -> None:
        stopping = _Stopper(stop)
        while not stopping():
            self.heartbeat.beat()
            try:
                count = self.consume_once(max_wait=0.2)
                if self.heartbeat.lag_due():
                    metrics.EVENT_BROKER_LAG.set(self.source.queued())
            except Exception:
                logger.exception("consuming RabbitMQ failed; reconnecting")
                self.source.close()
                time.sleep(2)
                continue
            if count:
                logger.info("consumed %d events", count)
        self.source.close()


class _Stopper:
    def __init__(self, stop: Optional[Any]) -> None:
        self.stop, self.flag = stop, False
        if stop is None:
            for sig in (signal.SIGTERM, signal.SIGINT):
                try:
                    signal.signal(sig, self._set)
                except ValueError:  # not the main thread
                    pass

    def _set(self, *_: Any) -> None:
        self.flag = True

    def __call__(self) -> bool:
        return self.flag or bool(self.stop and self.stop())


def consumer_for(config: BrokerConfig, sessions: sessionmaker) -> Any:
    """The consumer matching the configured broker type."""
    updater = ProfileUpdater(sessions)
    if config.is_sql:
        return SQLConsumer(SQLEventSource.from_url(config.sql_url()), updater)
    if config.is_pika:
        return PikaConsumer(PikaEventSource.from_config(config), updater)
    raise ValueError(f"no consumer for a {config.type!r} event broker (use SQL or pika)")


def consume_sql(events_url: str, sessions: sessionmaker) -> BatchResult:
    """Apply everything new in the SQL broker at ``events_url`` once: what the tests call."""
    source = SQLEventSource.from_url(events_url)
    source.ensure_table()
    return SQLConsumer(source, ProfileUpdater(sessions)).consume_once()


__all__ = ["BatchResult", "PikaConsumer", "ProfileUpdater", "SQLConsumer", "consume_sql", "consumer_for"]
