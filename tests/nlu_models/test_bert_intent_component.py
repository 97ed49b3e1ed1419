"""The Rasa component: train, persist in ModelStorage, load, predict, fall back."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.training_data.message import Message

from nlu_models.bert_intent_classifier import BertIntentClassifier
from nlu_models.config import ClassifierConfig
from nlu_models.data import IntentData
from nlu_models.intent_model import IntentModel
from nlu_models.training import train_classifier

pytestmark = pytest.mark.slow  # trains a (tiny) transformer


def _load(trained, **overrides) -> BertIntentClassifier:
    config = {**trained["config"], **overrides}
    return BertIntentClassifier.load(config, trained["storage"], trained["resource"], trained["context"])


def _process(component, texts):
    messages = [Message.build(text=t) for t in texts]
    component.process(messages)
    return messages


def test_persisted_folder_holds_weights_tokenizer_labels_and_config(tiny_trained, tiny):
    directory = tiny.storage_dir(tiny_trained)
    model_files = {p.name for p in (directory / "model").iterdir()}
    assert "model.safetensors" in model_files and "config.json" in model_files
    assert {"tokenizer.json", "tokenizer_config.json"} & model_files
    model = IntentModel.load(directory)
    assert model.intents == sorted(tiny.train)
    assert model.meta["config"]["max_length"] == tiny.config["max_length"]
    assert model.temperature > 0


def test_loaded_component_predicts_held_out_paraphrases(tiny_trained, tiny):
    component = _load(tiny_trained)
    messages = _process(component, list(tiny.held_out.values()))
    for message, expected in zip(messages, tiny.held_out):
        assert message.get("intent")["name"] == expected
        assert message.get("intent")["confidence"] > 0.5


def test_ranking_has_configured_length_and_is_sorted(tiny_trained, tiny):
    for length in (1, 2, 0):
        component = _load(tiny_trained, ranking_length=length)
        (message,) = _process(component, ["where is my order"])
        ranking = message.get("intent_ranking")
        assert len(ranking) == (length or len(tiny.train))
        confidences = [r["confidence"] for r in ranking]
        assert confidences == sorted(confidences, reverse=True)
        assert ranking[0] == message.get("intent")
        assert {r["name"] for r in ranking} <= set(tiny.train)
        assert 0.0 <= sum(confidences) <= 1.0 + 1e-6
    assert message.as_dict_nlu()["intent_ranking"] == ranking  # added to the output like Rasa's own


def test_loaded_equals_freshly_trained(tiny_trained, tiny):
    texts = list(tiny.held_out.values()) + tiny.gibberish
    fresh = [m.get("intent_ranking") for m in _process(tiny_trained["component"], texts)]
    loaded = [m.get("intent_ranking") for m in _process(_load(tiny_trained), texts)]
    for a, b in zip(fresh, loaded):
        assert [r["name"] for r in a] == [r["name"] for r in b]
        assert np.allclose([r["confidence"] for r in a], [r["confidence"] for r in b], atol=1e-5)


def test_gibberish_gets_low_confidence_and_nlu_fallback(tiny_trained, tiny):
    component = _load(tiny_trained)
    fallback = FallbackClassifier.create(
        {**FallbackClassifier.get_default_config(), "threshold": 0.5}, None, None, None
    )
    messages = fallback.process(_process(component, tiny.gibberish + list(tiny.held_out.values())))
    gibberish, in_scope = messages[: len(tiny.gibberish)], messages[len(tiny.gibberish) :]
    assert all(m.get("intent")["name"] == "nlu_fallback" for m in gibberish)
    assert all(m.get("intent")["name"] != "nlu_fallback" for m in in_scope)


def test_empty_text_gets_no_intent(tiny_trained):
    (message,) = _process(_load(tiny_trained), [""])
    assert message.get("intent") == {"name": None, "confidence": 0.0}
    assert message.get("intent_ranking") == []


def test_missing_resource_loads_untrained_component(tiny_trained):
    from rasa.engine.storage.resource import Resource

    component = BertIntentClassifier.load(
        tiny_trained["config"], tiny_trained["storage"], Resource("never_trained"), tiny_trained["context"]
    )
    (message,) = _process(component, ["hello"])
    assert message.get("intent")["name"] is None


def test_int8_and_onnx_back_ends_agree_with_fp32(tiny_trained, tiny, tmp_path):
    directory = tiny.storage_dir(tiny_trained)
    texts = list(tiny.held_out.values())
    reference = IntentModel.load(directory, backend="torch").probabilities(texts)
    for backend in ("torch_int8", "onnx", "onnx_int8"):
        model = IntentModel.load(directory, backend=backend, onnx_dir=tmp_path)
        probs = model.probabilities(texts)
        assert (probs.argmax(1) == reference.argmax(1)).all(), backend
        assert np.abs(probs - reference).max() < (1e-4 if backend == "onnx" else 0.1), backend


def test_same_seed_same_model_other_seed_differs(tiny):
    data = IntentData(tiny.texts, tiny.labels)
    config = ClassifierConfig(**{**tiny.config, "epochs": 1, "validation_fraction": 0.0})
    texts = list(tiny.held_out.values())

    def logits(cfg):
        trained = train_classifier(data, cfg)
        from nlu_models.training import predict_logits

        return predict_logits(trained.model, trained.tokenizer, texts, cfg.max_length)

    first, second = logits(config), logits(config)
    assert np.array_equal(first, second)
    assert not np.allclose(first, logits(config.copy(update={"seed": config.seed + 1})))


def test_misspelt_config_key_is_rejected():
    with pytest.raises(ValueError, match="epoch"):
        BertIntentClassifier.validate_config({"epoch": 3})
    with pytest.raises(ValueError):
        BertIntentClassifier.validate_config({"backend": "tensorrt"})
