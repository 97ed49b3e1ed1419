"""A model promoted while shoppers talk: failed turns and turn latency around the swap.

The assistant runs on a copy of the shop (``perf.shop_copy``) with the model registry polled every
second. The load test (``perf.loadtest``: 20 shoppers pausing 0.4 s by default) runs for
``--duration`` seconds; at a third of it a new model version (the same archive under a new Rasa
model id, what a retraining run gives) is registered and promoted. Printed: failed turns in the
whole run and in the swap's window (promotion until the first turn the new model answered, plus
five seconds), and p50/p95 of turns before the promotion against turns in the window: the baseline
and the swap measured in the same run.

    shop bench swap [--model var/models/<model>.tar.gz] [--shoppers 20] [--duration 45]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sqlite3
import statistics
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import List, Optional

from assistant.launcher import AssistantProcesses, latest_model
from core.settings import get_settings
from learning import registry
from perf.loadtest import LoadResult, run_load
from perf.shop_copy import launch_on_a_copy
from shopdb.db import create_db_engine, session_factory

SETTLE_SECONDS = 5.0


def relabelled_copy(model: Path, out: Path) -> Path:
    """``model`` under a new Rasa model id: another version of the same weights."""
    with tarfile.open(model) as source, tarfile.open(out, "w:gz", compresslevel=1) as target:
        for member in source.getmembers():
            data = source.extractfile(member) if member.isfile() else None
            if data is not None and Path(member.name).name == "metadata.json":
                metadata = json.loads(data.read())
                metadata["model_id"] = uuid.uuid4().hex
                blob = json.dumps(metadata).encode()
                member.size = len(blob)
                data = io.BytesIO(blob)
            target.addfile(member, data)
    return out


def first_answer_by(tracker_db: Path, model_id: str) -> Optional[float]:
    """When the first message the model read arrived (epoch seconds), from the tracker store."""
    with sqlite3.connect(tracker_db) as connection:
        for (data,) in connection.execute("SELECT data FROM events WHERE type_name = 'user' ORDER BY id"):
            event = json.loads(data)
            if (event.get("metadata") or {}).get("model_id") == model_id:
                return float(event["timestamp"])
    return None


def percentiles(latencies: List[float]) -> str:
    if len(latencies) < 2:
        return "n/a"
    cuts = statistics.quantiles(latencies, n=100)
    return f"p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms ({len(latencies)} turns)"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="shop bench swap", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--shoppers", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.4)
    parser.add_argument("--duration", type=float, default=45.0)
    parser.add_argument("--port", type=int, default=5305)
    args = parser.parse_args(argv)
    settings = get_settings()
    model = args.model or latest_model(settings.var_dir / "models")
    config = launch_on_a_copy(settings, model, args.port, "model-swap-", {"SHOP_MODEL_POLL_SECONDS": "1"})
    with tempfile.TemporaryDirectory(prefix="model-swap-") as work:
        candidate = relabelled_copy(model, Path(work) / "next-version.tar.gz")
        with AssistantProcesses(config) as processes:
            sessions = session_factory(create_db_engine(f"sqlite:///{config.tracker_db.with_name('shop.db')}"))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with sessions() as session:
                    if registry.serving(session) is not None:
                        break
                time.sleep(0.5)
            promoted: List[float] = []

            def promote_later() -> None:
                time.sleep(args.duration / 3)
                with sessions.begin() as session:
                    row = registry.register(session, candidate, by="benchmark", gate={"passed": True, "reasons": []})
                    registry.promote(session, row.id, "benchmark")
                promoted.append(time.time())

            thread = threading.Thread(target=promote_later, daemon=True)
            thread.start()
            result: LoadResult = asyncio.run(
                run_load(processes.config.rasa_url, args.shoppers, args.duration, 10**9, think=args.think)
            )
            thread.join()
            with sessions() as session:
                in_service = registry.serving(session)
                new_id = in_service.model_id if in_service else None
            swapped_at = first_answer_by(config.tracker_db, str(new_id))
    if not promoted or swapped_at is None:
        print("the promoted model never answered within the run", file=sys.stderr)
        return 1
    start, end = promoted[0], swapped_at + SETTLE_SECONDS
    before = [t.latency * 1000 for t in result.turns if t.ok and t.sent_at < start]
    window = [t.latency * 1000 for t in result.turns if t.ok and start <= t.sent_at <= end]
    failed_window = sum(not t.ok for t in result.turns if start <= t.sent_at <= end)
    print(f"model {model.name}; {args.shoppers} shoppers pausing {args.think} s for {args.duration:.0f} s")
    print(
        f"promoted at +{start - result.started:.1f} s; the new model answered from +{swapped_at - result.started:.1f} s "
        f"({swapped_at - start:.1f} s to load it beside the old one)"
    )
    print(
        f"turns: {len(result.turns)}, failed {result.errors}; in the swap's window: {len(window) + failed_window}, failed {failed_window}"
    )
    print(f"before the promotion: {percentiles(before)}")
    print(f"during the swap:      {percentiles(window)}")
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
