"""Accuracy, macro-F1, out-of-scope recall and single-message latency of a saved model.

Shared by the CLI (``python -m nlu_models evaluate``) and the benchmark so both
count the same way: a message is out of scope when the top intent is the
out-of-scope intent or its calibrated confidence is below the threshold (what
FallbackClassifier does in the bot).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from sklearn.metrics import f1_score

from nlu_models.calibration import energy, softmax
from nlu_models.data import IntentData
from nlu_models.intent_model import IntentModel

OOS = "out_of_scope"


def batched_logits(model: IntentModel, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Logits for many texts, batched by length so padding stays short."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), len(model.intents)))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        out[idx] = model.logits([texts[i] for i in idx])
    return out


def oos_auroc(gold: Sequence[str], in_scope_score: Union[Sequence[float], np.ndarray], oos_intent: str = OOS) -> float:
    """How well a score ranks in-scope messages above out-of-scope ones (threshold-free)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(gold, dtype=object) != oos_intent, in_scope_score))


def score(
    gold: Sequence[str],
    predicted: Sequence[str],
    confidence: Union[Sequence[float], np.ndarray],
    oos_intent: str = OOS,
    threshold: Optional[float] = None,
) -> Dict[str, float]:
    """Metrics of predictions; out-of-scope figures only when the gold labels have some."""
    labels = np.asarray(gold, dtype=object)
    pred = np.asarray(predicted, dtype=object).copy()
    if threshold is not None:
        pred[np.asarray(confidence) < threshold] = oos_intent
    in_scope = labels != oos_intent
    result = {
        "accuracy": float((pred[in_scope] == labels[in_scope]).mean()) if in_scope.any() else float("nan"),
        "macro_f1": float(f1_score(labels, pred, average="macro", labels=sorted(set(labels[in_scope])))),
        "n": float(len(labels)),
    }
    if (~in_scope).any():
        result["oos_recall"] = float((pred[~in_scope] == oos_intent).mean())
        result["in_scope_as_oos"] = float((pred[in_scope] == oos_intent).mean())
    return result


def evaluate_model(
    model: IntentModel, data: IntentData, oos_intent: str = OOS, threshold: Optional[float] = None
) -> Dict[str, float]:
    """Scores ``model`` on ``data`` (labels unknown to the model count as errors).

    With out-of-scope examples it adds the AUROC of three in-scope scores: the
    calibrated top probability, the top probability minus the out-of-scope
    intent's (when the model has one) and the energy score.
    """
    logits = batched_logits(model, data.texts)
    probs = softmax(logits, model.temperature)
    predicted = [model.intents[i] for i in probs.argmax(1)]
    result = score(data.labels, predicted, probs.max(1), oos_intent, threshold)
    if oos_intent in data.labels:
        result["auroc_max_prob"] = oos_auroc(data.labels, probs.max(1), oos_intent)
        result["auroc_energy"] = oos_auroc(data.labels, energy(logits, model.temperature), oos_intent)
        if oos_intent in model.intents:
            others = np.delete(probs, model.intents.index(oos_intent), axis=1)
            margin = others.max(1) - probs[:, model.intents.index(oos_intent)]
            result["auroc_margin_vs_oos"] = oos_auroc(data.labels, margin, oos_intent)
    return result


@dataclass
class Latency:
    p50_ms: float
    p95_ms: float
    p99_ms: float


def measure_latency(predict, texts: Sequence[str], warmup: int = 20) -> Latency:
    """Wall-clock percentiles of ``predict([text])`` one message at a time."""
    for text in texts[:warmup]:
        predict([text])
    times: List[float] = []
    for text in texts:
        start = time.perf_counter()
        predict([text])
        times.append((time.perf_counter() - start) * 1000)
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    return Latency(float(p50), float(p95), float(p99))
