"""Stock alerts in the database: kept once per conversation and product, due when the product has stock,
claimed exactly once, given back when the line could not be said, erased with the shopper's data."""

from __future__ import annotations

from sqlalchemy import select, update

from shopdb import models as m
from shopdb.db import session_scope
from shopdb.stock_alerts import (
    add_stock_alert,
    claim_stock_alert,
    due_stock_alerts,
    erase_shopper_alerts,
    export_shopper_alerts,
    record_delivery,
)


def waiting_stock_alerts(sessions, sender_id: str):
    """The products the conversation waits for (alerts not said yet)."""
    with sessions() as s:
        waiting = select(m.StockAlert.product_id).where(
            m.StockAlert.sender_id == sender_id, m.StockAlert.notified_at.is_(None)
        )
        return list(s.execute(waiting).scalars())


def _out_of_stock(orders) -> int:
    with session_scope(orders.sessions) as s:
        product = s.execute(select(m.Product).order_by(m.Product.id).limit(1)).scalar_one()
        product.stock = 0
        return int(product.id)


def _restock(orders, product_id: int) -> None:
    with session_scope(orders.sessions) as s:
        s.execute(update(m.Product).where(m.Product.id == product_id).values(stock=3))


def test_an_alert_is_due_once_the_product_is_back_and_said_once(orders):
    product_id = _out_of_stock(orders)
    assert add_stock_alert(orders.sessions, product_id, "conversation-a", email="sam@example.org")
    assert not add_stock_alert(orders.sessions, product_id, "conversation-a", email="new@example.org")  # one alert
    assert add_stock_alert(orders.sessions, product_id, "conversation-b", customer_id="C0000001")
    assert waiting_stock_alerts(orders.sessions, "conversation-a") == [product_id]
    assert due_stock_alerts(orders.sessions) == []  # still out of stock

    _restock(orders, product_id)
    due = due_stock_alerts(orders.sessions)
    assert [(a.sender_id, a.product_id) for a in due] == [
        ("conversation-a", product_id),
        ("conversation-b", product_id),
    ]
    assert due[0].email == "new@example.org"  # the address given last
    with orders.sessions() as s:
        customer_email = s.execute(select(m.Customer.email).where(m.Customer.customer_id == "C0000001")).scalar_one()
    assert due[1].email == customer_email  # a signed-in customer's own address

    assert claim_stock_alert(orders.sessions, due[0].id)
    assert not claim_stock_alert(orders.sessions, due[0].id)  # a second server finds it taken
    record_delivery(orders.sessions, due[0].id, "chat and e-mail")
    assert [a.sender_id for a in due_stock_alerts(orders.sessions)] == ["conversation-b"]

    assert claim_stock_alert(orders.sessions, due[1].id)
    record_delivery(orders.sessions, due[1].id, None)  # could not be said: tried again next round
    assert [a.sender_id for a in due_stock_alerts(orders.sessions)] == ["conversation-b"]
    assert waiting_stock_alerts(orders.sessions, "conversation-a") == []
    # told once; asking again later is a new alert
    assert add_stock_alert(orders.sessions, product_id, "conversation-a")


def test_a_shoppers_alerts_are_exported_and_erased_with_their_data(orders):
    product_id = _out_of_stock(orders)
    add_stock_alert(orders.sessions, product_id, "conversation-a", email="sam@example.org")
    add_stock_alert(orders.sessions, product_id, "conversation-b", customer_id="C0000001")
    add_stock_alert(orders.sessions, product_id, "conversation-c")
    with session_scope(orders.sessions) as s:
        exported = export_shopper_alerts(s, ["conversation-a"], "C0000001")
        assert sorted(a["sender_id"] for a in exported) == ["conversation-a", "conversation-b"]
        assert erase_shopper_alerts(s, ["conversation-a"], "C0000001") == 2
    assert waiting_stock_alerts(orders.sessions, "conversation-c") == [product_id]
