"""A trained intent model on disk, and predictions from it.

One folder holds everything needed offline: ``model/`` (weights and config via
``save_pretrained``, plus the tokenizer), ``intent_model.json`` (label order,
softmax temperature, training config, history) and, for the ONNX back ends,
the exported graphs. The Rasa component, the CLI and the benchmark all load it
through :class:`IntentModel`, so they predict identically.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from nlu_models.backends import ONNX_FILES, LogitsBackend, export_onnx, make_backend
from nlu_models.calibration import energy, softmax
from nlu_models.config import ClassifierConfig
from nlu_models.emoji import emoji_as_words
from nlu_models.spelling import SpellingRepair, whole_words
from nlu_models.training import TrainedClassifier, offline_hub, quiet_transformers

logger = logging.getLogger(__name__)

META_FILE = "intent_model.json"
MODEL_SUBDIR = "model"
FORMAT_VERSION = 2  # 2: EncoderIntentClassifier (encoder + intent_head.*); 1 was a transformers classifier


def save_trained(trained: TrainedClassifier, config: ClassifierConfig, directory: Path) -> Path:
    """Writes the model folder (and the ONNX graph the configured back end needs)."""
    directory = Path(directory)
    model_dir = directory / MODEL_SUBDIR
    model_dir.mkdir(parents=True, exist_ok=True)
    trained.model.save_pretrained(str(model_dir))
    trained.tokenizer.save_pretrained(str(model_dir))
    meta = {
        "format": FORMAT_VERSION,
        "intents": trained.intents,
        "temperature": trained.temperature,
        "config": json.loads(config.json()),
        "history": trained.history,
        "validation": trained.validation,
        "vocabulary": trained.vocabulary,
    }
    (directory / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    if config.backend.startswith("onnx"):
        export_onnx(model_dir, trained.tokenizer, directory, int8=config.backend == "onnx_int8")
        if config.backend == "onnx_int8":
            (directory / ONNX_FILES["onnx"]).unlink()  # 90 MB the packed model does not need
    return directory


@dataclass
class Prediction:
    """All intents of one message, best first, with calibrated confidences."""

    ranking: List[Tuple[str, float]]
    energy: float

    @property
    def intent(self) -> Tuple[Optional[str], float]:
        return self.ranking[0] if self.ranking else (None, 0.0)


class IntentModel:
    """Loads a saved model folder and ranks intents for messages."""

    def __init__(
        self,
        directory: Path,
        backend: LogitsBackend,
        meta: Dict[str, Any],
        config: ClassifierConfig,
        repair: Optional[SpellingRepair] = None,
    ):
        self.directory, self.backend, self.meta, self.config = Path(directory), backend, meta, config
        self.intents: List[str] = list(meta["intents"])
        self.temperature: float = float(meta.get("temperature", 1.0))
        self.repair = repair

    @classmethod
    def load(
        cls,
        directory: Path,
        backend: Optional[str] = None,
        num_threads: Optional[int] = None,
        onnx_dir: Optional[Path] = None,
        spelling_repair: Optional[bool] = None,
    ) -> "IntentModel":
        """Reads ``directory``; ``backend``/``num_threads``/``spelling_repair`` override the saved config.

        ``onnx_dir`` is where a missing ONNX graph gets exported (default: the folder itself).
        """
        from transformers import AutoTokenizer

        offline_hub()
        quiet_transformers()
        directory = Path(directory)
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise RuntimeError(
                f"{directory}: intent model format {meta.get('format')!r}, this version reads {FORMAT_VERSION}: "
                "train the model again (rasa train)"
            )
        overrides = {k: v for k, v in {"backend": backend, "num_threads": num_threads}.items() if v}
        if spelling_repair is not None:
            overrides["spelling_repair"] = spelling_repair
        config = ClassifierConfig(**{**meta["config"], **overrides})
        tokenizer = AutoTokenizer.from_pretrained(str(directory / MODEL_SUBDIR))
        engine = make_backend(
            config.backend,
            directory / MODEL_SUBDIR,
            tokenizer,
            config.max_length,
            config.num_threads,
            Path(onnx_dir) if onnx_dir else directory,
        )
        repair = None
        if config.spelling_repair and meta.get("vocabulary"):
            repair = SpellingRepair(meta["vocabulary"], whole_words(tokenizer))
        elif config.spelling_repair:
            logger.warning("%s: trained without a word list, so spelling repair is off (train again)", directory)
        return cls(directory, engine, meta, config, repair)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        texts = [emoji_as_words(t) for t in texts]  # "👍" -> "ok": the tokenizer has no pieces for emoji
        if self.repair is not None:
            texts = [self.repair(t) for t in texts]
        return self.backend.logits(texts)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in :attr:`intents` order."""
        return softmax(self.logits(texts), self.temperature)

    def predict(self, texts: Sequence[str]) -> List[Prediction]:
        """Full rankings for ``texts``; an empty text gets an empty ranking."""
        texts = list(texts)
        filled = [i for i, t in enumerate(texts) if t and t.strip()]
        out = [Prediction([], float("-inf")) for _ in texts]
        if not filled:
            return out
        logits = self.logits([texts[i] for i in filled])
        probs = softmax(logits, self.temperature)
        energies = energy(logits, self.temperature)
        for row, i in enumerate(filled):
            order = np.argsort(-probs[row], kind="stable")
            out[i] = Prediction([(self.intents[j], float(probs[row, j])) for j in order], float(energies[row]))
        return out
