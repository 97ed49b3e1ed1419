"""Invoices computed from orders: numbers, dates, parties, and VAT taken out of VAT-inclusive totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from itertools import count
from typing import Iterator, Optional, Sequence, Tuple

import pytest
from sqlalchemy.orm import Session

from core.settings import Settings
from shopdb.db import create_db_engine, session_factory
from shopdb.invoices import InvoiceState, load_invoice, seller_of, vat_included, vat_percent
from shopdb.models import Base, Customer, Order, OrderItem

PLACED = dt.datetime(2025, 2, 27, 18, 30)
PAID = dt.datetime(2025, 2, 28, 0, 10)  # the next day: the invoice is dated by the payment
_numbers = count(10000001)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_db_engine("sqlite://")
    Base.metadata.create_all(engine)
    with session_factory(engine)() as s:
        s.add(Customer(customer_id="C0000001", email="alex.morgan@example.com", name="Alex Morgan"))
        s.flush()
        yield s
    engine.dispose()


def add_order(
    s: Session,
    lines: Sequence[Tuple[str, int, str]],
    *,
    shipping: str = "0.00",
    status: str = "paid",
    paid_at: Optional[dt.datetime] = PAID,
) -> str:
    """An order of ``lines`` (title, quantity, unit price) whose total is their sum plus ``shipping``."""
    number = str(next(_numbers))
    total = sum((Decimal(price) * qty for _, qty, price in lines), Decimal(shipping))
    order = Order(
        order_number=number,
        customer_ref=1,
        status=status,
        placed_at=PLACED,
        paid_at=paid_at,
        cancelled_at=PAID + dt.timedelta(hours=2) if status == "cancelled" else None,
        total=total,
        ship_name="Alex Morgan",
        ship_line1="Canal Street 12",
        ship_city="Amsterdam",
        ship_postcode="1012 AB",
        ship_country="NL",
        items=[
            OrderItem(sku=f"SKU-{n}", title=title, quantity=qty, unit_price=Decimal(price))
            for n, (title, qty, price) in enumerate(lines)
        ],
    )
    s.add(order)
    s.flush()
    return number


def half_up_vat(total: Decimal, rate: Fraction) -> Decimal:
    """The reference: the exact VAT share of ``total`` in cents as a fraction, rounded half-up."""
    cents = Fraction(int(total * 100)) * rate / (1 + rate)
    whole, rest = divmod(cents, 1)
    return Decimal(int(whole) + (1 if rest >= Fraction(1, 2) else 0)) / 100


def test_an_invoice_has_its_number_date_parties_lines_and_totals(session) -> None:
    number = add_order(session, [("Trail runners", 1, "89.99"), ("Sports socks", 2, "7.50")], shipping="4.95")
    settings = Settings(seller_vat_number="NL001234567B01")
    invoice = load_invoice(session, number, settings)
    assert invoice is not None
    assert invoice.number == f"INV-{number}" and invoice.order_number == number
    assert invoice.state == InvoiceState.ISSUED and invoice.date == PAID.date()
    assert invoice.seller.name == "Larkspur Market" and invoice.seller.address == ("Venlo", "the Netherlands")
    assert invoice.seller.vat_number == "NL001234567B01"
    assert invoice.buyer.name == "Alex Morgan"
    assert invoice.buyer.address == ("Canal Street 12", "1012 AB Amsterdam", "NL")
    assert [(line.title, line.quantity, line.unit_price, line.amount) for line in invoice.lines] == [
        ("Trail runners", 1, Decimal("89.99"), Decimal("89.99")),
        ("Sports socks", 2, Decimal("7.50"), Decimal("15.00")),
    ]
    assert invoice.shipping == Decimal("4.95") and invoice.total == Decimal("109.94")
    # 109.94 x 21/121 = 19.0805...: VAT 19.08, and the net is the rest
    assert (invoice.vat, invoice.net, invoice.vat_rate) == (Decimal("19.08"), Decimal("90.86"), Decimal("0.21"))
    assert load_invoice(session, number, settings) == invoice  # the same order, the same invoice


@pytest.mark.parametrize("rate", ["0.21", "0.09", "0.055", "0"])
def test_net_plus_vat_is_the_total_to_the_cent(session, rate) -> None:
    settings = Settings(vat_rate=float(rate))
    prices = ["0.01", "0.05", "0.99", "1.00", "4.95", "9.99", "19.95", "33.33", "49.99", "129.00", "1234.56"]
    orders = [add_order(session, [("Thing", qty, price)]) for price in prices for qty in (1, 2, 3, 7)]
    orders.append(add_order(session, [("Lamp", 1, "59.90"), ("Bulbs", 4, "2.49")], shipping="9.95"))
    for number in orders:
        invoice = load_invoice(session, number, settings)
        assert invoice is not None
        assert invoice.net + invoice.vat == invoice.total
        assert invoice.vat == half_up_vat(invoice.total, Fraction(rate)), (number, invoice.total)
        assert invoice.vat.as_tuple().exponent == -2 and invoice.net.as_tuple().exponent == -2


def test_vat_is_rounded_half_up_to_the_cent() -> None:
    assert vat_included(Decimal("10.00"), Decimal("0.21")) == Decimal("1.74")  # 1.7355
    assert vat_included(Decimal("0.01"), Decimal("1")) == Decimal("0.01")  # 0.005: half-up, not to even
    assert vat_included(Decimal("0.05"), Decimal("1")) == Decimal("0.03")  # 0.025
    assert vat_included(Decimal("12.34"), Decimal("0")) == Decimal("0.00")


def test_only_a_paid_order_has_an_invoice(session) -> None:
    unpaid = add_order(session, [("Kettle", 1, "39.00")], status="placed", paid_at=None)
    cancelled = add_order(session, [("Lamp", 1, "59.90")], status="cancelled")
    delivered = add_order(session, [("Jumper", 1, "45.00")], status="delivered")
    states = {n: load_invoice(session, n, Settings()) for n in (unpaid, cancelled, delivered)}
    assert states[unpaid].state == InvoiceState.AWAITING_PAYMENT and states[unpaid].date == PLACED.date()
    assert states[cancelled].state == InvoiceState.CANCELLED
    assert states[delivered].state == InvoiceState.ISSUED
    assert load_invoice(session, "99999999", Settings()) is None


def test_an_order_whose_lines_exceed_its_total_has_no_invoice(session) -> None:
    number = add_order(session, [("Kettle", 1, "39.00")], shipping="-1.00")
    with pytest.raises(ValueError, match="lines cost more"):
        load_invoice(session, number, Settings())


def test_seller_and_rate_words() -> None:
    seller = seller_of(Settings(seller_name="Shop B.V.", seller_address="Street 1,, 5911 AA Venlo , NL"))
    assert seller.name == "Shop B.V." and seller.address == ("Street 1", "5911 AA Venlo", "NL")
    assert seller.vat_number is None
    assert [vat_percent(Decimal(r)) for r in ("0.21", "0.09", "0.055", "0")] == ["21%", "9%", "5.5%", "0%"]
