"""The generator is deterministic, sliceable and produces a coherent shop."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from shopdb import demo_data as gen
from shopdb.taxonomy import TYPES_BY_KEY, top_categories


def test_same_seed_same_catalogue_and_slices_agree():
    a = [p.to_row() for p in gen.iter_products(200, seed=7)]
    b = [p.to_row() for p in gen.iter_products(200, seed=7)]
    assert a == b
    assert [p.to_row() for p in gen.iter_products(200, seed=7, start=150)] == a[150:]
    assert [p.to_row() for p in gen.iter_products(50, seed=8)] != a[:50]


def test_catalogue_is_varied_and_coherent():
    products = list(gen.iter_products(3000))
    assert len({p.sku for p in products}) == len(products)
    tops = Counter(p.category.split("/")[0] for p in products)
    assert set(tops) == set(top_categories()) and len(tops) >= 12
    for p in products[:500]:
        t = TYPES_BY_KEY[p.type_key]
        lo, hi = t.price
        assert lo <= float(p.price) <= hi + 1
        assert p.category == t.category and p.brand in t.brands and p.brand in p.title
        if "colour" in p.attributes:
            assert p.attributes["colour"] in t.colours
        assert p.returnable == t.returnable
    assert 0.02 < sum(p.stock == 0 for p in products) / len(products) < 0.2


def test_relations_link_alternatives_and_complements():
    products = list(gen.iter_products(1500))
    links = gen.generate_relations(products)
    similar = [(a, b) for a, b, kind, _ in links if kind == "similar"]
    goes = [(a, b) for a, b, kind, _ in links if kind == "goes_with"]
    assert similar and goes
    assert all(products[a].type_key == products[b].type_key and a != b for a, b in similar)
    for a, b in goes[:300]:
        assert products[b].type_key in TYPES_BY_KEY[products[a].type_key].complements


def test_orders_are_realistic_and_demo_orders_fixed():
    today = dt.date(2025, 3, 1)
    products = list(gen.iter_products(500))
    customers = gen.generate_customers(60, today=today)
    orders = gen.generate_orders(products, customers, 300, today=today)
    again = gen.generate_orders(products, gen.generate_customers(60, today=today), 300, today=today)
    assert [o.order_number for o in orders] == [o.order_number for o in again]
    demo = {o.order_number: o for o in orders[:8]}
    assert demo["10000001"].status == "delivered" and demo["10000003"].status == "paid"
    assert customers[0].email == "alex.morgan@example.com" and customers[1].customer_id == "C0000002"
    now = dt.datetime.combine(today, dt.time(9))
    for o in orders:
        assert o.placed_at <= now
        if o.status in ("shipped", "delivered"):
            assert o.tracking_number and o.carrier and o.shipped_at > o.placed_at
            assert [e.at for e in o.events] == sorted(e.at for e in o.events)
        if o.status == "delivered":
            assert o.delivered_at > o.shipped_at and o.events[-1].code == "delivered"
    assert Counter(o.status for o in orders)["delivered"] > len(orders) / 2
    assert any(o.returns for o in orders[8:])
