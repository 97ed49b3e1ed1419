"""The declarative base of every table of the shop database, and its money type.

One ``Base`` for the catalogue and orders, the hand-off, the insights and the shared counters:
one metadata, one alembic migration chain (``shopdb/migrations``).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

Base = declarative_base()


class Money(TypeDecorator):
    """NUMERIC(10, 2) in the database, ``Decimal`` with two places in Python, on every backend.

    SQLite has no decimal type (SQLAlchemy warns on every new query); amounts are rounded
    to cents on the way in and out, so floats never leak into money arithmetic.
    """

    impl = Numeric(10, 2, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


__all__ = ["Base", "Money"]
