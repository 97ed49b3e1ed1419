"""One run, three deployments, the same load: embedded vs scale-out with one and with two Rasa servers.

For each deployment it starts the servers (:mod:`assistant.launcher` or
:mod:`perf.scaleout_stack`), holds the scripted probe conversations one turn at a
time and records what the bot did (intents and actions, from the tracker
store), then runs the load test (:mod:`perf.loadtest`) at a shopper-like
pace (latency) and without pauses (saturation throughput), and, on the
scale-out stack, accounts every stored event against the RabbitMQ queue.
It prints one table; the machine's load average goes beside every figure,
because on a shared machine they move with it.

Usage (PostgreSQL, Redis, RabbitMQ and nginx on loopback; ports 7000-7099)::

    python -m perf.scaleout_benchmark --model /tmp/shared-model/shop-test.tar.gz --products 600 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from assistant.launcher import AssistantProcesses, LaunchConfig, latest_model
from core.settings import OFFLINE_ENV, get_settings
from perf import loadtest
from perf.scaleout_stack import (
    BackingServices,
    ScaleOutConfig,
    ScaleOutProcesses,
    account_events,
    build_catalogue,
    drain_queue,
)
from perf.stats import percentile

DEMO_ORDER = {"order_number": "10000001", "email": "alex.morgan@example.com"}


@dataclass
class RunFigures:
    deployment: str
    kind: str  # "pace" (shoppers pause between turns) or "saturation"
    protocol: str
    shoppers: int
    think: float
    turns: int
    errors: int
    throughput: float
    p50: float
    p95: float
    p99: float
    breakdown: Dict[str, float]
    load_before: float
    load_after: float
    cpu_ms_per_turn: Dict[str, float] = field(default_factory=dict)


@dataclass
class DeploymentFigures:
    name: str
    runs: List[RunFigures] = field(default_factory=list)
    outcome: List[list] = field(default_factory=list)
    events: Optional[str] = None
    start_s: float = 0.0


def _load() -> float:
    return os.getloadavg()[0]


# --------------------------------------------------------------------------- CPU accounting (Linux /proc)
# On a shared machine wall-clock figures move with the neighbours' load; CPU seconds per turn
# of each part do not (much), and they say what one core can carry.
SERVICE_NAMES = ("postgres", "redis-server", "beam.smp")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_table() -> Dict[int, Tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds) of every process."""
    table: Dict[int, Tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / _TICK)
    return table


def cpu_snapshot(groups: Dict[str, List[int]]) -> Dict[str, float]:
    """CPU seconds so far of each group of processes (with their children) and of the shared services."""
    table = _proc_table()
    children: Dict[int, List[int]] = {}
    for pid, (ppid, _name, _cpu) in table.items():
        children.setdefault(ppid, []).append(pid)

    def tree(pid: int) -> float:
        return table.get(pid, (0, "", 0.0))[2] + sum(tree(c) for c in children.get(pid, []))

    snapshot = {group: sum(tree(pid) for pid in pids) for group, pids in groups.items()}
    snapshot["services"] = sum(cpu for _p, name, cpu in table.values() if name in SERVICE_NAMES)
    return snapshot


def server_groups(processes: Dict[str, subprocess.Popen]) -> Dict[str, List[int]]:
    groups: Dict[str, List[int]] = {}
    for name, process in processes.items():
        groups.setdefault(name.split("-")[0], []).append(process.pid)  # rasa-1, rasa-2 -> rasa
    return groups


