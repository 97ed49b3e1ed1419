"""The CLI on a trained folder, the scoring rules and the public data-set loaders."""

from __future__ import annotations

import json

import pytest

from nlu_models.cli import main as cli_main
from nlu_models.datasets import OOS, cap, data_root, load_splits
from nlu_models.evaluation import score


def test_score_counts_low_confidence_as_out_of_scope():
    gold = ["a", "b", OOS, OOS]
    predicted = ["a", "a", "b", OOS]
    plain = score(gold, predicted, [0.9, 0.4, 0.3, 0.9])
    assert plain["accuracy"] == 0.5 and plain["oos_recall"] == 0.5
    at_threshold = score(gold, predicted, [0.9, 0.4, 0.3, 0.9], threshold=0.5)
    assert at_threshold["oos_recall"] == 1.0
    assert at_threshold["accuracy"] == 0.5 and at_threshold["in_scope_as_oos"] == 0.5
    assert "oos_recall" not in score(["a"], ["a"], [1.0])


@pytest.mark.skipif(not (data_root() / "bitext-cs-intents").exists(), reason="shared data not present")
def test_public_splits_load_with_expected_sizes():
    train, val = load_splits("bitext")
    assert (len(train), len(val), len(train.intents)) == (6480, 810, 27)
    train, val = load_splits("clinc150")
    assert (len(train), len(val)) == (15100, 3100) and OOS in val.labels and len(train.intents) == 151
    train, val = load_splits("hwu64")
    assert (len(train), len(val)) == (8954, 1076)
    train, val = load_splits("banking77")
    assert len(train) + len(val) == 10003 and not set(train.texts) & set(val.texts) - {""}
    assert load_splits("banking77")[1].texts == val.texts  # fixed seed
    capped = cap(train, 770)
    assert 700 <= len(capped) <= 850 and set(capped.intents) == set(train.intents)


@pytest.mark.slow
def test_cli_train_evaluate_predict(tmp_path, tiny, capsys):
    csv = tmp_path / "intents.csv"
    csv.write_text("text,intent\n" + "".join(f'"{t}",{i}\n' for t, i in zip(tiny.texts, tiny.labels)))
    out = tmp_path / "model"
    args = [
        "train",
        "--data",
        str(csv),
        "--out",
        str(out),
        "--epochs",
        "6",
        "--max-length",
        "16",
        "--batch-size",
        "8",
        "--learning-rate",
        "2e-4",
        "--validation-fraction",
        "0",
        "--backend",
        "torch",
        "--seed",
        "7",
        "--no-show-progress",
    ]
    assert cli_main(args) == 0
    assert json.loads(capsys.readouterr().out)["epochs_run"] == 6

    assert cli_main(["evaluate", "--model", str(out), "--data", str(csv)]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] >= 0.9

    assert cli_main(["predict", "--model", str(out), "--top", "2", *tiny.held_out.values()]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["intent"]["name"] for line in lines] == list(tiny.held_out)
    assert all(len(line["intent_ranking"]) == 2 for line in lines)
