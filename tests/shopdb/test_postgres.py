"""The same schema, loader and order logic on PostgreSQL (skipped when no server is reachable).

Uses ``SHOP_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``)
to create a throw-away database, and drops it afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.services

ADMIN_URL = os.environ.get("SHOP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url():
    try:
        admin = create_engine(ADMIN_URL, future=True, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server here"
        pytest.skip(f"PostgreSQL not reachable at {make_url(ADMIN_URL).host}: {exc.__class__.__name__}")
    name = f"knowledge_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield str(make_url(ADMIN_URL).set(database=name))
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_schema_load_and_orders_on_postgres(pg_url):
    from retrieval.shop_search import ShopSearch
    from shopdb.db import create_db_engine, current_revision, migrate
    from shopdb.loader import load_generated, load_policies
    from shopdb.models import Product, ProductRelation
    from shopdb.orders import Orders

    migrate(pg_url)
    engine = create_db_engine(pg_url)
    assert current_revision(engine) is not None
    stats = load_generated(engine, 200, today=dt.date(2025, 3, 1), progress=False)
    assert stats.products == 200 and load_policies(engine) > 40
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Product)).scalar_one() == 200
        assert conn.execute(select(func.count()).select_from(ProductRelation)).scalar_one() > 200
    kb = Orders(engine, clock=lambda: dt.datetime(2025, 3, 1, 12))
    assert kb.verify_order("10000001", "alex.morgan@example.com").status == "delivered"
    assert kb.verify_order("10000001", "sam.lee@example.com") is None
    assert kb.cancel_order("10000003", email="alex.morgan@example.com").code == "cancelled"
    assert kb.cancel_order("10000002", email="alex.morgan@example.com").code == "not_cancellable"
    assert kb.return_eligibility("10000001", customer_id="C0000001").eligible
    sku = kb.verify_order("10000001", "alex.morgan@example.com").items[0].sku
    assert kb.create_return("10000001", sku=sku, email="alex.morgan@example.com").ok
    assert ShopSearch(engine).get_product(1).price > 0
    engine.dispose()
