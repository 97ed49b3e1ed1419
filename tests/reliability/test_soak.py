"""The soak test's CI variant: ~40 s of mixed conversations with the action server frozen and killed."""

from __future__ import annotations

import pytest

from perf.soak import run_soak

pytestmark = pytest.mark.slow


def test_short_soak_loses_nothing_and_keeps_memory_flat(running_assistant) -> None:
    report = run_soak(running_assistant, duration=40, shoppers=2, fault_every=10, freeze_for=3)
    print(report.as_dict())
    assert report.faults["freeze"] >= 1 and report.faults["kill"] >= 1
    assert report.requests >= 20
    assert report.errors == 0, report.as_dict()
    assert report.messages_lost == 0, report.as_dict()
    assert report.rss_growth_mb < 150, report.as_dict()
