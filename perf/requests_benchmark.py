"""How the intent component reads long and two-request messages (``nlu_models/requests.py``).

Reads ``perf/data/requests_dev.yml`` with a trained model's NLU (Rasa's own ``Agent.parse_message``,
the whole pipeline) and prints, in one run, against the same messages read whole (the baseline):

* long messages: the request's intent read right;
* two-request messages: both requests found;
* one-request messages (long or short) read as two: the cost of splitting.

This data set chooses the splitting rules; it is never the one reported for accuracy.

    shop bench requests [--model var/models/<model>.tar.gz]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from assistant.launcher import latest_model
from core.settings import PROJECT_ROOT, get_settings

DEV_SET = PROJECT_ROOT / "perf" / "data" / "requests_dev.yml"


async def _parse_all(model: Path, texts: List[str]) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Each text's parse by the whole pipeline, and the classifier's reading of the whole text (the baseline)."""
    from rasa.core.agent import load_agent

    from nlu_models.bert_intent_classifier import BertIntentClassifier

    agent = await load_agent(model_path=str(model))
    parses = [await agent.parse_message(text) for text in texts]
    nodes = agent.processor.graph_runner._instantiated_nodes.values()  # Rasa keeps no public handle on components
    classifier = next(n._component for n in nodes if isinstance(n._component, BertIntentClassifier))
    if classifier.model is None:
        raise SystemExit(f"{model}: its intent classifier has no trained model")
    whole = [p.ranking[0][0] if p else "" for p in classifier.model.predict(texts)]
    return parses, whole


def _intent(parse: Dict[str, Any]) -> str:
    return str((parse.get("intent") or {}).get("name"))


def run(model: Path) -> str:
    data = yaml.safe_load(DEV_SET.read_text())
    long, two, one = data["long"], data["two_part"], data["one_request"]
    texts = [m["text"] for m in long + two + one]
    started = time.perf_counter()
    parses, whole_readings = asyncio.run(_parse_all(model, texts))
    seconds = time.perf_counter() - started
    parsed = dict(zip(texts, parses))
    whole = dict(zip(texts, whole_readings))

    long_right = sum(_intent(parsed[m["text"]]) == m["intent"] for m in long)
    long_whole = sum(whole[m["text"]] == m["intent"] for m in long)
    both_found = 0
    missed: List[str] = []
    for m in two:
        found = [r["intent"] for r in parsed[m["text"]].get("requests") or []]
        if sorted(found) == sorted(m["intents"]):
            both_found += 1
        else:
            missed.append(f"  {m['text'][:90]!r}: {found or _intent(parsed[m['text']])} (want {m['intents']})")
    split_wrongly = [m["text"] for m in long + one if parsed[m["text"]].get("requests")]  # each holds one request
    one_right = sum(_intent(parsed[m["text"]]) == m["intent"] for m in one)
    one_whole = sum(whole[m["text"]] == m["intent"] for m in one)
    lines = [
        f"requests dev set ({DEV_SET.relative_to(PROJECT_ROOT)}), model {model.name}, "
        f"{len(texts)} messages in {seconds:.1f} s",
        "                                     read by parts   read whole (baseline)",
        f"long messages read right:           {long_right:>4}/{len(long)}        {long_whole:>4}/{len(long)}",
        f"two-request messages, both found:   {both_found:>4}/{len(two)}            0/{len(two)}",
        f"one-request messages read as two:   {len(split_wrongly):>4}/{len(long) + len(one)}        0/{len(long) + len(one)}",
        f"short one-request messages right:   {one_right:>4}/{len(one)}         {one_whole:>4}/{len(one)}",
        "two-request messages missed:",
        *missed,
        "one-request messages read as two:",
        *(f"  {text[:110]!r}" for text in split_wrongly),
    ]
    return "\n".join(lines)


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a trained model archive (default: the newest in var/models)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    model = args.model or latest_model(get_settings().var_dir / "models")
    print(run(model.resolve()))


if __name__ == "__main__":
    main()
