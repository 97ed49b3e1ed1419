"""What the order operations answer: plain dataclasses, JSON-ready via ``to_dict()``.

Actions put these into slots and message payloads, so every field is a JSON scalar, list or dict
(amounts as floats with a currency, datetimes as ISO text). They carry codes and data, never
words: what the assistant says about an outcome is a response in the Rasa domain
(``bot/domain.yml``), picked by ``code`` and filled with these fields.
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
    """Outcome of a change request: ``code`` says what happened, the other fields the data to tell it.

    Codes and their ``details``:

    * ``not_found`` (nothing else: the same for an unknown order and a wrong proof)
    * cancel: ``cancelled`` (``refund_amount``: 0.0 when nothing was paid, ``refund_days``: [min, max]
      business days), ``already_cancelled``, ``not_cancellable`` (``status``)
    * address: ``address_changed``, ``not_changeable`` (``status``), ``invalid_address``
      (``errors``: [{``field``, ``type``, ``reason``}], ``type`` e.g. ``value_error.country_not_served``)
    * problems: ``issue_recorded`` (``kind``; ``reference`` ISS-...), ``not_shipped``, ``item_not_in_order``
      (``sku``), ``invalid_kind`` (``kinds``)
    * returns: the codes of :class:`ReturnEligibility` (``eligibility``: its ``to_dict()``),
      ``item_not_in_order`` (``sku``), ``item_not_returnable`` (``item``: an :class:`ItemEligibility`
      dict), ``which_item`` (``items``), ``invalid_quantity`` (``item``, ``max_quantity``),
      ``return_created`` (``reference`` RMA-..., ``item``, ``quantity``, ``refund_amount``, ``currency``,
      ``deadline``, ``refund_days``)
    """

    ok: bool
    code: str
    order: Optional[OrderSummary] = None
    reference: Optional[str] = None  # RMA or issue number when one was created
    details: Dict[str, Any] = field(default_factory=dict)


@dataclass
class ItemEligibility(_Serialisable):
    item_id: int
    sku: str
    title: str
    eligible: bool
    reason: str  # eligible | window_closed | final_sale (unless faulty) | already_returned
    returnable_quantity: int


@dataclass
class ReturnEligibility(_Serialisable):
    eligible: bool
    # eligible | not_found | not_delivered (a cancelled order too: see order_status) | window_closed | nothing_returnable
    code: str
    order_number: Optional[str] = None
    order_status: Optional[str] = None
    cancellable: bool = False  # not delivered yet and still cancellable instead
    window_days: Optional[int] = None  # the return window (days after delivery)
    deadline: Optional[str] = None  # last day to return (ISO date)
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
    resolution: str = "refund"  # or "replacement"


@dataclass
class RefundStatusResult(_Serialisable):
    found: bool
    order_number: Optional[str] = None
    returns: List[ReturnInfo] = field(default_factory=list)
    order_refund: Optional[Dict[str, Any]] = None  # refund of a cancelled, paid order


__all__ = [
    "ActionResult",
    "ItemEligibility",
    "OrderLine",
    "OrderSummary",
    "RefundStatusResult",
    "ReturnEligibility",
    "ReturnInfo",
    "TrackingEvent",
]
