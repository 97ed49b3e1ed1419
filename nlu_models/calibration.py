"""Confidence calibration and out-of-scope scores computed from classifier logits.

Why: a fine-tuned transformer's softmax is over-confident, so a fixed
FallbackClassifier threshold means little. Temperature scaling (Guo et al. 2017)
on the held-out validation share makes the top probability a calibrated
confidence; the energy score (Liu et al. 2020) is reported beside it because it
separates out-of-scope input better than the maximum probability on some data.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

MIN_TEMPERATURE, MAX_TEMPERATURE = 0.5, 20.0


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising validation negative log-likelihood (1.0 without data).

    A label of -1 marks an outlier whose target is the uniform distribution: with
    outliers in the mix a small, perfectly classified validation share cannot
    drive the temperature to zero (which would make gibberish look certain).
    One parameter, so a bounded scalar search on log T is all it takes.
    """
    if len(labels) == 0:
        return 1.0
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    inliers = labels >= 0

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        log_p = z - z.max(axis=1, keepdims=True)
        log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
        loss = -log_p[inliers, labels[inliers]].sum() - log_p[~inliers].mean(axis=1).sum()
        return float(loss / len(labels))

    bounds = (np.log(MIN_TEMPERATURE), np.log(MAX_TEMPERATURE))
    result = minimize_scalar(nll, bounds=bounds, method="bounded", options={"xatol": 1e-4})
    return float(np.exp(result.x))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``, numerically stable."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def energy(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Negative free energy ``T * logsumexp(logits / T)``: higher means more in-scope."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    m = z.max(axis=-1)
    return temperature * (m + np.log(np.exp(z - m[..., None]).sum(axis=-1)))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE of the top-1 confidence, for reporting how well calibration worked."""
    if len(labels) == 0:
        return 0.0
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)
