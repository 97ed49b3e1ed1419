"""The shop database as the insights package uses it (engine per URL, migrations to every head)."""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from sqlalchemy.orm import sessionmaker

from core.settings import get_settings
from shopdb.db import create_db_engine, migrate, session_factory


@lru_cache(maxsize=8)
def shop_sessions(url: Optional[str] = None) -> sessionmaker:
    """Sessions on the shop database (``SHOP_DATABASE_URL``, default ``var/shop.db``)."""
    return session_factory(create_db_engine(url or get_settings().resolved_database_url))


def migrate_shop_db(url: Optional[str] = None) -> None:
    """``alembic upgrade heads``: the knowledge, web and insights branches all start from 0001."""
    migrate(url or get_settings().resolved_database_url, "heads")
