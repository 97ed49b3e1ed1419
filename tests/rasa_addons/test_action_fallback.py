"""The action-server circuit breaker: refused connections open it, a single slow call does not,
and after the pause (or a healthy probe) exactly one trial call goes through."""

from __future__ import annotations

from typing import List

from rasa_addons.patches.action_fallback import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_timeout_keeps_the_breaker_closed_two_in_a_row_open_it() -> None:
    breaker = CircuitBreaker(retry_after=60)
    breaker.timeout()
    assert breaker.allow()
    breaker.success()
    breaker.timeout()
    assert breaker.allow(), "a success in between resets the count"
    breaker.timeout()
    assert not breaker.allow()


def test_after_the_pause_one_trial_call_goes_through_not_a_burst() -> None:
    clock = Clock()
    breaker = CircuitBreaker(retry_after=5, clock=clock)
    breaker.failure()
    assert not breaker.allow()
    clock.now += 5
    allowed: List[bool] = [breaker.allow() for _ in range(20)]  # 20 shoppers' actions at once
    assert allowed.count(True) == 1 and breaker.state == CircuitBreaker.HALF_OPEN
    breaker.success()  # the trial answered: every call goes through again
    assert all(breaker.allow() for _ in range(5)) and breaker.timeouts == 0


def test_a_failed_trial_opens_it_again_for_a_whole_pause() -> None:
    clock = Clock()
    breaker = CircuitBreaker(retry_after=5, clock=clock)
    breaker.failure()
    clock.now += 5
    assert breaker.allow()
    breaker.timeout()  # one time-out is enough while half-open
    assert breaker.state == CircuitBreaker.OPEN and not breaker.allow()
    clock.now += 4.9
    assert not breaker.allow()


def test_a_healthy_probe_lets_the_trial_through_before_the_pause_is_over() -> None:
    clock = Clock()
    breaker = CircuitBreaker(retry_after=5, clock=clock)
    breaker.failure()
    clock.now += 0.5
    assert not breaker.allow()
    breaker.healthy()
    assert breaker.allow() and not breaker.allow()
