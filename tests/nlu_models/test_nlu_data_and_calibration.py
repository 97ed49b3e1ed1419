"""Data preparation and calibration helpers (no model training, fast)."""

from __future__ import annotations

import numpy as np
import pytest

from nlu_models.calibration import energy, fit_temperature, softmax
from nlu_models.config import ClassifierConfig
from nlu_models.data import (
    IntentData,
    load_csv,
    misspelt,
    stratified_split,
    synthetic_outliers,
    typo_copies,
    with_typo,
)


def test_stratified_split_keeps_every_intent_and_is_seeded():
    data = IntentData([f"t{i}" for i in range(23)], ["a"] * 10 + ["b"] * 12 + ["single"])
    train, val = stratified_split(data, 0.2, seed=1)
    assert set(train.labels) == {"a", "b", "single"}
    assert sorted(val.labels) == ["a", "a", "b", "b"]
    assert not set(train.texts) & set(val.texts)
    assert stratified_split(data, 0.2, seed=1)[1].texts == val.texts
    assert stratified_split(data, 0.2, seed=2)[1].texts != val.texts


def test_load_csv_guesses_columns(tmp_path):
    path = tmp_path / "intents.csv"
    path.write_text("utterance,intent,other\nwhere is my order,track,x\n,empty,y\nhi,greet,z\n")
    data = load_csv(path)
    assert data.texts == ["where is my order", "hi"] and data.labels == ["track", "greet"]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="columns"):
        load_csv(bad)


def test_synthetic_outliers_are_seeded_and_avoid_given_words():
    first = synthetic_outliers(20, seed=3, vocabulary=["violin", "harbour", "x"])
    assert first == synthetic_outliers(20, seed=3, vocabulary=["violin", "harbour", "x"])
    assert len(first) == 20 and all(t.strip() for t in first)
    assert any("violin" in t or "harbour" in t for t in first)
    assert not any(" x " in f" {t} " for t in first)


def test_fit_temperature_recovers_known_temperature():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(3000, 5)) * 3
    cumulative = softmax(true_logits).cumsum(axis=1)
    labels = (rng.random((3000, 1)) > cumulative).sum(axis=1)  # one draw per row
    fitted = fit_temperature(true_logits * 2.0, labels)  # over-confident by a factor of 2
    assert fitted == pytest.approx(2.0, rel=0.1)


def test_outliers_keep_temperature_from_collapsing():
    logits = np.array([[8.0, 0.0], [0.0, 8.0]])
    assert fit_temperature(logits, np.array([0, 1])) == pytest.approx(0.5, rel=1e-3)  # the lower bound
    assert fit_temperature(np.vstack([logits, [[4.0, 0.0]]]), np.array([0, 1, -1])) > 1.0


def test_energy_orders_confident_above_flat():
    assert energy(np.array([[9.0, 0.0, 0.0]]))[0] > energy(np.array([[1.0, 1.0, 1.0]]))[0]


def test_config_defaults_and_base_model_resolution():
    config = ClassifierConfig()
    assert config.backend == "torch_int8" and config.seed == 42
    assert config.resolved_base_model().endswith("model")
    assert ClassifierConfig(base_model="/some/bert").resolved_base_model() == "/some/bert"
    assert ClassifierConfig(backend="ONNX_INT8").backend == "onnx_int8"


def test_length_grouped_order_is_a_seeded_permutation_with_short_padding():
    import torch

    from nlu_models.training import length_grouped_order

    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 60, size=1000).tolist()
    order = torch.randperm(1000, generator=torch.Generator().manual_seed(1)).tolist()

    def grouped(seed):
        return length_grouped_order(order, lengths, 32, torch.Generator().manual_seed(seed), group=10)

    result = grouped(2)
    assert sorted(result) == list(range(1000))  # every example once per epoch
    assert result == grouped(2) and result != grouped(3)  # seeded

    def padded_tokens(o):
        return sum(32 * max(lengths[i] for i in o[s : s + 32]) for s in range(0, len(o), 32))

    assert padded_tokens(result) < 0.75 * padded_tokens(order)  # what it is for: less padding to compute


