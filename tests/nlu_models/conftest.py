"""A tiny intent set and one quickly trained BERT classifier shared by the NLU tests."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, List

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TRAIN: Dict[str, List[str]] = {
    "greet": [
        "hi",
        "hello",
        "hey there",
        "good morning",
        "hello friend",
        "hi bot",
        "hey",
        "good evening",
        "howdy",
        "hi, anyone there?",
    ],
    "track_order": [
        "where is my order",
        "track my package",
        "when will my order arrive",
        "order status please",
        "has my parcel shipped",
        "where's my delivery",
        "track order 12345",
        "status of my order",
        "is my order on its way",
        "I'm still waiting for my parcel",
    ],
    "refund": [
        "i want a refund",
        "give me my money back",
        "refund my purchase",
        "how do i get a refund",
        "return and refund",
        "can i get reimbursed",
        "money back please",
        "refund for order 55",
        "I'd like to be refunded",
        "please reimburse me",
    ],
}
HELD_OUT = {"greet": "hello there", "track_order": "where is my parcel", "refund": "i need my money back"}
GIBBERISH = ["asdkjh qweoiu zxcmn", "xqzt vbnmw", "lkjhg poiuy trewq"]

# Small and quick (a few seconds on 2 cores) but enough to separate three intents.
TINY_CONFIG = dict(
    epochs=6,
    batch_size=8,
    learning_rate=2e-4,
    max_length=16,
    validation_fraction=0.2,
    seed=7,
    ranking_length=2,
    backend="torch",
    show_progress=False,
)


def train_texts_labels():
    texts = [t for examples in TRAIN.values() for t in examples]
    labels = [intent for intent, examples in TRAIN.items() for _ in examples]
    return texts, labels


@pytest.fixture(scope="session")
def tiny_trained(tmp_path_factory):
    """The Rasa component trained once through a real LocalModelStorage."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlu_models.bert_intent_classifier import BertIntentClassifier

    storage = LocalModelStorage(tmp_path_factory.mktemp("model-storage"))
    resource = Resource("bert_intent_classifier")
    context = ExecutionContext(GraphSchema({}), node_name="bert_intent_classifier")
    config = {**BertIntentClassifier.get_default_config(), **TINY_CONFIG}
    component = BertIntentClassifier.create(config, storage, resource, context)
    texts, labels = train_texts_labels()
    data = TrainingData([Message.build(text=t, intent=i) for t, i in zip(texts, labels)])
    component.train(data)
    return {"component": component, "storage": storage, "resource": resource, "context": context, "config": config}


def storage_dir(trained) -> Path:
    with trained["storage"].read_from(trained["resource"]) as directory:
        return Path(directory)


@pytest.fixture(scope="session")
def tiny() -> SimpleNamespace:
    """The tiny data set and helpers (test modules cannot import conftest under importlib)."""
    texts, labels = train_texts_labels()
    return SimpleNamespace(
        train=TRAIN,
        texts=texts,
        labels=labels,
        held_out=HELD_OUT,
        gibberish=GIBBERISH,
        config=TINY_CONFIG,
        storage_dir=storage_dir,
    )
