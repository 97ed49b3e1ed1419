"""The load-test harness really drives the assistant and reads the time split back."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

from assistant.launcher import AssistantProcesses
from perf.loadtest import (
    APOLOGY,
    CONVERSATIONS,
    answered,
    conversation_outcome,
    probe_conversations,
    report,
    run_load,
    time_breakdown,
)
from perf.stats import percentile

pytestmark = pytest.mark.slow


def test_percentile_picks_ranked_values() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # any order
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


def test_an_apology_or_silence_is_not_an_answer() -> None:
    assert answered([{"text": "Hi!"}])
    assert not answered([])
    assert APOLOGY.startswith("Sorry")  # the Rasa server's "couldn't reach the shop" answer, from the domain
    assert not answered([{"text": "Hi!"}, {"text": APOLOGY}])


def test_socketio_load_run_against_the_real_assistant(running_assistant: AssistantProcesses) -> None:
    """The widget's socket.io (websocket transport): a turn ends with the channel's typing-off."""
    result = asyncio.run(
        run_load(
            running_assistant.config.rasa_url, shoppers=2, duration=30, max_turns=8, protocol="socketio", think=0.0
        )
    )
    assert len(result.turns) == 8 and result.errors == 0
    # The conversation ids are the ones the server issued in session_confirm: their history opens.
    history = f"{running_assistant.config.rasa_url}/webhooks/shop/history/"
    for sender in {turn.sender for turn in result.turns}:
        with urllib.request.urlopen(history + sender, timeout=30) as reply:
            assert json.loads(reply.read())["messages"], sender
    assert time_breakdown(str(running_assistant.config.tracker_db), result)["nlu_ms_per_turn"] > 0


def test_probe_conversations_record_what_the_bot_did(running_assistant: AssistantProcesses) -> None:
    demo_order = {"order_number": "10000001", "email": "alex.morgan@example.com"}
    senders = asyncio.run(probe_conversations(running_assistant.config.rasa_url, demo_order))
    assert len(senders) == len(CONVERSATIONS)
    outcomes = [conversation_outcome(str(running_assistant.config.tracker_db), s) for s in senders]
    assert [len(o) for o in outcomes] == [len(c) for c in CONVERSATIONS]  # one entry per user turn
    order_turns = outcomes[[i for i, c in enumerate(CONVERSATIONS) if "{order_number}" in c][0]]
    assert any("action_order_status" in actions for _intent, actions in order_turns), order_turns
