"""Delivery options: the demo shop's agree with the shipping policy, a shop imports its own, the queries."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from core.settings import Settings
from shopdb import demo_data as gen
from shopdb import policies as pol
from shopdb.db import create_db_engine, migrate, session_factory
from shopdb.delivery import delivery_options, summarise_methods
from shopdb.importer import import_file, validate_delivery_file, validate_file
from shopdb.loader import replace_delivery_options
from shopdb.models import DeliveryOption

EXAMPLES = Path(__file__).resolve().parents[2] / "shopdb" / "examples"


def test_demo_options_are_what_the_shipping_policy_says():
    text = {p.key: p.text for p in pol.load_passages()}
    times, costs = text["shipping/delivery-options-and-times"], text["shipping/shipping-costs"]
    options = gen.demo_delivery_options()
    assert {o.country for o in options} == set(pol.SHIPPING_COUNTRIES) and len(options) == 14 * 2
    for method, low, high, price, free_from in gen.DEMO_DELIVERY_METHODS:
        assert f"{method.capitalize()} delivery takes {low}-{high} business days" in times
        assert f"€{price}" in costs and f"{method.capitalize()} delivery" in costs
        if free_from is not None:
            assert f"free on orders of €{free_from:.0f} or more" in costs
    assert f"before {pol.DISPATCH_CUTOFF} on a business day are dispatched the same day" in times
    returns = text["returns/return-shipping-costs"]
    assert pol.RETURN_SHIPPING_COST == 0 and "Returns are free in every country we ship to" in returns


def test_importer_reads_a_delivery_options_csv_with_names_and_decimal_commas():
    records, errors, n = validate_delivery_file(EXAMPLES / "delivery_options.csv")
    assert n == 5 and errors == []
    got = {(r.country, r.method): r for r in records}
    assert set(got) == {
        ("NL", "standard"),
        ("NL", "express"),
        ("BE", "standard"),
        ("DE", "standard"),
        ("DE", "next_day"),
    }
    assert got["NL", "standard"].price == Decimal("3.95") and got["NL", "standard"].free_from == Decimal("40.00")
    assert got["NL", "express"].free_from is None and got["BE", "standard"].currency == "EUR"
    assert (got["DE", "next_day"].min_days, got["DE", "next_day"].max_days) == (1, 1)
    assert validate_file(EXAMPLES / "delivery_options.csv") == ([], [], 0)  # not a product file


def test_each_bad_delivery_row_gets_row_field_reason(tmp_path):
    path = tmp_path / "delivery.csv"
    path.write_text(
        "country,method,min_days,max_days,price,free_from\n"
        "ES,standard,3,5,4.95,50\n"
        "Narnia,standard,3,5,4.95,\n"
        "ES,standard,2,3,4.95,\n"
        "FR,express,3,1,9.95,\n"
        "IT,express,1,2,-1,0\n"
        "PT,by owl!,1,2,1,\n"
    )
    records, errors, n = validate_delivery_file(path)
    assert n == 6 and [(r.country, r.method) for r in records] == [("ES", "standard")]
    assert {(e.row, e.field) for e in errors} == {
        (3, "country"),
        (4, "method"),
        (5, "max_days"),
        (6, "price"),
        (6, "free_from"),
        (7, "method"),
    }
    assert "duplicate of row 2" in str(next(e for e in errors if e.row == 4))


def test_import_replaces_the_delivery_options_from_json_next_to_products(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    migrate(url)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        replace_delivery_options(conn, gen.demo_delivery_options())
    path = tmp_path / "shop.json"
    product = {"sku": "J-1", "title": "Lamp", "category": "Home/Lighting", "price": "12.50", "brand": "Lumo"}
    options = [
        {"country": "Spain", "method": "Standard", "min_days": 2, "max_days": 4, "price": "5", "free_from": 60},
        {"country": "ES", "method": "express", "min_days": 1, "max_days": 1, "price": 12.9},
        {"country": "SE", "method": "express", "min_days": "x", "max_days": 2, "price": 1},
    ]
    path.write_text(json.dumps({"products": [product], "delivery_options": options}))
    report = import_file(Settings(var_dir=tmp_path, database_url=url), path)
    assert report.loaded and report.inserted == 1 and report.delivery_options == 2
    assert [(e.row, e.field) for e in report.errors] == [(3, "delivery_options.min_days")]
    assert "2 delivery options" in report.summary()
    with engine.connect() as conn:
        rows = conn.execute(select(DeliveryOption.country, DeliveryOption.method, DeliveryOption.price)).all()
    assert sorted(rows) == [("ES", "express", Decimal("12.90")), ("ES", "standard", Decimal("5.00"))]
    engine.dispose()


def test_a_delivery_only_file_loads_without_touching_products(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    settings = Settings(var_dir=tmp_path, database_url=url)
    report = import_file(settings, EXAMPLES / "delivery_options.csv", dry_run=True)
    assert not report.loaded and report.valid == 5
    report = import_file(settings, EXAMPLES / "delivery_options.csv")
    assert report.loaded and report.delivery_options == 5 and report.inserted == 0
    engine = create_db_engine(url)
    nl = delivery_options(session_factory(engine), "NL")
    assert [(o.method, o.price) for o in nl] == [("standard", Decimal("3.95")), ("express", Decimal("7.95"))]
    engine.dispose()


def test_summary_gives_each_method_its_range_and_where_it_is_free():
    options = [
        gen.DeliveryOptionRecord("ES", "standard", 3, 5, Decimal("4.95"), "EUR", Decimal("50")),
        gen.DeliveryOptionRecord("PT", "standard", 4, 7, Decimal("6.95"), "EUR", None),
        gen.DeliveryOptionRecord("ES", "express", 1, 2, Decimal("9.95"), "EUR", None),
        gen.DeliveryOptionRecord("PT", "express", 1, 2, Decimal("9.95"), "EUR", None),
    ]
    standard, express = summarise_methods(options)
    assert (standard.method, standard.min_days, standard.max_days) == ("standard", 3, 7)
    assert (standard.min_price, standard.max_price) == (Decimal("4.95"), Decimal("6.95"))
    assert standard.free_from == Decimal("50") and not standard.free_everywhere
    assert express.free_from is None and not express.free_everywhere
    demo = {s.method: s for s in summarise_methods(gen.demo_delivery_options())}
    assert demo["standard"].free_everywhere and demo["standard"].free_from == Decimal("50.00")


@pytest.mark.parametrize("bad", ["{}", '{"delivery_options": {"ES": 1}}'])
def test_json_without_a_list_is_reported(tmp_path, bad):
    path = tmp_path / "x.json"
    path.write_text(bad)
    report = import_file(None, path)
    assert not report.loaded and report.errors and re.search(r"cannot read file|JSON must be", report.errors[0].reason)
