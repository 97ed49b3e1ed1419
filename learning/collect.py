"""Filling the review queue from the tracker store: the messages the bot may have misread.

A message joins the queue when its top intent's confidence is below ``SHOP_REVIEW_CONFIDENCE``,
when the bot fell back on it (``nlu_fallback``/``out_of_scope``, or a fallback action answered it),
when its conversation was handed to a person, or when the shopper rated the conversation 1 or 2.
Each run reads the tracker store's ``events`` rows after the last one it read (a cursor in the
shop database, like the insights consumer's), so it can run as often as wanted; a message found
twice keeps one row with both reasons. Button payloads (``/intent{...}``) are not shoppers' words
and never join. The text is scrubbed on the way in (:func:`core.log_masking.scrub_personal_data`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, List, Optional, Tuple

from sqlalchemy import MetaData, Table, create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from core.log_masking import scrub_personal_data
from core.settings import get_settings
from insights.intent_meanings import FALLBACK_ACTIONS, FALLBACK_INTENTS
from shopdb.models import ConsumerCursor, ConversationRating, ReviewItem, ReviewSource

logger = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff_to_human"
# In a handed-off or badly rated conversation, confident small talk and the request for a person
# are not what went wrong: they stay out of the queue.
CLEAR_IN_CONTEXT = frozenset({"request_human", "greet", "goodbye", "thank", "affirm", "deny"})
MAX_TEXT_CHARS = 300  # longer messages are rarely good training examples (and are read by their sentences)
CONTEXT_MESSAGES = 10  # of a handed-off or badly rated conversation: its last messages
BATCH = 2000


@dataclass
class Message:
    """One shopper message of the tracker store, as the bot read it."""

    event_id: int
    sender_id: str
    text: str
    intent: Optional[str]
    confidence: Optional[float]
    ranking: List[Dict[str, Any]]
    said_at: Optional[dt.datetime]

    @classmethod
    def from_row(cls, event_id: int, sender_id: str, data: Dict[str, Any]) -> Optional["Message"]:
        text = str(data.get("text") or "").strip()
        if not text or text.startswith("/") or len(text) > MAX_TEXT_CHARS:
            return None
        parse = data.get("parse_data") or {}
        intent = parse.get("intent") or {}
        ranking = [
            {"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0.0), 3)}
            for r in (parse.get("intent_ranking") or [])[:5]
        ]
        stamp = data.get("timestamp")
        return cls(
            event_id=event_id,
            sender_id=sender_id,
            text=text,
            intent=intent.get("name"),
            confidence=float(intent["confidence"]) if intent.get("confidence") is not None else None,
            ranking=ranking,
            said_at=dt.datetime.utcfromtimestamp(float(stamp)) if stamp else None,
        )


@dataclass
class CollectResult:
    events: int = 0
    added: int = 0
    updated: int = 0
    by_source: Dict[str, int] = field(default_factory=lambda: defaultdict(int))


class TrackerEvents:
    """Rasa's SQL tracker store ``events`` table, read only."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table = Table("events", MetaData(), autoload_with=engine)
        self.name = f"review:{engine.url.render_as_string(hide_password=True)}"

    @classmethod
    def from_url(cls, url: str) -> "TrackerEvents":
        return cls(create_engine(url))

    def after(self, last_id: int, limit: int = BATCH) -> List[Tuple[int, str, str, Dict[str, Any]]]:
        t = self.table
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(t.c.id, t.c.sender_id, t.c.type_name, t.c.data)
                .where(t.c.id > last_id, t.c.type_name.in_(("user", "action", "session_started")))
                .order_by(t.c.id)
                .limit(limit)
            ).all()
        return [(int(i), str(s), str(k), _json(d)) for i, s, k, d in rows]

    def last_messages(self, sender_id: str, before_id: Optional[int] = None) -> List[Message]:
        """The conversation's latest messages of its current session (before ``before_id``), oldest first."""
        t = self.table
        query = select(t.c.id, t.c.type_name, t.c.data).where(
            t.c.sender_id == sender_id, t.c.type_name.in_(("user", "session_started"))
        )
        if before_id is not None:
            query = query.where(t.c.id < before_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(t.c.id.desc()).limit(4 * CONTEXT_MESSAGES)).all()
        found: List[Message] = []
        for event_id, kind, data in rows:
            if kind == "session_started":
                break
            message = Message.from_row(int(event_id), sender_id, _json(data))
            if message is not None:
                found.append(message)
            if len(found) >= CONTEXT_MESSAGES:
                break
        return list(reversed(found))


