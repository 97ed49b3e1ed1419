"""The promotion gate: its rules on given evaluations, and `shop learn gate` on the trained test model
read with Rasa's own Agent."""

from __future__ import annotations

import json
import subprocess
import sys

from core.settings import PROJECT_ROOT
from learning.evaluate import REVIEWED, gate


def _results(**accuracies: float) -> dict:
    return {name: {"accuracy": value, "examples": 100, "wrong": []} for name, value in accuracies.items()}


def test_a_candidate_passes_only_when_no_set_is_worse_beyond_the_margin() -> None:
    serving = _results(nlu_test=0.97, shoppers=0.89)
    assert gate(_results(nlu_test=0.97, shoppers=0.885), serving, margin=0.01).passed
    refused = gate(_results(nlu_test=0.98, shoppers=0.85), serving, margin=0.01)
    assert not refused.passed and len(refused.reasons) == 1 and refused.reasons[0].startswith("shoppers: 0.850")
    missing = gate(_results(nlu_test=0.98), serving, margin=0.01)
    assert missing.reasons == ["shoppers: the candidate was not evaluated on it"]


def test_the_reviewed_examples_must_be_answered_right() -> None:
    serving = _results(nlu_test=0.97)
    candidate = {**_results(nlu_test=0.97), REVIEWED: {"accuracy": 0.9, "examples": 20, "wrong": []}}
    decision = gate(candidate, serving, margin=0.01, reviewed_min=0.95)
    assert not decision.passed and decision.reasons[0].startswith("reviewed: 0.900")


def test_shop_learn_gate_evaluates_both_models_on_the_same_sets(trained_model, shop_env) -> None:
    """The same model as candidate and in service: equal on every set, so the gate passes (exit 0)."""
    result = subprocess.run(
        [sys.executable, "-m", "cli.shop", "learn", "gate", str(trained_model), str(trained_model), "--limit", "25"],
        env=shop_env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    rows = [line for line in lines if line.startswith(("nlu_test", "shoppers"))]
    assert len(rows) == 2 and all("(25 examples)" in row for row in rows)
    for row in rows:
        accuracies = [float(part) for part in row.split(": ")[1].split() if part[0].isdigit()]
        assert len(accuracies) == 2 and accuracies[0] == accuracies[1] and 0.6 < accuracies[0] <= 1.0
    assert json.loads(lines[-1]) == {"passed": True, "reasons": []}


def test_the_paired_test_counts_only_the_examples_one_model_got_wrong() -> None:
    from learning.evaluate import paired_p_value

    assert paired_p_value([1, 2, 3], [1, 2, 3]) == 1.0  # the same mistakes: no evidence either way
    assert paired_p_value([1, 2, 3, 4, 5], []) == 0.0625  # 5 against 0: 2 * (1/2)**5
    assert round(paired_p_value(list(range(10)), [10]), 5) == 0.01172  # 10 against 1: 2 * (1 + 11) / 2**11


def _missing(accuracy: float, missed: list) -> dict:
    return {"accuracy": accuracy, "examples": 161, "wrong": [], "missed": missed}


def test_a_drop_within_noise_is_let_through_and_a_real_one_is_refused() -> None:
    serving = {"nlu_test": _missing(0.975, [1, 2, 3, 4])}
    noisy = gate({"nlu_test": _missing(0.963, [1, 2, 5, 6, 7, 8])}, serving, margin=0.01, significance=0.05)
    assert noisy.passed and len(noisy.notes) == 1 and "within noise: p = 0.688" in noisy.notes[0]
    worse = gate({"nlu_test": _missing(0.90, [1, 2, 3, 4, *range(20, 32)])}, serving, margin=0.01, significance=0.05)
    assert not worse.passed and worse.reasons[0].startswith("nlu_test: 0.900") and "p = 0.000" in worse.reasons[0]