def test_typo_copies_keep_labels_and_change_one_long_word_by_one_slip():
    import random

    data = IntentData(["where is my parcel", "cancel my order please", "hi"], ["track", "cancel", "greet"])
    copies = typo_copies(data, fraction=2.0 / 3, seed=5)
    assert len(copies) == 2 and copies.texts == typo_copies(data, 2.0 / 3, seed=5).texts
    source = dict(zip(data.labels, data.texts))
    for text, label in zip(copies.texts, copies.labels):
        original = source[label].split(" ")
        changed = [(a, b) for a, b in zip(original, text.split(" ")) if a != b]
        assert len(text.split(" ")) == len(original) and len(changed) <= 1
        for before, after in changed:
            assert len(before) >= 4 and abs(len(before) - len(after)) <= 1 and after[0] == before[0]
    assert with_typo("hi ok", random.Random(0)) == "hi ok"  # no word long enough to misspell
    assert len(typo_copies(data, 0.0, seed=5)) == 0


def test_misspelt_copy_holds_every_example_once_with_one_slip_each():
    from nlu_models.spelling import one_edit_apart

    data = IntentData(["where is my parcel", "cancel my order please", "hi"], ["track", "cancel", "greet"])
    copy = misspelt(data, seed=0)
    assert copy.labels == data.labels and copy.texts == misspelt(data, seed=0).texts
    for before, after in zip(data.texts, copy.texts):
        changed = [(a, b) for a, b in zip(before.split(" "), after.split(" ")) if a != b]
        assert len(changed) <= 1 and all(one_edit_apart(a, b) for a, b in changed)
    assert copy.texts[:2] != data.texts[:2] and copy.texts[2] == "hi"  # "hi" has no word to misspell


def test_synthetic_outliers_do_not_dilute_the_out_of_scope_class_weight():
    import torch

    from nlu_models.training import OUTLIER, OUTLIER_LOSS_WEIGHT, _class_weights, _loss

    # intents 0, 1 and out of scope (2): two real examples each, then six synthetic outliers
    # towards out of scope and two towards the uniform distribution
    labels = np.array([0, 0, 1, 1, 2, 2] + [2] * 6 + [OUTLIER] * 2)
    synthetic = np.arange(len(labels)) >= 6
    weights = _class_weights(labels[~synthetic], 3)
    assert torch.allclose(weights, torch.ones(3))  # the real classes are balanced

    logits = torch.randn(len(labels), 3, generator=torch.Generator().manual_seed(0))
    y, syn = torch.as_tensor(labels), torch.as_tensor(synthetic)
    loss = _loss(logits, y, syn, weights)
    real_ce = torch.nn.functional.cross_entropy(logits[:6], y[:6], reduction="sum")
    to_oos = torch.nn.functional.cross_entropy(logits[6:12], y[6:12], reduction="sum")
    to_uniform = -torch.log_softmax(logits[12:], dim=-1).mean(dim=-1).sum()
    expected = (real_ce + OUTLIER_LOSS_WEIGHT * (to_oos + to_uniform)) / len(labels)
    assert torch.allclose(loss, expected)


def test_prepare_weights_classes_by_the_real_examples_only():
    """CLINC150-style data: outliers labelled out of scope must not shrink that class's weight."""
    from transformers import AutoTokenizer

    from nlu_models.training import _prepare

    config = ClassifierConfig(validation_fraction=0.0, synthetic_outliers=1.0, typo_augmentation=0.0)
    tokenizer = AutoTokenizer.from_pretrained(config.resolved_base_model())
    texts = [
        "where is my parcel",
        "track my order",
        "cancel my order",
        "stop my order",
        "what is the weather",
        "tell me a joke",
    ]
    data = IntentData(texts, ["track", "track", "cancel", "cancel", "out_of_scope", "out_of_scope"])
    prepared = _prepare(data, config, tokenizer, ["track", "cancel", "out_of_scope"])

    assert prepared.synthetic.sum() > 0 and (prepared.y[prepared.synthetic] == 2).all()
    assert np.allclose(prepared.weights.numpy(), 1.0)  # two real examples per intent
