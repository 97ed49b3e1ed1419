"""``Orders``: the shop's orders, returns and refunds, behind proof of ownership.

Every method that touches an order needs proof of ownership (order number + e-mail, or the
signed-in customer's id) and answers "not found" identically for an unknown order and a wrong
e-mail, so nobody can probe which order numbers exist. Changes (cancel, new address, problem
reports, returns) are conditional on the order's state and run in one transaction each.

Results carry a machine-readable ``code`` and the data behind it (:mod:`shopdb.order_types`), no
sentences: the assistant's words are responses in the Rasa domain, chosen by the code.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import re
import secrets
from decimal import Decimal
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from pydantic import BaseModel, PydanticValueError, ValidationError, constr, validator
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload, sessionmaker

from core.clock import utcnow_seconds
from core.settings import Settings, get_settings
from shopdb import policies as pol
from shopdb.counters import SharedLimiter
from shopdb.db import create_db_engine, session_factory, session_scope
from shopdb.models import Customer, Order, OrderIssue, OrderStatus, RefundStatus, Return, ReturnResolution, ReturnStatus
from shopdb.order_types import (
    ActionResult,
    ItemEligibility,
    OrderLine,
    OrderSummary,
    RefundStatusResult,
    ReturnEligibility,
    ReturnInfo,
    TrackingEvent,
)

log = logging.getLogger(__name__)

ORDER_NUMBER_RE = re.compile(r"^[0-9]{8}$")
CUSTOMER_ID_RE = re.compile(r"^C[0-9]{7}$")
EMAIL_RE = re.compile(
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)
ISSUE_KINDS = ("missing", "damaged", "wrong_item", "not_arrived", "other")
_DUMMY_SECRET = "no-such-order@invalid"


# ----------------------------------------------------------------------------- input normalisation


def normalise_order_number(value: Any) -> Optional[str]:
    """``"#1000-0001 "`` -> ``"10000001"``; anything that is not an order number -> None."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    text = str(value).strip()
    if len(text) > 40:
        return None
    text = re.sub(r"^(?:order|ord|no\.?|number|nr\.?|#)\s*[:#]?\s*", "", text, flags=re.I)
    text = re.sub(r"[\s\-#]", "", text)
    return text if ORDER_NUMBER_RE.match(text) else None


