"""SQLAlchemy models of the shop: catalogue, customers, orders, returns, delivery options, policies.

Written in the 2.0 style that SQLAlchemy 1.4 offers (``declarative_base`` from
``sqlalchemy.orm``, ``select()``, ``Session.execute``), so the same code runs on
SQLite (embedded default) and PostgreSQL. ``Base`` (``shopdb.models.base``) is shared with the
hand-off, insights and counter tables: one metadata, one alembic migration chain.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import relationship

from core.clock import utcnow, utcnow_seconds
from shopdb.models.base import Base, Money


class OrderStatus:
    """Order life cycle; an order only moves forward (or to cancelled)."""

    PLACED = "placed"
    PAID = "paid"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    ALL = (PLACED, PAID, PACKED, SHIPPED, DELIVERED, CANCELLED)
    CANCELLABLE = (PLACED, PAID)
    ADDRESS_CHANGEABLE = (PLACED, PAID, PACKED)


class ReturnStatus:
    REQUESTED = "requested"
    APPROVED = "approved"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REJECTED = "rejected"


class ReturnResolution:
    """What the shopper gets for a returned item."""

    REFUND = "refund"
    REPLACEMENT = "replacement"  # the same item sent again once the return arrives; no money moves


class RefundStatus:
    NOT_STARTED = "not_started"
    PENDING = "pending"
    PROCESSING = "processing"
    REFUNDED = "refunded"
    NOT_APPLICABLE = "not_applicable"


class Category(Base):
    __tablename__ = "categories"

    id = Column(Integer, primary_key=True)
    path = Column(String(200), nullable=False, unique=True)  # "Shoes/Running shoes"
    name = Column(String(100), nullable=False)

    products = relationship("Product", back_populates="category")

    @property
    def top_level(self) -> str:
        return self.path.split("/", 1)[0]


class Product(Base):
    __tablename__ = "products"

    id = Column(Integer, primary_key=True)
    sku = Column(String(40), nullable=False, unique=True)
    title = Column(String(300), nullable=False)
    description = Column(Text, nullable=False, default="")
    brand = Column(String(100), nullable=False, default="", index=True)
    category_id = Column(Integer, ForeignKey("categories.id"), nullable=False, index=True)
    attributes = Column(JSON, nullable=False, default=dict)  # colour, size(s), material, ...
    price = Column(Money(), nullable=False)
    currency = Column(String(3), nullable=False, default="EUR")
    stock = Column(Integer, nullable=False, default=0)
    rating = Column(Float, nullable=True)
    image_url = Column(String(500), nullable=True)
    returnable = Column(Boolean, nullable=False, default=True)
    # Indexes compare this to their manifest to re-embed only what changed.
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow, index=True)

    category = relationship("Category", back_populates="products", lazy="joined")

    __table_args__ = (Index("ix_products_price", "price"),)


class ProductRelation(Base):
    """Directed link between products: ``similar`` (alternative) or ``goes_with`` (complement)."""

    __tablename__ = "product_relations"

    product_id = Column(Integer, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    related_id = Column(Integer, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    kind = Column(String(20), primary_key=True)  # "similar" | "goes_with"
    weight = Column(Float, nullable=False, default=1.0)


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    customer_id = Column(String(20), nullable=False, unique=True)  # public id, e.g. "C0000042"
    email = Column(String(254), nullable=False, unique=True)  # stored normalised (lower case)
    name = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow_seconds)
    # Marketing e-mail consent, and when it last changed (the record a consent needs).
    newsletter = Column(Boolean, nullable=False, default=False, server_default=false())
    newsletter_changed_at = Column(DateTime, nullable=True)

    orders = relationship("Order", back_populates="customer")


class Order(Base):
    __tablename__ = "orders"

    id = Column(Integer, primary_key=True)
    order_number = Column(String(20), nullable=False, unique=True)
    customer_ref = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    status = Column(String(20), nullable=False, default=OrderStatus.PLACED)
    placed_at = Column(DateTime, nullable=False, default=utcnow_seconds)
    paid_at = Column(DateTime, nullable=True)
    shipped_at = Column(DateTime, nullable=True)
    delivered_at = Column(DateTime, nullable=True)
    cancelled_at = Column(DateTime, nullable=True)
    cancel_reason = Column(String(300), nullable=True)
    total = Column(Money(), nullable=False, default=Decimal("0"))
    currency = Column(String(3), nullable=False, default="EUR")
    payment_method = Column(String(30), nullable=False, default="card")
    shipping_method = Column(String(30), nullable=False, default="standard")
    ship_name = Column(String(200), nullable=False)
    ship_line1 = Column(String(200), nullable=False)
    ship_line2 = Column(String(200), nullable=True)
    ship_city = Column(String(100), nullable=False)
    ship_postcode = Column(String(20), nullable=False)
    ship_country = Column(String(2), nullable=False)
    carrier = Column(String(50), nullable=True)
    tracking_number = Column(String(50), nullable=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow_seconds, onupdate=utcnow_seconds)

    customer = relationship("Customer", back_populates="orders")
    items = relationship("OrderItem", back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id")
    events = relationship(
        "ShipmentEvent",
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="ShipmentEvent.at",
    )
    returns = relationship("Return", back_populates="order", cascade="all, delete-orphan")
    issues = relationship("OrderIssue", back_populates="order", cascade="all, delete-orphan")


class OrderItem(Base):
    __tablename__ = "order_items"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True)
    # SET NULL: deleting a product keeps past orders (the line keeps its SKU/title snapshot).
    product_id = Column(Integer, ForeignKey("products.id", ondelete="SET NULL"), nullable=True)
    sku = Column(String(40), nullable=False)
    title = Column(String(300), nullable=False)  # snapshot at purchase time
    quantity = Column(Integer, nullable=False, default=1)
    unit_price = Column(Money(), nullable=False)
    returnable = Column(Boolean, nullable=False, default=True)

    order = relationship("Order", back_populates="items")


class ShipmentEvent(Base):
    __tablename__ = "shipment_events"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(DateTime, nullable=False)
    code = Column(String(30), nullable=False)  # label_created, picked_up, in_transit, out_for_delivery...
    location = Column(String(100), nullable=True)
    description = Column(String(300), nullable=False)

    order = relationship("Order", back_populates="events")


class Return(Base):
    __tablename__ = "returns"

    id = Column(Integer, primary_key=True)
    rma_number = Column(String(20), nullable=False, unique=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True)
    order_item_id = Column(Integer, ForeignKey("order_items.id"), nullable=False)
    quantity = Column(Integer, nullable=False, default=1)
    reason = Column(String(300), nullable=False)
    status = Column(String(20), nullable=False, default=ReturnStatus.REQUESTED)
    refund_status = Column(String(20), nullable=False, default=RefundStatus.NOT_STARTED)
    refund_amount = Column(Money(), nullable=False, default=Decimal("0"))
    resolution = Column(String(20), nullable=False, default=ReturnResolution.REFUND, server_default="refund")
    created_at = Column(DateTime, nullable=False, default=utcnow_seconds)
    updated_at = Column(DateTime, nullable=False, default=utcnow_seconds, onupdate=utcnow_seconds)

    order = relationship("Order", back_populates="returns")
    item = relationship("OrderItem")


class OrderIssue(Base):
    """A shopper's report of a missing, damaged or wrong item (handled by staff)."""

    __tablename__ = "order_issues"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True)
    order_item_id = Column(Integer, ForeignKey("order_items.id"), nullable=True)
    kind = Column(String(20), nullable=False)  # missing | damaged | wrong_item | other
    description = Column(Text, nullable=False, default="")
    status = Column(String(20), nullable=False, default="open")
    created_at = Column(DateTime, nullable=False, default=utcnow_seconds)

    order = relationship("Order", back_populates="issues")


