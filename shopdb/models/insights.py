"""Tables of the insights package: shopper profiles, analytics facts, consumer cursors.

They live on :data:`shopdb.models.Base` so the one alembic chain
(``shopdb/migrations``) creates them. Why facts beside the broker's own
``events`` table: the broker may be RabbitMQ (nothing to query) or a separate
SQLite file, and its rows hold raw text; facts are the minimal, masked record
that analytics needs, in the shop database, indexed by time.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Float, Index, Integer, String, Text, UniqueConstraint

from core.clock import utcnow
from shopdb.models.base import Base


class ProfileScope:
    SESSION = "session"  # keyed by Rasa sender id (one widget session, kept across reloads)
    CUSTOMER = "customer"  # keyed by the shop's customer id (logged-in shopper)


class ShopperProfile(Base):
    """The intent profile of one session or one customer; ``data`` is an ``insights.profile.Profile``."""

    __tablename__ = "insight_profiles"

    id = Column(Integer, primary_key=True)
    scope = Column(String(10), nullable=False)
    subject = Column(String(255), nullable=False)  # sender id or customer id
    customer_id = Column(String(64), nullable=True, index=True)  # set on session rows once known
    stage = Column(String(20), nullable=False, default="browsing", index=True)
    goal = Column(String(200), nullable=True)
    data = Column(JSON, nullable=False, default=dict)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    last_event_at = Column(DateTime, nullable=True)

    __table_args__ = (UniqueConstraint("scope", "subject", name="uq_insight_profiles_scope_subject"),)


class FactKind:
    """What a fact records; one user turn gives a ``turn`` and at most one ``fallback``."""

    TURN = "turn"  # name = intent, confidence; data.frustration = the NLU's score, when it has one
    ACTION = "action"  # name = action name
    FALLBACK = "fallback"  # name = nlu_fallback | action_default_fallback | action_two_stage_fallback
    HANDOFF = "handoff"  # name = action_handoff_to_human | pause
    RESUME = "resume"
    RECOMMENDATION = "recommendation"  # data.product_ids shown to the shopper
    SITE = "site"  # name = page_viewed | product_viewed | searched | added_to_cart | purchased
    SESSION = "session"  # a new conversation (session_started)


class InsightFact(Base):
    """One analytics fact derived from a broker event, without raw personal data."""

    __tablename__ = "insight_facts"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, index=True)
    sender_id = Column(String(255), nullable=False, index=True)
    conversation = Column(Integer, nullable=False, default=0)  # session number within the sender
    customer_id = Column(String(64), nullable=True, index=True)
    kind = Column(String(20), nullable=False)
    name = Column(String(100), nullable=False, default="")
    confidence = Column(Float, nullable=True)
    text = Column(Text, nullable=True)  # masked; kept only for fallbacks (unanswered questions) and searches
    data = Column(JSON, nullable=False, default=dict)

    __table_args__ = (Index("ix_insight_facts_kind_at", "kind", "at"),)


class ConsumerCursor(Base):
    """How far a consumer has read an incremental source (the SQL broker's ``events.id``)."""

    __tablename__ = "insight_cursors"

    name = Column(String(200), primary_key=True)
    last_id = Column(BigInteger, nullable=False, default=0)
    updated_at = Column(DateTime, nullable=False, default=utcnow)


__all__ = ["ConsumerCursor", "FactKind", "InsightFact", "ProfileScope", "ShopperProfile"]
