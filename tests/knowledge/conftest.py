"""Shared fixtures: one small shop (300 products) built once per session with the real
pipeline (alembic, generator, MiniLM embeddings, FAISS); each test gets its own copy of
the database so order changes never leak between tests."""
from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest

from assistant.settings import Settings

TODAY = dt.date(2025, 3, 1)
NOW = dt.datetime(2025, 3, 1, 12, 0, 0)
N_PRODUCTS = 300


@pytest.fixture(scope="session")
def built_shop(tmp_path_factory) -> Settings:
    from knowledge.cli import build

    root = tmp_path_factory.mktemp("shop")
    settings = Settings(var_dir=root, database_url=f"sqlite:///{root / 'shop.db'}", index_dir=root / "index")
    build(settings, N_PRODUCTS, today=TODAY, progress=False, out=io.StringIO())
    return settings


@pytest.fixture
def shop_settings(built_shop: Settings, tmp_path: Path) -> Settings:
    """A private copy of the built shop (database + indexes)."""
    src = built_shop.var_dir
    for name in ("shop.db", "shop.db-wal", "shop.db-shm"):
        if (src / name).exists():
            shutil.copy(src / name, tmp_path / name)
    shutil.copytree(src / "index", tmp_path / "index")
    return Settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'shop.db'}", index_dir=tmp_path / "index")


@pytest.fixture
def kb(shop_settings: Settings):
    from knowledge.service import ShopKnowledge

    knowledge = ShopKnowledge.from_settings(shop_settings, clock=lambda: NOW)
    yield knowledge
    knowledge.engine.dispose()

