"""Each turn measured: its time split into understanding, policy and actions, the intent's
confidence, fallbacks, errors, and the model that answered (``monitoring.metrics``), plus one log
line per turn with those figures and the conversation's hash (a JSON line with ``SHOP_LOG_FORMAT=json``).

Rasa 3.6 has no hook around a turn's stages, so :func:`install` wraps four ``MessageProcessor``
methods: ``handle_message`` (the turn), ``parse_message`` (NLU), ``predict_next_with_tracker_if_should``
(the policies, once per action) and ``_run_action`` / ``run_action_extract_slots`` (actions, the
custom ones' HTTP call included). The stage times of a turn are summed in a context variable that
``handle_message`` opens, so ``parse_message`` called by Rasa's HTTP API outside a turn records nothing.
"""

from __future__ import annotations

import contextvars
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

from core.log_masking import conversation_ref
from core.settings import get_settings
from monitoring import metrics
from monitoring.json_logs import bind

logger = logging.getLogger("shop.turns")

# A fallback turn as the analytics count it (insights.intent_meanings, which sits above this layer;
# tests/operations checks that the two agree): the NLU did not understand, or a fallback action ran.
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_two_stage_fallback"})


@dataclass
class TurnTimes:
    """Seconds one turn spent in each stage, and what it was about."""

    stages: Dict[str, float] = field(default_factory=lambda: dict.fromkeys(metrics.STAGES, 0.0))
    intent: Optional[str] = None
    confidence: Optional[float] = None
    fallback: bool = False

    def add(self, stage: str, seconds: float) -> None:
        self.stages[stage] += seconds


_turn: contextvars.ContextVar[Optional[TurnTimes]] = contextvars.ContextVar("shop_turn", default=None)
_installed = False
_served: Dict[str, str] = {}  # the model files answering (one, two in an A/B test) -> names in shop_model_info


def served_model(processor: Any) -> Dict[str, str]:
    """The model a processor serves, as the labels of ``shop_model_info``."""
    return {
        "model_id": str(getattr(processor.model_metadata, "model_id", "") or ""),
        "model": Path(str(processor.model_filename or "")).name,
    }


def _note_model(processor: Any) -> str:
    """Keeps ``shop_model_info`` on the models answering; the labels are built once per model file,
    not every turn."""
    filename = str(processor.model_filename or "")
    name = _served.get(filename)
    if name is None:
        labels = served_model(processor)
        metrics.MODEL_INFO.labels(**labels).set(1)
        name = _served[filename] = labels["model"]
    return name


def forget_models() -> None:
    """A model was swapped out (``model_serving``): ``shop_model_info`` restarts from the models that
    answer from now on."""
    _served.clear()
    metrics.MODEL_INFO.clear()


def record_parse(parse_data: Dict[str, Any], known_intents: Any) -> None:
    turn = _turn.get()
    intent = parse_data.get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence")
    if turn is None or name is None:
        return
    turn.intent = name
    turn.confidence = float(confidence) if confidence is not None else None
    turn.fallback = turn.fallback or name in FALLBACK_INTENTS
    metrics.INTENTS.labels(metrics.bounded(name, known_intents)).inc()
    if turn.confidence is not None:
        metrics.INTENT_CONFIDENCE.observe(turn.confidence)


def record_turn(turn: TurnTimes, total: float, failed: bool) -> None:
    metrics.TURN_SECONDS.observe(total)
    for stage, seconds in turn.stages.items():
        metrics.TURN_STAGE_SECONDS.labels(stage).observe(seconds)
    if turn.fallback:
        metrics.FALLBACKS.inc()
    if failed:
        metrics.TURN_ERRORS.inc()


def install() -> bool:
    """Wrap the processor's turn and stages (idempotent); True the first time."""
    global _installed
    if _installed:
        return False
    from rasa.core.processor import MessageProcessor

    original_handle = MessageProcessor.handle_message
    original_parse = MessageProcessor.parse_message
    original_predict = MessageProcessor.predict_next_with_tracker_if_should
    original_run_action = MessageProcessor._run_action
    original_extract = MessageProcessor.run_action_extract_slots
    turn_level = logging.INFO if get_settings().log_format == "json" else logging.DEBUG

    async def handle_message(self: Any, message: Any) -> Any:
        model = _note_model(self)
        conversation = conversation_ref(message.sender_id)
        turn = TurnTimes()
        token = _turn.set(turn)
        started = time.perf_counter()
        failed = True
        try:
            with bind(conversation=conversation, model=model):
                result = await original_handle(self, message)
                failed = False
                return result
        finally:
            total = time.perf_counter() - started
            _turn.reset(token)
            record_turn(turn, total, failed)
            if logger.isEnabledFor(turn_level):
                timings = {f"{stage}_ms": round(seconds * 1000, 1) for stage, seconds in turn.stages.items()}
                logger.log(
                    turn_level,
                    "turn %s: intent %s (%.2f), %s, %.1f ms",
                    conversation,
                    turn.intent,
                    turn.confidence or 0.0,
                    " ".join(f"{key} {value}" for key, value in timings.items()),
                    total * 1000,
                    extra={
                        "conversation": conversation,
                        "model": model,
                        "intent": turn.intent,
                        "confidence": turn.confidence,
                        "total_ms": round(total * 1000, 1),
                        "fallback": turn.fallback,
                        "failed": failed,
                        **timings,
                    },
                )

    async def parse_message(self: Any, message: Any, tracker: Any = None, only_output_properties: bool = True) -> Any:
        started = time.perf_counter()
        parse_data = await original_parse(self, message, tracker, only_output_properties)
        turn = _turn.get()
        if turn is not None:
            turn.add("nlu", time.perf_counter() - started)
            record_parse(parse_data, self.domain.intents)
        return parse_data

    def predict_next_with_tracker_if_should(self: Any, tracker: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_predict(self, tracker)
        finally:
            turn = _turn.get()
            if turn is not None:
                turn.add("policy", time.perf_counter() - started)

    async def run_action(self: Any, action: Any, tracker: Any, output_channel: Any, nlg: Any, prediction: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original_run_action(self, action, tracker, output_channel, nlg, prediction)
        finally:
            turn = _turn.get()
            if turn is not None:
                turn.add("action", time.perf_counter() - started)
                if action.name() in FALLBACK_ACTIONS:
                    turn.fallback = True

    async def run_action_extract_slots(self: Any, output_channel: Any, tracker: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original_extract(self, output_channel, tracker)
        finally:
            turn = _turn.get()
            if turn is not None:
                turn.add("action", time.perf_counter() - started)

    MessageProcessor.handle_message = handle_message
    MessageProcessor.parse_message = parse_message
    MessageProcessor.predict_next_with_tracker_if_should = predict_next_with_tracker_if_should
    MessageProcessor._run_action = run_action
    MessageProcessor.run_action_extract_slots = run_action_extract_slots
    _installed = True
    return True


__all__ = [
    "FALLBACK_ACTIONS",
    "FALLBACK_INTENTS",
    "TurnTimes",
    "install",
    "record_parse",
    "record_turn",
    "forget_models",
    "served_model",
]
