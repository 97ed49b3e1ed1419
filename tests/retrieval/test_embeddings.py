"""Embedding back ends: the ONNX int8 encoder against sentence-transformers, and manifest safety."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.settings import default_embedding_model
from retrieval.embeddings import Embedder, resolve_backend
from retrieval.index import IndexMismatchError, VectorIndex
from retrieval.onnx_encoder import pooling_mode

TEXTS = [
    "Trailblaze waterproof running shoes. Shoes > Running shoes. Grippy outsole for wet trails. red, mesh",
    "Ceramic pour-over coffee dripper. Kitchen > Coffee. Brews one cup at a time. white",
    "how long does delivery to Austria take?",
    "a warm winter jacket for kids",
]


@pytest.fixture(scope="module")
def encoders(tmp_path_factory) -> tuple:
    cache = tmp_path_factory.mktemp("encoders")
    return Embedder(backend="torch"), Embedder(backend="onnx_int8", cache_dir=cache), cache


def test_onnx_int8_vectors_match_sentence_transformers(encoders) -> None:
    reference, quantised, _ = encoders
    a, b = reference.encode(TEXTS), quantised.encode(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), reference.dimension)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
    cosine = (a * b).sum(axis=1)
    assert cosine.min() > 0.97, cosine
    # Retrieval keeps its order: each text is still nearest to itself across the two encoders.
    assert ((b @ a.T).argmax(axis=1) == np.arange(len(TEXTS))).all()


def test_export_is_cached_and_reused(encoders) -> None:
    _, quantised, cache = encoders
    quantised.encode(["warm"])
    files = sorted(cache.rglob("*.onnx"))
    assert [f.name for f in files] == ["encoder_int8.onnx"]
    mtime = files[0].stat().st_mtime_ns
    again = Embedder(backend="onnx_int8", cache_dir=cache)
    assert np.allclose(again.encode(TEXTS[:1]), quantised.encode(TEXTS[:1]), atol=1e-6)
    assert files[0].stat().st_mtime_ns == mtime


def test_backend_is_part_of_the_manifest_name(encoders, tmp_path: Path) -> None:
    reference, quantised, _ = encoders
    assert quantised.name == f"{reference.name}@onnx_int8"
    vecs = reference.encode(TEXTS)
    VectorIndex.build("products", np.arange(len(TEXTS), dtype=np.int64), vecs, model=reference.name).save(tmp_path)
    with pytest.raises(IndexMismatchError, match="onnx_int8"):
        VectorIndex.load(tmp_path, "products", model=quantised.name)


def test_backend_names() -> None:
    assert resolve_backend("auto") in ("torch", "onnx_int8")
    assert resolve_backend("ONNX") == "onnx"
    with pytest.raises(ValueError, match="unknown embedding back end"):
        resolve_backend("tensorrt")


def test_pooling_mode_follows_the_model_folder(tmp_path: Path) -> None:
    assert pooling_mode(Path(default_embedding_model())) == "mean"
    assert pooling_mode(tmp_path) == "mean"  # a plain Hugging Face folder
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(
        json.dumps([{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])
    )
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert pooling_mode(tmp_path) == "cls"