def normalise_email(value: Any) -> Optional[str]:
    """Trimmed, lower-cased e-mail address, or None when it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if len(text) > 254 or not EMAIL_RE.match(text):
        return None
    return text


def normalise_customer_id(value: Any) -> Optional[str]:
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    return text if CUSTOMER_ID_RE.match(text) else None


class CountryNotServed(PydanticValueError):
    """A country we do not deliver to (error type ``value_error.country_not_served``, ctx ``country``,
    ``countries``): the assistant answers it with its own response."""

    code = "country_not_served"
    msg_template = "we do not deliver to {country}; we deliver to {countries}"


class DeliveryAddress(BaseModel):
    """A new delivery address given by a shopper (validated before anything is changed)."""

    name: constr(strip_whitespace=True, min_length=2, max_length=200)  # type: ignore[valid-type]
    line1: constr(strip_whitespace=True, min_length=3, max_length=200)  # type: ignore[valid-type]
    line2: Optional[constr(strip_whitespace=True, max_length=200)] = None  # type: ignore[valid-type]
    city: constr(strip_whitespace=True, min_length=2, max_length=100)  # type: ignore[valid-type]
    postcode: constr(strip_whitespace=True, min_length=3, max_length=12, regex=r"^[A-Za-z0-9 \-]+$")  # type: ignore[valid-type]
    country: constr(strip_whitespace=True, to_upper=True, min_length=2, max_length=2)  # type: ignore[valid-type]

    @validator("country")
    def _we_ship_there(cls, v: str) -> str:
        if v not in pol.SHIPPING_COUNTRIES:
            raise CountryNotServed(country=v, countries=", ".join(pol.SHIPPING_COUNTRIES))
        return v


# ----------------------------------------------------------------------------- the orders


class Orders:
    """The shop's orders, returns and refunds, for the assistant; ownership is checked on every call.

    Build it once per process (:meth:`from_settings`); every method opens its own short session, so
    concurrent calls from the action server's threads are safe.
    """

    def __init__(
        self, engine: Engine, *, clock: Optional[Callable[[], dt.datetime]] = None, limits_url: Optional[str] = None
    ) -> None:
        self.engine = engine
        self.sessions: sessionmaker = session_factory(engine)
        self.clock = clock or utcnow_seconds
        self.limits_url = limits_url
        self._limiter: Optional[SharedLimiter] = None

    @classmethod
    def from_settings(
        cls, settings: Optional[Settings] = None, *, timeout: Optional[float] = None, **kwargs: Any
    ) -> "Orders":
        """Orders in the database of ``settings``; ``timeout`` bounds every statement (``SHOP_DB_TIMEOUT``)."""
        settings = settings or get_settings()
        engine = create_db_engine(settings.resolved_database_url, timeout=timeout)
        return cls(engine, limits_url=settings.limits_url, **kwargs)

    @property
    def limiter(self) -> SharedLimiter:
        """The shared counters (verification misses per client): ``SHOP_LIMITS_URL``, else this database."""
        if self._limiter is None:
            self._limiter = SharedLimiter.from_url(self.limits_url, self.engine)
        return self._limiter

    # ------------------------------------------------------------------ orders: ownership

    def _owned_order(
        self, s: Session, order_number: Any, email: Any = None, customer_id: Any = None, *, for_update: bool = False
    ) -> Optional[Order]:
        """The order if the caller proved ownership, else None (same work and answer either way)."""
        number = normalise_order_number(order_number)
        if customer_id is not None:
            secret, field = normalise_customer_id(customer_id), "customer_id"
        else:
            secret, field = normalise_email(email), "email"
        stmt = (
            select(Order)
            .join(Customer, Customer.id == Order.customer_ref)
            .where(Order.order_number == (number or "00000000"))
            .options(selectinload(Order.items), selectinload(Order.events), selectinload(Order.customer))
        )
        if for_update:
            stmt = stmt.with_for_update()
        order = s.execute(stmt).scalar_one_or_none()
        expected = getattr(order.customer, field) if order is not None else _DUMMY_SECRET
        matches = hmac.compare_digest(expected.encode(), (secret or "").encode())
        if order is None or number is None or secret is None or not matches:
            log.info("order verification failed (proof: %s)", "e-mail" if field == "email" else "customer id")
            return None
        return order

    def verify_order(self, order_number: Any, email: Any) -> Optional[OrderSummary]:
        """The order's summary when number and e-mail belong together; None otherwise (never says which)."""
        with self.sessions() as s:
            order = self._owned_order(s, order_number, email=email)
            return self._summary(order) if order else None

    def get_order(self, order_number: Any, *, email: Any = None, customer_id: Any = None) -> Optional[OrderSummary]:
        """Like ``verify_order`` but also accepts the logged-in customer's id as proof."""
        with self.sessions() as s:
            order = self._owned_order(s, order_number, email=email, customer_id=customer_id)
            return self._summary(order) if order else None

    def orders_for_customer(self, customer_id: Any, limit: int = 10) -> List[OrderSummary]:
        """The customer's most recent orders (for a logged-in shopper); empty for an unknown id."""
        cid = normalise_customer_id(customer_id)
        if cid is None:
            return []
        with self.sessions() as s:
            stmt = (
                select(Order)
                .join(Customer, Customer.id == Order.customer_ref)
                .where(Customer.customer_id == cid)
                .options(selectinload(Order.items), selectinload(Order.events), selectinload(Order.customer))
                .order_by(Order.placed_at.desc())
                .limit(max(1, min(int(limit), 50)))
            )
            return [self._summary(o) for o in s.execute(stmt).scalars()]

    # ------------------------------------------------------------------ orders: changes

    def cancel_order(
        self, order_number: Any, *, email: Any = None, customer_id: Any = None, reason: Optional[str] = None
    ) -> ActionResult:
        """Cancel an order that is still placed or paid; otherwise say why not (``code``, ``details.status``)."""
        with session_scope(self.sessions) as s:
            order = self._owned_order(s, order_number, email, customer_id, for_update=True)
            if order is None:
                return ActionResult(False, "not_found")
            if order.status == OrderStatus.CANCELLED:
                return ActionResult(False, "already_cancelled", self._summary(order))
            if order.status not in OrderStatus.CANCELLABLE:
                return ActionResult(False, "not_cancellable", self._summary(order), details={"status": order.status})
            was_paid = order.status == OrderStatus.PAID
            order.status = OrderStatus.CANCELLED
            order.cancelled_at = self.clock()
            order.cancel_reason = (reason or "Cancelled by customer")[:300]
            s.flush()
            return ActionResult(
                True,
                "cancelled",
                self._summary(order),
                details={
                    "refund_amount": float(order.total) if was_paid else 0.0,
                    "refund_days": list(pol.REFUND_BUSINESS_DAYS),
                },
            )

    def change_delivery_address(
        self,
        order_number: Any,
        address: Union[DeliveryAddress, Mapping[str, Any]],
        *,
        email: Any = None,
        customer_id: Any = None,
    ) -> ActionResult:
        """Change where an order goes, only until it ships; the new address is validated first."""
        try:
            new = address if isinstance(address, DeliveryAddress) else DeliveryAddress.parse_obj(dict(address))
        except (ValidationError, TypeError, ValueError) as exc:
            errors = (
                exc.errors()
                if isinstance(exc, ValidationError)
                else [{"loc": ("address",), "msg": str(exc), "type": "type_error"}]
            )
            return ActionResult(
                False,
                "invalid_address",
                details={
                    "errors": [
                        {"field": ".".join(map(str, e["loc"])), "type": e.get("type", ""), "reason": e["msg"]}
                        for e in errors
                    ]
                },
            )
        with session_scope(self.sessions) as s:
            order = self._owned_order(s, order_number, email, customer_id, for_update=True)
            if order is None:
                return ActionResult(False, "not_found")
            if order.status not in OrderStatus.ADDRESS_CHANGEABLE:
                return ActionResult(False, "not_changeable", self._summary(order), details={"status": order.status})
            order.ship_name, order.ship_line1, order.ship_line2 = new.name, new.line1, new.line2
            order.ship_city, order.ship_postcode, order.ship_country = new.city, new.postcode, new.country
            order.updated_at = self.clock()
            s.flush()
            return ActionResult(True, "address_changed", self._summary(order))

    def report_order_problem(
        self,
        order_number: Any,
        kind: str,
        description: str = "",
        *,
        sku: Optional[str] = None,
        email: Any = None,
        customer_id: Any = None,
    ) -> ActionResult:
        """Record a missing, damaged or wrong item (or a parcel that never came) for staff to resolve."""
        kind = (kind or "").strip().lower().replace(" ", "_")
        if kind not in ISSUE_KINDS:
            return ActionResult(False, "invalid_kind", details={"kinds": list(ISSUE_KINDS)})
        with session_scope(self.sessions) as s:
            order = self._owned_order(s, order_number, email, customer_id)
            if order is None:
                return ActionResult(False, "not_found")
            if order.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
                return ActionResult(False, "not_shipped", self._summary(order))
            item = None
            if sku:
                item = next((i for i in order.items if i.sku == str(sku).strip().upper()), None)
                if item is None:
                    return ActionResult(
                        False, "item_not_in_order", self._summary(order), details={"sku": str(sku)[:40]}
                    )
            ref = f"ISS-{secrets.token_hex(4).upper()}"
            s.add(
                OrderIssue(
                    reference=ref,
                    order_id=order.id,
                    order_item_id=item.id if item else None,
                    kind=kind,
                    description=(description or "")[:2000],
                    created_at=self.clock(),
                )
            )
            s.flush()
            return ActionResult(True, "issue_recorded", self._summary(order), reference=ref, details={"kind": kind})

    # ------------------------------------------------------------------ returns and refunds

    def return_eligibility(self, order_number: Any, *, email: Any = None, customer_id: Any = None) -> ReturnEligibility:
        """Which items of an order can still be returned, from the delivery date and the return window."""
        with self.sessions() as s:
            order = self._owned_order(s, order_number, email, customer_id)
            if order is None:
                return ReturnEligibility(False, "not_found")
            return self._eligibility(s, order)

    def _eligibility(self, s: Session, order: Order) -> ReturnEligibility:
        window = pol.RETURN_WINDOW_DAYS
        if order.status != OrderStatus.DELIVERED or order.delivered_at is None:
            return ReturnEligibility(
                False,
                "not_delivered",
                order.order_number,
                order.status,
                cancellable=order.status in OrderStatus.CANCELLABLE,
                window_days=window,
            )
        deadline = order.delivered_at.date() + dt.timedelta(days=pol.RETURN_WINDOW_DAYS)
        days_left = (deadline - self.clock().date()).days
        returned: Dict[int, int] = {}
        for r in s.execute(
            select(Return).where(Return.order_id == order.id, Return.status != ReturnStatus.REJECTED)
        ).scalars():
            returned[r.order_item_id] = returned.get(r.order_item_id, 0) + r.quantity
        items = []
        for it in order.items:
            left = it.quantity - returned.get(it.id, 0)
            if days_left < 0:
                ok, why = False, "window_closed"
            elif not it.returnable:
                ok, why = False, "final_sale"  # hygiene items: returnable only when faulty
            elif left <= 0:
                ok, why = False, "already_returned"
            else:
                ok, why = True, "eligible"
            items.append(ItemEligibility(it.id, it.sku, it.title, ok, why, max(0, left) if ok else 0))
        if days_left < 0:
            code = "window_closed"
        elif not any(i.eligible for i in items):
            code = "nothing_returnable"
        else:
            code = "eligible"
        return ReturnEligibility(
            code == "eligible",
            code,
            order.order_number,
            order.status,
            window_days=window,
            deadline=deadline.isoformat(),
            days_left=days_left,
            items=items,
        )

    def create_return(
        self,
        order_number: Any,
        sku: Optional[str] = None,
        reason: str = "",
        quantity: int = 1,
        *,
        email: Any = None,
        customer_id: Any = None,
        resolution: str = ReturnResolution.REFUND,
    ) -> ActionResult:
        """Open a return (RMA) for one item of a delivered order, when the policy allows it.

        ``resolution`` is a refund of the item's price, or a replacement (no refund).

        ``sku`` may be omitted for single-item orders.
        """
        with session_scope(self.sessions) as s:
            order = self._owned_order(s, order_number, email, customer_id, for_update=True)
            if order is None:
                return ActionResult(False, "not_found")
            elig = self._eligibility(s, order)
            if not elig.eligible:
                return ActionResult(False, elig.code, self._summary(order), details={"eligibility": elig.to_dict()})
            candidates = [i for i in elig.items if i.eligible]
            if sku:
                wanted = str(sku).strip().upper()[:40]
                match = next((i for i in elig.items if i.sku == wanted), None)
                if match is None:
                    return ActionResult(False, "item_not_in_order", self._summary(order), details={"sku": wanted})
                if not match.eligible:
                    return ActionResult(
                        False, "item_not_returnable", self._summary(order), details={"item": match.to_dict()}
                    )
            elif len(candidates) == 1:
                match = candidates[0]
            else:
                return ActionResult(
                    False, "which_item", self._summary(order), details={"items": [i.to_dict() for i in candidates]}
                )
            try:
                qty = int(quantity)
            except (TypeError, ValueError):
                qty = 0
            if not 1 <= qty <= match.returnable_quantity:
                return ActionResult(
                    False,
                    "invalid_quantity",
                    self._summary(order),
                    details={"item": match.to_dict(), "max_quantity": match.returnable_quantity},
                )
            line = next(i for i in order.items if i.id == match.item_id)
            replacement = resolution == ReturnResolution.REPLACEMENT
            refund = Decimal("0") if replacement else line.unit_price * qty
            rma = f"RMA-{secrets.token_hex(4).upper()}"
            now = self.clock()
            s.add(
                Return(
                    rma_number=rma,
                    order_id=order.id,
                    order_item_id=line.id,
                    quantity=qty,
                    reason=(reason or "Not specified")[:300],
                    status=ReturnStatus.REQUESTED,
                    refund_status=RefundStatus.NOT_APPLICABLE if replacement else RefundStatus.NOT_STARTED,
                    refund_amount=refund,
                    resolution=ReturnResolution.REPLACEMENT if replacement else ReturnResolution.REFUND,
                    created_at=now,
                    updated_at=now,
                )
            )
            s.flush()
            return ActionResult(
                True,
                "return_created",
                self._summary(order),
                reference=rma,
                details={
                    "resolution": ReturnResolution.REPLACEMENT if replacement else ReturnResolution.REFUND,
                    "refund_amount": float(refund),
                    "currency": order.currency,
                    "item": match.to_dict(),
                    "quantity": qty,
                    "deadline": elig.deadline,
                    "refund_days": list(pol.REFUND_BUSINESS_DAYS),
                },
            )

    def refund_status(self, order_number: Any, *, email: Any = None, customer_id: Any = None) -> RefundStatusResult:
        """Refunds of an order: its returns and, for a cancelled paid order, the cancellation refund."""
        with self.sessions() as s:
            order = self._owned_order(s, order_number, email, customer_id)
            if order is None:
                return RefundStatusResult(False)
            rets = list(
                s.execute(
                    select(Return)
                    .where(Return.order_id == order.id)
                    .options(selectinload(Return.item))
                    .order_by(Return.created_at)
                ).scalars()
            )
            infos = [
                ReturnInfo(
                    r.rma_number,
                    r.item.sku,
                    r.item.title,
                    r.quantity,
                    r.reason,
                    r.status,
                    r.refund_status,
                    float(r.refund_amount),
                    order.currency,
                    r.created_at.isoformat(),
                    r.resolution,
                )
                for r in rets
            ]
            order_refund = None
            if order.status == OrderStatus.CANCELLED and order.paid_at is not None:
                _, hi = pol.REFUND_BUSINESS_DAYS
                done = order.cancelled_at and (self.clock() - order.cancelled_at).days >= hi
                order_refund = {
                    "amount": float(order.total),
                    "currency": order.currency,
                    "status": RefundStatus.REFUNDED if done else RefundStatus.PROCESSING,
                }
            return RefundStatusResult(True, order.order_number, infos, order_refund)

    # ------------------------------------------------------------------ helpers

    def _summary(self, o: Order) -> OrderSummary:
        eta = None
        if o.status == OrderStatus.SHIPPED and o.shipped_at:
            eta = (o.shipped_at + dt.timedelta(days=1 if o.shipping_method == "express" else 3)).date().isoformat()
        elif o.status in (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PACKED):
            eta = (o.placed_at + dt.timedelta(days=2 if o.shipping_method == "express" else 5)).date().isoformat()
        return OrderSummary(
            order_number=o.order_number,
            status=o.status,
            placed_at=o.placed_at.isoformat(),
            total=float(o.total),
            currency=o.currency,
            items=[
                OrderLine(i.id, i.sku, i.title, i.quantity, float(i.unit_price), bool(i.returnable)) for i in o.items
            ],
            customer_first_name=o.customer.name.split()[0] if o.customer and o.customer.name else "",
            shipping_method=o.shipping_method,
            delivery_address={
                "name": o.ship_name,
                "line1": o.ship_line1,
                "line2": o.ship_line2,
                "city": o.ship_city,
                "postcode": o.ship_postcode,
                "country": o.ship_country,
            },
            carrier=o.carrier,
            tracking_number=o.tracking_number,
            shipped_at=_iso(o.shipped_at),
            delivered_at=_iso(o.delivered_at),
            cancelled_at=_iso(o.cancelled_at),
            estimated_delivery=eta,
            events=[TrackingEvent(e.at.isoformat(), e.code, e.location, e.description) for e in o.events],
        )


def _iso(value: Optional[dt.datetime]) -> Optional[str]:
    return value.isoformat() if value else None


__all__ = [
    "CountryNotServed",
    "DeliveryAddress",
    "Orders",
    "normalise_customer_id",
    "normalise_email",
    "normalise_order_number",
]
