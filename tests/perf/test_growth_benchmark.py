"""The growth benchmark's large catalogues are real shops: variants in the database, every one in the
index, the index current (no re-embedding at start), and searches and filters work on them."""

from __future__ import annotations

import sqlite3

from core.settings import Settings
from perf.growth_benchmark import LONG_CONVERSATION, Row, expand_catalogue, format_row


def test_expanded_catalogue_is_searchable_and_current(shop_settings: Settings, monkeypatch, request) -> None:
    from core import settings as settings_module
    from retrieval.index import VectorIndex
    from retrieval.indexing import PRODUCTS, product_fingerprint
    from retrieval.shop_search import ShopSearch

    monkeypatch.setenv("SHOP_VAR_DIR", str(shop_settings.var_dir))  # the displacement cache goes there
    settings_module.get_settings.cache_clear()
    request.addfinalizer(settings_module.get_settings.cache_clear)  # no later test sees this folder's settings
    database = shop_settings.var_dir / "shop.db"
    with sqlite3.connect(database) as db:
        before = db.execute("SELECT count(*) FROM products").fetchone()[0]
    expand_catalogue(shop_settings.var_dir, before + 300, samples=40)
    settings_module.get_settings.cache_clear()

    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM products").fetchone()[0] == before + 300
        variant_sku, variant_title = db.execute("SELECT sku, title FROM products ORDER BY id DESC").fetchone()
        assert db.execute("SELECT count(DISTINCT sku) FROM products").fetchone()[0] == before + 300
    index = VectorIndex.load(shop_settings.index_dir, PRODUCTS)
    assert index.ntotal == before + 300
    search = ShopSearch.from_settings(shop_settings)
    try:
        assert index.manifest.source == product_fingerprint(search.engine)  # the server will not re-embed
        assert search.search_products(variant_sku)[0].title == variant_title  # a variant found by its SKU
        hits = search.search_products("running shoes", {"size": "42"}, k=10)
        assert hits and all("42" in [str(s) for s in (h.attributes.get("size") or [])] for h in hits)
    finally:
        search.engine.dispose()


def test_rows_state_their_catalogue_size() -> None:
    row = Row("catalogue", "paced", 100_000, 20, 0.4, 500, 0, 25.0, 12.0, 40.0, 80.0, {"rasa": 8.0})
    assert "100,000" in format_row(row) and "rasa 8.0" in format_row(row)
    assert len(LONG_CONVERSATION) >= 20 and "bye" not in " ".join(LONG_CONVERSATION)
