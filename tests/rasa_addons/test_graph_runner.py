"""The graph runner without dask (rasa_addons/patches/graph_runner.py) gives Rasa's own results:
the same parse of every message and the same next-action prediction, on the trained test model."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from rasa_addons.patches import graph_runner

MESSAGES = (
    "hi",
    "I'm looking for running shoes in size 42 under 80 euros",
    "where is my order 10000001?",
    "can I return the jacket I bought last week",
    "do you ship to Norway",
    "get me a real person",
    "asdf qwer zxcv",
    "I want to return the shoes from order 10000001 and also, do you sell running socks?",
    "thanks, bye",
)


def outcomes(agent: Any) -> List[Tuple[Dict[str, Any], List[float], str]]:
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    found = []
    for text in MESSAGES:
        parsed = asyncio.run(agent.parse_message(text))
        tracker = DialogueStateTracker.from_events(
            "graph-runner",
            [ActionExecuted("action_listen"), UserUttered(text, parsed["intent"], parsed["entities"], parsed)],
            slots=agent.domain.slots,
        )
        prediction = agent.processor._predict_next_with_tracker(tracker)
        found.append((parsed, [round(p, 6) for p in prediction.probabilities], prediction.policy_name))
    return found


def test_the_runner_without_dask_gives_rasas_results(trained_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.agent import Agent
    from rasa.engine.runner.dask import DaskGraphRunner

    graph_runner.install()
    agent = Agent.load(str(trained_model))
    patched = outcomes(agent)
    monkeypatch.setattr(DaskGraphRunner, "run", graph_runner.dask_run)
    assert outcomes(agent) == patched  # Rasa's dask runner agrees on every parse and prediction
    assert {parsed["intent"]["name"] for parsed, _, _ in patched} >= {"greet", "order_status"}
