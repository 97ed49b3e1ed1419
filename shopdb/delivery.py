"""The shop's delivery options per destination country, as the assistant answers about them.

Rows of ``delivery_options`` (the demo shop's from ``shopdb/data/policies/shipping.md``, a real
shop's from its import file) come back as :class:`~shopdb.demo_data.DeliveryOptionRecord`; a
question without a destination gets one :class:`MethodSummary` per method across all countries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Dict, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from shopdb.demo_data import DeliveryOptionRecord
from shopdb.models import DeliveryOption


@dataclass(frozen=True)
class MethodSummary:
    """One delivery method over every country that has it: its range of days and prices."""

    method: str
    min_days: int
    max_days: int
    min_price: Decimal
    max_price: Decimal
    currency: str
    free_from: Optional[Decimal]  # the lowest order value from which it is free somewhere
    free_everywhere: bool  # ... and that threshold holds in every country


def delivery_options(sessions: sessionmaker, country: Optional[str] = None) -> List[DeliveryOptionRecord]:
    """The options to ``country`` (every country's when None), cheapest first."""
    stmt = select(DeliveryOption).order_by(
        DeliveryOption.country, DeliveryOption.price, DeliveryOption.min_days, DeliveryOption.method
    )
    if country is not None:
        stmt = stmt.where(DeliveryOption.country == country)
    with sessions() as s:
        return [
            DeliveryOptionRecord(o.country, o.method, o.min_days, o.max_days, o.price, o.currency, o.free_from)
            for o in s.execute(stmt).scalars()
        ]


def summarise_methods(options: Sequence[DeliveryOptionRecord]) -> List[MethodSummary]:
    """One summary per method, cheapest method first."""
    by_method: Dict[str, List[DeliveryOptionRecord]] = {}
    for option in options:
        by_method.setdefault(option.method, []).append(option)
    summaries = []
    for method, rows in by_method.items():
        thresholds = {r.free_from for r in rows}
        known = [t for t in thresholds if t is not None]
        summaries.append(
            MethodSummary(
                method=method,
                min_days=min(r.min_days for r in rows),
                max_days=max(r.max_days for r in rows),
                min_price=min(r.price for r in rows),
                max_price=max(r.price for r in rows),
                currency=rows[0].currency,
                free_from=min(known) if known else None,
                free_everywhere=len(thresholds) == 1 and bool(known),
            )
        )
    return sorted(summaries, key=lambda m: (m.min_price, m.min_days, m.method))


__all__ = ["MethodSummary", "delivery_options", "summarise_methods"]
