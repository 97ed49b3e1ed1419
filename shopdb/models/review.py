"""The learning loop's review queue: shoppers' messages the bot may have misread, and what a
reviewer decided they mean (``learning``: collected from the tracker store, reviewed in the
console, exported as training data).

The text is stored scrubbed (``core.log_masking.scrub_personal_data``): e-mails, order and phone
numbers and the like are replaced by surrogates of the same shape, so neither the queue nor the
training data it becomes holds a shopper's personal data.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Index, Integer, String, Text, UniqueConstraint

from core.clock import utcnow
from shopdb.models.base import Base


class ReviewSource:
    """Why a message is in the queue."""

    LOW_CONFIDENCE = "low_confidence"  # the top intent's confidence was below the threshold
    FALLBACK = "fallback"  # the bot said it did not understand
    HANDOFF = "handoff"  # the conversation was handed to a person
    LOW_RATING = "low_rating"  # the shopper rated the conversation 1 or 2

    ALL = (LOW_CONFIDENCE, FALLBACK, HANDOFF, LOW_RATING)


class ReviewStatus:
    PENDING = "pending"
    CONFIRMED = "confirmed"  # the bot's intent was right
    RELABELLED = "relabelled"  # another intent of the domain is right
    NEW_REQUEST = "new_request"  # a request type the bot does not know yet
    DISCARDED = "discarded"  # not training data (noise, test, abuse)
    ANSWERED = "answered"  # answered by a policy/FAQ passage a reviewer wrote (learning.answers)

    LABELLED = (CONFIRMED, RELABELLED)  # these become training examples
    ALL = (PENDING, CONFIRMED, RELABELLED, NEW_REQUEST, DISCARDED, ANSWERED)


class ReviewItem(Base):
    """One shopper message in the review queue, with the bot's reading and the reviewer's decision."""

    __tablename__ = "review_items"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, index=True)  # the conversation (erased with the shopper's data)
    event_id = Column(Integer, nullable=False)  # the tracker store's row of the message
    text = Column(Text, nullable=False)  # scrubbed
    predicted_intent = Column(String(100), nullable=True)
    confidence = Column(Float, nullable=True)
    ranking = Column(JSON, nullable=False, default=list)  # [{"name", "confidence"}] top intents
    sources = Column(JSON, nullable=False, default=list)  # ReviewSource values
    status = Column(String(20), nullable=False, default=ReviewStatus.PENDING)
    intent = Column(String(100), nullable=True)  # the reviewer's label
    entities = Column(JSON, nullable=False, default=list)  # [{"start", "end", "entity", "value"}] marked spans
    reviewer = Column(String(64), nullable=True)  # the agent's username
    reviewed_at = Column(DateTime, nullable=True)
    said_at = Column(DateTime, nullable=True)  # when the shopper wrote it
    created_at = Column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("sender_id", "event_id", name="uq_review_items_message"),
        Index("ix_review_items_status_created", "status", "created_at"),
    )


__all__ = ["ReviewItem", "ReviewSource", "ReviewStatus"]
