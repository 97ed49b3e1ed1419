"""Building and incrementally updating the product and policy indexes from the database.

``build_indexes`` embeds every product and policy passage (tqdm progress) and
writes ``products`` and ``policies`` indexes with manifests. ``sync_product_index``
re-embeds only products whose ``updated_at`` moved past the manifest's
watermark, removes deleted ones, and saves: an import of 100 changed products
costs 100 embeddings, not a rebuild.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from tqdm import tqdm

from retrieval.embeddings import Embedder
from retrieval.index import IndexMissingError, KnowledgeIndexError, VectorIndex
from shopdb.demo_data import product_text
from shopdb.models import Category, PolicyPassage, Product

log = logging.getLogger(__name__)

PRODUCTS = "products"
POLICIES = "policies"
TEXT_VERSION = "1"  # bump when product_text() changes: forces re-embedding
READ_BATCH = 2048


@dataclass
class BuildReport:
    name: str
    count: int
    seconds: float
    kind: str
    skipped: bool = False
    updated: int = 0
    removed: int = 0


def product_fingerprint(engine: Engine) -> Dict[str, Any]:
    """Cheap summary of the catalogue: changes when products are added, removed or updated."""
    with engine.connect() as conn:
        count, max_id, sum_id, max_upd = conn.execute(
            select(func.count(Product.id), func.max(Product.id), func.sum(Product.id), func.max(Product.updated_at))
        ).one()
    return {
        "count": int(count or 0),
        "max_id": int(max_id or 0),
        "sum_id": int(sum_id or 0),
        "max_updated_at": max_upd.isoformat()
        if isinstance(max_upd, dt.datetime)
        else (str(max_upd) if max_upd else None),
        "text_version": TEXT_VERSION,
    }


def policy_fingerprint(engine: Engine) -> Dict[str, Any]:
    import hashlib

    h = hashlib.sha256()
    n = 0
    with engine.connect() as conn:
        for key, title, text in conn.execute(
            select(PolicyPassage.key, PolicyPassage.title, PolicyPassage.text).order_by(PolicyPassage.id)
        ):
            h.update(f"{key}\x1f{title}\x1f{text}\x1e".encode())
            n += 1
    return {"count": n, "checksum": h.hexdigest()[:16], "text_version": TEXT_VERSION}


def iter_product_texts(
    engine: Engine, *, since: Optional[dt.datetime] = None, ids: Optional[Sequence[int]] = None, batch: int = READ_BATCH
) -> Iterator[Tuple[List[int], List[str]]]:
    """(ids, texts) batches in id order (keyset pagination: constant memory at 1M products)."""
    last = 0
    with engine.connect() as conn:
        while True:
            stmt = (
                select(Product.id, Product.title, Product.brand, Category.path, Product.attributes, Product.description)
                .join(Category, Category.id == Product.category_id)
                .where(Product.id > last)
                .order_by(Product.id)
                .limit(batch)
            )
            if since is not None:
                stmt = stmt.where(Product.updated_at > since)
            if ids is not None:
                stmt = stmt.where(Product.id.in_(list(ids)))
            rows = conn.execute(stmt).all()
            if not rows:
                return
            yield [r[0] for r in rows], [product_text(r[1], r[2], r[3], r[4] or {}, r[5] or "") for r in rows]
            last = rows[-1][0]


def embed_in_batches(
    embedder: Embedder, batches: Iterator[Tuple[List[int], List[str]]], total: int, desc: str, progress: bool = True
) -> Tuple[np.ndarray, np.ndarray]:
    all_ids: List[np.ndarray] = []
    all_vecs: List[np.ndarray] = []
    with tqdm(total=total, desc=desc, unit="doc", disable=not progress) as bar:
        for ids, texts in batches:
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding per batch
            vecs = embedder.encode([texts[i] for i in order])
            all_ids.append(np.asarray([ids[i] for i in order], dtype=np.int64))
            all_vecs.append(vecs)
            bar.update(len(ids))
    if not all_ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.concatenate(all_ids), np.concatenate(all_vecs)


def build_product_index(
    engine: Engine, index_dir: Path, embedder: Embedder, *, kind: str = "auto", progress: bool = True
) -> BuildReport:
    t0 = time.perf_counter()
    fp = product_fingerprint(engine)
    ids, vecs = embed_in_batches(embedder, iter_product_texts(engine), fp["count"], "embedding products", progress)
    vi = VectorIndex.build(PRODUCTS, ids, vecs, model=embedder.name, kind=kind, source=fp)
    vi.save(index_dir)
    return BuildReport(PRODUCTS, vi.ntotal, time.perf_counter() - t0, vi.manifest.kind)


def policy_texts(engine: Engine, after_id: int = 0) -> Tuple[List[int], List[str]]:
    """(ids, texts to embed) of the policy passages, those after ``after_id`` only when given."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(PolicyPassage.id, PolicyPassage.title, PolicyPassage.text, PolicyPassage.topic)
            .where(PolicyPassage.id > after_id)
            .order_by(PolicyPassage.id)
        ).all()
    return [r[0] for r in rows], [f"{r[1]} ({r[3]}). {r[2]}" for r in rows]


