"""The network: pooling over real tokens only, and a save/load round trip that predicts alike."""

from __future__ import annotations

import pytest
import torch

from nlu_models.encoder_classifier import HEAD_CONFIG, HEAD_WEIGHTS, EncoderIntentClassifier, SeenTokenEmbedding
from nlu_models.training import load_base


@pytest.fixture(scope="module")
def packaged():
    """Tokenizer and a fresh 3-intent classifier on the packaged MiniLM."""
    from core.settings import default_embedding_model

    torch.manual_seed(0)
    tokenizer, model = load_base(default_embedding_model(), ["a", "b", "c"], pooling="mean")
    return tokenizer, model.eval()


def _logits(model, tokenizer, texts):
    with torch.no_grad():
        return model(**tokenizer(texts, padding=True, return_tensors="pt")).logits


def test_mean_pooling_ignores_padding(packaged):
    tokenizer, model = packaged
    alone = _logits(model, tokenizer, ["where is my parcel"])
    padded = _logits(
        model, tokenizer, ["where is my parcel", "a much longer message that forces padding onto the first"]
    )
    assert torch.allclose(alone[0], padded[0], atol=1e-4)


def test_pooling_choice_changes_the_sentence_vector(packaged):
    tokenizer, model = packaged
    texts = ["where is my parcel", "i want my money back"]
    mean = _logits(model, tokenizer, texts)
    model.pooling = "cls"
    try:
        cls = _logits(model, tokenizer, texts)
    finally:
        model.pooling = "mean"
    assert not torch.allclose(mean, cls, atol=1e-3)


def test_save_and_load_predict_alike(packaged, tmp_path):
    tokenizer, model = packaged
    model.save_pretrained(tmp_path)
    assert (tmp_path / HEAD_CONFIG).exists() and (tmp_path / HEAD_WEIGHTS).exists()
    loaded = EncoderIntentClassifier.from_pretrained(tmp_path)
    assert (loaded.num_labels, loaded.pooling) == (3, "mean")
    texts = ["hello", "track order 12345"]
    assert torch.allclose(_logits(model, tokenizer, texts), _logits(loaded, tokenizer, texts), atol=1e-5)


def test_unknown_pooling_is_refused(packaged):
    _, model = packaged
    with pytest.raises(ValueError, match="pooling"):
        EncoderIntentClassifier(model.encoder, 2, pooling="max")  # type: ignore[arg-type]


def test_seen_token_embedding_trains_only_seen_rows_and_merges_back():
    torch.manual_seed(0)
    table = torch.nn.Embedding(10, 4)
    before = table.weight.detach().clone()
    rows = SeenTokenEmbedding(table, [2, 5, 5, 7])
    optimiser = torch.optim.SGD([p for p in rows.parameters() if p.requires_grad], lr=0.5)
    ids = torch.tensor([[2, 5, 3], [7, 1, 0]])
    rows(ids).pow(2).sum().backward()
    optimiser.step()
    trained_output = rows(ids).detach()
    merged = rows.merged()
    assert torch.allclose(merged(ids), trained_output)  # the folded-back table gives what training saw
    changed = (merged.weight.detach() - before).abs().sum(dim=1) > 0
    assert changed.nonzero().flatten().tolist() == [2, 5, 7]


def test_training_with_seen_rows_saves_a_plain_encoder(tmp_path, tiny):
    from nlu_models.config import ClassifierConfig
    from nlu_models.data import IntentData
    from nlu_models.training import train_classifier

    config = ClassifierConfig(**{**tiny.config, "epochs": 1, "train_embeddings": "seen", "label_smoothing": 0.1})
    trained = train_classifier(IntentData(tiny.texts, tiny.labels), config)
    assert isinstance(trained.model.get_input_embeddings(), torch.nn.Embedding)
    trained.model.save_pretrained(tmp_path)
    reloaded = EncoderIntentClassifier.from_pretrained(tmp_path)
    sample = trained.tokenizer(["where is my parcel"], return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(trained.model.eval()(**sample).logits, reloaded(**sample).logits, atol=1e-5)
