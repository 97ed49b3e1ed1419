"""Routing benchmark: does the bot start the right flow for what real shoppers ask first?

Every message of the Bitext customer-service *validation* split (810 messages, 27 request types;
the bot trains on the training split only) is sent to the running assistant as the first message
of a new conversation. The bot's first action of that turn (or ``policy:<passage>`` when it answered
with a policy passage) is compared with the reviewed expectation of ``bot/bitext_intents.yml``; a
turn that sets an order-changing task (cancel, new address, return, problem report) for a request
that is not about changing an order counts as a *wrong order flow*. Prints the share of correct
first actions per request type and overall, and the wrong order flows (targets: >= 95 %, 0).

    shop bench routing [--model var/models/<model>.tar.gz] [--concurrency 4] [--limit N]

The servers run on a copy of the shop (``--var`` to reuse one), so nothing of ``var/`` changes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import aiohttp
import yaml

from assistant.launcher import AssistantProcesses, latest_model
from core.settings import PROJECT_ROOT, get_settings
from learning.evaluate import bitext_validation
from perf.shop_copy import launch_on_a_copy

MAPPING = PROJECT_ROOT / "bot" / "bitext_intents.yml"
SKIPPED_ACTIONS = frozenset(
    {
        "action_listen",
        "action_session_start",
        "action_extract_slots",
        "action_validate_slot_mappings",
        "action_unlikely_intent",
    }
)


@dataclass
class Expectations:
    expect: Dict[str, str]  # Bitext intent -> expected first action, or "policy:<key>"
    intent: Dict[str, str]  # Bitext intent -> this bot's intent
    changes_order: Dict[str, bool]
    order_tasks: frozenset
    order_actions: frozenset

    @classmethod
    def load(cls, path: Path = MAPPING) -> "Expectations":
        data = yaml.safe_load(path.read_text())
        intents = data["intents"]
        return cls(
            {k: v["expect"] for k, v in intents.items()},
            {k: v["intent"] for k, v in intents.items()},
            {k: bool(v.get("changes_order")) for k, v in intents.items()},
            frozenset(data["order_changing_tasks"]),
            frozenset(data["order_changing_actions"]),
        )


@dataclass
class Outcome:
    request: str  # the Bitext intent
    text: str
    first: str  # what the bot did first: an action name, or policy:<key>
    order_flow: bool  # the turn started a flow that changes an order
    correct: bool = False


@dataclass
class Report:
    outcomes: List[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def by_request(self) -> Dict[str, Tuple[int, int, int]]:
        """request type -> (correct, total, wrong order flows)."""
        table: Dict[str, List[int]] = defaultdict(lambda: [0, 0, 0])
        for o in self.outcomes:
            row = table[o.request]
            row[0] += o.correct
            row[1] += 1
            row[2] += o.order_flow
        return {k: (v[0], v[1], v[2]) for k, v in table.items()}


def first_action(events: Sequence[Tuple[str, Optional[str], Dict]]) -> Tuple[str, Dict[str, object]]:
    """(first action of the turn, the slots it set) from the events that follow the user message:
    ``(type_name, action_name, data)`` rows of the tracker store."""
    first = ""
    slots: Dict[str, object] = {}
    for kind, action, data in events:
        if kind == "slot":
            slots[data["name"]] = data.get("value")  # a slot event always names its slot
        elif kind == "action" and action not in SKIPPED_ACTIONS and not first:
            first = action or ""
        elif kind == "active_loop" and not first and data.get("name"):
            first = data["name"]
    return first, slots


def judge(request: str, first: str, slots: Dict[str, object], expectations: Expectations) -> Outcome:
    """An angry message is handled right when the bot apologises first and holds the right request
    (it comes back to it when the shopper declines a person: actions/pending.py)."""
    shown = first
    if first == "action_answer_policy" and slots.get("policy_topic"):
        shown = f"policy:{slots['policy_topic']}"
    order_flow = slots.get("order_task") in expectations.order_tasks or first in expectations.order_actions
    order_flow = order_flow and not expectations.changes_order[request]
    correct = shown == expectations.expect[request]
    pending = slots.get("pending_request")
    if first == "utter_frustration" and isinstance(pending, dict):
        correct = pending.get("intent") == expectations.intent[request]
        shown = f"utter_frustration (then {pending.get('intent')})"
    return Outcome(request, "", shown, order_flow, correct)


def turn_events(tracker_db: Path, sender: str) -> List[Tuple[str, Optional[str], Dict]]:
    """The events after the first user message of ``sender`` (one turn)."""
    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute(
            "SELECT type_name, action_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    after_user, seen_user = [], False
    for kind, action, data in rows:
        if kind == "user":
            if seen_user:
                break
            seen_user = True
            continue
        if seen_user:
            after_user.append((kind, action, json.loads(data)))
    return after_user


async def send_all(url: str, messages: List[Tuple[str, str]], concurrency: int) -> List[str]:
    """Send each message as the first of a new conversation over Rasa's REST channel; the senders."""
    semaphore = asyncio.Semaphore(concurrency)
    senders = [f"routing-{uuid.uuid4().hex[:12]}" for _ in messages]

    async def one(session: aiohttp.ClientSession, sender: str, text: str) -> None:
        async with semaphore:
            async with session.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                timeout=aiohttp.ClientTimeout(total=60),
            ) as reply:
                await reply.read()

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(session, s, text) for s, (_, text) in zip(senders, messages)))
    return senders


