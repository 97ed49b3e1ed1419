"""Account deletions that signed-in customers asked for in the chat, until the operator carries them out.

Why a request and not an erasure on the spot: the erasure is the operator's process
(``shop insights delete``, :mod:`insights.data_rights`), run with the stores of the deployment, and it
removes the very conversation the shopper is writing in. The bot records a durable request with the
policy's deadline; ``shop insights requests --carry-out`` erases through the same code and keeps the
request, marked done with what was erased, as the record that it happened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from shopdb.models import DataRightsRequest, RequestKind, RequestStatus

ERASURE_DAYS = 30  # shopdb/data/policies/account.md, "Deleting your account": "within 30 days"


@dataclass(frozen=True)
class ErasureRequest:
    id: int
    customer_id: str
    sender_id: str
    status: str
    created_at: dt.datetime
    due_at: dt.datetime
    done_at: Optional[dt.datetime] = None
    result: Dict[str, int] = field(default_factory=dict)


def _info(row: DataRightsRequest) -> ErasureRequest:
    return ErasureRequest(
        id=row.id,
        customer_id=row.customer_id,
        sender_id=row.sender_id,
        status=row.status,
        created_at=row.created_at,
        due_at=row.due_at,
        done_at=row.done_at,
        result=dict(row.result or {}),
    )


def _pending(session: Session, customer_id: Optional[str] = None) -> List[DataRightsRequest]:
    query = select(DataRightsRequest).where(
        DataRightsRequest.kind == RequestKind.ERASE, DataRightsRequest.status == RequestStatus.PENDING
    )
    if customer_id is not None:
        query = query.where(DataRightsRequest.customer_id == customer_id)
    return list(session.execute(query.order_by(DataRightsRequest.due_at, DataRightsRequest.id)).scalars())


def pending_request(sessions: sessionmaker, customer_id: str) -> Optional[ErasureRequest]:
    """The customer's request that is not carried out yet."""
    with sessions() as session:
        rows = _pending(session, customer_id)
        return _info(rows[0]) if rows else None


def pending_requests(sessions: sessionmaker) -> List[ErasureRequest]:
    """Every request not carried out yet, the earliest due first."""
    with sessions() as session:
        return [_info(row) for row in _pending(session)]


def request_erasure(
    sessions: sessionmaker, *, customer_id: str, sender_id: str, now: Optional[dt.datetime] = None
) -> Tuple[ErasureRequest, bool]:
    """Record the customer's request, due in :data:`ERASURE_DAYS`; returns (request, was it new).

    A customer has at most one pending request (also a partial unique index): asking again
    returns the first one, with its deadline.
    """
    for attempt in range(2):
        try:
            with sessions.begin() as session:
                existing = _pending(session, customer_id)
                if existing:
                    return _info(existing[0]), False
                created = now or utcnow()
                row = DataRightsRequest(
                    kind=RequestKind.ERASE,
                    customer_id=customer_id,
                    sender_id=sender_id,
                    status=RequestStatus.PENDING,
                    created_at=created,
                    due_at=created + dt.timedelta(days=ERASURE_DAYS),
                )
                session.add(row)
                session.flush()
                return _info(row), True
        except IntegrityError:  # the same request from another process a moment ago: return that one
            if attempt:
                raise
    raise AssertionError("unreachable")


def carry_out(
    sessions: sessionmaker,
    erase: Callable[[ErasureRequest], Dict[str, int]],
    now: Optional[dt.datetime] = None,
) -> List[ErasureRequest]:
    """``erase`` each pending request's data, then mark it done with the counts; returns them done.

    One request at a time, each marked as soon as its erasure finished: a failure stops the run
    and leaves the rest pending for the next one (erasing twice removes nothing more).
    """
    done: List[ErasureRequest] = []
    for request in pending_requests(sessions):
        counts = erase(request)
        with sessions.begin() as session:
            row = session.execute(select(DataRightsRequest).where(DataRightsRequest.id == request.id)).scalar_one()
            row.status = RequestStatus.DONE
            row.done_at = now or utcnow()
            row.result = dict(counts)
            session.flush()
            done.append(_info(row))
    return done


@lru_cache(maxsize=1)
def default_sessions() -> sessionmaker:
    """Sessions of the action server on the shop database, every statement bounded by ``SHOP_DB_TIMEOUT``."""
    from core.settings import get_settings
    from shopdb.db import create_db_engine, session_factory

    settings = get_settings()
    return session_factory(create_db_engine(settings.resolved_database_url, timeout=settings.db_timeout))


__all__ = [
    "ERASURE_DAYS",
    "ErasureRequest",
    "carry_out",
    "default_sessions",
    "pending_request",
    "pending_requests",
    "request_erasure",
]
