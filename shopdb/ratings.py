"""Conversation ratings (CSAT): stored per conversation, summed up for the analytics page.

A rating is kept once per conversation (the latest counts) with whether a person from the support
team took part, so the shop can compare the bot with its agents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import delete, false, or_, select
from sqlalchemy.orm import Session

from core.clock import utcnow_seconds
from shopdb.models import ConversationRating, HandoffTicket, TicketKind

RATINGS = range(1, 6)
MAX_COMMENT_CHARS = 1000
# A hand-off resolved this recently makes the rating one of the agent's conversation.
AGENT_WINDOW = dt.timedelta(hours=8)


def had_agent(session: Session, sender_id: str, now: dt.datetime) -> bool:
    """True when a person took part: a hand-off of this conversation resolved (or still open) lately."""
    tickets = session.scalars(
        select(HandoffTicket).where(HandoffTicket.sender_id == sender_id, HandoffTicket.kind == TicketKind.HANDOFF)
    ).all()
    for ticket in tickets:
        if ticket.agent_id is None:
            continue
        if ticket.resolved_at is None or now - ticket.resolved_at <= AGENT_WINDOW:
            return True
    return False


def record_rating(
    session: Session,
    sender_id: str,
    rating: int,
    *,
    customer_id: Optional[str] = None,
    now: Optional[dt.datetime] = None,
) -> bool:
    """Keep ``rating`` (1..5) for the conversation; returns whether a person took part. ``ValueError``: not 1..5."""
    if rating not in RATINGS:
        raise ValueError(f"a rating is 1 to 5, not {rating!r}")
    now = now or utcnow_seconds()
    with_agent = had_agent(session, sender_id, now)
    row = session.scalars(select(ConversationRating).where(ConversationRating.sender_id == sender_id)).first()
    if row is None:
        row = ConversationRating(sender_id=sender_id, created_at=now)
        session.add(row)
    row.rating, row.with_agent, row.updated_at, row.comment = rating, with_agent, now, None
    row.customer_id = customer_id or row.customer_id
    return with_agent


def add_comment(session: Session, sender_id: str, comment: str, now: Optional[dt.datetime] = None) -> bool:
    """The shopper's words to their rating; False when the conversation has no rating."""
    row = session.scalars(select(ConversationRating).where(ConversationRating.sender_id == sender_id)).first()
    if row is None:
        return False
    row.comment, row.updated_at = comment.strip()[:MAX_COMMENT_CHARS] or None, now or utcnow_seconds()
    return True


def ratings_between(
    session: Session, since: Optional[dt.datetime] = None, until: Optional[dt.datetime] = None
) -> List[ConversationRating]:
    """The ratings given in a period (by when the conversation was first rated), oldest first."""
    query = select(ConversationRating).order_by(ConversationRating.created_at, ConversationRating.id)
    if since is not None:
        query = query.where(ConversationRating.created_at >= since)
    if until is not None:
        query = query.where(ConversationRating.created_at < until)
    return list(session.scalars(query).all())


def _of_shopper(senders: Sequence[str], customer_id: Optional[str]) -> Any:
    conditions = [ConversationRating.sender_id.in_(list(senders))] if senders else []
    if customer_id:
        conditions.append(ConversationRating.customer_id == customer_id)
    return or_(*conditions) if conditions else false()


def export_shopper_ratings(
    session: Session, senders: Sequence[str], customer_id: Optional[str]
) -> List[Dict[str, Any]]:
    """The shopper's ratings and comments, for a data export."""
    rows = session.scalars(
        select(ConversationRating).where(_of_shopper(senders, customer_id)).order_by(ConversationRating.id)
    )
    return [
        {
            "sender_id": r.sender_id,
            "rating": r.rating,
            "comment": r.comment,
            "with_agent": r.with_agent,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]


def erase_shopper_ratings(session: Session, senders: Sequence[str], customer_id: Optional[str]) -> int:
    """Delete the shopper's ratings and comments (account deletion); returns how many."""
    return int(session.execute(delete(ConversationRating).where(_of_shopper(senders, customer_id))).rowcount or 0)


@dataclass
class Satisfaction:
    """CSAT of one group of conversations: how many were rated, the mean, the share of 4 and 5."""

    rated: int
    average: Optional[float]
    satisfied: Optional[float]  # share of ratings of 4 or 5 (the usual CSAT score)
    distribution: Dict[int, int]

    def as_dict(self) -> Dict[str, Any]:
        return {
            "rated": self.rated,
            "average": self.average,
            "satisfied": self.satisfied,
            "distribution": {str(k): v for k, v in self.distribution.items()},
        }


def satisfaction(ratings: List[int]) -> Satisfaction:
    distribution = {r: ratings.count(r) for r in RATINGS}
    if not ratings:
        return Satisfaction(0, None, None, distribution)
    return Satisfaction(
        rated=len(ratings),
        average=round(sum(ratings) / len(ratings), 2),
        satisfied=round(sum(1 for r in ratings if r >= 4) / len(ratings), 4),
        distribution=distribution,
    )


__all__ = [
    "MAX_COMMENT_CHARS",
    "RATINGS",
    "Satisfaction",
    "add_comment",
    "erase_shopper_ratings",
    "export_shopper_ratings",
    "had_agent",
    "ratings_between",
    "record_rating",
    "satisfaction",
]
