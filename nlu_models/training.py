"""Fine-tuning a BERT-family encoder for intent classification (no Rasa in here).

One function, :func:`train_classifier`, takes :class:`~nlu_models.data.IntentData`
and a :class:`~nlu_models.config.ClassifierConfig` and returns the fine-tuned
model with its tokenizer, label order and softmax temperature. Seeding, the
validation split, class weighting, synthetic outliers, early stopping and the
tqdm progress bars all live here so the Rasa component and the CLI train alike.
"""

from __future__ import annotations

import copy
import logging
import random
import string
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from core.settings import offline_models
from nlu_models.calibration import expected_calibration_error, fit_temperature, softmax
from nlu_models.config import ClassifierConfig, Pooling
from nlu_models.data import IntentData, stratified_split, synthetic_outliers, typo_copies
from nlu_models.encoder_classifier import EncoderIntentClassifier, SeenTokenEmbedding
from nlu_models.spelling import SpellingRepair, whole_words, word_counts

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

OUTLIER = -1  # label of a synthetic outlier trained towards the uniform distribution
OUTLIER_LOSS_WEIGHT = 0.5  # as in outlier exposure (Hendrycks et al. 2019)
MIN_OUTLIERS = 16


@dataclass
class TrainedClassifier:
    """A fine-tuned model ready to be saved (see :mod:`nlu_models.artifacts`)."""

    model: torch.nn.Module
    tokenizer: PreTrainedTokenizerBase
    intents: List[str]
    temperature: float = 1.0
    history: List[Dict[str, float]] = field(default_factory=list)
    validation: Dict[str, float] = field(default_factory=dict)
    vocabulary: Dict[str, int] = field(default_factory=dict)  # training words, for spelling repair


def offline_hub() -> None:
    """No model hub is reachable (or wanted) at train or run time."""
    offline_models()


def quiet_transformers() -> None:
    """Hides the load report of a fresh classification head (expected when fine-tuning)."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def set_seed(seed: int) -> None:
    """Seeds every random source training draws from."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def load_base(base_model: str, intents: Sequence[str], pooling: Pooling = "mean"):
    """Tokenizer and the pretrained encoder with a fresh intent head for ``intents``."""
    from transformers import AutoTokenizer

    offline_hub()
    quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    return tokenizer, EncoderIntentClassifier.from_base(base_model, len(intents), pooling)


def _batches(encoded: List[List[int]], batch_size: int, tokenizer, order: Sequence[int]):
    """(indices, padded batch) for consecutive slices of ``order``."""
    for start in range(0, len(order), batch_size):
        idx = list(order[start : start + batch_size])
        yield idx, tokenizer.pad({"input_ids": [encoded[i] for i in idx]}, return_tensors="pt")


def length_grouped_order(
    order: List[int], lengths: Sequence[int], batch_size: int, generator: torch.Generator, group: int = 50
) -> List[int]:
    """``order`` rearranged so each batch holds messages of similar length (less padding to compute).

    As transformers' ``LengthGroupedSampler``: the random order is cut into groups of
    ``group`` batches, each group sorted by length and cut into batches, and the
    batches shuffled, so every epoch still sees the data in a new random mix.
    """
    span = batch_size * group
    batches: List[List[int]] = []
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span], key=lambda i: lengths[i], reverse=True)
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [i for b in shuffled for i in batches[b]]


def _encode(tokenizer, texts: Sequence[str], max_length: int) -> List[List[int]]:
    return tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]


@torch.no_grad()
def predict_logits(model, tokenizer, texts: Sequence[str], max_length: int, batch_size: int = 64) -> np.ndarray:
    """Logits of ``texts`` in their order (batched by length so padding stays short)."""
    model.eval()
    if not texts:
        return np.zeros((0, model.num_labels), dtype=np.float32)
    encoded = _encode(tokenizer, texts, max_length)
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    out = np.zeros((len(encoded), model.num_labels), dtype=np.float32)
    for idx, batch in _batches(encoded, batch_size, tokenizer, order):
        out[idx] = model(**batch).logits.float().numpy()
    return out