def _json(raw: Any) -> Dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _keep(session: Session, message: Message, source: str, result: CollectResult) -> None:
    """Add the message to the queue with ``source``, or add the reason to its row."""
    row = session.execute(
        select(ReviewItem).where(ReviewItem.sender_id == message.sender_id, ReviewItem.event_id == message.event_id)
    ).scalar_one_or_none()
    if row is None:
        session.add(
            ReviewItem(
                sender_id=message.sender_id,
                event_id=message.event_id,
                text=scrub_personal_data(message.text),
                predicted_intent=message.intent,
                confidence=message.confidence,
                ranking=message.ranking,
                sources=[source],
                said_at=message.said_at,
            )
        )
        session.flush()
        result.added += 1
    elif source not in (row.sources or []):
        row.sources = [*(row.sources or []), source]
        result.updated += 1
    else:
        return
    result.by_source[source] += 1


def _cursor(session: Session, name: str) -> ConsumerCursor:
    row = session.get(ConsumerCursor, name)
    if row is None:
        row = ConsumerCursor(name=name, last_id=0)
        session.add(row)
    return row


def collect(sessions: sessionmaker, events: TrackerEvents, threshold: Optional[float] = None) -> CollectResult:
    """Read the tracker store's new events and ratings into the review queue; returns what changed."""
    threshold = get_settings().review_confidence if threshold is None else threshold
    result = CollectResult()
    recent: Dict[str, Deque[Message]] = defaultdict(lambda: deque(maxlen=CONTEXT_MESSAGES))
    while True:
        with sessions.begin() as session:
            cursor = _cursor(session, events.name)
            batch = events.after(int(cursor.last_id))
            for event_id, sender_id, kind, data in batch:
                result.events += 1
                if kind == "session_started":
                    recent.pop(sender_id, None)
                elif kind == "user":
                    message = Message.from_row(event_id, sender_id, data)
                    if message is None:
                        continue
                    recent[sender_id].append(message)
                    if message.intent in FALLBACK_INTENTS:
                        _keep(session, message, ReviewSource.FALLBACK, result)
                    elif message.confidence is not None and message.confidence < threshold:
                        _keep(session, message, ReviewSource.LOW_CONFIDENCE, result)
                elif kind == "action":
                    name = data.get("name")
                    if name in FALLBACK_ACTIONS and recent.get(sender_id):
                        _keep(session, recent[sender_id][-1], ReviewSource.FALLBACK, result)
                    elif name == HANDOFF_ACTION:
                        messages = list(recent.get(sender_id) or ()) or events.last_messages(sender_id, event_id)
                        for message in _worth_reviewing(messages, threshold):
                            _keep(session, message, ReviewSource.HANDOFF, result)
            if batch:
                cursor.last_id = batch[-1][0]
                cursor.updated_at = utcnow()
        if len(batch) < BATCH:
            break
    _collect_low_ratings(sessions, events, result, threshold)
    return result


def _worth_reviewing(messages: List[Message], threshold: float) -> List[Message]:
    """A conversation's messages without the confidently read small talk and request for a person."""
    return [
        m
        for m in messages
        if not (m.intent in CLEAR_IN_CONTEXT and m.confidence is not None and m.confidence >= threshold)
    ]


def _collect_low_ratings(
    sessions: sessionmaker, events: TrackerEvents, result: CollectResult, threshold: float
) -> None:
    """Conversations rated 1 or 2 since the last run: their last messages join the queue."""
    with sessions.begin() as session:
        cursor = _cursor(session, f"{events.name}:ratings")
        rows = session.execute(
            select(ConversationRating.id, ConversationRating.sender_id)
            .where(ConversationRating.id > cursor.last_id, ConversationRating.rating <= 2)
            .order_by(ConversationRating.id)
        ).all()
        newest = session.execute(select(ConversationRating.id).order_by(ConversationRating.id.desc()).limit(1)).scalar()
        for _, sender_id in rows:
            for message in _worth_reviewing(events.last_messages(sender_id), threshold):
                _keep(session, message, ReviewSource.LOW_RATING, result)
        if newest:
            cursor.last_id = newest
            cursor.updated_at = utcnow()


def queue_counts(sessions: sessionmaker) -> Dict[str, int]:
    """Items per status."""
    with sessions() as session:
        return {
            status: int(n)
            for status, n in session.execute(select(ReviewItem.status, func.count()).group_by(ReviewItem.status))
        }


__all__ = ["CollectResult", "Message", "TrackerEvents", "collect", "queue_counts"]
