"""Stock alerts: "tell me when it's back", kept until the product is in stock again and the shopper was told."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, text

from core.clock import utcnow
from shopdb.models.base import Base


class StockAlert(Base):
    """One shopper waiting for one product; ``notified_at`` is set once when the alert is delivered."""

    __tablename__ = "stock_alerts"

    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("products.id", ondelete="CASCADE"), nullable=False, index=True)
    sender_id = Column(String(128), nullable=False)  # the conversation that asked: the alert is said there
    customer_id = Column(String(64), nullable=True, index=True)  # a signed-in customer: mailed at their address
    email = Column(String(254), nullable=True)  # a guest's address for the alert (personal data: never logged)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    notified_at = Column(DateTime, nullable=True)
    delivery = Column(String(40), nullable=True)  # "chat", "chat and e-mail", or why not by e-mail

    __table_args__ = (
        # Asking twice in a conversation keeps one waiting alert, enforced by the database itself.
        Index(
            "uq_stock_alerts_waiting",
            "product_id",
            "sender_id",
            unique=True,
            sqlite_where=text("notified_at IS NULL"),
            postgresql_where=text("notified_at IS NULL"),
        ),
    )


__all__ = ["StockAlert"]