def build_policy_index(engine: Engine, index_dir: Path, embedder: Embedder, progress: bool = True) -> BuildReport:
    t0 = time.perf_counter()
    ids, texts = policy_texts(engine)
    vecs = embedder.encode(texts, show_progress=False) if texts else np.zeros((0, embedder.dimension), np.float32)
    vi = VectorIndex.build(
        POLICIES,
        np.asarray(ids, dtype=np.int64),
        vecs,
        model=embedder.name,
        kind="flat",
        source=policy_fingerprint(engine),
    )
    vi.save(index_dir)
    return BuildReport(POLICIES, vi.ntotal, time.perf_counter() - t0, "flat")


def index_is_current(index_dir: Path, name: str, fingerprint: Dict[str, object], model: str) -> bool:
    try:
        m = VectorIndex.read_manifest(index_dir, name)
    except KnowledgeIndexError:
        return False
    return m.model == model and m.source == fingerprint and VectorIndex.paths(index_dir, name)[0].exists()


def index_ids(vi: VectorIndex) -> np.ndarray:
    """All ids stored in an index (IDMap or IVF)."""
    import faiss

    index = vi.index
    if isinstance(index, faiss.IndexIDMap2) or hasattr(index, "id_map"):
        return faiss.vector_to_array(index.id_map).astype(np.int64)
    ivf = faiss.extract_index_ivf(index)
    invlists = ivf.invlists
    out = []
    for lst in range(ivf.nlist):
        size = invlists.list_size(lst)
        if size:
            ptr = invlists.get_ids(lst)
            out.append(faiss.rev_swig_ptr(ptr, size).copy())
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, dtype=np.int64)


def sync_product_index(
    engine: Engine,
    index_dir: Path,
    embedder: Embedder,
    vi: Optional[VectorIndex] = None,
    *,
    save: bool = True,
    progress: bool = False,
) -> BuildReport:
    """Bring the product index up to date with the database without a full rebuild."""
    t0 = time.perf_counter()
    if vi is None:
        vi = VectorIndex.load(index_dir, PRODUCTS, model=embedder.name)
    fp = product_fingerprint(engine)
    if vi.manifest.source == fp:
        return BuildReport(PRODUCTS, vi.ntotal, time.perf_counter() - t0, vi.manifest.kind, skipped=True)
    if vi.manifest.source.get("text_version") != TEXT_VERSION:
        raise IndexMissingError("product texts changed since the index was built")
    watermark = vi.manifest.source.get("max_updated_at")
    since = dt.datetime.fromisoformat(str(watermark)) if watermark else None
    with engine.connect() as conn:
        db_ids = np.fromiter(conn.execute(select(Product.id)).scalars(), dtype=np.int64)
    have = index_ids(vi)
    new_ids = np.setdiff1d(db_ids, have)
    gone = np.setdiff1d(have, db_ids)
    changed_ids: List[np.ndarray] = []
    if since is not None:
        with engine.connect() as conn:
            changed_ids.append(
                np.fromiter(
                    conn.execute(select(Product.id).where(Product.updated_at > since)).scalars(), dtype=np.int64
                )
            )
    to_embed = np.union1d(new_ids, np.concatenate(changed_ids) if changed_ids else np.zeros(0, np.int64))
    removed = vi.remove(gone) if len(gone) else 0
    updated = 0
    for b0 in range(0, len(to_embed), READ_BATCH):
        chunk = to_embed[b0 : b0 + READ_BATCH].tolist()
        ids, vecs = embed_in_batches(
            embedder, iter_product_texts(engine, ids=chunk), len(chunk), "re-embedding", progress
        )
        vi.add(ids, vecs)
        updated += len(ids)
    vi.manifest.source = fp
    if save:
        vi.save(index_dir)
    log.info("product index synced: %d re-embedded, %d removed", updated, removed)
    return BuildReport(
        PRODUCTS, vi.ntotal, time.perf_counter() - t0, vi.manifest.kind, updated=updated, removed=removed
    )


def build_indexes(
    engine: Engine,
    index_dir: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    kind: str = "auto",
    progress: bool = True,
) -> List[BuildReport]:
    """Build whatever is missing or stale; ``rebuild`` forces both. Product changes are synced incrementally."""
    index_dir = Path(index_dir)
    reports = []
    if not rebuild and index_is_current(index_dir, PRODUCTS, product_fingerprint(engine), embedder.name):
        reports.append(
            BuildReport(PRODUCTS, VectorIndex.read_manifest(index_dir, PRODUCTS).count, 0.0, "", skipped=True)
        )
    else:
        synced = None
        if not rebuild:
            try:
                synced = sync_product_index(engine, index_dir, embedder, progress=progress)
            except KnowledgeIndexError as exc:
                log.info("full product index build (%s)", exc)
        reports.append(synced or build_product_index(engine, index_dir, embedder, kind=kind, progress=progress))
    if not rebuild and index_is_current(index_dir, POLICIES, policy_fingerprint(engine), embedder.name):
        reports.append(
            BuildReport(POLICIES, VectorIndex.read_manifest(index_dir, POLICIES).count, 0.0, "flat", skipped=True)
        )
    else:
        reports.append(build_policy_index(engine, index_dir, embedder, progress=progress))
    return reports
