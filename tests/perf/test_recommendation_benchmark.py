"""The recommendation benchmark runs end to end on a small generated catalogue (TF-IDF candidates)."""

from __future__ import annotations

import random
import re
from decimal import Decimal

import pytest

from insights.db import migrate_shop_db
from perf import recommendation_benchmark
from shopdb.db import create_db_engine, session_factory
from shopdb.models import Category, Product

COLOURS = ["red", "blue", "black", "white", "green"]
BRANDS = ["Acme", "Zoom", "Peak", "Plain"]
# Categories outside the shop taxonomy, so the shoppers search with the category's own name.
TYPES = {"Toys/Kites": "kites", "Music/Ukuleles": "ukuleles", "Garden/Hammocks": "hammocks"}


@pytest.fixture
def catalogue_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'bench-shop.db'}"
    migrate_shop_db(url)
    rng = random.Random(3)
    engine = create_db_engine(url)
    with session_factory(engine).begin() as session:
        for path, noun in TYPES.items():
            category = Category(path=path, name=path.split("/")[-1])
            session.add(category)
            for i in range(60):
                colour, brand = rng.choice(COLOURS), rng.choice(BRANDS)
                session.add(
                    Product(
                        sku=f"{noun[:3].upper()}-{i:04d}",
                        title=f"{brand} {noun.title()} {i}, {colour.title()}",
                        description=f"A {colour} {noun} by {brand}.",
                        brand=brand,
                        category=category,
                        attributes={"colour": colour},
                        price=Decimal(str(round(rng.uniform(20, 200), 2))),
                        rating=4.0,
                    )
                )
    engine.dispose()
    return url


def test_simulation_is_seeded_and_targets_are_new_products(catalogue_url):
    products, popularity = recommendation_benchmark.load_catalogue(session_factory(create_db_engine(catalogue_url)))
    first = recommendation_benchmark.simulate_shoppers(products, 20, seed=5)
    again = recommendation_benchmark.simulate_shoppers(products, 20, seed=5)
    assert [(s.query, s.target.id) for s in first] == [(s.query, s.target.id) for s in again]
    assert all(s.target.id not in {p.id for p in s.viewed} for s in first)
    assert all(s.target.category == s.category for s in first)
    events = recommendation_benchmark.session_events(first[0], start=1_767_225_600.0)
    assert [e.get("event") for e in events].count("user") == 2


def test_benchmark_prints_the_comparison(catalogue_url, capsys):
    assert (
        recommendation_benchmark.main(
            ["--sessions", "60", "--seed", "3", "--similarity", "tfidf", "--database-url", catalogue_url]
        )
        == 0
    )
    out = capsys.readouterr().out
    rows = dict(
        re.findall(
            r"^(similarity only|profile-aware \(insights.recommend\)|popularity \(global top 10\))\s+([\d.]+)",
            out,
            re.M,
        )
    )
    assert set(rows) == {"similarity only", "profile-aware (insights.recommend)", "popularity (global top 10)"}
    assert all(0.0 <= float(v) <= 1.0 for v in rows.values())
    # The shoppers' taste shows in their views, so using it must beat ignoring it.
    assert float(rows["profile-aware (insights.recommend)"]) > float(rows["similarity only"])
    assert "events through the SQL broker" in out
