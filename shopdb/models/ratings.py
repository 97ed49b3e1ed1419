"""Shoppers' ratings of a conversation (CSAT): 1 to 5 stars, an optional comment, with or without a person."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Text

from core.clock import utcnow
from shopdb.models.base import Base


class ConversationRating(Base):
    """The latest rating of one conversation; rating again replaces it."""

    __tablename__ = "conversation_ratings"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, unique=True)  # the conversation rated
    customer_id = Column(String(64), nullable=True, index=True)  # a signed-in customer (erased with their data)
    rating = Column(Integer, nullable=False)  # 1..5
    comment = Column(Text, nullable=True)  # the shopper's own words (personal data: never logged)
    with_agent = Column(Boolean, nullable=False, default=False)  # a person from the support team took part
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow)


__all__ = ["ConversationRating"]
