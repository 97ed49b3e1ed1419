"""Invoices of orders: number, date, seller and buyer, lines, and the VAT inside the total.

Why computed and not stored: an order keeps what an invoice needs (lines with their title and
price at purchase time, the amount charged, the delivery name and address, the payment time), so
the same order always gives the same invoice, without a second copy of it to keep in step.

Prices are VAT-inclusive (consumer prices): the VAT is taken out of the order's total, rounded
half-up to the cent, and the net is what remains, so net + VAT is the total to the cent. The
order's total is what was charged; what it holds beyond the lines is shipping.

No ownership check here: callers hold the proof (the order form's proof in the action, a signed
link in the download route).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.settings import Settings, get_settings
from shopdb.models import Order, OrderStatus

CENT = Decimal("0.01")


class InvoiceState:
    """Whether an order has an invoice: issued on payment; a cancelled order has none (it is refunded)."""

    ISSUED = "issued"
    AWAITING_PAYMENT = "awaiting_payment"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Party:
    name: str
    address: Tuple[str, ...]
    vat_number: Optional[str] = None


@dataclass(frozen=True)
class InvoiceLine:
    title: str
    quantity: int
    unit_price: Decimal  # VAT included
    amount: Decimal


@dataclass(frozen=True)
class Invoice:
    number: str
    order_number: str
    state: str
    date: dt.date  # of the payment (of the order while it waits for one)
    seller: Party
    buyer: Party
    lines: Tuple[InvoiceLine, ...]
    shipping: Decimal
    net: Decimal
    vat_rate: Decimal
    vat: Decimal
    total: Decimal
    currency: str


def invoice_number(order_number: str) -> str:
    """One invoice per order, numbered after it: the same number every time it is rendered."""
    return f"INV-{order_number}"


def vat_included(total: Decimal, rate: Decimal) -> Decimal:
    """The VAT inside a VAT-inclusive amount, rounded half-up to the cent."""
    return (total * rate / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_percent(rate: Decimal) -> str:
    """``Decimal("0.21")`` -> ``"21%"``, ``Decimal("0.055")`` -> ``"5.5%"``."""
    return f"{(rate * 100).normalize():f}%"


def seller_of(settings: Settings) -> Party:
    """The shop as the seller (``SHOP_SELLER_*``)."""
    address = tuple(part.strip() for part in settings.seller_address.split(",") if part.strip())
    return Party(settings.seller_name, address, settings.seller_vat_number or None)


def invoice_of(order: Order, seller: Party, vat_rate: Decimal) -> Invoice:
    """The invoice of ``order`` (its items loaded); ValueError when its lines cost more than its total."""
    lines = tuple(
        InvoiceLine(item.title, item.quantity, item.unit_price, (item.unit_price * item.quantity).quantize(CENT))
        for item in order.items
    )
    total = Decimal(order.total).quantize(CENT)
    shipping = total - sum((line.amount for line in lines), Decimal("0"))
    if shipping < 0:
        raise ValueError("the order's lines cost more than its total: no invoice adds up")
    vat = vat_included(total, vat_rate)
    if order.status == OrderStatus.CANCELLED:
        state = InvoiceState.CANCELLED
    elif order.paid_at is None and order.status == OrderStatus.PLACED:
        state = InvoiceState.AWAITING_PAYMENT
    else:
        state = InvoiceState.ISSUED
    town = " ".join(part for part in (order.ship_postcode, order.ship_city) if part)
    buyer = Party(
        order.ship_name, tuple(p for p in (order.ship_line1, order.ship_line2, town, order.ship_country) if p)
    )
    return Invoice(
        number=invoice_number(order.order_number),
        order_number=order.order_number,
        state=state,
        date=(order.paid_at or order.placed_at).date(),
        seller=seller,
        buyer=buyer,
        lines=lines,
        shipping=shipping,
        net=total - vat,
        vat_rate=vat_rate,
        vat=vat,
        total=total,
        currency=order.currency,
    )


def load_invoice(session: Session, order_number: str, settings: Optional[Settings] = None) -> Optional[Invoice]:
    """The invoice of the order ``order_number``, None when there is no such order."""
    settings = settings or get_settings()
    order = session.execute(
        select(Order).where(Order.order_number == order_number).options(selectinload(Order.items))
    ).scalar_one_or_none()
    if order is None:
        return None
    return invoice_of(order, seller_of(settings), Decimal(str(settings.vat_rate)))


__all__ = [
    "Invoice",
    "InvoiceLine",
    "InvoiceState",
    "Party",
    "invoice_number",
    "invoice_of",
    "load_invoice",
    "seller_of",
    "vat_included",
    "vat_percent",
]
