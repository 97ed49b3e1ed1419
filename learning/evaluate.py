"""Evaluating a trained model on held-out data, and the promotion gate between two models.

:func:`evaluate` loads a model archive with Rasa's own ``Agent`` and reads every example of the
held-out sets with it: the NLU test set (``tests/nlu/test_nlu.yml``), shoppers' own words
(``tests/nlu/shoppers.yml``), the Bitext customer-service validation split routed to this bot's
intents (``bot/bitext_intents.yml``; when the data sets are present), and the reviewed examples
(``bot/data/nlu/reviewed.yml``, which the candidate was trained on: it must answer them right).
It also replays the test stories (``tests/stories``) and counts those whose every action the model
predicts. :func:`gate` compares a candidate with the model in service on the same sets: no set may
be worse by more than ``SHOP_PROMOTION_MARGIN`` beyond chance (a paired test on the same examples,
``SHOP_PROMOTION_SIGNIFICANCE``), and the reviewed examples must be answered right at
``SHOP_PROMOTION_REVIEWED_MIN`` at least.
"""

from __future__ import annotations

import asyncio
import csv
import math
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
BITEXT = "bitext"
STORIES = "stories"
STORIES_DIR = PROJECT_ROOT / "tests" / "stories"
BITEXT_MAPPING = PROJECT_ROOT / "bot" / "bitext_intents.yml"


def examples(path: Path, limit: Optional[int] = None) -> List[Tuple[str, str]]:
    """(text, intent) of a Rasa NLU file, entities unmarked."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    found = [(m.get("text"), m.get("intent")) for m in RasaYAMLReader().read(str(path)).intent_examples]
    return found[:limit] if limit else found


def bitext_validation(limit: Optional[int] = None) -> List[Tuple[str, str, str]]:
    """(Bitext intent, message, this bot's intent) of the Bitext validation split (the bot trains on
    the training split only); empty when the data sets are not on this machine."""
    import yaml

    path = get_settings().datasets_dir / "bitext-cs-intents" / "validation.csv"
    if not path.is_file():
        return []
    mapping = {name: entry["intent"] for name, entry in yaml.safe_load(BITEXT_MAPPING.read_text())["intents"].items()}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [
            (r["intent"], " ".join(r["utterance"].split()), mapping[r["intent"]])
            for r in csv.DictReader(handle)
            if r["intent"] in mapping
        ]
    return rows[:limit] if limit else rows


def evaluation_sets(limit: Optional[int] = None) -> Dict[str, List[Tuple[str, str]]]:
    sets = {name: examples(path, limit) for name, path in HELD_OUT.items() if path.is_file()}
    bitext = [(text, intent) for _, text, intent in bitext_validation(limit)]
    if bitext:
        sets[BITEXT] = bitext
    if REVIEWED_FILE.is_file():
        sets[REVIEWED] = examples(REVIEWED_FILE, limit)
    return sets


async def _story_results(agent: Any, stories: Path, limit: Optional[int] = None) -> Dict[str, Any]:
    """Test stories whose every action the model predicts (Rasa's own story evaluation)."""
    from rasa.core.test import _collect_story_predictions, _create_data_generator

    trackers = _create_data_generator(str(stories), agent, limit, False).generate_story_trackers()
    evaluation, _, _ = await _collect_story_predictions(trackers, agent)
    failed = [story.sender_id for story in evaluation.failed_stories]
    total = len(failed) + len(evaluation.successful_stories)
    return {
        "accuracy": round(1 - len(failed) / total, 4) if total else None,
        "examples": total,
        "wrong": [{"story": name} for name in failed[:20]],
        "missed": failed,
    }


def evaluate(
    model: Path,
    sets: Dict[str, List[Tuple[str, str]]],
    stories: Optional[Path] = STORIES_DIR,
    max_stories: Optional[int] = None,
) -> Dict[str, Dict[str, Any]]:
    """Intent accuracy of ``model`` on each set, and the share of test stories it passes:
    ``{set: {"accuracy", "examples", "wrong": [...]}}``."""
    offline_models()
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def read_all() -> Dict[str, Dict[str, Any]]:
        results: Dict[str, Dict[str, Any]] = {}
        for name, pairs in sets.items():
            wrong = []
            for index, (text, intent) in enumerate(pairs):
                parsed = await agent.parse_message(text)
                predicted = (parsed.get("intent") or {}).get("name")
                if predicted != intent:
                    wrong.append({"index": index, "text": text, "intent": intent, "predicted": predicted})
            results[name] = {
                "accuracy": round(1 - len(wrong) / len(pairs), 4) if pairs else None,
                "examples": len(pairs),
                "wrong": wrong[:20],
                "missed": [w["index"] for w in wrong],  # which examples: the gate pairs the two models' answers
            }
        if stories is not None and stories.exists():
            results[STORIES] = await _story_results(agent, stories, max_stories)
        return results

    return asyncio.run(read_all())


@dataclass
class GateDecision:
    passed: bool
    reasons: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)  # drops within noise, let through