class DeliveryOption(Base):
    """One way the shop delivers to one country: how long it takes and what it costs."""

    __tablename__ = "delivery_options"

    id = Column(Integer, primary_key=True)
    country = Column(String(2), nullable=False)  # ISO 3166-1 alpha-2, "ES" (the unique key indexes it)
    method = Column(String(30), nullable=False)  # "standard", "express" (Order.shipping_method)
    min_days = Column(Integer, nullable=False)  # business days after dispatch
    max_days = Column(Integer, nullable=False)
    price = Column(Money(), nullable=False)
    currency = Column(String(3), nullable=False, default="EUR")
    free_from = Column(Money(), nullable=True)  # order value from which this method is free

    __table_args__ = (UniqueConstraint("country", "method", name="uq_delivery_options_country_method"),)


class PolicyPassage(Base):
    """One answerable passage of the shop's policies or FAQ (retrieved by the FAQ index)."""

    __tablename__ = "policy_passages"

    id = Column(Integer, primary_key=True)
    key = Column(String(120), nullable=False, unique=True)  # "returns/return-window"
    topic = Column(String(50), nullable=False, index=True)  # shipping, returns, refunds...
    title = Column(String(300), nullable=False)
    text = Column(Text, nullable=False)
    source = Column(String(300), nullable=False)  # "shopdb/data/returns.md#return-window"


class KnowledgeMeta(Base):
    """Key/value facts about the loaded data (generator version, seed, product count)."""

    __tablename__ = "knowledge_meta"

    key = Column(String(100), primary_key=True)
    value = Column(Text, nullable=False)


__all__ = [
    "Category",
    "Customer",
    "DeliveryOption",
    "KnowledgeMeta",
    "Order",
    "OrderIssue",
    "OrderItem",
    "OrderStatus",
    "PolicyPassage",
    "Product",
    "ProductRelation",
    "RefundStatus",
    "Return",
    "ReturnStatus",
    "ShipmentEvent",
]
