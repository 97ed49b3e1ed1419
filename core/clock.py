"""The one clock of the shop's data: naive UTC timestamps (SQLite has no time zones)."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """Naive UTC with microseconds: queue waits, event latency and the index's change watermark need them."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def utcnow_seconds() -> dt.datetime:
    """Naive UTC to the second: what orders, returns and the catalogue record."""
    return utcnow().replace(microsecond=0)


__all__ = ["utcnow", "utcnow_seconds"]
