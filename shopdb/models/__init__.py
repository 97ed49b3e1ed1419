"""Every table of the shop database, on one declarative base (one metadata, one migration chain).

- :mod:`shopdb.models.shop`: catalogue, customers, orders, shipments, returns, issues, policy passages;
- :mod:`shopdb.models.handoff`: support agents, hand-off tickets and their messages;
- :mod:`shopdb.models.insights`: shopper profiles, analytics facts, consumer cursors;
- :mod:`shopdb.models.counters`: the shared rate counters.
"""

from shopdb.models.base import Base, Money
from shopdb.models.counters import RateCounter
from shopdb.models.handoff import Agent, AgentRole, Author, HandoffMessage, HandoffTicket, TicketStatus
from shopdb.models.insights import ConsumerCursor, FactKind, InsightFact, ProfileScope, ShopperProfile
from shopdb.models.shop import (
    Category,
    Customer,
    KnowledgeMeta,
    Order,
    OrderIssue,
    OrderItem,
    OrderStatus,
    PolicyPassage,
    Product,
    ProductRelation,
    RefundStatus,
    Return,
    ReturnStatus,
    ShipmentEvent,
)

__all__ = [
    "Agent",
    "AgentRole",
    "Author",
    "Base",
    "Category",
    "ConsumerCursor",
    "Customer",
    "FactKind",
    "HandoffMessage",
    "HandoffTicket",
    "InsightFact",
    "KnowledgeMeta",
    "Money",
    "Order",
    "OrderIssue",
    "OrderItem",
    "OrderStatus",
    "PolicyPassage",
    "Product",
    "ProductRelation",
    "ProfileScope",
    "RateCounter",
    "RefundStatus",
    "Return",
    "ReturnStatus",
    "ShipmentEvent",
    "ShopperProfile",
    "TicketStatus",
]
