"""A customer's newsletter subscription: read it, change it, and record when it changed.

Only a signed-in customer's own id reaches here (the action server checks the channel's proof);
a change is one conditional update, so the time of the last real change is kept as the record
of consent, and asking twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from core.clock import utcnow_seconds
from shopdb.db import session_scope
from shopdb.models import Customer
from shopdb.orders import normalise_customer_id


@dataclass(frozen=True)
class NewsletterState:
    subscribed: bool
    changed_at: Optional[dt.datetime]


@dataclass(frozen=True)
class NewsletterChange:
    changed: bool  # False: it already was so
    state: NewsletterState


def newsletter_state(sessions: sessionmaker, customer_id: Any) -> Optional[NewsletterState]:
    """The customer's subscription; None for an unknown customer id."""
    cid = normalise_customer_id(customer_id)
    if cid is None:
        return None
    with sessions() as s:
        row = s.execute(
            select(Customer.newsletter, Customer.newsletter_changed_at).where(Customer.customer_id == cid)
        ).one_or_none()
    return NewsletterState(bool(row[0]), row[1]) if row is not None else None


def set_newsletter(
    sessions: sessionmaker,
    customer_id: Any,
    subscribed: bool,
    *,
    clock: Callable[[], dt.datetime] = utcnow_seconds,
) -> Optional[NewsletterChange]:
    """Subscribe or unsubscribe the customer; None for an unknown customer id."""
    cid = normalise_customer_id(customer_id)
    if cid is None:
        return None
    with session_scope(sessions) as s:
        changed = s.execute(
            update(Customer)
            .where(Customer.customer_id == cid, Customer.newsletter != subscribed)
            .values(newsletter=subscribed, newsletter_changed_at=clock())
        ).rowcount
        row = s.execute(
            select(Customer.newsletter, Customer.newsletter_changed_at).where(Customer.customer_id == cid)
        ).one_or_none()
    if row is None:
        return None
    return NewsletterChange(bool(changed), NewsletterState(bool(row[0]), row[1]))


__all__ = ["NewsletterChange", "NewsletterState", "newsletter_state", "set_newsletter"]
