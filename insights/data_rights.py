"""A shopper's data rights (export, erasure) and the retention purge.

What is kept about a shopper: session/customer profiles (interests, counters,
masked recent searches and unanswered messages), analytics facts (intents,
actions, product ids; masked text only for fallbacks and searches), and, with
the SQL broker, Rasa's raw events. Export returns all of it; delete removes
all of it, plus the sender's conversation in Rasa's SQL tracker store and, when
hand-off tickets and messages (``shopdb.handoff_records``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Optional, Set

from sqlalchemy import Column, Integer, MetaData, String, Table, delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from insights.stream import SQLEventSource
from shopdb import handoff_records
from shopdb.models import ConsumerCursor, InsightFact, ProfileScope, ReviewItem, ShopperProfile
from shopdb.photos import erase_shopper_photos, photos_dir
from shopdb.ratings import erase_shopper_ratings, export_shopper_ratings
from shopdb.stock_alerts import erase_shopper_alerts, export_shopper_alerts

logger = logging.getLogger(__name__)

# Rasa's SQLTrackerStore keeps one row per event in a table also named "events".
_tracker_metadata = MetaData()
TRACKER_EVENTS = Table(
    "events", _tracker_metadata, Column("id", Integer, primary_key=True), Column("sender_id", String(255))
)


class SubjectRequired(ValueError):
    """Export/delete needs a customer id or a sender id."""


def linked_senders(session: Session, customer_id: Optional[str], sender_id: Optional[str]) -> Set[str]:
    """The conversations that belong to the subject (a customer's come from profiles and facts)."""
    if not customer_id and not sender_id:
        raise SubjectRequired("give a customer id or a sender id")
    senders: Set[str] = {sender_id} if sender_id else set()
    if customer_id:
        senders |= set(
            session.execute(
                select(ShopperProfile.subject).where(
                    ShopperProfile.scope == ProfileScope.SESSION, ShopperProfile.customer_id == customer_id
                )
            ).scalars()
        )
        senders |= set(
            session.execute(
                select(InsightFact.sender_id).where(InsightFact.customer_id == customer_id).distinct()
            ).scalars()
        )
    return senders


def _profile_filter(customer_id: Optional[str], senders: Set[str]):
    conditions = [(ShopperProfile.scope == ProfileScope.SESSION) & ShopperProfile.subject.in_(sorted(senders))]
    if customer_id:
        conditions.append((ShopperProfile.scope == ProfileScope.CUSTOMER) & (ShopperProfile.subject == customer_id))
    return or_(*conditions)


def _fact_filter(customer_id: Optional[str], senders: Set[str]):
    conditions = [InsightFact.sender_id.in_(sorted(senders))]
    if customer_id:
        conditions.append(InsightFact.customer_id == customer_id)
    return or_(*conditions)


def _bulk(statement):
    return statement.execution_options(synchronize_session=False)


def export_data(
    *,
    customer_id: Optional[str] = None,
    sender_id: Optional[str] = None,
    sessions: sessionmaker,
    broker: Optional[SQLEventSource] = None,
) -> Dict[str, Any]:
    """Everything stored about the subject, as JSON-ready data."""
    with sessions() as session:
        senders = linked_senders(session, customer_id, sender_id)
        profiles = session.execute(select(ShopperProfile).where(_profile_filter(customer_id, senders))).scalars().all()
        facts = (
            session.execute(
                select(InsightFact).where(_fact_filter(customer_id, senders)).order_by(InsightFact.at, InsightFact.id)
            )
            .scalars()
            .all()
        )
        out: Dict[str, Any] = {
            "subject": {"customer_id": customer_id, "sender_id": sender_id},
            "exported_at": dt.datetime.utcnow().isoformat(timespec="seconds"),
            "conversations": sorted(senders),
            "profiles": [{"scope": p.scope, "subject": p.subject, "data": p.data} for p in profiles],
            "facts": [
                {
                    "at": f.at.isoformat(),
                    "sender_id": f.sender_id,
                    "kind": f.kind,
                    "name": f.name,
                    "confidence": f.confidence,
                    "text": f.text,
                    "data": f.data,
                }
                for f in facts
            ],
        }
        out["handoff"] = handoff_records.export_shopper(session, sorted(senders), customer_id)
        out["stock_alerts"] = export_shopper_alerts(session, sorted(senders), customer_id)
        out["ratings"] = export_shopper_ratings(session, sorted(senders), customer_id)
        out["review_queue"] = [
            {"sender_id": r.sender_id, "text": r.text, "status": r.status, "intent": r.intent}
            for r in session.query(ReviewItem).filter(ReviewItem.sender_id.in_(sorted(senders))).all()
        ]
    if broker is not None and senders:
        out["events"] = broker.events_of(sorted(senders))
    return out


def delete_data(
    *,
    customer_id: Optional[str] = None,
    sender_id: Optional[str] = None,
    sessions: sessionmaker,
    broker: Optional[SQLEventSource] = None,
    tracker_url: Optional[str] = None,
) -> Dict[str, int]:
    """Erase the subject's profiles, facts, raw broker events and tracker conversations; returns counts."""
    counts: Dict[str, int] = {}
    with sessions.begin() as session:
        senders = linked_senders(session, customer_id, sender_id)
        counts["profiles"] = session.execute(
            _bulk(delete(ShopperProfile).where(_profile_filter(customer_id, senders)))
        ).rowcount
        counts["facts"] = session.execute(_bulk(delete(InsightFact).where(_fact_filter(customer_id, senders)))).rowcount
        counts["handoff"] = int(handoff_records.erase_shopper(session, sorted(senders), customer_id))
        counts["stock_alerts"] = erase_shopper_alerts(session, sorted(senders), customer_id)
        counts["ratings"] = erase_shopper_ratings(session, sorted(senders), customer_id)
        counts["review_queue"] = session.execute(
            _bulk(delete(ReviewItem).where(ReviewItem.sender_id.in_(sorted(senders))))
        ).rowcount
    counts["photos"] = erase_shopper_photos(photos_dir(), sorted(senders))
    if broker is not None:
        counts["broker_events"] = broker.delete_senders(sorted(senders))
    if tracker_url:
        counts["tracker_events"] = _delete_tracker(tracker_url, sorted(senders))
    return counts


def _delete_tracker(url: str, senders: List[str]) -> int:
    from sqlalchemy import inspect

    from shopdb.db import create_db_engine

    engine = create_db_engine(url)
    try:
        if not senders or not inspect(engine).has_table("events"):
            return 0
        with engine.begin() as conn:
            return conn.execute(delete(TRACKER_EVENTS).where(TRACKER_EVENTS.c.sender_id.in_(senders))).rowcount
    finally:
        engine.dispose()


def purge(
    *,
    retention_days: int,
    sessions: sessionmaker,
    broker: Optional[SQLEventSource] = None,
    now: Optional[dt.datetime] = None,
) -> Dict[str, int]:
    """Delete facts, idle profiles and consumed raw broker events older than the retention period."""
    cutoff = (now or dt.datetime.utcnow()) - dt.timedelta(days=retention_days)
    counts: Dict[str, int] = {}
    with sessions.begin() as session:
        counts["facts"] = session.execute(_bulk(delete(InsightFact).where(InsightFact.at < cutoff))).rowcount
        last_activity = func.coalesce(ShopperProfile.last_event_at, ShopperProfile.updated_at)
        counts["profiles"] = session.execute(_bulk(delete(ShopperProfile).where(last_activity < cutoff))).rowcount
        cursor = session.get(ConsumerCursor, broker.name) if broker is not None else None
    if broker is not None:
        # Only what the consumer has read: an unread event still has to reach the profiles.
        upto = int(cursor.last_id) if cursor is not None else 0
        counts["broker_events"] = broker.purge_before(cutoff.replace(tzinfo=dt.timezone.utc).timestamp(), upto_id=upto)
    return counts
