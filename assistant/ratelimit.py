"""A small sliding-window counter per key, for limits that must outlive one conversation.

Why: order verification allows 3 misses per conversation, but a new conversation
is only a new session id away. The action server counts misses per *client*
(a keyed hash of the client address that the Rasa server puts into the message
metadata, :func:`web.hardening.client_tag`) with :class:`SlidingWindowLimiter`,
so guessing order number + e-mail pairs stays slow however many conversations
a client opens. In memory, per action-server process (one in every topology we
ship); a restart forgets the counts.
"""
from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict, deque
from typing import Callable, Deque, Optional

DEFAULT_VERIFY_CLIENT_LIMIT = 20  # verification misses per client ...
DEFAULT_VERIFY_CLIENT_WINDOW = 900.0  # ... per 15 minutes


class SlidingWindowLimiter:
    """At most ``limit`` hits per key within the last ``window`` seconds; bounded memory.

    ``blocked(key)`` is True once a key has ``limit`` hits in the window; hits older
    than the window drop out one by one (a sliding, not a fixed, window). At most
    ``max_keys`` keys are kept (the least recently hit go first), so a flood of
    addresses cannot exhaust memory. Thread-safe (actions run in worker threads).
    """

    def __init__(self, limit: int, window: float, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = max(1, int(limit))
        self.window = float(window)
        self.max_keys = max_keys
        self._clock = clock
        self._hits: "OrderedDict[str, Deque[float]]" = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> Deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def count(self, key: Optional[str]) -> int:
        if not key:
            return 0
        with self._lock:
            return len(self._recent(key, self._clock()))

    def blocked(self, key: Optional[str]) -> bool:
        return self.count(key) >= self.limit

    def hit(self, key: Optional[str]) -> int:
        """Record one hit; returns the key's hits in the window, this one included."""
        if not key:
            return 0
        with self._lock:
            now = self._clock()
            hits = self._recent(key, now)
            hits.append(now)
            self._hits[key] = hits
            self._hits.move_to_end(key)
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return len(hits)


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


def verification_limiter() -> SlidingWindowLimiter:
    """Misses per client: ``SHOP_VERIFY_CLIENT_LIMIT`` (20) per ``SHOP_VERIFY_CLIENT_WINDOW`` s (900)."""
    return SlidingWindowLimiter(
        int(_env_number("SHOP_VERIFY_CLIENT_LIMIT", DEFAULT_VERIFY_CLIENT_LIMIT)),
        _env_number("SHOP_VERIFY_CLIENT_WINDOW", DEFAULT_VERIFY_CLIENT_WINDOW),
    )