def _class_weights(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse class frequency of the real examples (synthetic outliers are weighted apart)."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 0.0)
    return torch.as_tensor(weights, dtype=torch.float32)


def _loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    synthetic: torch.Tensor,
    weights: Optional[torch.Tensor],
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Class-weighted cross-entropy of the real examples plus the down-weighted synthetic outliers.

    A synthetic outlier's target is the out-of-scope intent (label >= 0) or the
    uniform distribution (label ``OUTLIER``). Outliers are kept out of the class
    weights: counted in, the ~1,400 outliers of CLINC150 made the out-of-scope class
    ~15x larger than the others and cut the weight of its ~100 real examples to 1/15.
    """
    real = ~synthetic
    total = logits.new_zeros(())
    if real.any():
        total = total + F.cross_entropy(
            logits[real], labels[real], weight=weights, reduction="sum", label_smoothing=label_smoothing
        )
    if synthetic.any():
        out_logits, targets = logits[synthetic], labels[synthetic]
        to_intent = F.cross_entropy(out_logits, targets.clamp(min=0), reduction="none")
        to_uniform = -F.log_softmax(out_logits, dim=-1).mean(dim=-1)
        total = total + OUTLIER_LOSS_WEIGHT * torch.where(targets >= 0, to_intent, to_uniform).sum()
    return total / len(labels)


def _outlier_count(fraction: float, n_examples: int) -> int:
    """``fraction`` of the examples, but enough to matter on a tiny Rasa project."""
    if fraction <= 0 or n_examples == 0:
        return 0
    return max(int(round(fraction * n_examples)), MIN_OUTLIERS)


def _outlier_vocabulary(tokenizer, data: IntentData) -> List[str]:
    """Whole words of the tokenizer's vocabulary that never occur in the training data."""
    seen = {w.lower().strip(string.punctuation) for text in data.texts for w in text.split()}
    return sorted(w for w in whole_words(tokenizer) if len(w) > 2 and w not in seen)


@dataclass
class _Prepared:
    """Tokenised training set (with outliers) and the validation/calibration set."""

    encoded: List[List[int]]
    y: np.ndarray
    synthetic: np.ndarray  # True for the synthetic outliers
    weights: Optional[torch.Tensor]
    val_y: np.ndarray
    calib_texts: List[str]
    calib_y: np.ndarray
    vocabulary: Dict[str, int]


def _prepare(data: IntentData, config: ClassifierConfig, tokenizer, intents: List[str]) -> _Prepared:
    """Splits off the validation share, adds synthetic outliers to both parts and counts the
    training words (the word list of spelling repair)."""
    index = {name: i for i, name in enumerate(intents)}
    train, val = stratified_split(data, config.validation_fraction, config.seed)
    typos = typo_copies(train, config.typo_augmentation, config.seed + 2)
    train = IntentData(list(train.texts) + list(typos.texts), list(train.labels) + list(typos.labels))
    outlier_words = _outlier_vocabulary(tokenizer, data)
    oos = index.get(config.out_of_scope_intent, OUTLIER) if config.outlier_target == "out_of_scope" else OUTLIER
    n_outliers = _outlier_count(config.synthetic_outliers, len(train))
    texts = list(train.texts) + synthetic_outliers(n_outliers, config.seed, outlier_words)
    y = np.asarray([index[label] for label in train.labels] + [oos] * n_outliers, dtype=np.int64)
    val_y = np.asarray([index[label] for label in val.labels], dtype=np.int64)
    n_val_outliers = _outlier_count(config.synthetic_outliers, len(val)) if len(val) else 0
    calib_texts = list(val.texts) + synthetic_outliers(n_val_outliers, config.seed + 1, outlier_words)
    words = word_counts(data.texts)  # every real example's words: validation messages need no repair
    if config.spelling_repair:  # the temperature is fitted on what the model will read at run time
        repair = SpellingRepair(words, whole_words(tokenizer))
        calib_texts = [repair(t) for t in calib_texts]
    return _Prepared(
        encoded=_encode(tokenizer, texts, config.max_length),
        y=y,
        synthetic=np.arange(len(y)) >= len(train),
        weights=_class_weights(y[: len(train)], len(intents)) if config.class_weighting else None,
        val_y=val_y,
        calib_texts=calib_texts,
        calib_y=np.concatenate([val_y, np.full(n_val_outliers, oos, dtype=np.int64)]),
        vocabulary=words,
    )


def _limit_embedding_training(
    model: EncoderIntentClassifier, config: ClassifierConfig, encoded: List[List[int]]
) -> Optional[SeenTokenEmbedding]:
    """Applies ``train_embeddings``; returns the seen-rows wrapper to merge back after training.

    Half of MiniLM's weights are its 30,522-row word-embedding table. Training all of it
    costs a dense gradient and AdamW update of every row each step (~3x slower epochs on a
    CPU), though a batch only touches the rows of its own tokens; ``seen`` trains just the
    rows of tokens that occur in the training data.
    """
    if config.train_embeddings == "all":
        return None
    table = model.get_input_embeddings()
    if config.train_embeddings == "none":
        table.weight.requires_grad_(False)
        return None
    seen_rows = SeenTokenEmbedding(table, sorted({i for ids in encoded for i in ids}))
    model.encoder.set_input_embeddings(seen_rows)
    return seen_rows


def _optimiser(model: torch.nn.Module, config: ClassifierConfig, total_steps: int):
    """AdamW without decay on biases/LayerNorm, linear warm-up then linear decay."""
    warmup = int(config.warmup_fraction * total_steps)
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in trainable if not n.endswith(no_decay)], "weight_decay": config.weight_decay},
        {"params": [p for n, p in trainable if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimiser = torch.optim.AdamW(groups, lr=config.learning_rate)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: (
            (step + 1) / max(1, warmup)
            if step < warmup
            else max(0.0, (total_steps - step) / max(1, total_steps - warmup))
        ),
    )
    return optimiser, scheduler


def _train_epoch(
    model,
    tokenizer,
    prepared: _Prepared,
    config: ClassifierConfig,
    optimiser,
    scheduler,
    generator: torch.Generator,
    epoch: int,
) -> float:
    """One pass in a seeded random order; returns the mean training loss."""
    model.train()
    order = torch.randperm(len(prepared.encoded), generator=generator).tolist()
    if config.group_by_length:
        order = length_grouped_order(order, [len(ids) for ids in prepared.encoded], config.batch_size, generator)
    steps = (len(order) + config.batch_size - 1) // config.batch_size
    bar = tqdm(
        _batches(prepared.encoded, config.batch_size, tokenizer, order),
        total=steps,
        desc=f"BERT intents epoch {epoch}/{config.epochs}",
        disable=not config.show_progress,
        leave=False,
        mininterval=0.5 if sys.stderr.isatty() else 30,  # keep CI / rasa logs short
    )
    running = 0.0
    for step, (idx, batch) in enumerate(bar, start=1):
        loss = _loss(
            model(**batch).logits,
            torch.as_tensor(prepared.y[idx]),
            torch.as_tensor(prepared.synthetic[idx]),
            prepared.weights,
            config.label_smoothing,
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        scheduler.step()
        optimiser.zero_grad()
        running += loss.item()
        bar.set_postfix(loss=f"{running / step:.4f}", refresh=False)
    return running / max(1, steps)


def _validate(
    model, tokenizer, prepared: _Prepared, config: ClassifierConfig, record: Dict[str, float]
) -> Tuple[Tuple[float, float], np.ndarray]:
    """Scores the model on the validation share: ((accuracy, -loss), logits incl. the outliers)."""
    calib_logits = predict_logits(model, tokenizer, prepared.calib_texts, config.max_length)
    logits = calib_logits[: len(prepared.val_y)]
    record["val_accuracy"] = float((logits.argmax(1) == prepared.val_y).mean())
    record["val_loss"] = float(F.cross_entropy(torch.as_tensor(logits), torch.as_tensor(prepared.val_y)).item())
    return (record["val_accuracy"], -record["val_loss"]), calib_logits


def train_classifier(data: IntentData, config: ClassifierConfig) -> TrainedClassifier:
    """Fine-tunes ``config.base_model`` on ``data`` (deterministic for a given seed).

    Keeps the weights of the best validation epoch (accuracy, then loss), stops
    after ``patience`` epochs without gain and fits the softmax temperature on
    the validation share plus held-out synthetic outliers.
    """
    if len(data) == 0:
        raise ValueError("no intent examples to train on")
    if config.train_threads:
        torch.set_num_threads(config.train_threads)
    set_seed(config.seed)
    intents = data.intents
    tokenizer, model = load_base(config.resolved_base_model(), intents, config.pooling)
    prepared = _prepare(data, config, tokenizer, intents)
    seen_rows = _limit_embedding_training(model, config, prepared.encoded)
    steps_per_epoch = (len(prepared.encoded) + config.batch_size - 1) // config.batch_size
    optimiser, scheduler = _optimiser(model, config, steps_per_epoch * config.epochs)
    generator = torch.Generator().manual_seed(config.seed)
    val_y = prepared.val_y

    history: List[Dict[str, float]] = []
    best_state, best_key, best_logits, stale = None, None, None, 0
    for epoch in range(1, config.epochs + 1):
        train_loss = _train_epoch(model, tokenizer, prepared, config, optimiser, scheduler, generator, epoch)
        record: Dict[str, float] = {"epoch": epoch, "train_loss": train_loss}
        if len(val_y):
            key, calib_logits = _validate(model, tokenizer, prepared, config, record)
            if best_key is None or key > best_key:
                best_key, best_logits, stale = key, calib_logits, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
        history.append(record)
        logger.info("BERT intent classifier: %s", record)
        if config.patience and stale >= config.patience:
            logger.info("Early stop after epoch %d (best %s)", epoch, best_key)
            break

    if best_state is not None:
        model.load_state_dict(best_state)
    if seen_rows is not None:
        model.encoder.set_input_embeddings(seen_rows.merged())
    model.eval()
    temperature, validation = 1.0, {}
    if best_key is not None and best_logits is not None:  # set together, by the best epoch
        if config.calibrate:
            temperature = fit_temperature(best_logits, prepared.calib_y)
        inlier_logits = best_logits[: len(val_y)]
        validation = {
            "accuracy": best_key[0],
            "temperature": temperature,
            "ece_raw": expected_calibration_error(softmax(inlier_logits), val_y),
            "ece_calibrated": expected_calibration_error(softmax(inlier_logits, temperature), val_y),
            "size": float(len(val_y)),
        }
    return TrainedClassifier(model, tokenizer, intents, temperature, history, validation, prepared.vocabulary)
