"""FAISS index: build, persist, load, incremental update, corruption detection."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from sqlalchemy import delete, update

from retrieval.embeddings import embedder_for
from retrieval.index import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    VectorIndex,
    choose_kind,
)
from retrieval.indexing import PRODUCTS, build_indexes, index_ids, product_fingerprint, sync_product_index
from shopdb.db import create_db_engine
from shopdb.models import Product, ProductRelation


def _unit(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_build_save_load_search_and_update(tmp_path, kind):
    x = _unit(2000)
    ids = np.arange(10, 2010, dtype=np.int64)
    vi = VectorIndex.build("demo", ids, x, model="m", kind=kind, nlist=16, nprobe=16)
    vi.save(tmp_path)
    manifest = json.loads((tmp_path / "demo.manifest.json").read_text())
    assert manifest["count"] == 2000 and manifest["dimension"] == 32 and manifest["kind"] == kind
    assert manifest["model"] == "m" and len(manifest["checksum"]) == 64 and manifest["built_at"]
    loaded = VectorIndex.load(tmp_path, "demo", model="m")
    scores, got = loaded.search(x[:5], 3)
    assert list(got[:, 0]) == list(ids[:5]) and np.allclose(scores[:, 0], 1.0, atol=1e-4)
    # filtered search only returns allowed ids
    allowed = ids[100:110]
    _, got = loaded.search(x[0], 5, allowed_ids=allowed)
    assert set(got[0][got[0] >= 0]) <= set(allowed)
    # incremental: replace one vector, remove another
    loaded.add(np.array([10], dtype=np.int64), x[1:2])
    loaded.remove(np.array([11], dtype=np.int64))
    assert loaded.ntotal == 1999 and np.allclose(loaded.reconstruct(10), x[1], atol=1e-6)
    assert loaded.reconstruct(11) is None
    loaded.save(tmp_path)
    assert VectorIndex.load(tmp_path, "demo").ntotal == 1999


def test_corrupt_missing_and_mismatched_files_are_clear_errors(tmp_path):
    VectorIndex.build("demo", np.arange(50, dtype=np.int64), _unit(50), model="m").save(tmp_path)
    with pytest.raises(IndexMismatchError, match="rebuild"):
        VectorIndex.load(tmp_path, "demo", model="other-model")
    path = tmp_path / "demo.faiss"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="checksum"):
        VectorIndex.load(tmp_path, "demo")
    path.write_bytes(b"not a faiss index")
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(tmp_path, "demo", verify=False)
    path.unlink()
    with pytest.raises(IndexMissingError, match="shop index --rebuild"):
        VectorIndex.load(tmp_path, "demo")
    with pytest.raises(IndexMissingError):
        VectorIndex.load(tmp_path, "nothing-here")


def test_kind_threshold():
    assert choose_kind(5_000) == "flat" and choose_kind(1_000_000) == "ivf"


def test_product_changes_sync_without_rebuild(shop_settings):
    engine = create_db_engine(shop_settings.resolved_database_url)
    index_dir = shop_settings.resolved_index_dir
    embedder = embedder_for(shop_settings)
    before = VectorIndex.load(index_dir, PRODUCTS)
    built_at = before.manifest.built_at
    with engine.begin() as conn:
        conn.execute(
            update(Product)
            .where(Product.id == 5)
            .values(
                title="Glacier Expedition Ice Axe",
                description="A steel ice axe for alpine climbing.",
                updated_at=dt.datetime.utcnow() + dt.timedelta(seconds=5),
            )
        )
        conn.execute(
            delete(ProductRelation).where((ProductRelation.product_id == 7) | (ProductRelation.related_id == 7))
        )
        conn.execute(delete(Product).where(Product.id == 7))
    report = sync_product_index(engine, index_dir, embedder)
    assert report.removed == 1 and 1 <= report.updated < 10  # only the changed product, not all 300
    after = VectorIndex.load(index_dir, PRODUCTS)
    assert after.manifest.built_at == built_at and after.manifest.source == product_fingerprint(engine)
    ids = set(index_ids(after).tolist())
    assert 7 not in ids and 5 in ids and len(ids) == 299
    q = embedder.encode_query("ice axe for alpine climbing")
    _, top = after.search(q, 1)
    assert top[0][0] == 5
    again = build_indexes(engine, index_dir, embedder, progress=False)
    assert all(r.skipped for r in again)
    engine.dispose()