def measure(
    name: str,
    url: str,
    tracker_url: str,
    shoppers: int,
    duration: float,
    think: float,
    protocols: List[str],
    max_turns: int,
    groups: Dict[str, List[int]],
) -> List[RunFigures]:
    """The paced runs (one per protocol) and one saturation run over REST."""
    plan = [("pace", protocol, think) for protocol in protocols] + [("saturation", "rest", 0.0)]
    figures = []
    for kind, protocol, pause in plan:
        before = _load()
        cpu_before = cpu_snapshot(groups)
        result = asyncio.run(
            loadtest.run_load(
                url, shoppers, duration, max_turns, seed=7, demo_order=DEMO_ORDER, protocol=protocol, think=pause
            )
        )
        cpu_after = cpu_snapshot(groups)
        latencies = result.latencies_ms()
        elapsed = max(1e-9, result.finished - result.started)
        turns = max(1, len(latencies))
        figures.append(
            RunFigures(
                name,
                kind,
                protocol,
                shoppers,
                pause,
                len(result.turns),
                result.errors,
                len(latencies) / elapsed,
                percentile(latencies, 50),
                percentile(latencies, 95),
                percentile(latencies, 99),
                loadtest.time_breakdown(tracker_url, result),
                before,
                _load(),
                {group: 1000 * (cpu_after[group] - cpu_before[group]) / turns for group in cpu_after},
            )
        )
        print(
            f"  {name:<14} {kind:<10} {protocol:<8} {figures[-1].throughput:6.1f} turns/s  "
            f"p50 {figures[-1].p50:6.1f}  p95 {figures[-1].p95:6.1f} ms  errors {result.errors}",
            flush=True,
        )
    return figures


def probe(url: str, tracker_url: str) -> List[list]:
    senders = asyncio.run(loadtest.probe_conversations(url, DEMO_ORDER))
    return [loadtest.conversation_outcome(tracker_url, sender) for sender in senders]


