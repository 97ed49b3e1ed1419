"""Event-to-profile latency: how long after Rasa publishes an event the profile shows it.

``python -m insights latency [--events 200]`` (or ``python -m perf.event_latency``)

Runs the real thing in a scratch folder: the consumer as its own process
(``python -m insights consume`` reading ``bot/endpoints.yml``), Rasa's
``SQLEventBroker`` publishing user turns one at a time at random gaps, and an
observer that polls the shop database until the profile holds the event.
Then a burst (all events at once) for throughput. Prints percentiles.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

from sqlalchemy import select

from perf.stats import percentile


def _visible(sessions, sender: str, timestamp: float) -> bool:
    from shopdb.models import ProfileScope, ShopperProfile

    with sessions() as session:
        data = session.execute(
            select(ShopperProfile.data).where(
                ShopperProfile.scope == ProfileScope.SESSION, ShopperProfile.subject == sender
            )
        ).scalar_one_or_none()
    if data is None:
        return False
    if isinstance(data, str):
        data = json.loads(data)
    return (data.get("last_ts") or 0) >= timestamp


def _user_event(sender: str, i: int) -> dict:
    from rasa.shared.core.events import UserUttered

    event = UserUttered(
        f"show me red running shoes #{i}",
        intent={"name": "search_products", "confidence": 0.9},
        entities=[{"entity": "colour", "value": "red"}],
    )
    event.timestamp = time.time()
    return {"sender_id": sender, **event.as_dict()}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--poll", type=float, default=0.1, help="consumer polling interval (s)")
    args = parser.parse_args(argv)
    if args.events < 1 or args.burst < 1:  # the report needs at least one single event and one burst event
        parser.error("--events and --burst must be at least 1")

    from insights.db import migrate_shop_db
    from insights.stream import sql_broker
    from shopdb.db import create_db_engine, session_factory

    with tempfile.TemporaryDirectory(prefix="insights-latency-") as tmp:
        var = Path(tmp)
        url = f"sqlite:///{var / 'shop.db'}"
        migrate_shop_db(url)
        sessions = session_factory(create_db_engine(url))
        broker = sql_broker(str(var / "events.db"))
        env = dict(os.environ, SHOP_VAR_DIR=str(var), SHOP_EVENTS_DB=str(var / "events.db"), PYTHONUNBUFFERED="1")
        env.pop("SHOP_DATABASE_URL", None)
        log = open(var / "consumer.log", "w+")
        consumer = subprocess.Popen(
            [sys.executable, "-m", "insights", "consume", "--poll", str(args.poll)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            # Warm up: the consumer is up once a first event shows.
            first = _user_event("warm-up", 0)
            broker.publish(first)
            deadline = time.time() + 120
            while not _visible(sessions, "warm-up", first["timestamp"]):
                if consumer.poll() is not None or time.time() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the consumer did not start: {log.read()[-2000:]}")
                time.sleep(0.05)

            rng = random.Random(1)
            latencies = []
            for i in range(args.events):
                time.sleep(rng.uniform(0, 0.05))
                sender = f"lat-{i % 20}"
                event = _user_event(sender, i)
                broker.publish(event)
                while not _visible(sessions, sender, event["timestamp"]):
                    time.sleep(0.002)
                latencies.append(time.time() - event["timestamp"])

            burst_start = time.time()
            last = None
            for i in range(args.burst):
                last = _user_event(f"burst-{i % 50}", i)
                broker.publish(last)
            published = time.time() - burst_start
            assert last is not None  # --burst is at least 1
            while not _visible(sessions, last["sender_id"], last["timestamp"]):
                time.sleep(0.005)
            burst_total = time.time() - burst_start
        finally:
            consumer.terminate()
            try:
                consumer.wait(timeout=20)
            except subprocess.TimeoutExpired:
                consumer.kill()
            log.close()

    ms = [1000 * x for x in latencies]
    print(
        f"event -> profile latency over {len(ms)} single events (SQL broker, consumer polling every {args.poll:.2f} s):"
    )
    print(
        f"  mean {statistics.mean(ms):.0f} ms, p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
        f"p99 {percentile(ms, 99):.0f} ms, max {max(ms):.0f} ms; within 1 s: {sum(x <= 1000 for x in ms)}/{len(ms)}"
    )
    print(
        f"burst of {args.burst} events: Rasa's SQL broker published them in {published:.2f} s (one commit each); "
        f"the last was in its profile {1000 * (burst_total - published):.0f} ms after it was published"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
