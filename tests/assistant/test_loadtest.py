"""The load-test harness really drives the assistant and reads the time split back."""
from __future__ import annotations

import asyncio

import pytest

from assistant.launcher import AssistantProcesses
from assistant.loadtest import percentile, report, run_load, time_breakdown

pytestmark = pytest.mark.slow


def test_percentile_picks_ranked_values() -> None:
    values = sorted(float(v) for v in range(1, 101))
    assert percentile(values, 50) == 50.0 or percentile(values, 50) == 51.0
    assert percentile(values, 99) == 99.0
    assert percentile([], 50) != percentile([], 50)  # NaN for no data


def test_short_load_run_against_the_real_assistant(running_assistant: AssistantProcesses) -> None:
    result = asyncio.run(run_load(running_assistant.config.rasa_url, shoppers=3, duration=20, max_turns=15))
    assert len(result.turns) == 15
    assert result.errors == 0
    breakdown = time_breakdown(str(running_assistant.config.tracker_db), result)
    assert breakdown["nlu_ms_per_turn"] > 0
    assert breakdown["policy_ms_per_prediction"] > 0
    text = report(result, 3, breakdown)
    assert "latency p95" in text and "turns/s" in text
