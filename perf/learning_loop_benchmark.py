"""The learning loop, simulated end to end: does reviewing real shoppers' words make a better model,
and does the gate keep a worse one out?

The shop bot starts trained without the Bitext-derived training data (``bot/data/nlu/bitext.yml``):
what a shop has before real shoppers arrive, its own examples only. Traffic is the Bitext
customer-service *validation* split routed to this bot's intents (``bot/bitext_intents.yml``), cut
by a stable hash into a stream of shoppers' first messages and a held-out third the loop never
sees. Each round:

1. the serving model reads the round's messages; they are saved as conversations in Rasa's own SQL
   tracker store, and ``learning.collect`` queues the low-confidence and fallback ones;
2. a simulated reviewer decides ``--budget`` queued messages with their true intents (the console's
   rules: ``learning.review.decide``);
3. ``learning.export`` writes the reviewed examples beside the bot's data, and a candidate is
   trained with ``rasa train nlu`` (the quick test configuration unless ``--config``);
4. candidate and serving model read the held-out sets (``learning.evaluate``); the promotion gate
   decides; a passed candidate is promoted in the model registry.

Printed per round: routing accuracy on the held-out third, the queue, the gate's decision. Then the
first model is offered back as a candidate against the last one served: the gate must refuse it.
Last, ``--swap`` measures a promotion in a running assistant under the load test (see
``perf.model_swap``): failed turns and turn latency during the swap.

    shop bench learning [--rounds 3] [--per-round 180] [--budget 60] [--swap]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from core.settings import PROJECT_ROOT
from learning import registry
from learning.collect import TrackerEvents, collect, queue_counts
from learning.commands import quiet_rasa
from learning.evaluate import HELD_OUT, bitext_validation, evaluate, examples, gate
from learning.export import export
from learning.review import Vocabulary, decide, pending
from rasa_addons.bot_domain import bot_domain
from shopdb.db import create_db_engine, migrate, session_factory
from shopdb.models import ModelStatus

BOT = PROJECT_ROOT / "bot"
LEFT_OUT = "bitext.yml"  # the bot's Bitext-derived examples: what real traffic will teach it instead
REVIEWER = "simulated-reviewer"
ROUTING = "routing"


@dataclass
class Round:
    number: int
    messages: int
    queued: int
    reviewed_total: int
    pending: int
    accuracy: float
    serving_accuracy: float
    passed: bool
    reasons: List[str]
    promoted: Optional[int]
    train_seconds: float


def split_traffic(seed: str = "loop") -> Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]:
    """(stream, held-out): every third message by a stable hash stays out of the loop."""
    stream: List[Tuple[str, str]] = []
    held_out: List[Tuple[str, str]] = []
    for _, text, intent in bitext_validation():
        digest = hashlib.blake2b(f"{seed}:{text}".encode(), digest_size=4).digest()
        (held_out if int.from_bytes(digest, "big") % 3 == 0 else stream).append((text, intent))
    return stream, held_out


def train_nlu(config: Path, nlu_dir: Path, out: Path, name: str) -> Path:
    rasa = str(Path(sys.executable).with_name("rasa"))
    command = [rasa, "train", "nlu", "--config", str(config), "--nlu", str(nlu_dir), "--out", str(out)]
    done = subprocess.run([*command, "--fixed-model-name", name], cwd=BOT, capture_output=True, text=True)
    archive = out / f"{name}.tar.gz"
    if done.returncode != 0 or not archive.is_file():
        raise RuntimeError(f"rasa train nlu failed: {(done.stderr or done.stdout)[-2000:]}")
    return archive


async def _read(model: Path, messages: List[Tuple[str, str]]) -> List[Dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text, _ in messages]


def save_conversations(tracker_url: str, start: int, parses: List[Dict]) -> List[str]:
    """Each message as the first turn of a conversation in Rasa's SQL tracker store; the senders."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(dialect="sqlite", db=tracker_url.removeprefix("sqlite:///"))
    senders = [f"shopper-{start + i}" for i in range(len(parses))]

    async def save() -> None:
        for sender, parse in zip(senders, parses):
            event = UserUttered(parse["text"], intent=parse.get("intent"), parse_data=parse)
            await store.save(DialogueStateTracker.from_events(sender, [SessionStarted(), event]))

    asyncio.run(save())
    return senders


