"""Embedding a large catalogue with one single-threaded ONNX Runtime process per core.

One ONNX Runtime session with two intra-op threads leaves a core idle whenever
the work is serial: tokenising, pooling, reading the next rows from the database,
and ONNX Runtime's own single-threaded parts of the graph. Two processes with one
thread each keep both cores on the network, and the build's own Python work
overlaps with theirs. Used by ``knowledge build`` (``knowledge.indexing``) for
catalogues of at least :data:`PARALLEL_MIN_TEXTS` products on the ONNX back ends;
``SHOP_EMBEDDING_WORKERS`` sets the number of processes (1: no pool).
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Deque, Iterable, Iterator, List, Optional

import numpy as np

from knowledge.embeddings import Embedder

PARALLEL_MIN_TEXTS = 20_000  # below this, starting the processes costs more than it saves
_worker_encoder = None  # the OnnxSentenceEncoder of a pool process


def pool_size(embedder: Embedder, total: int) -> int:
    """How many encoder processes to use for ``total`` texts (1: encode in this process)."""
    configured = os.environ.get("SHOP_EMBEDDING_WORKERS")
    if configured:
        return max(1, int(configured))
    if not embedder.backend.startswith("onnx") or total < PARALLEL_MIN_TEXTS:
        return 1
    return max(1, min(8, len(os.sched_getaffinity(0))))


def _start_worker(model_dir: str, cache_dir: str, int8: bool, max_seq_length: int) -> None:
    global _worker_encoder
    from knowledge.onnx_encoder import OnnxSentenceEncoder

    _worker_encoder = OnnxSentenceEncoder(Path(model_dir), Path(cache_dir), int8=int8,
                                          max_seq_length=max_seq_length, num_threads=1)


def _encode(texts: List[str]) -> np.ndarray:
    assert _worker_encoder is not None, "pool process was not started by EncoderPool"
    return _worker_encoder.encode(texts)


class EncoderPool:
    """``map(batches)`` encodes batches of texts in worker processes and yields the vectors in order."""

    def __init__(self, embedder: Embedder, workers: int) -> None:
        model = embedder.model  # exports (or finds) the ONNX file once, before the workers read it
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),  # no forked ONNX Runtime / torch threads
            initializer=_start_worker,
            initargs=(str(embedder.model_name), str(model.cache_dir), embedder.backend == "onnx_int8",
                      embedder.max_seq_length),
        )

    def map(self, batches: Iterable[List[str]], in_flight: Optional[int] = None) -> Iterator[np.ndarray]:
        """Vectors of each batch, in the order given; at most ``in_flight`` batches queued (bounded memory)."""
        limit = in_flight or 4 * self.workers
        pending: Deque[Future] = deque()
        for texts in batches:
            pending.append(self._executor.submit(_encode, texts))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "EncoderPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
