"""Migrations build the schema the models describe, on a fresh SQLite file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from shopdb import models as m
from shopdb.db import create_db_engine, current_revision, migrate, session_factory, session_scope

KNOWLEDGE_TABLES = {
    "categories",
    "products",
    "product_relations",
    "customers",
    "orders",
    "order_items",
    "shipment_events",
    "returns",
    "order_issues",
    "delivery_options",
    "policy_passages",
    "knowledge_meta",
}


def test_migrations_create_schema_matching_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    engine = create_db_engine(url)
    assert KNOWLEDGE_TABLES <= set(inspect(engine).get_table_names())
    assert current_revision(engine) is not None
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), m.Base.metadata)
    ours = [d for d in diff if _table_of(d) in KNOWLEDGE_TABLES]
    assert ours == []
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    migrate(url)  # idempotent
    engine.dispose()


def _table_of(diff) -> str:
    item = diff[0] if isinstance(diff, list) else diff
    for obj in item[1:]:
        table = getattr(obj, "table", None) or (obj if hasattr(obj, "columns") else None)
        if table is not None and hasattr(table, "name"):
            return table.name
        if isinstance(obj, str):
            return obj
    return ""


def test_0005_adds_delivery_options_and_an_unsubscribed_newsletter_to_an_existing_shop(tmp_path):
    """Customers of a shop migrated from 0004 keep their rows and start unsubscribed; 0005 goes back cleanly."""
    from alembic import command

    from shopdb.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate(url, "0004_rate_counters")
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO customers (customer_id, email, name, created_at) "
            "VALUES ('C0000001', 'a@example.com', 'A B', '2025-01-01 00:00:00')"
        )
    migrate(url, "0005_delivery_newsletter")
    assert current_revision(engine) == "0005_delivery_newsletter"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT newsletter, newsletter_changed_at FROM customers").one() == (0, None)
    assert {c["name"] for c in inspect(engine).get_columns("delivery_options")} >= {"country", "method", "free_from"}
    command.downgrade(alembic_config(url), "0004_rate_counters")
    inspector = inspect(engine)
    assert "delivery_options" not in inspector.get_table_names()
    assert "newsletter" not in {c["name"] for c in inspector.get_columns("customers")}
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT customer_id FROM customers").scalar_one() == "C0000001"
    engine.dispose()


def test_models_round_trip_in_2_0_style(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    migrate(url)
    factory = session_factory(create_db_engine(url))
    with session_scope(factory) as s:
        cat = m.Category(path="Shoes/Running shoes", name="Running shoes")
        p = m.Product(
            sku="SHO-RUN-0000001",
            title="Runner",
            brand="Apexa",
            category=cat,
            attributes={"colour": "red", "size": ["41", "42"]},
            price=Decimal("89.95"),
            stock=3,
        )
        c = m.Customer(customer_id="C0000001", email="a@example.com", name="A B")
        o = m.Order(
            order_number="10000001",
            customer=c,
            status=m.OrderStatus.PAID,
            ship_name="A B",
            ship_line1="Street 1",
            ship_city="Berlin",
            ship_postcode="10115",
            ship_country="DE",
            placed_at=dt.datetime(2025, 1, 1),
        )
        o.items.append(m.OrderItem(sku=p.sku, title=p.title, quantity=1, unit_price=p.price))
        s.add_all([p, o])
    with factory() as s:
        got = s.execute(select(m.Product).where(m.Product.sku == "SHO-RUN-0000001")).scalar_one()
        assert got.attributes["size"] == ["41", "42"] and got.category.top_level == "Shoes"
        assert got.price == Decimal("89.95")
        order = s.execute(select(m.Order)).scalar_one()
        assert order.customer.email == "a@example.com" and order.items[0].unit_price == Decimal("89.95")
