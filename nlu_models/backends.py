"""Inference back ends: text in, logits out (torch fp32/int8, ONNX Runtime fp32/int8).

Why several: single-message latency decides how the bot feels on a small CPU.
Dynamic int8 quantisation of the linear layers (torch or ONNX Runtime) cuts it
several-fold at no measurable accuracy cost; fp32 stays for reference and for
GPUs. All back ends read the same saved Hugging Face model folder.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
import torch

from core.onnx_int8 import quantise_int8
from nlu_models.encoder_classifier import EncoderIntentClassifier

logger = logging.getLogger(__name__)

ONNX_FILES = {"onnx": "model.onnx", "onnx_int8": "model_int8.onnx"}
_ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class LogitsBackend(Protocol):
    """What the predictor needs from a back end."""

    def logits(self, texts: Sequence[str]) -> np.ndarray: ...


def _tokenize(tokenizer, texts: Sequence[str], max_length: int, tensors: str):
    return tokenizer(list(texts), truncation=True, max_length=max_length, padding=True, return_tensors=tensors)


class TorchBackend:
    """The fine-tuned model in PyTorch, optionally with int8 dynamic quantisation."""

    def __init__(self, model_dir: Path, tokenizer, max_length: int, num_threads: int, int8: bool = False) -> None:
        torch.set_num_threads(num_threads)  # process-wide: torch has no per-model setting
        model = EncoderIntentClassifier.from_pretrained(model_dir)
        if int8:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notice
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model, self.tokenizer, self.max_length = model, tokenizer, max_length

    @torch.inference_mode()
    def logits(self, texts: Sequence[str]) -> np.ndarray:
        batch = _tokenize(self.tokenizer, texts, self.max_length, "pt")
        return self.model(**batch).logits.float().numpy()


class OnnxBackend:
    """The model exported to ONNX and run by ONNX Runtime on the CPU."""

    def __init__(self, onnx_path: Path, tokenizer, max_length: int, num_threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.tokenizer, self.max_length = tokenizer, max_length

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        batch = _tokenize(self.tokenizer, texts, self.max_length, "np")
        feed = {name: np.asarray(batch[name], dtype=np.int64) for name in self.inputs}
        return self.session.run(None, feed)[0]


def export_onnx(model_dir: Path, tokenizer, out_dir: Path, int8: bool) -> Path:
    """Writes ``model.onnx`` (and ``model_int8.onnx`` when asked) beside the saved model."""
    fp32 = out_dir / ONNX_FILES["onnx"]
    if not fp32.exists():
        model = EncoderIntentClassifier.from_pretrained(model_dir)
        sample = tokenizer(["an example message"], return_tensors="pt")
        names = [n for n in _ONNX_INPUTS if n in sample]
        axes = {n: {0: "batch", 1: "tokens"} for n in names}
        axes["logits"] = {0: "batch"}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shape-dependent branches
            torch.onnx.export(
                model,
                tuple(sample[n] for n in names),
                str(fp32),
                input_names=names,
                output_names=["logits"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
    if not int8:
        return fp32
    quantised = out_dir / ONNX_FILES["onnx_int8"]
    if not quantised.exists():
        quantise_int8(fp32, quantised)
    return quantised


def make_backend(
    kind: str, model_dir: Path, tokenizer, max_length: int, num_threads: int, onnx_dir: Path
) -> LogitsBackend:
    """The back end named ``kind``; ONNX files are exported on first use when missing."""
    if kind in ("torch", "torch_int8"):
        return TorchBackend(model_dir, tokenizer, max_length, num_threads, int8=kind == "torch_int8")
    if kind in ONNX_FILES:
        path = onnx_dir / ONNX_FILES[kind]
        if not path.exists():
            logger.info("Exporting the intent model to %s", path)
            path = export_onnx(model_dir, tokenizer, onnx_dir, int8=kind == "onnx_int8")
        return OnnxBackend(path, tokenizer, max_length, num_threads)
    raise ValueError(f"unknown back end {kind!r}")