def build_embedded_shop(work: Path, products: int) -> None:
    """A fresh SQLite shop + index in ``work`` (the same generator and size as the PostgreSQL one)."""
    env = dict(os.environ, SHOP_VAR_DIR=str(work), **OFFLINE_ENV)
    env.pop("SHOP_DATABASE_URL", None)
    env.pop("SHOP_INDEX_DIR", None)
    result = subprocess.run(
        [sys.executable, "-m", "cli.shop", "build", "--products", str(products)],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"knowledge build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def run_embedded(model: Path, args: argparse.Namespace) -> DeploymentFigures:
    work = Path(tempfile.mkdtemp(prefix="shop-bench-embedded-"))
    build_embedded_shop(work, args.products)
    config = LaunchConfig(
        model=model,
        rasa_port=args.base_port + 1,
        actions_port=args.base_port + 2,
        tracker_db=work / "tracker.db",
        log_dir=work / "logs",
        extra_env={"SHOP_VAR_DIR": str(work)},
    )
    figures = DeploymentFigures("embedded")
    started = time.monotonic()
    with AssistantProcesses(config) as assistant:
        ScaleOutProcesses.wait_for_model(config.rasa_url, 300)
        figures.start_s = time.monotonic() - started
        tracker = str(config.tracker_db)
        figures.outcome = probe(config.rasa_url, tracker)
        figures.runs = measure(
            "embedded",
            config.rasa_url,
            tracker,
            args.shoppers,
            args.duration,
            args.think,
            args.protocols,
            args.max_turns,
            server_groups(assistant.processes),
        )
    shutil.rmtree(work, ignore_errors=True)
    return figures


def run_scaleout(
    model: Path, services: BackingServices, index_dir: Path, rasa_servers: int, args: argparse.Namespace
) -> DeploymentFigures:
    name = f"scale-out x{rasa_servers}"
    services.create_databases(drop_tracker=True)
    services.reset_queue()
    config = ScaleOutConfig(
        model=model,
        rasa_servers=rasa_servers,
        action_servers=args.action_servers,
        base_port=args.base_port + 10,
        services=services,
        index_dir=index_dir,
    )
    figures = DeploymentFigures(name)
    started = time.monotonic()
    with ScaleOutProcesses(config) as stack:
        figures.start_s = time.monotonic() - started
        figures.outcome = probe(config.url, services.tracker_url)
        figures.runs = measure(
            name,
            config.url,
            services.tracker_url,
            args.shoppers,
            args.duration,
            args.think,
            args.protocols,
            args.max_turns,
            server_groups(stack.processes),
        )
        time.sleep(2)  # let the last publishes land
        account = account_events(services.tracker_url, drain_queue(services))
    figures.events = (
        f"{account.tracker_events} stored / {account.broker_events} published events in "
        f"{account.conversations} conversations: {account.lost} lost, {account.duplicated} duplicated, "
        f"{account.unknown} unknown"
    )
    print(f"  {name}: {figures.events}", flush=True)
    return figures


def table(deployments: List[DeploymentFigures]) -> str:
    lines = [
        "| deployment | run | protocol | shoppers (pause) | turns (errors) | turns/s | p50 / p95 / p99 ms "
        "| NLU+lock / policy / action ms | CPU ms per turn: rasa / actions / nginx / services | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for deployment in deployments:
        for r in deployment.runs:
            b, c = r.breakdown, r.cpu_ms_per_turn
            lines.append(
                f"| {r.deployment} | {r.kind} | {r.protocol} | {r.shoppers} ({r.think:.2f} s) | {r.turns} ({r.errors}) "
                f"| {r.throughput:.1f} | {r.p50:.0f} / {r.p95:.0f} / {r.p99:.0f} "
                f"| {b['nlu_ms_per_turn']:.1f} / {b['policy_ms_per_prediction']:.1f} / "
                f"{b['actions_ms_per_custom_action']:.1f} "
                f"| {c.get('rasa', 0):.1f} / {c.get('actions', 0):.1f} / {c.get('nginx', 0):.1f} / "
                f"{c.get('services', 0):.1f} | {r.load_before:.1f}-{r.load_after:.1f} |"
            )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Embedded vs scale-out (1 and 2 Rasa servers), same load.")
    parser.add_argument("--model", type=Path, help="model archive (default: newest in var/models)")
    parser.add_argument("--products", type=int, default=600, help="catalogue size (SQLite and PostgreSQL shops)")
    parser.add_argument("--shoppers", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per load run")
    parser.add_argument("--think", type=float, default=0.4, help="mean pause between turns in the paced runs")
    parser.add_argument("--protocols", default="rest,socketio", help="protocols of the paced runs")
    parser.add_argument("--max-turns", type=int, default=20000)
    parser.add_argument("--action-servers", type=int, default=1)
    parser.add_argument("--base-port", type=int, default=7000)
    parser.add_argument("--only", default="embedded,1,2", help="which deployments: embedded,1,2")
    parser.add_argument(
        "--nlu-backend",
        choices=["torch", "torch_int8", "onnx", "onnx_int8"],
        help="override the model's intent back end in every Rasa server (SHOP_NLU_BACKEND)",
    )
    args = parser.parse_args(argv)
    if args.nlu_backend:
        os.environ["SHOP_NLU_BACKEND"] = args.nlu_backend  # the servers inherit it
    args.protocols = [p for p in args.protocols.split(",") if p]

    settings = get_settings()
    model = args.model or latest_model(settings.var_dir / "models")
    only = set(args.only.split(","))
    print(
        f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
        f"load average {_load():.2f}; intent back end {args.nlu_backend or settings.nlu_backend or 'as trained'}",
        flush=True,
    )
    deployments = []
    if "embedded" in only:
        deployments.append(run_embedded(model, args))
    if only & {"1", "2"}:
        services = BackingServices(
            tracker_db="shop_bench_tracker", catalogue_db="shop_bench_catalogue", queue="shop_bench_events"
        )
        reason = services.unreachable()
        if reason:
            print(f"scale-out skipped: {reason}", file=sys.stderr)
        else:
            services.create_databases()
            index_dir = Path(tempfile.mkdtemp(prefix="shop-bench-index-"))
            build_catalogue(services, index_dir, args.products)
            try:
                for n in (1, 2):
                    if str(n) in only:
                        deployments.append(run_scaleout(model, services, index_dir, n, args))
            finally:
                services.reset_queue(delete=True)
                services.drop_databases()
                shutil.rmtree(index_dir, ignore_errors=True)
    print()
    print(table(deployments))
    reference = deployments[0].outcome if deployments else []
    for deployment in deployments:
        same = "same as " + deployments[0].name if deployment.outcome == reference else "DIFFERENT"
        print(
            f"{deployment.name}: ready in {deployment.start_s:.0f} s; probe conversations {same}"
            + (f"; events: {deployment.events}" if deployment.events else "")
        )
    saturation = {d.name: next((r.throughput for r in d.runs if r.kind == "saturation"), 0.0) for d in deployments}
    if saturation.get("scale-out x1") and saturation.get("scale-out x2"):
        print(
            f"two vs one Rasa server (saturation): {saturation['scale-out x2'] / saturation['scale-out x1']:.2f}x "
            f"on {os.cpu_count()} cores"
        )
    return 0 if all(r.errors == 0 for d in deployments for r in d.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
