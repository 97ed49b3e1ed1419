"""Order look-ups and changes through the facade, on a real SQLite copy of the demo shop."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from shopdb.models import Order, OrderIssue, Return
from shopdb.orders import normalise_email, normalise_order_number
from shopdb.policies import REFUND_BUSINESS_DAYS, RETURN_WINDOW_DAYS

ALEX = "alex.morgan@example.com"
SAM = "sam.lee@example.com"


def test_verify_order_accepts_owner_with_messy_input(orders):
    summary = orders.verify_order(" #1000-0001 ", "  Alex.Morgan@EXAMPLE.com ")
    assert summary is not None and summary.order_number == "10000001"
    assert summary.status == "delivered"
    assert summary.items and summary.delivered_at
    json.dumps(summary.to_dict())  # slot-ready


def test_wrong_email_and_unknown_number_are_indistinguishable(orders):
    wrong_email = orders.verify_order("10000001", SAM)
    unknown = orders.verify_order("99999998", ALEX)
    assert wrong_email is None and unknown is None
    results = [orders.cancel_order("10000003", email=SAM), orders.cancel_order("99999998", email=ALEX)]
    assert results[0].to_dict() == results[1].to_dict()
    assert results[0].code == "not_found"
    e1 = orders.return_eligibility("10000001", email=SAM)
    e2 = orders.return_eligibility("12345678", email=SAM)
    assert e1.to_dict() == e2.to_dict()
    r1, r2 = orders.refund_status("10000005", email=SAM), orders.refund_status("10000009", email=ALEX)
    assert r1.to_dict() == r2.to_dict() and not r1.found


@pytest.mark.parametrize(
    "number,email",
    [
        ("10000001' OR '1'='1", ALEX),
        ("10000001", "' OR 1=1 --"),
        ("%", ALEX),
        ("1000000*", ALEX),
        (None, ALEX),
        (10000001.0, ALEX),
        ("1" * 10_000, ALEX),
        ("10000001", "a" * 300 + "@example.com"),
        ("10000001", None),
        ("10000001", ["alex.morgan@example.com"]),
    ],
)
def test_hostile_inputs_are_just_not_found(orders, number, email):
    assert orders.verify_order(number, email) is None
    assert orders.cancel_order(number, email=email).code == "not_found"


def test_normalisers():
    assert normalise_order_number("order #10000001") == "10000001"
    assert normalise_order_number("1000 0001") == "10000001"
    assert normalise_order_number("100000011") is None
    assert normalise_order_number(True) is None
    assert normalise_email(" A.B@Example.COM ") == "a.b@example.com"
    assert normalise_email("not an email") is None


def test_customer_id_is_proof_of_ownership(orders):
    assert orders.get_order("10000001", customer_id="c0000001").order_number == "10000001"
    assert orders.get_order("10000001", customer_id="C0000002") is None
    numbers = [o.order_number for o in orders.orders_for_customer("C0000001")]
    assert set(numbers) == {f"1000000{i}" for i in range(1, 8)}
    assert orders.orders_for_customer("C9999999") == [] and orders.orders_for_customer("x' OR 1=1") == []


def test_cancel_paid_order_then_not_again(orders):
    res = orders.cancel_order("10000003", email=ALEX, reason="changed my mind")
    assert res.ok and res.code == "cancelled" and res.order.status == "cancelled"
    assert res.details["refund_amount"] > 0 and res.details["refund_days"] == list(REFUND_BUSINESS_DAYS)
    with orders.sessions() as s:
        assert s.execute(select(Order.status).where(Order.order_number == "10000003")).scalar_one() == "cancelled"
    again = orders.cancel_order("10000003", email=ALEX)
    assert not again.ok and again.code == "already_cancelled"


@pytest.mark.parametrize("number,status", [("10000006", "packed"), ("10000002", "shipped"), ("10000001", "delivered")])
def test_cannot_cancel_after_packing(orders, number, status):
    res = orders.cancel_order(number, email=ALEX)
    assert not res.ok and res.code == "not_cancellable" and res.details["status"] == status
    assert orders.verify_order(number, ALEX).status == status


NEW_ADDRESS = {
    "name": "Alex Morgan",
    "line1": "Prinsengracht 100",
    "city": "Amsterdam",
    "postcode": "1015 EA",
    "country": "nl",
}


def test_change_address_before_shipping(orders):
    res = orders.change_delivery_address("10000006", NEW_ADDRESS, email=ALEX)
    assert res.ok and res.order.delivery_address["line1"] == "Prinsengracht 100"
    assert res.order.delivery_address["country"] == "NL"


def test_change_address_refused_after_shipping_and_for_bad_addresses(orders):
    res = orders.change_delivery_address("10000002", NEW_ADDRESS, email=ALEX)
    assert not res.ok and res.code == "not_changeable" and res.details["status"] == "shipped"
    assert res.order.carrier and res.order.tracking_number  # what the assistant needs to suggest a redirect
    bad = orders.change_delivery_address("10000006", {**NEW_ADDRESS, "country": "US", "postcode": ""}, email=ALEX)
    assert bad.code == "invalid_address"
    assert {e["field"] for e in bad.details["errors"]} == {"country", "postcode"}
    assert {e["type"] for e in bad.details["errors"] if e["field"] == "country"} == {"value_error.country_not_served"}
    assert orders.verify_order("10000006", ALEX).delivery_address["line1"] != "Prinsengracht 100"


def test_return_eligibility_follows_window_and_final_sale(orders):
    ok = orders.return_eligibility("10000001", email=ALEX)
    assert ok.eligible and ok.code == "eligible" and 0 < ok.days_left <= 30
    assert ok.order_number == "10000001" and ok.window_days == RETURN_WINDOW_DAYS and ok.deadline
    assert {i.reason for i in ok.items} == {"eligible"}
    closed = orders.return_eligibility("10000004", email=ALEX)
    assert not closed.eligible and closed.code == "window_closed" and closed.days_left < 0
    assert {i.reason for i in closed.items} == {"window_closed"}
    shipped = orders.return_eligibility("10000002", email=ALEX)
    assert shipped.code == "not_delivered" and shipped.order_status == "shipped" and not shipped.cancellable
    paid = orders.return_eligibility("10000003", email=ALEX)
    assert paid.code == "not_delivered" and paid.order_status == "paid" and paid.cancellable
    mixed = orders.return_eligibility("10000008", email=SAM)
    by_title = {i.title: i for i in mixed.items}
    earrings = [i for t, i in by_title.items() if "Earrings" in t]
    assert earrings and not earrings[0].eligible and earrings[0].reason == "final_sale"
    assert mixed.eligible  # the dress can go back


def test_create_return_and_refund_status(orders):
    summary = orders.verify_order("10000001", ALEX)
    shoes = summary.items[0]
    res = orders.create_return("10000001", sku=shoes.sku, reason="Too small", email=ALEX)
    assert res.ok and res.reference.startswith("RMA-")
    assert res.details["refund_amount"] == pytest.approx(shoes.unit_price)
    status = orders.refund_status("10000001", email=ALEX)
    assert status.found and [r.rma_number for r in status.returns] == [res.reference]
    assert status.returns[0].refund_status == "not_started"
    assert res.details["item"]["sku"] == shoes.sku and res.details["quantity"] == 1 and res.details["deadline"]
    again = orders.create_return("10000001", sku=shoes.sku, email=ALEX)
    assert not again.ok and again.code == "item_not_returnable"
    assert again.details["item"]["reason"] == "already_returned"
    with orders.sessions() as s:
        assert s.execute(select(Return).where(Return.rma_number == res.reference)).scalar_one().quantity == 1


def test_create_return_refusals(orders):
    assert orders.create_return("10000004", email=ALEX).code == "window_closed"
    assert orders.create_return("10000001", email=ALEX).code == "which_item"  # two items: ask which
    assert orders.create_return("10000001", sku="NOPE-123", email=ALEX).code == "item_not_in_order"
    earrings = next(i for i in orders.verify_order("10000008", SAM).items if "Earrings" in i.title)
    assert orders.create_return("10000008", sku=earrings.sku, email=SAM).code == "item_not_returnable"
    first = orders.verify_order("10000001", ALEX).items[1]
    assert orders.create_return("10000001", sku=first.sku, quantity=99, email=ALEX).code == "invalid_quantity"


def test_refund_status_of_return_in_progress_and_cancelled_order(orders):
    res = orders.refund_status("10000005", customer_id="C0000001")
    assert res.found and res.returns[0].refund_status == "processing" and res.returns[0].refund_amount > 0
    cancelled = orders.refund_status("10000007", email=ALEX)
    assert cancelled.order_refund and cancelled.order_refund["status"] == "refunded"


def test_report_problem(orders):
    item = orders.verify_order("10000001", ALEX).items[1]
    res = orders.report_order_problem("10000001", "damaged", "sole came off", sku=item.sku, email=ALEX)
    assert res.ok and res.reference.startswith("ISS-")
    with orders.sessions() as s:
        issue = s.execute(select(OrderIssue).where(OrderIssue.reference == res.reference)).scalar_one()
        assert issue.kind == "damaged" and issue.order_item_id == item.item_id
    assert orders.report_order_problem("10000003", "missing", email=ALEX).code == "not_shipped"
    assert orders.report_order_problem("10000001", "stolen by aliens", email=ALEX).code == "invalid_kind"
    assert orders.report_order_problem("10000001", "missing", email=SAM).code == "not_found"


def test_results_carry_codes_and_data_not_sentences(orders):
    """The assistant's words are domain responses: results say what happened (``code``) and hold the data."""
    results = [
        orders.cancel_order("10000002", email=ALEX),
        orders.cancel_order("99999998", email=ALEX),
        orders.change_delivery_address("10000002", NEW_ADDRESS, email=ALEX),
        orders.report_order_problem("10000003", "missing", email=ALEX),
        orders.create_return("10000004", email=ALEX),
        orders.return_eligibility("10000001", email=ALEX),
        orders.refund_status("10000005", email=ALEX),
    ]
    for result in results:
        assert "message" not in result.to_dict(), result
    closed = orders.create_return("10000004", email=ALEX)
    assert closed.details["eligibility"]["code"] == "window_closed" and closed.details["eligibility"]["deadline"]
