"""FAISS vector indexes persisted with a manifest, and updated incrementally.

Layout in the index folder: ``<name>.faiss`` plus ``<name>.manifest.json``
(model, dimension, count, kind, checksum of the index file, built_at, and the
fingerprint of the data it was built from). Loading verifies the checksum and
the model, so a truncated file or an index built with another model is a clear
error instead of wrong answers.

Kinds (all inner product on L2-normalised vectors = cosine):

* ``flat``: ``IndexIDMap2(IndexFlatIP)``: exact; the default below ``IVF_THRESHOLD`` (100k) vectors.
* ``ivf``: ``IndexIVFFlat`` with a hashtable direct map: approximate, for large
  catalogues; supports ``add_with_ids``/``remove_ids``/``reconstruct`` natively.
* ``hnsw``: ``IndexHNSWFlat`` in an ``IndexIDMap2`` (benchmarks only: no removal).

Ids are product (or passage) primary keys, so a changed product is updated with
``remove`` + ``add`` without a rebuild. When ``faiss.get_num_gpus() > 0`` and the
GPU build of faiss is installed (``pip install .[gpu]``), searches run on a GPU copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import faiss
import numpy as np

log = logging.getLogger(__name__)

# Exact search costs ~20 ms a query at 10k-50k products on 2 busy cores and ~50 ms at 100k;
# from 100k on, IVF answers in ~1 ms with recall@10 >= 0.98 against exact (benchmark scale).
IVF_THRESHOLD = 100_000
MANIFEST_VERSION = 1


class KnowledgeIndexError(RuntimeError):
    """An index cannot be used; the message says how to rebuild it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message}. Rebuild with `shop index --rebuild`.")


class IndexMissingError(KnowledgeIndexError):
    pass


class IndexCorruptError(KnowledgeIndexError):
    pass


class IndexMismatchError(KnowledgeIndexError):
    pass


