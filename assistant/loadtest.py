"""Load test: many concurrent simulated shoppers holding multi-turn conversations.

Runs as its own process against a running assistant (``make start`` or the
scale-out stack) over the real REST channel on loopback, bounded in time and
in turns. It prints turn latency percentiles, throughput and errors, and
where the time went (NLU, policy prediction, actions), read back from the
tracker store's event timestamps after the run:

- NLU: request sent -> the ``user`` event (parsing, plus waiting for the lock);
- policy: the gap between consecutive ``user``/``action`` events before a response
  action (``utter_*``, ``action_listen``), which is prediction alone;
- actions: the same gap before each custom action's event, minus the mean policy gap.

Usage::

    python -m assistant.loadtest --url http://127.0.0.1:5005 --shoppers 20 --duration 60 \
        --tracker-db var/tracker.db
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import aiohttp

# Each conversation is one of these scripts, with {placeholders} filled per shopper.
CONVERSATIONS: Sequence[Sequence[str]] = (
    ("hi", "I'm looking for {product}", "show me cheaper ones", "thanks, bye"),
    ("hello", "do you have {product} under {price}?", "what goes well with the first one?", "bye"),
    ("hey", "where is my order?", "{order_number}", "{email}", "thank you"),
    ("hi there", "how long does shipping take?", "and what is your return policy?", "great, bye"),
    ("good morning", "{product} in {colour}", "something similar but cheaper", "ok thanks"),
)
PRODUCTS = ("running shoes", "a winter jacket", "wireless headphones", "a coffee grinder", "a yoga mat",
            "a leather wallet", "a desk lamp", "hiking boots", "a backpack", "a face cream")
COLOURS = ("red", "black", "blue", "green", "white")


@dataclass
class Turn:
    sender: str
    sent_at: float
    latency: float
    ok: bool


@dataclass
class LoadResult:
    turns: List[Turn] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    @property
    def errors(self) -> int:
        return sum(not t.ok for t in self.turns)

    def latencies_ms(self) -> List[float]:
        return sorted(t.latency * 1000 for t in self.turns if t.ok)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def fill(template: str, rng: random.Random, demo_order: Dict[str, str]) -> str:
    return template.format(
        product=rng.choice(PRODUCTS), price=rng.choice((30, 50, 80, 120)), colour=rng.choice(COLOURS),
        order_number=demo_order.get("order_number", "ORD-000000"), email=demo_order.get("email", "x@example.com"),
    )


async def shopper(
    session: aiohttp.ClientSession, url: str, rng: random.Random, deadline: float, budget: List[int],
    result: LoadResult, demo_order: Dict[str, str], timeout: float,
) -> None:
    """One simulated shopper: conversation after conversation until time or turns run out."""
    while time.monotonic() < deadline:
        sender = f"load-{uuid.uuid4().hex[:12]}"
        for template in rng.choice(CONVERSATIONS):
            if time.monotonic() >= deadline or budget[0] <= 0:
                return
            budget[0] -= 1
            sent_at = time.time()
            start = time.perf_counter()
            ok = False
            try:
                async with session.post(
                    f"{url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": fill(template, rng, demo_order)},
                    timeout=aiohttp.ClientTimeout(total=timeout),
                ) as response:
                    body = await response.json(content_type=None)
                    ok = response.status == 200 and isinstance(body, list) and len(body) > 0
            except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
                ok = False
            result.turns.append(Turn(sender, sent_at, time.perf_counter() - start, ok))
            await asyncio.sleep(rng.uniform(0, 0.05))  # a shopper does not type instantly


async def run_load(
    url: str, shoppers: int, duration: float, max_turns: int, seed: int = 7,
    demo_order: Optional[Dict[str, str]] = None, timeout: float = 30.0,
) -> LoadResult:
    result = LoadResult(started=time.time())
    deadline = time.monotonic() + duration
    budget = [max_turns]
    connector = aiohttp.TCPConnector(limit=shoppers)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(
            shopper(session, url.rstrip("/"), random.Random(seed + i), deadline, budget, result,
                    demo_order or {}, timeout)
            for i in range(shoppers)
        ))
    result.finished = time.time()
    return result


def time_breakdown(tracker_db: str, result: LoadResult) -> Dict[str, float]:
    """Mean milliseconds per turn in NLU, policy prediction and custom actions."""
    from sqlalchemy import create_engine, text

    sent = {}
    for turn in result.turns:
        sent.setdefault(turn.sender, []).append(turn.sent_at)
    nlu, policy, custom = [], [], []
    engine = create_engine(f"sqlite:///{tracker_db}" if "://" not in tracker_db else tracker_db)
    with engine.connect() as connection:
        for sender, sent_times in sent.items():
            rows = connection.execute(
                text("SELECT type_name, action_name, timestamp FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender},
            ).all()
            user_index = 0
            previous: Optional[float] = None
            for type_name, action_name, timestamp in rows:
                if type_name == "user":
                    if user_index < len(sent_times):
                        nlu.append(timestamp - sent_times[user_index])
                    user_index += 1
                elif type_name == "action" and previous is not None and action_name:
                    gap = timestamp - previous
                    if action_name.startswith("utter_") or action_name == "action_listen":
                        policy.append(gap)
                    elif action_name.startswith("action_") and not action_name.startswith("action_session"):
                        custom.append(gap)
                if type_name in ("user", "action"):  # bot/slot events come back inside an action's time
                    previous = timestamp
    mean_policy = statistics.mean(policy) if policy else 0.0
    turns = max(1, len(nlu))
    return {
        "nlu_ms_per_turn": 1000 * sum(nlu) / turns,
        "policy_ms_per_prediction": 1000 * mean_policy,
        "actions_ms_per_custom_action": 1000 * (statistics.mean(custom) - mean_policy) if custom else 0.0,
        "custom_actions": float(len(custom)),
    }


def report(result: LoadResult, shoppers: int, breakdown: Optional[Dict[str, float]] = None) -> str:
    latencies = result.latencies_ms()
    elapsed = max(1e-9, result.finished - result.started)
    lines = [
        f"shoppers            {shoppers}",
        f"turns               {len(result.turns)} ({result.errors} errors)",
        f"duration            {elapsed:.1f} s",
        f"throughput          {len(latencies) / elapsed:.1f} turns/s",
        f"latency p50         {percentile(latencies, 50):.1f} ms",
        f"latency p95         {percentile(latencies, 95):.1f} ms",
        f"latency p99         {percentile(latencies, 99):.1f} ms",
    ]
    if breakdown:
        lines += [
            f"NLU (+lock wait)    {breakdown['nlu_ms_per_turn']:.1f} ms per turn",
            f"policy prediction   {breakdown['policy_ms_per_prediction']:.1f} ms per prediction",
            f"custom actions      {breakdown['actions_ms_per_custom_action']:.1f} ms per action "
            f"({int(breakdown['custom_actions'])} actions)",
        ]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Load test the running assistant over its REST channel.")
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--shoppers", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (bounded)")
    parser.add_argument("--max-turns", type=int, default=20000, help="stop after this many turns")
    parser.add_argument("--tracker-db", help="tracker store (SQLite path or URL) for the time breakdown")
    parser.add_argument("--order-number", default="", help="a demo order number for the order-status script")
    parser.add_argument("--email", default="", help="the e-mail on that order")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    result = asyncio.run(run_load(
        args.url, args.shoppers, min(args.duration, 600.0), args.max_turns, args.seed,
        {"order_number": args.order_number, "email": args.email} if args.order_number else None,
    ))
    breakdown = time_breakdown(args.tracker_db, result) if args.tracker_db else None
    print(report(result, args.shoppers, breakdown))
    return 0 if result.turns and result.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
