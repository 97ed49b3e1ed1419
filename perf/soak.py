"""Soak test: mixed conversations for a bounded time while faults are injected.

Shoppers hold the load test's scripted conversations (:data:`perf.loadtest.CONVERSATIONS`)
over the shop channel's REST endpoint; a fault injector alternately freezes the
action server (SIGSTOP for a few seconds: a slow server) and kills it (SIGKILL,
then a restart). Afterwards every message a shopper sent must be in the tracker
store, in order, and the Rasa server's memory must not have grown beyond a bound.

    python -m perf.soak --model var/models/M.tar.gz --duration 600 --shoppers 4

starts its own servers (ports 7180/7181 by default, the shop of ``SHOP_VAR_DIR``,
tracker store ``soak-tracker.db`` there); the CI variant (``tests/reliability/test_soak.py``) drives the
session's servers for well under a minute with :func:`run_soak`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import requests

from assistant.launcher import AssistantProcesses, LaunchConfig, latest_model
from core.settings import get_settings
from perf.loadtest import CONVERSATIONS, fill
from rasa_addons.patches.action_fallback import apology_text
from web.client import new_conversation_id

APOLOGY = apology_text()  # the Rasa server's answer while the action server is away

DEMO_ORDER = {"order_number": "10000001", "email": "alex.morgan@example.com"}


@dataclass
class SoakReport:
    duration_s: float = 0.0
    requests: int = 0
    errors: int = 0  # non-200 answers or transport errors
    apologies: int = 0  # the action-server fallback answered
    silent: int = 0  # 200 with no message at all
    faults: Dict[str, int] = field(default_factory=lambda: {"freeze": 0, "kill": 0})
    messages_sent: int = 0
    messages_lost: int = 0
    rss_mb: List[float] = field(default_factory=list)  # Rasa server, sampled

    @property
    def rss_growth_mb(self) -> float:
        """Growth from the first quarter's median to the last quarter's median (warm-up excluded)."""
        if len(self.rss_mb) < 4:
            return 0.0
        quarter = max(1, len(self.rss_mb) // 4)
        first, last = sorted(self.rss_mb[:quarter]), sorted(self.rss_mb[-quarter:])
        return last[len(last) // 2] - first[len(first) // 2]

    def as_dict(self) -> Dict[str, object]:
        return {
            "duration_s": round(self.duration_s, 1),
            "requests": self.requests,
            "errors": self.errors,
            "apologies": self.apologies,
            "silent": self.silent,
            "faults": self.faults,
            "messages_sent": self.messages_sent,
            "messages_lost": self.messages_lost,
            "rss_mb_first": self.rss_mb[0] if self.rss_mb else None,
            "rss_mb_last": self.rss_mb[-1] if self.rss_mb else None,
            "rss_growth_mb": round(self.rss_growth_mb, 1),
        }


def rss_mb(pid: int) -> Optional[float]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def stored_user_texts(tracker_db: Path, sender: str) -> List[str]:
    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(data).get("text") for (data,) in rows]


def run_soak(
    processes: AssistantProcesses,
    duration: float,
    shoppers: int = 3,
    fault_every: float = 15.0,
    freeze_for: float = 3.0,
    seed: int = 7,
) -> SoakReport:
    """Drive ``processes`` (started) for ``duration`` seconds; the action server is restarted as needed."""
    base = processes.config.rasa_url
    report = SoakReport()
    sent: Dict[str, List[str]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def shopper(index: int) -> None:
        local = random.Random(seed * 100 + index)
        while not stop.is_set():
            try:
                sender = new_conversation_id(base)
            except OSError:  # the Rasa server is restarting: try again in a moment
                time.sleep(0.5)
                continue
            for template in local.choice(CONVERSATIONS):
                if stop.is_set():
                    break
                text = fill(template, local, DEMO_ORDER)
                with lock:
                    sent.setdefault(sender, []).append(text)
                    report.requests += 1
                try:
                    reply = requests.post(
                        f"{base}/webhooks/shop/webhook", json={"sender": sender, "message": text}, timeout=30
                    )
                    messages = reply.json() if reply.status_code == 200 else None
                except (requests.RequestException, ValueError):
                    messages = None
                with lock:
                    if messages is None:
                        report.errors += 1
                    elif not messages:
                        report.silent += 1
                    elif any(m.get("text") == APOLOGY for m in messages):
                        report.apologies += 1

    def injector() -> None:
        kinds = ["freeze", "kill"]
        while not stop.wait(fault_every):
            kind = kinds[(report.faults["freeze"] + report.faults["kill"]) % 2]
            actions = processes.processes.get("actions")
            if actions is None or actions.poll() is not None:
                processes.start_actions()
                continue
            if kind == "freeze":
                os.kill(actions.pid, signal.SIGSTOP)
                stop.wait(freeze_for)
                os.kill(actions.pid, signal.SIGCONT)
            else:
                processes.stop("actions", kill=True)
                stop.wait(freeze_for)
                processes.start_actions()
            report.faults[kind] += 1

    def sampler() -> None:
        while not stop.wait(2.0):
            rasa = processes.processes.get("rasa")
            value = rss_mb(rasa.pid) if rasa else None
            if value is not None:
                report.rss_mb.append(round(value, 1))

    threads = [threading.Thread(target=shopper, args=(i,), daemon=True) for i in range(shoppers)]
    threads += [threading.Thread(target=injector, daemon=True), threading.Thread(target=sampler, daemon=True)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    report.duration_s = time.monotonic() - started
    actions = processes.processes.get("actions")
    if actions is None or actions.poll() is not None:
        processes.start_actions()

    tracker_db = processes.config.tracker_db
    for sender, texts in sent.items():
        stored = stored_user_texts(tracker_db, sender)
        report.messages_sent += len(texts)
        # A message whose request failed in transport may legitimately be missing; every other must be there.
        report.messages_lost += sum(1 for text in texts if text not in stored)
    return report


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Soak test with injected action-server faults.")
    parser.add_argument("--model", type=Path, help="model archive (default: newest in var/models)")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--shoppers", type=int, default=4)
    parser.add_argument("--fault-every", type=float, default=20.0)
    parser.add_argument("--rasa-port", type=int, default=7180)
    parser.add_argument("--actions-port", type=int, default=7181)
    parser.add_argument("--max-rss-growth-mb", type=float, default=150.0)
    args = parser.parse_args(argv)
    settings = get_settings()
    config = LaunchConfig(
        model=args.model or latest_model(settings.var_dir / "models"),
        rasa_port=args.rasa_port,
        actions_port=args.actions_port,
        tracker_db=settings.var_dir / "soak-tracker.db",
        log_dir=settings.var_dir / "logs",
    )
    with AssistantProcesses(config) as processes:
        report = run_soak(processes, args.duration, args.shoppers, args.fault_every)
    print(json.dumps(report.as_dict(), indent=2))
    ok = report.messages_lost == 0 and report.rss_growth_mb <= args.max_rss_growth_mb
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