@dataclass
class Manifest:
    name: str
    kind: str
    model: str
    dimension: int
    count: int
    checksum: str
    built_at: str
    metric: str = "inner_product"
    nlist: Optional[int] = None
    nprobe: Optional[int] = None
    faiss_version: str = faiss.__version__
    version: int = MANIFEST_VERSION
    source: Dict[str, Any] = field(default_factory=dict)  # fingerprint of the data indexed

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def file_checksum(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def choose_kind(n: int) -> str:
    return "flat" if n < IVF_THRESHOLD else "ivf"


def default_nlist(n: int) -> int:
    """About 2*sqrt(n) lists as a power of two (100k -> 512, 1M -> 2048), at least 16.

    The lower half of FAISS's 4-16*sqrt(n) guideline: training 4096 lists on 2 CPU cores
    takes many minutes; at 1M, 2048 lists with nprobe 32 measured recall@10 0.993 against
    exact search at ~2 ms a query, 1024 lists needed twice the scan for the same recall.
    """
    target = int(2 * np.sqrt(max(n, 1)))
    return int(max(16, 2 ** int(np.round(np.log2(max(target, 16))))))


def default_nprobe(nlist: int) -> int:
    """nlist/64, at least 16 (measured recall@10 vs exact >= 0.97; see ``benchmark scale``)."""
    return int(min(nlist, max(16, nlist // 64)))


class VectorIndex:
    """A FAISS index over (id, unit vector) pairs with save/load, search, add and remove."""

    def __init__(self, index: faiss.Index, manifest: Manifest) -> None:
        self.index = index
        self.manifest = manifest
        self._gpu_index = None
        self._lock = threading.RLock()  # writers (add/remove) exclude readers; FAISS reads are concurrent-safe

    # ----------------------------------------------------------------- building

    @classmethod
    def build(
        cls,
        name: str,
        ids: np.ndarray,
        vectors: np.ndarray,
        *,
        model: str,
        kind: str = "auto",
        nlist: Optional[int] = None,
        nprobe: Optional[int] = None,
        hnsw_m: int = 32,
        source: Optional[Dict[str, Any]] = None,
        train_sample: int = 200_000,
        seed: int = 1234,
    ) -> "VectorIndex":
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if vectors.ndim != 2 or len(vectors) != len(ids):
            raise ValueError("vectors must be (n, d) and match ids")
        n, d = vectors.shape
        kind = choose_kind(n) if kind == "auto" else kind
        if kind == "flat":
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(d))
            nlist = nprobe = None
        elif kind == "ivf":
            nlist = nlist or default_nlist(n)
            nprobe = nprobe or default_nprobe(nlist)
            train_sample = min(train_sample, 64 * nlist)
            quantizer = faiss.IndexFlatIP(d)
            index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(seed)
            sample = vectors if n <= train_sample else vectors[np.sort(rng.choice(n, train_sample, replace=False))]
            index.cp.seed = seed
            index.train(sample)
            index.set_direct_map_type(faiss.DirectMap.Hashtable)
            index.nprobe = nprobe
        elif kind == "hnsw":
            index = faiss.IndexIDMap2(faiss.IndexHNSWFlat(d, hnsw_m, faiss.METRIC_INNER_PRODUCT))
            faiss.downcast_index(index.index).hnsw.efConstruction = 80
            nprobe = nprobe or 64  # efSearch
            faiss.downcast_index(index.index).hnsw.efSearch = nprobe
        else:
            raise ValueError(f"unknown index kind {kind!r}")
        if n:
            index.add_with_ids(vectors, ids)
        manifest = Manifest(
            name=name,
            kind=kind,
            model=model,
            dimension=d,
            count=int(index.ntotal),
            checksum="",
            built_at=_now(),
            nlist=nlist,
            nprobe=nprobe,
            source=dict(source or {}),
        )
        return cls(index, manifest)

    # ----------------------------------------------------------------- persistence

    @staticmethod
    def paths(directory: Path, name: str) -> Tuple[Path, Path]:
        directory = Path(directory)
        return directory / f"{name}.faiss", directory / f"{name}.manifest.json"

    def save(self, directory: Path) -> Path:
        """Write index then manifest atomically (temp file + rename): readers never see half a file."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        index_path, manifest_path = self.paths(directory, self.manifest.name)
        tmp = index_path.with_suffix(".faiss.tmp")
        with self._lock:
            faiss.write_index(self.index, str(tmp))
            self.manifest.count = int(self.index.ntotal)
        self.manifest.checksum = file_checksum(tmp)
        os.replace(tmp, index_path)
        tmp_m = manifest_path.with_suffix(".json.tmp")
        tmp_m.write_text(self.manifest.to_json(), encoding="utf-8")
        os.replace(tmp_m, manifest_path)
        return index_path

    @staticmethod
    def read_manifest(directory: Path, name: str) -> Manifest:
        _, manifest_path = VectorIndex.paths(directory, name)
        if not manifest_path.exists():
            raise IndexMissingError(f"no manifest for index {name!r} in {directory}")
        try:
            data = json.loads(manifest_path.read_text(encoding="utf-8"))
            return Manifest(**data)
        except (ValueError, TypeError) as exc:
            raise IndexCorruptError(f"manifest of index {name!r} is unreadable ({exc})") from exc

    @classmethod
    def load(
        cls,
        directory: Path,
        name: str,
        *,
        model: Optional[str] = None,
        dimension: Optional[int] = None,
        verify: bool = True,
        use_gpu: Optional[bool] = None,
    ) -> "VectorIndex":
        index_path, _ = cls.paths(directory, name)
        manifest = cls.read_manifest(directory, name)
        if not index_path.exists():
            raise IndexMissingError(f"index file {index_path} is missing")
        if verify and file_checksum(index_path) != manifest.checksum:
            raise IndexCorruptError(f"index file {index_path} does not match its manifest checksum")
        if model is not None and manifest.model != model:
            raise IndexMismatchError(f"index {name!r} was built with model {manifest.model!r}, not {model!r}")
        try:
            index = faiss.read_index(str(index_path))
        except RuntimeError as exc:
            raise IndexCorruptError(f"index file {index_path} is unreadable ({exc})") from exc
        if index.d != manifest.dimension or (dimension is not None and index.d != dimension):
            raise IndexMismatchError(
                f"index {name!r} has dimension {index.d}, expected {dimension or manifest.dimension}"
            )
        if index.ntotal != manifest.count:
            raise IndexCorruptError(f"index {name!r} holds {index.ntotal} vectors, manifest says {manifest.count}")
        vi = cls(index, manifest)
        if manifest.kind == "ivf":
            ivf = faiss.extract_index_ivf(index)
            ivf.nprobe = manifest.nprobe or ivf.nprobe
        vi.maybe_to_gpu(use_gpu)
        return vi

    # ----------------------------------------------------------------- GPU

    def maybe_to_gpu(self, use_gpu: Optional[bool] = None) -> bool:
        """Search on a GPU copy when one is available (faiss-gpu build); the CPU index stays the master."""
        if use_gpu is False or not hasattr(faiss, "index_cpu_to_all_gpus"):
            return False
        if faiss.get_num_gpus() <= 0:
            return False
        try:
            self._gpu_index = faiss.index_cpu_to_all_gpus(self.index)
            log.info("index %s searching on %d GPU(s)", self.manifest.name, faiss.get_num_gpus())
            return True
        except Exception as exc:  # pragma: no cover - needs a GPU
            log.warning("GPU index unavailable for %s (%s); using CPU", self.manifest.name, exc)
            self._gpu_index = None
            return False

    # ----------------------------------------------------------------- search and updates

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def search(
        self, queries: np.ndarray, k: int, *, allowed_ids: Optional[np.ndarray] = None, nprobe: Optional[int] = None
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) per query; ids -1 pad missing results. ``allowed_ids`` restricts the search."""
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(int(k), max(1, self.ntotal)))
        with self._lock:
            params = None
            if self.manifest.kind == "ivf":
                params = faiss.SearchParametersIVF(nprobe=int(nprobe or self.manifest.nprobe or 16))
            elif self.manifest.kind == "hnsw" and nprobe:
                faiss.downcast_index(self.index.index).hnsw.efSearch = int(nprobe)
            if allowed_ids is not None:
                sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed_ids, dtype=np.int64))
                if params is None:
                    params = faiss.SearchParameters()
                params.sel = sel
                return self.index.search(q, k, params=params)  # selectors run on the CPU index
            target = self._gpu_index if self._gpu_index is not None and params is None else self.index
            if params is not None:
                return target.search(q, k, params=params)
            return target.search(q, k)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add (or replace) vectors by id."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        with self._lock:
            self.remove(ids)
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
            self._invalidate_gpu()

    def remove(self, ids: np.ndarray) -> int:
        if self.manifest.kind == "hnsw":
            raise NotImplementedError("HNSW indexes cannot remove vectors; rebuild instead")
        with self._lock:
            n = int(self.index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64)))
            self._invalidate_gpu()
            return n

    def reconstruct(self, id_: int) -> Optional[np.ndarray]:
        try:
            with self._lock:
                return self.index.reconstruct(int(id_))
        except RuntimeError:
            return None

    def _invalidate_gpu(self) -> None:
        if self._gpu_index is not None:
            self._gpu_index = None
            self.maybe_to_gpu(True)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