def validation_messages(limit: Optional[int] = None) -> List[Tuple[str, str]]:
    return [(bitext_intent, text) for bitext_intent, text, _ in bitext_validation(limit)]


def run(url: str, tracker_db: Path, concurrency: int = 4, limit: Optional[int] = None) -> Report:
    expectations = Expectations.load()
    messages = validation_messages(limit)
    started = time.perf_counter()
    senders = asyncio.run(send_all(url, messages, concurrency))
    report = Report(seconds=time.perf_counter() - started)
    for sender, (request, text) in zip(senders, messages):
        first, slots = first_action(turn_events(tracker_db, sender))
        outcome = judge(request, first, slots, expectations)
        outcome.text = text
        report.outcomes.append(outcome)
    return report


def format_report(report: Report) -> str:
    rows = report.by_request()
    correct = sum(v[0] for v in rows.values())
    total = sum(v[1] for v in rows.values())
    wrong_flows = sum(v[2] for v in rows.values())
    lines = [f"{'request type':28s} {'correct':>8s} {'of':>4s} {'share':>7s} {'wrong order flow':>17s}"]
    for request, (ok, n, flows) in sorted(rows.items()):
        lines.append(f"{request:28s} {ok:8d} {n:4d} {100 * ok / n:6.1f}% {flows:17d}")
    lines.append(f"{'all':28s} {correct:8d} {total:4d} {100 * correct / max(total, 1):6.1f}% {wrong_flows:17d}")
    misses = Counter((o.request, o.first) for o in report.outcomes if not o.correct)
    if misses:
        lines.append("most frequent misses (request type -> what the bot did):")
        lines += [f"  {request} -> {first or '(nothing)'}: {n}" for (request, first), n in misses.most_common(12)]
    lines.append(f"{total} messages in {report.seconds:.0f} s")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="shop bench routing", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model archive (default: newest in var/models)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--limit", type=int, help="only the first N validation messages")
    parser.add_argument("--port", type=int, default=5105)
    parser.add_argument("--json", type=Path, help="also write every outcome here")
    args = parser.parse_args(argv)
    settings = get_settings()
    model = args.model or latest_model(settings.var_dir / "models")
    config = launch_on_a_copy(settings, model, args.port, "routing-")
    with AssistantProcesses(config):
        report = run(config.rasa_url, config.tracker_db, args.concurrency, args.limit)
    print(f"model {model.name}; Bitext validation split, each message as a first turn")
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps([o.__dict__ for o in report.outcomes], indent=1))
    return 0


__all__ = ["Expectations", "Report", "format_report", "judge", "main", "run"]