def paired_p_value(candidate_missed: Any, serving_missed: Any) -> float:
    """Two-sided exact McNemar test on the same examples: of those exactly one model got wrong, is
    the split further from even than chance? (a few lines of binomial sums: no statistics package)"""
    ours, theirs = set(candidate_missed), set(serving_missed)
    only_ours, only_theirs = len(ours - theirs), len(theirs - ours)
    n, k = only_ours + only_theirs, min(only_ours, only_theirs)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def gate(
    candidate: Dict[str, Dict[str, Any]],
    serving: Dict[str, Dict[str, Any]],
    margin: Optional[float] = None,
    reviewed_min: Optional[float] = None,
    significance: Optional[float] = None,
) -> GateDecision:
    """Whether the candidate may replace the model in service, and why (every failed rule is named).

    A set refuses the candidate when it is worse there by more than ``margin`` and the paired test
    (:func:`paired_p_value`) says the drop is not chance (p < ``significance``): on the 161 examples
    of the NLU test set one example is 0.6 points, and two trainings on the same data differ by more
    than that. Sets evaluated without the per-example answers are judged on the margin alone.
    """
    settings = get_settings()
    margin = settings.promotion_margin if margin is None else margin
    reviewed_min = settings.promotion_reviewed_min if reviewed_min is None else reviewed_min
    significance = settings.promotion_significance if significance is None else significance
    reasons, notes = [], []
    for name, result in serving.items():
        if name == REVIEWED or result.get("accuracy") is None:
            continue
        theirs, ours_result = result["accuracy"], candidate.get(name) or {}
        ours = ours_result.get("accuracy")
        if ours is None:
            reasons.append(f"{name}: the candidate was not evaluated on it")
            continue
        if ours >= theirs - margin:
            continue
        drop = f"{name}: {ours:.3f} against {theirs:.3f} in service (more than {margin:.3f} worse"
        if "missed" in ours_result and "missed" in result:
            p = paired_p_value(ours_result["missed"], result["missed"])
            if p >= significance:
                notes.append(f"{drop}, but within noise: p = {p:.3f})")
                continue
            drop += f", p = {p:.3f}"
        reasons.append(drop + ")")
    reviewed = (candidate.get(REVIEWED) or {}).get("accuracy")
    if reviewed is not None and reviewed < reviewed_min:
        reasons.append(f"{REVIEWED}: {reviewed:.3f} of the reviewed examples right, below {reviewed_min:.3f}")
    return GateDecision(passed=not reasons, reasons=reasons, notes=notes)


__all__ = [
    "GateDecision",
    "HELD_OUT",
    "bitext_validation",
    "paired_p_value",
    "evaluate",
    "evaluation_sets",
    "examples",
    "gate",
]
