"""Embedding back ends: the ONNX int8 encoder against sentence-transformers, and manifest safety."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import default_embedding_model
from knowledge.embeddings import Embedder, resolve_backend
from knowledge.index import IndexMismatchError, VectorIndex
from knowledge.onnx_encoder import pooling_mode

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
    (tmp_path / "modules.json").write_text(json.dumps([{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert pooling_mode(tmp_path) == "cls"


def test_encoder_pool_gives_the_same_vectors_in_the_same_order(encoders, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large builds embed in one single-threaded ONNX process per core: same vectors, same ids, same order."""
    from knowledge.encoder_pool import pool_size
    from knowledge.indexing import embed_in_batches

    _, onnx, _ = encoders
    texts = [f"{word} product number {i} " * (1 + i % 7) for i, word in
             enumerate(["waterproof jacket", "yoga mat", "coffee grinder", "desk lamp"] * 60)]
    batches = [(list(range(s, s + 50)), texts[s:s + 50]) for s in range(0, len(texts), 50)]

    monkeypatch.setenv("SHOP_EMBEDDING_WORKERS", "1")
    ids_one, vecs_one = embed_in_batches(onnx, iter(batches), len(texts), "one process", progress=False)
    monkeypatch.setenv("SHOP_EMBEDDING_WORKERS", "2")
    assert pool_size(onnx, len(texts)) == 2
    ids_two, vecs_two = embed_in_batches(onnx, iter(batches), len(texts), "two processes", progress=False)

    assert sorted(ids_one.tolist()) == list(range(len(texts)))
    assert ids_two.tolist() == ids_one.tolist()
    np.testing.assert_allclose(vecs_two, vecs_one, atol=1e-5)
    by_id = dict(zip(ids_two.tolist(), vecs_two))
    # int8 activations are scaled per batch, so a text encoded alone differs a little
    assert float(by_id[7] @ onnx.encode([texts[7]])[0]) > 0.98


def test_pool_is_used_only_for_large_onnx_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.encoder_pool import PARALLEL_MIN_TEXTS, pool_size

    monkeypatch.delenv("SHOP_EMBEDDING_WORKERS", raising=False)
    assert pool_size(Embedder(backend="onnx_int8"), PARALLEL_MIN_TEXTS - 1) == 1
    assert pool_size(Embedder(backend="torch"), 10 * PARALLEL_MIN_TEXTS) == 1
    assert pool_size(Embedder(backend="onnx_int8"), PARALLEL_MIN_TEXTS) == min(8, len(os.sched_getaffinity(0)))
