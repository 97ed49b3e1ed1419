"""What the order operations answer: plain dataclasses, JSON-ready via ``to_dict()``.

Actions put these into slots and message payloads, so every field is a JSON scalar, list or dict
(amounts as floats with a currency, datetimes as ISO text).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


class _Serialisable:
    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


@dataclass
class OrderLine(_Serialisable):
    item_id: int
    sku: str
    title: str
    quantity: int
    unit_price: float
    returnable: bool


@dataclass
class TrackingEvent(_Serialisable):
    at: str
    code: str
    location: Optional[str]
    description: str


@dataclass
class OrderSummary(_Serialisable):
    order_number: str
    status: str
    placed_at: str
    total: float
    currency: str
    items: List[OrderLine]
    customer_first_name: str
    shipping_method: str
    delivery_address: Dict[str, Optional[str]]
    carrier: Optional[str] = None
    tracking_number: Optional[str] = None
    shipped_at: Optional[str] = None
    delivered_at: Optional[str] = None
    cancelled_at: Optional[str] = None
    estimated_delivery: Optional[str] = None
    events: List[TrackingEvent] = field(default_factory=list)


@dataclass
class ActionResult(_Serialisable):
    """Outcome of a change request. ``code`` is stable for dialogue logic, ``message`` is for people."""

    ok: bool
    code: str
    message: str
    order: Optional[OrderSummary] = None
    reference: Optional[str] = None  # RMA or issue number when one was created
    details: Dict[str, Any] = field(default_factory=dict)


@dataclass
class ItemEligibility(_Serialisable):
    item_id: int
    sku: str
    title: str
    eligible: bool
    reason: str
    returnable_quantity: int


@dataclass
class ReturnEligibility(_Serialisable):
    eligible: bool
    code: str  # eligible | not_found | not_delivered | window_closed | nothing_returnable
    message: str
    deadline: Optional[str] = None
    days_left: Optional[int] = None
    items: List[ItemEligibility] = field(default_factory=list)


@dataclass
class ReturnInfo(_Serialisable):
    rma_number: str
    sku: str
    title: str
    quantity: int
    reason: str
    status: str
    refund_status: str
    refund_amount: float
    currency: str
    created_at: str


@dataclass
class RefundStatusResult(_Serialisable):
    found: bool
    order_number: Optional[str]
    message: str
    returns: List[ReturnInfo] = field(default_factory=list)
    order_refund: Optional[Dict[str, Any]] = None  # refund of a cancelled, paid order


__all__ = ["ActionResult", "ItemEligibility", "OrderLine", "OrderSummary", "RefundStatusResult", "ReturnEligibility", "ReturnInfo", "TrackingEvent"]
