"""Shoppers' data-rights requests: what a signed-in customer asked for in the chat, until an operator
carried it out (``shop insights requests --carry-out``).

The request stays after the erasure, with its counts: the record that it was done and when.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, text

from core.clock import utcnow
from shopdb.models.base import Base


class RequestKind:
    ERASE = "erase"  # delete the account: the assistant's records of the customer go (insights.data_rights)


class RequestStatus:
    PENDING = "pending"
    DONE = "done"


class DataRightsRequest(Base):
    """One request of a verified customer, due by ``due_at`` (the policy's deadline)."""

    __tablename__ = "data_rights_requests"

    id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False)
    customer_id = Column(String(64), nullable=False, index=True)
    sender_id = Column(String(128), nullable=False)  # the conversation the request was made in
    status = Column(String(20), nullable=False, default=RequestStatus.PENDING, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    due_at = Column(DateTime, nullable=False)
    done_at = Column(DateTime, nullable=True)
    result = Column(JSON, nullable=False, default=dict)  # what was erased: {"profiles": 2, ...}

    __table_args__ = (
        # At most one pending request of a kind per customer, enforced by the database itself.
        Index(
            "uq_data_rights_requests_pending",
            "customer_id",
            "kind",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


__all__ = ["DataRightsRequest", "RequestKind", "RequestStatus"]
