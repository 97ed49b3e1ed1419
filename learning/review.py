"""A reviewer's decisions on the review queue: confirm the bot's reading, pick another intent, mark
entity spans, call it a new request type, or discard it; one by one or many at once.

Labels are checked against the bot's domain (an intent or entity the bot does not have is refused,
except as a new request type's name), and every decision records who made it and when: that is the
provenance the training data keeps (``learning.export``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import utcnow
from shopdb.models import ReviewItem, ReviewStatus

ACTIONS = ("confirm", "relabel", "new_request", "discard")
NEW_REQUEST_NAME = re.compile(r"^[a-z][a-z0-9_]{1,60}$")


class ReviewRefused(ValueError):
    """A decision that cannot be taken as given; the message says why."""


@dataclass(frozen=True)
class Vocabulary:
    """What labels may name: the bot's intents and entities (``bot/domain.yml``)."""

    intents: frozenset
    entities: frozenset

    @classmethod
    def of_domain(cls, domain: Dict[str, Any]) -> "Vocabulary":
        def names(entries: Optional[Iterable[Any]]) -> frozenset:
            return frozenset(e if isinstance(e, str) else next(iter(e)) for e in entries or ())

        return cls(intents=names(domain.get("intents")), entities=names(domain.get("entities")))


def clean_entities(text: str, spans: Any, vocabulary: Vocabulary) -> List[Dict[str, Any]]:
    """Marked entity spans, checked: inside the text, not overlapping, entities of the domain."""
    if spans in (None, []):
        return []
    if not isinstance(spans, list):
        raise ReviewRefused("entities are a list of {start, end, entity}")
    cleaned: List[Dict[str, Any]] = []
    for span in spans:
        try:
            start, end, entity = int(span["start"]), int(span["end"]), str(span["entity"])
        except (KeyError, TypeError, ValueError):
            raise ReviewRefused("each entity needs start, end and entity") from None
        if not 0 <= start < end <= len(text):
            raise ReviewRefused(f"the span {start}-{end} is outside the message")
        if entity not in vocabulary.entities:
            raise ReviewRefused(f"the bot has no entity {entity!r}")
        cleaned.append({"start": start, "end": end, "entity": entity, "value": text[start:end]})
    cleaned.sort(key=lambda s: s["start"])
    for before, after in zip(cleaned, cleaned[1:]):
        if after["start"] < before["end"]:
            raise ReviewRefused("entity spans overlap")
    return cleaned


def decide(
    session: Session,
    item_id: int,
    reviewer: str,
    action: str,
    vocabulary: Vocabulary,
    intent: Optional[str] = None,
    entities: Any = None,
) -> ReviewItem:
    """Record one decision on one item (a later decision replaces an earlier one)."""
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise ReviewRefused(f"no review item {item_id}")
    if action not in ACTIONS:
        raise ReviewRefused(f"the action is one of {', '.join(ACTIONS)}")
    if action == "confirm":
        if item.predicted_intent not in vocabulary.intents:
            raise ReviewRefused("the bot's reading is not an intent to keep: pick one")
        item.status, item.intent = ReviewStatus.CONFIRMED, item.predicted_intent
    elif action == "relabel":
        if intent not in vocabulary.intents:
            raise ReviewRefused(f"the bot has no intent {intent!r}")
        item.status, item.intent = ReviewStatus.RELABELLED, intent
    elif action == "new_request":
        if intent is not None and not NEW_REQUEST_NAME.match(intent):
            raise ReviewRefused("a new request type's name is lower case letters, digits and _")
        item.status, item.intent = ReviewStatus.NEW_REQUEST, intent
    else:
        item.status, item.intent = ReviewStatus.DISCARDED, None
    item.entities = clean_entities(item.text, entities, vocabulary) if action in ("confirm", "relabel") else []
    item.reviewer, item.reviewed_at = reviewer, utcnow()
    return item


def decide_many(
    session: Session,
    item_ids: Sequence[int],
    reviewer: str,
    action: str,
    vocabulary: Vocabulary,
    intent: Optional[str] = None,
) -> List[ReviewItem]:
    """The same decision on many items (similar messages), without entity spans; all or none."""
    return [decide(session, item_id, reviewer, action, vocabulary, intent) for item_id in item_ids]


def pending(session: Session, limit: int = 50, source: Optional[str] = None) -> List[ReviewItem]:
    """Items waiting for a decision, oldest first."""
    query = (
        select(ReviewItem)
        .where(ReviewItem.status == ReviewStatus.PENDING)
        .order_by(ReviewItem.created_at, ReviewItem.id)
    )
    if source is None:
        return list(session.execute(query.limit(limit)).scalars())
    # ``sources`` is a JSON list: filtered here, the same on SQLite and PostgreSQL
    return [item for item in session.execute(query).scalars() if source in (item.sources or [])][:limit]


def similar(
    session: Session, item_id: int, encode: Callable[[List[str]], Any], limit: int = 20, floor: float = 0.6
) -> List[Tuple[ReviewItem, float]]:
    """Pending items nearest to one by sentence embedding (cosine, at least ``floor``), for one decision
    on many: ``encode`` maps texts to L2-normalised vectors (``retrieval.embeddings.Embedder.encode``)."""
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise ReviewRefused(f"no review item {item_id}")
    others = [other for other in pending(session, limit=2000) if other.id != item_id]
    if not others:
        return []
    vectors = encode([item.text] + [other.text for other in others])
    scores = vectors[1:] @ vectors[0]
    ranked = sorted(zip(others, (float(score) for score in scores)), key=lambda pair: -pair[1])
    return [(other, round(score, 3)) for other, score in ranked if score >= floor][:limit]


def same_text(session: Session, item: ReviewItem) -> List[int]:
    """Ids of the other pending items with exactly this text (the same words from other conversations)."""
    rows = session.execute(
        select(ReviewItem.id).where(
            ReviewItem.status == ReviewStatus.PENDING, ReviewItem.text == item.text, ReviewItem.id != item.id
        )
    ).scalars()
    return [int(i) for i in rows]


def pending_distinct(session: Session, limit: int = 50, source: Optional[str] = None) -> List[Tuple[ReviewItem, int]]:
    """Pending items with one entry per text (the oldest), and how many pending items say it."""
    items = pending(session, limit=20 * limit, source=source)
    first: Dict[str, ReviewItem] = {}
    counts: Dict[str, int] = {}
    for item in items:
        first.setdefault(item.text, item)
        counts[item.text] = counts.get(item.text, 0) + 1
    return [(item, counts[text]) for text, item in first.items()][:limit]


def as_json(item: ReviewItem) -> Dict[str, Any]:
    """What the console shows of an item."""
    return {
        "id": item.id,
        "text": item.text,
        "predicted_intent": item.predicted_intent,
        "confidence": item.confidence,
        "ranking": item.ranking or [],
        "sources": item.sources or [],
        "status": item.status,
        "intent": item.intent,
        "entities": item.entities or [],
        "reviewer": item.reviewer,
        "said_at": item.said_at.isoformat() if item.said_at else None,
    }


__all__ = [
    "ACTIONS",
    "ReviewRefused",
    "Vocabulary",
    "as_json",
    "clean_entities",
    "decide",
    "decide_many",
    "pending",
    "pending_distinct",
    "same_text",
    "similar",
]