def run(rounds: int, per_round: int, budget: int, config: Path, work: Path) -> Tuple[List[Round], Dict]:
    quiet_rasa()
    stream, held_out = split_traffic()
    truth: Dict[str, str] = {}
    nlu_dir = work / "nlu"
    shutil.copytree(BOT / "data" / "nlu", nlu_dir, ignore=shutil.ignore_patterns(LEFT_OUT, "reviewed.yml"))
    models = work / "models"
    shop_url, tracker_url = f"sqlite:///{work / 'shop.db'}", f"sqlite:///{work / 'tracker.db'}"
    migrate(shop_url, "heads")
    sessions = session_factory(create_db_engine(shop_url))
    vocabulary = Vocabulary.of_domain(bot_domain())
    sets = {ROUTING: held_out, **{name: examples(path) for name, path in HELD_OUT.items()}}

    started = time.perf_counter()
    first = train_nlu(config, nlu_dir, models, "round-0")
    baseline_seconds = time.perf_counter() - started
    with sessions.begin() as session:
        registry.adopt(session, first, by="benchmark")
    serving, serving_results = first, evaluate(first, sets, stories=None)
    print(
        f"round 0: trained without {LEFT_OUT} in {baseline_seconds:.0f} s; "
        f"routing {serving_results[ROUTING]['accuracy']:.3f} on {len(held_out)} held-out messages",
        flush=True,
    )
    results: List[Round] = []
    events = None
    for number in range(1, rounds + 1):
        batch = stream[(number - 1) * per_round : number * per_round]
        parses = asyncio.run(_read(serving, batch))
        senders = save_conversations(tracker_url, (number - 1) * per_round, parses)
        truth.update({sender: intent for sender, (_, intent) in zip(senders, batch)})
        events = events or TrackerEvents.from_url(tracker_url)
        collected = collect(sessions, events)
        with sessions.begin() as session:
            for item in pending(session, budget):
                right = truth[item.sender_id]
                action = "confirm" if item.predicted_intent == right else "relabel"
                decide(session, item.id, REVIEWER, action, vocabulary, intent=right)
            export(session, nlu_dir / "reviewed.yml", nlu_dir=nlu_dir)
        counts = queue_counts(sessions)
        started = time.perf_counter()
        candidate = train_nlu(config, nlu_dir, models, f"round-{number}")
        train_seconds = time.perf_counter() - started
        ours = evaluate(candidate, sets, stories=None)
        decision = gate(ours, serving_results)
        promoted = None
        with sessions.begin() as session:
            row = registry.register(
                session,
                candidate,
                by=REVIEWER,
                metrics=ours,
                gate={"passed": decision.passed, "reasons": decision.reasons, "notes": decision.notes},
            )
            if decision.passed:
                promoted = registry.promote(session, row.id, "benchmark").id
        results.append(
            Round(
                number=number,
                messages=len(batch),
                queued=collected.added,
                reviewed_total=sum(counts.get(s, 0) for s in ("confirmed", "relabelled")),
                pending=counts.get("pending", 0),
                accuracy=ours[ROUTING]["accuracy"],
                serving_accuracy=serving_results[ROUTING]["accuracy"],
                passed=decision.passed,
                reasons=decision.reasons,
                promoted=promoted,
                train_seconds=train_seconds,
            )
        )
        r = results[-1]
        print(
            f"round {number}: {r.messages} messages, {r.queued} queued, {r.reviewed_total} reviewed so far, "
            f"{r.pending} waiting; routing {r.accuracy:.3f} (serving {r.serving_accuracy:.3f}); "
            f"gate {'passed' if r.passed else 'refused: ' + '; '.join(r.reasons)}"
            f"{f', version {r.promoted} promoted' if r.promoted else ''} (trained in {r.train_seconds:.0f} s)",
            flush=True,
        )
        if decision.passed:
            serving, serving_results = candidate, ours
    # The gate against a deliberately worse candidate: the first model, offered back.
    worse = evaluate(first, sets, stories=None)
    refusal = gate(worse, serving_results)
    with sessions() as session:
        models_listed = registry.listing(session)
    return results, {
        "worse_candidate": {"passed": refusal.passed, "reasons": refusal.reasons},
        "registry": [(m["version"], m["status"]) for m in models_listed],
        "served": ModelStatus.SERVING,
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="shop bench learning", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=180, help="shoppers' messages per round")
    parser.add_argument("--budget", type=int, default=60, help="messages the reviewer decides per round")
    parser.add_argument("--config", type=Path, default=BOT / "config.test.yml")
    parser.add_argument("--swap", action="store_true", help="also measure a promotion under the load test")
    parser.add_argument("--model", type=Path, help="full model for --swap (default: newest in var/models)")
    args = parser.parse_args(argv)
    if not bitext_validation():
        print("shop bench learning: the Bitext validation split is not on this machine (SHOP_DATASETS_DIR)")
        return 2
    with tempfile.TemporaryDirectory(prefix="learning-loop-") as work:
        rounds, extra = run(args.rounds, args.per_round, args.budget, args.config, Path(work))
    print(json.dumps({"rounds": [r.__dict__ for r in rounds], **extra}, indent=1))
    first, last = (
        rounds[0].serving_accuracy,
        max([r.accuracy for r in rounds if r.passed] or [rounds[0].serving_accuracy]),
    )
    print(f"routing on held-out shoppers' messages: {first:.3f} before the loop, {last:.3f} after {len(rounds)} rounds")
    print(
        f"the gate on the first model offered back: {'refused' if not extra['worse_candidate']['passed'] else 'PASSED (wrong)'}"
    )
    if args.swap:
        from perf.model_swap import main as swap

        return swap(["--model", str(args.model)] if args.model else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
