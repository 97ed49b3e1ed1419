"""Counters every process shares: login throttle, verification misses, ticket creation, revoked tokens.

Why the ``limits`` library: its fixed-window strategy and its Redis storage are what the
scale-out mode needs (several Rasa and action servers count together). ``limits`` has no
SQL storage, and the embedded default has no Redis, so :class:`SQLCounterStorage` stores
the same counters in the shop database (table ``rate_counters``, :class:`shopdb.models.RateCounter`): shared by the Rasa
server, the action server and the CLI, and kept across restarts. One atomic
``INSERT ... ON CONFLICT ... RETURNING`` per hit (the same SQL on SQLite >= 3.35 and
PostgreSQL), so concurrent hits are counted exactly: 20 simultaneous wrong logins are 20.

``SHOP_LIMITS_URL`` chooses the storage: unset -> the shop database; ``redis://...`` ->
Redis; ``memory://`` -> this process only (tests of one process).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional

from limits import RateLimitItemPerSecond
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import text
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)


_INCREMENT = text(
    "INSERT INTO rate_counters (key, count, expires_at) VALUES (:key, :amount, :expires_at) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN rate_counters.expires_at <= :now THEN excluded.count "
    "ELSE rate_counters.count + excluded.count END, "
    "expires_at = CASE WHEN rate_counters.expires_at <= :now THEN excluded.expires_at "
    "ELSE rate_counters.expires_at END "
    "RETURNING count"
)


class SQLCounterStorage(Storage):
    """A ``limits`` storage in the shop database (fixed windows; no moving windows).

    Expired rows are dropped by :meth:`purge` now and then (every 500th hit), so the table
    holds only live windows.
    """

    STORAGE_SCHEME = None  # built from an engine, not from a URL

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.engine = engine
        self._clock = clock
        self._hits = 0

    def incr(self, key: str, expiry: int, elastic_expiry: bool = False, amount: int = 1) -> int:
        now = self._clock()
        with self.engine.begin() as connection:
            count = connection.execute(
                _INCREMENT, {"key": key[:200], "amount": amount, "expires_at": now + expiry, "now": now}
            ).scalar_one()
            if elastic_expiry:
                connection.execute(
                    text("UPDATE rate_counters SET expires_at = :at WHERE key = :key"),
                    {"key": key[:200], "at": now + expiry},
                )
        self._hits += 1
        if self._hits % 500 == 0:
            self.purge()
        return int(count)

    def _row(self, key: str) -> Optional[Any]:
        with self.engine.connect() as connection:
            return connection.execute(
                text("SELECT count, expires_at FROM rate_counters WHERE key = :key AND expires_at > :now"),
                {"key": key[:200], "now": self._clock()},
            ).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> int:
        row = self._row(key)
        return int(row[1]) if row else int(self._clock())

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - a health check answers, it does not raise
            return False

    def reset(self) -> int:
        with self.engine.begin() as connection:
            return int(connection.execute(text("DELETE FROM rate_counters")).rowcount or 0)

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("DELETE FROM rate_counters WHERE key = :key"), {"key": key[:200]})

    def purge(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("DELETE FROM rate_counters WHERE expires_at <= :now"), {"now": self._clock()})


@dataclass(frozen=True)
class Limit:
    """At most ``amount`` hits per ``window`` seconds for each key, in namespace ``name``."""

    name: str
    amount: int
    window: int

    @property
    def item(self) -> RateLimitItemPerSecond:
        return RateLimitItemPerSecond(max(1, int(self.amount)), max(1, int(self.window)), namespace=self.name)


def _key_part(value: str) -> str:
    """Identifiers are hashed: counters never hold an address, a username or a token."""
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


class SharedLimiter:
    """Fixed-window limits and a revocation list over one ``limits`` storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._limiter = FixedWindowRateLimiter(storage)

    @classmethod
    def from_url(cls, url: Optional[str], engine: Optional[Engine] = None) -> "SharedLimiter":
        """``url`` (``redis://``, ``memory://``), else the shop database behind ``engine``."""
        if url:
            return cls(storage_from_string(url))
        if engine is None:
            raise ValueError("a limits URL or a database engine is needed")
        return cls(SQLCounterStorage(engine))

    def hit(self, limit: Limit, key: Optional[str], cost: int = 1) -> bool:
        """Count one try; False once the key has used up its window (this try included)."""
        if not key:
            return True
        return self._limiter.hit(limit.item, _key_part(key), cost=cost)

    def allowed(self, limit: Limit, key: Optional[str]) -> bool:
        """True while the key has tries left in its window (counts nothing)."""
        if not key:
            return True
        return self._limiter.test(limit.item, _key_part(key))

    def count(self, limit: Limit, key: Optional[str]) -> int:
        """Hits of ``key`` in its current window."""
        if not key:
            return 0
        return self.storage.get(limit.item.key_for(_key_part(key)))

    def clear(self, limit: Limit, key: Optional[str]) -> None:
        if key:
            self._limiter.clear(limit.item, _key_part(key))

    # -- revocation (logged-out console sessions) ------------------------------------
    def revoke(self, token: str, ttl: int) -> None:
        """Remember ``token`` as revoked for ``ttl`` seconds (until it would expire anyway)."""
        self.storage.incr(f"revoked/{_key_part(token)}", max(1, int(ttl)))

    def is_revoked(self, token: str) -> bool:
        return self.storage.get(f"revoked/{_key_part(token)}") > 0


@lru_cache(maxsize=1)
def default_limiter() -> SharedLimiter:
    """The process-wide limiter of ``core.settings`` (``SHOP_LIMITS_URL`` or the shop database)."""
    from core.settings import get_settings
    from shopdb.db import create_db_engine

    settings = get_settings()
    if settings.limits_url:
        return SharedLimiter.from_url(settings.limits_url)
    return SharedLimiter.from_url(None, create_db_engine(settings.resolved_database_url, timeout=settings.db_timeout))


__all__ = ["Limit", "SQLCounterStorage", "SharedLimiter", "default_limiter"]
