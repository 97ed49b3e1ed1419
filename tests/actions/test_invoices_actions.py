"""action_show_invoice on a small shop of its own: amounts and a signed link for a verified order, nothing otherwise."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import pytest

from actions import shop
from actions.invoices import ActionShowInvoice
from core.signing import INVOICE_LINK_PATH, InvoiceLinks, OrderProofs, resolve_secret_key
from shopdb.db import create_db_engine, session_scope
from shopdb.models import Base, Customer, Order, OrderItem
from shopdb.orders import Orders

ALEX = "alex.morgan@example.com"
PAID_AT = dt.datetime(2025, 2, 28, 10, 0)
# 10000001 paid: 2 x 7.50 + 89.99 + 4.95 shipping = 109.94, VAT 21% 19.08, net 90.86
ORDERS = {"10000001": ("delivered", PAID_AT), "10000003": ("placed", None), "10000007": ("cancelled", PAID_AT)}


@pytest.fixture
def invoice_shop(tmp_path: Path) -> Iterator[Orders]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    Base.metadata.create_all(engine)
    orders = Orders(engine)
    with session_scope(orders.sessions) as s:
        s.add(Customer(customer_id="C0000001", email=ALEX, name="Alex Morgan"))
        s.flush()
        for number, (status, paid_at) in ORDERS.items():
            s.add(
                Order(
                    order_number=number,
                    customer_ref=1,
                    status=status,
                    placed_at=PAID_AT - dt.timedelta(minutes=5),
                    paid_at=paid_at,
                    cancelled_at=PAID_AT + dt.timedelta(hours=1) if status == "cancelled" else None,
                    total=Decimal("109.94"),
                    ship_name="Alex Morgan",
                    ship_line1="Canal Street 12",
                    ship_city="Amsterdam",
                    ship_postcode="1012 AB",
                    ship_country="NL",
                    items=[
                        OrderItem(sku="RUN-1", title="Trail runners", quantity=1, unit_price=Decimal("89.99")),
                        OrderItem(sku="SOCK-1", title="Sports socks", quantity=2, unit_price=Decimal("7.50")),
                    ],
                )
            )
    shop.use_shop(orders=orders)
    yield orders
    shop.use_shop()
    engine.dispose()


def token_of(url: str) -> str:
    assert INVOICE_LINK_PATH in url and url.endswith(".pdf"), url
    return url.rsplit("/", 1)[1][: -len(".pdf")]


def test_a_verified_order_gets_its_amounts_and_a_link(invoice_shop, proven, tracker, run, domain, slots_of) -> None:
    t = tracker("", slots=proven({"order_number": "10000001", "email": ALEX, "order_task": "invoice"}))
    messages, events = run(ActionShowInvoice(), t, domain)
    assert [m["response"] for m in messages] == ["utter_invoice_ready_link"]
    text = messages[0]["text"]
    for shown in ("INV-10000001", "order 10000001", "28 February 2025", "€90.86", "€19.08 VAT (21%)", "€109.94"):
        assert shown in text, shown
    url = text.rsplit(" ", 1)[1]
    assert url.startswith(INVOICE_LINK_PATH)
    assert InvoiceLinks(resolve_secret_key()).verify(token_of(url)) == "10000001"
    assert "24 hours" in text
    slots = slots_of(events)
    assert slots["order_action_allowed"] is None and slots["human_offered"] is None


def test_a_signed_in_shopper_gets_the_link_as_a_card_in_the_widget(invoice_shop, proven, tracker, run, domain) -> None:
    t = tracker("", slots=proven({"order_number": "10000001", "customer_id": "C0000001"}), channel="shop")
    messages, _ = run(ActionShowInvoice(), t, domain)
    assert messages[0]["response"] == "utter_invoice_ready"
    assert "€109.94" in messages[0]["text"] and INVOICE_LINK_PATH not in messages[0]["text"]
    (card,) = messages[1]["attachment"]["payload"]["elements"]
    assert card["title"] == "Invoice INV-10000001" and card["subtitle"] == "€109.94"
    (button,) = card["buttons"]
    assert button["type"] == "web_url" and button["title"] == "Download PDF"
    assert InvoiceLinks(resolve_secret_key()).verify(token_of(button["url"])) == "10000001"


def test_links_start_with_the_public_url(invoice_shop, proven, tracker, run, domain, monkeypatch) -> None:
    from core.settings import get_settings

    with monkeypatch.context() as patched:
        patched.setenv("SHOP_PUBLIC_URL", "https://chat.example.com/")
        get_settings.cache_clear()
        try:
            t = tracker("", slots=proven({"order_number": "10000001", "email": ALEX}))
            messages, _ = run(ActionShowInvoice(), t, domain)
        finally:
            get_settings.cache_clear()
    assert f" https://chat.example.com{INVOICE_LINK_PATH}" in messages[0]["text"]


def test_without_a_valid_proof_nothing_is_shown_and_a_person_is_offered(
    invoice_shop, proven, tracker, run, domain, slots_of
) -> None:
    forged = [
        {"order_number": "10000001", "email": ALEX},  # the right pair, but no proof from the order form
        {**proven({"order_number": "10000003", "email": ALEX}), "order_number": "10000001"},  # another order's
        proven({"order_number": "10000001", "email": ALEX}, sender="another-conversation"),
        {
            "order_number": "10000001",
            "email": ALEX,
            "order_proof": OrderProofs("not our secret").issue("test-conversation", "10000001", email=ALEX),
        },
        proven({"order_number": "10000001", "email": "someone.else@example.com"}),  # a proof, the wrong owner
    ]
    for slots in forged:
        messages, events = run(ActionShowInvoice(), tracker("", slots=slots), domain)
        assert [m["response"] for m in messages] == ["utter_order_not_verified"], slots
        said = str(messages)
        assert "INV-" not in said and "€" not in said and "invoices/" not in said and "10000001" not in said
        values = slots_of(events)
        assert values["order_action_allowed"] is False and values["human_offered"] is True
        assert values["order_number"] is None and values["order_proof"] is None


@pytest.mark.parametrize(
    "number,response",
    [("10000003", "utter_invoice_awaiting_payment"), ("10000007", "utter_invoice_order_cancelled")],
)
def test_unpaid_and_cancelled_orders_have_no_invoice(
    invoice_shop, proven, tracker, run, domain, number, response
) -> None:
    messages, _ = run(ActionShowInvoice(), tracker("", slots=proven({"order_number": number, "email": ALEX})), domain)
    assert [m["response"] for m in messages] == [response]
    assert number in messages[0]["text"]
    assert "€" not in messages[0]["text"] and "invoices/" not in str(messages)
