"""Stock alerts: keep "tell me when it's back", find the ones whose product is back, claim each once.

Delivery (the chat line and the e-mail) is the Rasa server's job (:mod:`web.stock_alerts`); here is only
the database side. A claim is one conditional update, so with several Rasa servers each alert is said
exactly once; a delivery that fails gives its claim back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow_seconds
from shopdb.db import session_scope
from shopdb.models import Customer, Product, StockAlert


@dataclass(frozen=True)
class DueAlert:
    """An alert whose product is in stock again, with what the message and the e-mail need."""

    id: int
    sender_id: str
    product_id: int
    title: str
    price: float
    currency: str
    email: Optional[str]  # the guest's address, or the signed-in customer's; None: the chat only


def add_stock_alert(
    sessions: sessionmaker,
    product_id: int,
    sender_id: str,
    *,
    customer_id: Optional[str] = None,
    email: Optional[str] = None,
    clock: Callable[[], dt.datetime] = utcnow_seconds,
) -> bool:
    """Keep an alert; False when this conversation already waits for this product (the address is updated)."""
    try:
        with session_scope(sessions) as s:
            s.add(
                StockAlert(
                    product_id=int(product_id),
                    sender_id=sender_id,
                    customer_id=customer_id,
                    email=email,
                    created_at=clock(),
                )
            )
        return True
    except IntegrityError:
        if email or customer_id:
            with session_scope(sessions) as s:
                s.execute(
                    update(StockAlert)
                    .where(
                        StockAlert.product_id == int(product_id),
                        StockAlert.sender_id == sender_id,
                        StockAlert.notified_at.is_(None),
                    )
                    .values(email=email, customer_id=customer_id)
                )
        return False


def due_stock_alerts(sessions: sessionmaker, limit: int = 100) -> List[DueAlert]:
    """Waiting alerts whose product has stock now, oldest first."""
    query = (
        select(StockAlert, Product, Customer.email)
        .join(Product, Product.id == StockAlert.product_id)
        .outerjoin(Customer, Customer.customer_id == StockAlert.customer_id)
        .where(StockAlert.notified_at.is_(None), Product.stock > 0)
        .order_by(StockAlert.id)
        .limit(limit)
    )
    with sessions() as s:
        rows = s.execute(query).all()
    return [
        DueAlert(
            id=alert.id,
            sender_id=alert.sender_id,
            product_id=product.id,
            title=product.title,
            price=float(product.price),
            currency=product.currency,
            email=alert.email or customer_email,
        )
        for alert, product, customer_email in rows
    ]


def claim_stock_alert(sessions: sessionmaker, alert_id: int, clock: Callable[[], dt.datetime] = utcnow_seconds) -> bool:
    """Mark the alert as being delivered; False when another server claimed it first."""
    with session_scope(sessions) as s:
        claimed = s.execute(
            update(StockAlert)
            .where(StockAlert.id == alert_id, StockAlert.notified_at.is_(None))
            .values(notified_at=clock())
        ).rowcount
    return bool(claimed)


def record_delivery(sessions: sessionmaker, alert_id: int, delivery: Optional[str]) -> None:
    """How the alert reached the shopper; None gives the claim back (the chat line could not be stored)."""
    values: Dict[str, Any] = {"delivery": delivery} if delivery else {"notified_at": None, "delivery": None}
    with session_scope(sessions) as s:
        s.execute(update(StockAlert).where(StockAlert.id == alert_id).values(**values))


def _of_shopper(senders: Sequence[str], customer_id: Optional[str]) -> Any:
    mine = StockAlert.sender_id.in_(list(senders))
    return or_(mine, StockAlert.customer_id == customer_id) if customer_id else mine


def export_shopper_alerts(session: Session, senders: Sequence[str], customer_id: Optional[str]) -> List[Dict[str, Any]]:
    """The shopper's stock alerts, for a data export."""
    alerts = session.execute(select(StockAlert).where(_of_shopper(senders, customer_id)).order_by(StockAlert.id))
    return [
        {
            "product_id": a.product_id,
            "sender_id": a.sender_id,
            "email": a.email,
            "created_at": a.created_at.isoformat(),
            "notified_at": a.notified_at.isoformat() if a.notified_at else None,
        }
        for a in alerts.scalars()
    ]


def erase_shopper_alerts(session: Session, senders: Sequence[str], customer_id: Optional[str]) -> int:
    """Delete the shopper's stock alerts (account deletion); returns how many."""
    return int(session.execute(delete(StockAlert).where(_of_shopper(senders, customer_id))).rowcount or 0)


__all__ = [
    "DueAlert",
    "add_stock_alert",
    "claim_stock_alert",
    "due_stock_alerts",
    "erase_shopper_alerts",
    "export_shopper_alerts",
    "record_delivery",
]
