"""Every table of the shop database, on one declarative base (one metadata, one migration chain).

- :mod:`shopdb.models.shop`: catalogue, customers, orders, shipments, returns, issues, delivery options,
  policy passages;
- :mod:`shopdb.models.handoff`: support agents, hand-off tickets and their messages;
- :mod:`shopdb.models.insights`: shopper profiles, analytics facts, consumer cursors;
- :mod:`shopdb.models.counters`: the shared rate counters;
- :mod:`shopdb.models.data_rights`: shoppers' data-rights requests (account deletion);
- :mod:`shopdb.models.stock_alerts`: "tell me when it's back" alerts;
- :mod:`shopdb.models.ratings`: shoppers' ratings of their conversations (CSAT);
- :mod:`shopdb.models.review`: the learning loop's review queue;
- :mod:`shopdb.models.model_registry`: every trained model, its gate and which one serves.
"""

from shopdb.models.base import Base, Money
from shopdb.models.counters import RateCounter
from shopdb.models.data_rights import DataRightsRequest, RequestKind, RequestStatus
from shopdb.models.handoff import (
    Agent,
    AgentPresence,
    AgentRole,
    Author,
    HandoffMessage,
    HandoffTicket,
    Skill,
    TicketKind,
    TicketStatus,
)
from shopdb.models.insights import ConsumerCursor, FactKind, InsightFact, ProfileScope, ShopperProfile
from shopdb.models.model_registry import ModelStatus, ModelVersion
from shopdb.models.ratings import ConversationRating
from shopdb.models.review import ReviewItem, ReviewSource, ReviewStatus
from shopdb.models.shop import (
    Category,
    Customer,
    DeliveryOption,
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
    ReturnResolution,
    ReturnStatus,
    ShipmentEvent,
)
from shopdb.models.stock_alerts import StockAlert

__all__ = [
    "Agent",
    "AgentPresence",
    "ConversationRating",
    "ModelStatus",
    "ModelVersion",
    "ReviewItem",
    "ReviewSource",
    "ReviewStatus",
    "AgentRole",
    "Skill",
    "Author",
    "Base",
    "Category",
    "ConsumerCursor",
    "Customer",
    "DataRightsRequest",
    "DeliveryOption",
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
    "RequestKind",
    "RequestStatus",
    "Return",
    "ReturnResolution",
    "ReturnStatus",
    "ShipmentEvent",
    "ShopperProfile",
    "StockAlert",
    "TicketKind",
    "TicketStatus",
]
