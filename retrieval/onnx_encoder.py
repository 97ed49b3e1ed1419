"""A sentence-transformers model run by ONNX Runtime, optionally int8-quantised.

Why: on a 2-core CPU, sentence-transformers in PyTorch embeds ~50-130 product
texts a second, so a 100k catalogue takes well over 10 minutes. The same
encoder exported to ONNX with per-channel dynamic int8 weights embeds several
times faster (measured by ``python -m perf.retrieval_benchmark encoders``) while its
vectors stay within cosine ~0.99 of the fp32 ones. Queries and products must be
embedded by the same back end, so the back end is part of the index
manifest's model name (see :attr:`retrieval.embeddings.Embedder.name`).

The export reads the model folder with ``transformers`` (``from_pretrained``:
any local path works) and reproduces the sentence-transformers pipeline:
the transformer, the pooling its ``1_Pooling/config.json`` names (mean, CLS or
max; mean for a plain Hugging Face model) and L2 normalisation. Exported files
are cached per model folder and written atomically, so several processes may
start at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from core.onnx_int8 import quantise_int8

log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_BACKENDS = ("onnx", "onnx_int8")
# sentence-transformers' Pooling config keys, in the order checked.
_POOLING_KEYS = {"mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token", "max": "pooling_mode_max_tokens"}


def pooling_mode(model_dir: Path) -> str:
    """The pooling of a sentence-transformers folder: ``mean``, ``cls`` or ``max``."""
    modules = model_dir / "modules.json"
    if not modules.exists():
        return "mean"  # sentence-transformers' own default for a plain transformer
    for module in json.loads(modules.read_text()):
        if module.get("type", "").endswith("Pooling"):
            config = json.loads((model_dir / module["path"] / "config.json").read_text())
            for mode, key in _POOLING_KEYS.items():
                if config.get(key):
                    return mode
            raise ValueError(f"{model_dir}: unsupported pooling {config}; use embedding back end 'torch'")
    return "mean"


def _cache_key(model_dir: Path) -> str:
    """Folder name + a digest of the weight files' sizes and times: a changed model is re-exported."""
    h = hashlib.sha256(str(model_dir.resolve()).encode())
    for f in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        st = f.stat()
        h.update(f"{f.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return f"{model_dir.name}-{h.hexdigest()[:12]}"


def export(model_dir: Path, cache_dir: Path, int8: bool) -> Path:
    """Path of the exported (and quantised) encoder, exporting it on first use."""
    target_dir = cache_dir / _cache_key(model_dir)
    fp32 = target_dir / "encoder.onnx"
    target = target_dir / ("encoder_int8.onnx" if int8 else "encoder.onnx")
    if target.exists():
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    if not fp32.exists():
        _export_fp32(model_dir, fp32)
    if int8:
        quantise_int8(fp32, target)
        fp32.unlink()  # 90 MB that only the ``onnx`` back end would read; re-exported if asked for
    return target


def _atomic_path(final: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=final.stem + ".", suffix=".tmp", dir=final.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # readable by the other services that share the index folder
    return Path(tmp)


def _export_fp32(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class LastHiddenState(torch.nn.Module):
        """Keyword-argument wrapper: positional export would bind the wrong parameters."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: D401
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    log.info("exporting %s to ONNX (%s)", model_dir, out)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    sample = tokenizer(["an example product"], return_tensors="pt", return_token_type_ids=True)
    axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    axes["last_hidden_state"] = {0: "batch", 1: "tokens"}
    tmp = _atomic_path(out)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent branches
        torch.onnx.export(
            LastHiddenState(model),
            tuple(sample[n] for n in _INPUTS),
            str(tmp),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, out)


class OnnxSentenceEncoder:
    """``encode(texts) -> (n, d)`` float32, L2-normalised, like ``SentenceTransformer.encode``."""

    def __init__(
        self,
        model_dir: Path,
        cache_dir: Path,
        *,
        int8: bool = True,
        max_seq_length: int = 128,
        num_threads: Optional[int] = None,
    ) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise ValueError(f"the ONNX embedding back end needs a local model folder, not {model_dir}")
        self.path = export(model_dir, Path(cache_dir), int8)
        self.pooling = pooling_mode(model_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.max_seq_length = max_seq_length
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str], batch_size: int = 128, show_progress: bool = False) -> np.ndarray:
        out: List[np.ndarray] = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=self.max_seq_length,
                return_tensors="np",
                return_token_type_ids=True,
            )
            hidden = self.session.run(None, {name: np.asarray(batch[name], dtype=np.int64) for name in _INPUTS})[0]
            out.append(self._pool(hidden, np.asarray(batch["attention_mask"], dtype=np.float32)))
        vecs = np.concatenate(out) if out else np.zeros((0, self.dimension), dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return np.ascontiguousarray(vecs / np.maximum(norms, 1e-12), dtype=np.float32)

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.pooling == "cls":
            return hidden[:, 0]
        if self.pooling == "max":
            return np.where(mask[..., None] > 0, hidden, -1e9).max(axis=1)
        return (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
