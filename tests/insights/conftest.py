"""Fixtures of the insights tests: a migrated shop database with a small catalogue, and
Rasa's real SQL event broker writing into a temporary SQLite file."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List

import pytest
from sqlalchemy.orm import sessionmaker

from shopdb.db import create_db_engine, session_factory

# Catalogue of the tests: (sku, title, category path, brand, colour, price)
PRODUCTS = [
    ("RUN-RED-1", "Acme Sprint runner", "Shoes/Running shoes", "Acme", "red", 89.0),
    ("RUN-BLU-1", "Zoom Road runner", "Shoes/Running shoes", "Zoom", "blue", 120.0),
    ("RUN-RED-2", "Acme Trail runner", "Shoes/Running shoes", "Acme", "red", 95.0),
    ("RUN-BLK-1", "Budget jogger", "Shoes/Running shoes", "Plain", "black", 35.0),
    ("BOOT-BRN-1", "Hiker boot", "Shoes/Boots", "Peak", "brown", 140.0),
    ("TEE-RED-1", "Acme dri-fit tee", "Clothing/T-shirts", "Acme", "red", 25.0),
    ("TEE-WHT-1", "Cotton tee", "Clothing/T-shirts", "Plain", "white", 12.0),
    ("JKT-BLU-1", "Rain jacket", "Clothing/Jackets", "Zoom", "blue", 160.0),
    ("MUG-1", "Coffee mug", "Home/Kitchen", "Homey", "white", 9.0),
    ("LAMP-1", "Desk lamp", "Home/Lighting", "Homey", "black", 45.0),
]


def _clear_setting_caches() -> None:
    from core.settings import get_settings
    from insights import stream
    from insights.db import shop_sessions

    get_settings.cache_clear()
    shop_sessions.cache_clear()
    stream._default_broker = None


@pytest.fixture(autouse=True)
def isolated_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Nothing an insights test does may touch the project's var/ (the developer's own shop)."""
    var = tmp_path / "var"
    monkeypatch.setenv("SHOP_VAR_DIR", str(var))
    for name in ("SHOP_DATABASE_URL", "SHOP_EVENTS_DB", "SHOP_TRACKER_DB", "SHOP_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    _clear_setting_caches()
    yield var
    _clear_setting_caches()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated shop database (alembic upgrade heads) with the test catalogue, copied per test."""
    from insights.db import migrate_shop_db
    from shopdb.models import Category, Product

    path = tmp_path_factory.mktemp("insights-template") / "shop.db"
    url = f"sqlite:///{path}"
    migrate_shop_db(url)
    engine = create_db_engine(url)
    with session_factory(engine).begin() as session:
        categories: Dict[str, Category] = {}
        for sku, title, cat, brand, colour, price in PRODUCTS:
            if cat not in categories:
                categories[cat] = Category(path=cat, name=cat.split("/")[-1])
                session.add(categories[cat])
            session.add(
                Product(
                    sku=sku,
                    title=title,
                    description=title,
                    brand=brand,
                    category=categories[cat],
                    attributes={"colour": colour},
                    price=Decimal(str(price)),
                    stock=5,
                    rating=4.0,
                )
            )
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def shop(tmp_path: Path, migrated_template: Path) -> "Shop":
    path = tmp_path / "shop.db"
    shutil.copy(migrated_template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    yield Shop(url=f"sqlite:///{path}", sessions=session_factory(engine))
    engine.dispose()


@dataclass
class Shop:
    url: str
    sessions: sessionmaker

    def product_id(self, sku: str) -> str:
        from sqlalchemy import select

        from shopdb.models import Product

        with self.sessions() as session:
            return str(session.execute(select(Product.id).where(Product.sku == sku)).scalar_one())


@pytest.fixture
def broker(tmp_path: Path):
    """Rasa's real SQLEventBroker on a temporary SQLite file."""
    from rasa.core.brokers.sql import SQLEventBroker

    path = tmp_path / "events.db"
    instance = SQLEventBroker(dialect="sqlite", db=str(path))
    instance.url = f"sqlite:///{path}"
    yield instance
    instance.engine.dispose()


class Clock:
    """Event timestamps one second apart from a fixed start, so analytics periods are exact."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01 00:00 UTC
        self.now = start

    def tick(self, seconds: float = 1.0) -> float:
        self.now += seconds
        return self.now


def publish(broker: Any, sender_id: str, *events: Any, clock: Clock = None) -> None:
    """Publish Rasa events (rasa.shared.core.events) as the tracker store does: as_dict() plus sender_id."""
    for event in events:
        if clock is not None:
            event.timestamp = clock.tick()
        body: Dict[str, Any] = {"sender_id": sender_id}
        body.update(event.as_dict())
        broker.publish(body)


def user(text: str, intent: str, confidence: float = 0.95, entities: List[Dict[str, Any]] = (), **metadata: Any):
    from rasa.shared.core.events import UserUttered

    return UserUttered(
        text,
        intent={"name": intent, "confidence": confidence},
        entities=[dict(e) for e in entities],
        metadata=metadata or None,
    )


def action(name: str):
    from rasa.shared.core.events import ActionExecuted

    return ActionExecuted(name)


def site(sender_id: str, type_: str, clock: Clock = None, **fields: Any) -> Dict[str, Any]:
    from insights.site_events import validate

    event, _ = validate({"type": type_, **fields}, sender_id=sender_id, customer_id=fields.pop("customer_id", None))
    body = event.dict(exclude_none=True)
    if clock is not None:
        body["timestamp"] = clock.tick()
    return body


def scored(text: str, intent: str, original: str = None, confidence: float = 0.9):
    """A user message as the NLU leaves it with the frustration scorer in the pipeline: its score in the
    parse data and, for a rerouted message, the intent it had before (``original``)."""
    from rasa.shared.core.events import UserUttered

    from nlu_models.frustration_score import frustration_score

    intent_data = {"name": intent, "confidence": confidence}
    parse = {"intent": intent_data, "entities": [], "text": text, "frustration": frustration_score(text).as_dict()}
    if original:
        parse["frustrated_intent"] = original
    return UserUttered(text, intent=intent_data, parse_data=parse)
