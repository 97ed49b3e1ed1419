"""Evaluating a trained model on held-out messages, and the promotion gate between two models.

:func:`evaluate` loads a model archive with Rasa's own ``Agent`` and reads every example of the
held-out sets with it: the NLU test set (``tests/nlu/test_nlu.yml``), shoppers' own words
(``tests/nlu/shoppers.yml``), and the reviewed examples (``bot/data/nlu/reviewed.yml``, which the
candidate was trained on: it must answer them right). :func:`gate` compares a candidate with the
model in service on the same sets: no set may be worse by more than ``SHOP_PROMOTION_MARGIN``, and
the reviewed examples must be answered right at ``SHOP_PROMOTION_REVIEWED_MIN`` at least.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from core.settings import PROJECT_ROOT, get_settings, offline_models
from learning.export import REVIEWED_FILE

HELD_OUT: Dict[str, Path] = {
    "nlu_test": PROJECT_ROOT / "tests" / "nlu" / "test_nlu.yml",
    "shoppers": PROJECT_ROOT / "tests" / "nlu" / "shoppers.yml",
}
REVIEWED = "reviewed"


def examples(path: Path, limit: Optional[int] = None) -> List[Tuple[str, str]]:
    """(text, intent) of a Rasa NLU file, entities unmarked."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    found = [(m.get("text"), m.get("intent")) for m in RasaYAMLReader().read(str(path)).intent_examples]
    return found[:limit] if limit else found


def evaluation_sets(limit: Optional[int] = None) -> Dict[str, List[Tuple[str, str]]]:
    sets = {name: examples(path, limit) for name, path in HELD_OUT.items() if path.is_file()}
    if REVIEWED_FILE.is_file():
        sets[REVIEWED] = examples(REVIEWED_FILE, limit)
    return sets


def evaluate(model: Path, sets: Dict[str, List[Tuple[str, str]]]) -> Dict[str, Dict[str, Any]]:
    """Intent accuracy of ``model`` on each set: ``{set: {"accuracy", "examples", "wrong": [...]}}``."""
    offline_models()
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def read_all() -> Dict[str, Dict[str, Any]]:
        results: Dict[str, Dict[str, Any]] = {}
        for name, pairs in sets.items():
            wrong = []
            for text, intent in pairs:
                parsed = await agent.parse_message(text)
                predicted = (parsed.get("intent") or {}).get("name")
                if predicted != intent:
                    wrong.append({"text": text, "intent": intent, "predicted": predicted})
            results[name] = {
                "accuracy": round(1 - len(wrong) / len(pairs), 4) if pairs else None,
                "examples": len(pairs),
                "wrong": wrong[:20],
            }
        return results

    return asyncio.run(read_all())


@dataclass
class GateDecision:
    passed: bool
    reasons: List[str] = field(default_factory=list)


def gate(
    candidate: Dict[str, Dict[str, Any]],
    serving: Dict[str, Dict[str, Any]],
    margin: Optional[float] = None,
    reviewed_min: Optional[float] = None,
) -> GateDecision:
    """Whether the candidate may replace the model in service, and why (every failed rule is named)."""
    settings = get_settings()
    margin = settings.promotion_margin if margin is None else margin
    reviewed_min = settings.promotion_reviewed_min if reviewed_min is None else reviewed_min
    reasons = []
    for name, result in serving.items():
        if name == REVIEWED or result.get("accuracy") is None:
            continue
        theirs, ours = result["accuracy"], (candidate.get(name) or {}).get("accuracy")
        if ours is None:
            reasons.append(f"{name}: the candidate was not evaluated on it")
        elif ours < theirs - margin:
            reasons.append(f"{name}: {ours:.3f} against {theirs:.3f} in service (more than {margin:.3f} worse)")
    reviewed = (candidate.get(REVIEWED) or {}).get("accuracy")
    if reviewed is not None and reviewed < reviewed_min:
        reasons.append(f"{REVIEWED}: {reviewed:.3f} of the reviewed examples right, below {reviewed_min:.3f}")
    return GateDecision(passed=not reasons, reasons=reasons)


__all__ = ["GateDecision", "HELD_OUT", "evaluate", "evaluation_sets", "examples", "gate"]
