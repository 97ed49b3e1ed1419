"""The action-server circuit breaker: refused connections open it, a single slow call does not."""
from __future__ import annotations

import time

from assistant.resilience import CircuitBreaker


def test_one_timeout_keeps_the_breaker_closed_two_in_a_row_open_it() -> None:
    breaker = CircuitBreaker(retry_after=60)
    breaker.timeout()
    assert breaker.allow()
    breaker.success()
    breaker.timeout()
    assert breaker.allow(), "a success in between resets the count"
    breaker.timeout()
    assert not breaker.allow()


def test_a_refused_connection_opens_it_at_once_and_it_retries_after_the_pause() -> None:
    breaker = CircuitBreaker(retry_after=0.05)
    breaker.failure()
    assert not breaker.allow()
    time.sleep(0.06)
    assert breaker.allow()
    breaker.success()
    assert breaker.allow() and breaker.timeouts == 0
