"""The table of the shared counters (:mod:`shopdb.counters`): one row per live fixed window."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String

from shopdb.models.base import Base


class RateCounter(Base):
    """One counter of a fixed window: ``count`` hits until ``expires_at`` (epoch seconds)."""

    __tablename__ = "rate_counters"

    key = Column(String(200), primary_key=True)
    count = Column(Integer, nullable=False, default=0)
    expires_at = Column(Float, nullable=False, index=True)


__all__ = ["RateCounter"]
