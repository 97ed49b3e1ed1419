"""How a turn's cost grows: with the catalogue, the conversation and the crowd; and stock Rasa beside it.

``shop bench growth`` (``python -m perf.growth_benchmark``) starts the assistant itself
(:class:`assistant.launcher.AssistantProcesses`: Rasa server, action server, insights consumer, on
SQLite) for every row, drives it with the project's load test (:mod:`perf.loadtest`, Rasa's REST
channel on loopback) and prints one table. Every row states its catalogue size and the machine.

catalogue
    20 shoppers pausing ``--think`` seconds on catalogues of ``--sizes`` products: turn latency
    (p50/p95/p99), throughput, errors and CPU milliseconds per turn of each process, plus a
    saturation run (no pauses). The first size is built for real (``shop build``: generated
    products, each embedded); larger ones add *templated variants* of those products (another
    model-line name, the base product's real vector plus a real renaming displacement, as in
    ``perf.retrieval_benchmark scale``), because embedding a million products on two cores takes
    hours. Searches, filters, keyword scoring and the index then work on the full size.
conversation
    ``--conversation-shoppers`` shoppers each hold one ``--turns``-turn conversation (searches,
    refinements, policy questions, recommendations; no goodbye) at the same pace; the table
    compares turns 1-10 with the last ten (latency and the Rasa server's CPU per turn, read
    from one shopper talking alone so that each turn's CPU is its own).
crowd
    ``--crowds`` concurrent shoppers on the embedded assistant; with ``--scaleout`` the larger
    crowds also on the scale-out stack (two Rasa servers, two action servers, PostgreSQL, Redis,
    RabbitMQ, nginx: :mod:`perf.scaleout_benchmark`).
peer
    Stock Rasa 3.6 on the same domain, data and action server: DIETClassifier + TEDPolicy
    (``perf/data/stock_rasa/config.yml``), Rasa's own SQL tracker store, no patches of ours, the
    REST channel. Its saturation throughput and paced latency beside this project's, as a ratio.
    The stock model is trained on first use and kept under ``<var>/bench/stock_rasa``.

Usage::

    python -m perf.growth_benchmark --model var/models/shop.tar.gz --sizes 5000,100000,1000000
    python -m perf.growth_benchmark --parts conversation,peer --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import aiohttp
import numpy as np

from assistant.launcher import BOT_DIR, AssistantProcesses, LaunchConfig, latest_model
from core.settings import OFFLINE_ENV, get_settings
from perf import loadtest
from perf.scaleout_benchmark import DEMO_ORDER, build_embedded_shop, cpu_snapshot, server_groups
from perf.stats import percentile

STOCK_DIR = Path(__file__).resolve().parent / "data" / "stock_rasa"
PARTS = ("catalogue", "conversation", "crowd", "peer")
WARM_UP_SECONDS = 10.0
# One long conversation: what a shopper who browses for a while says (no goodbye, no order check).
LONG_CONVERSATION = (
    "hi",
    "I'm looking for running shoes",
    "show me cheaper ones",
    "in black?",
    "what goes well with the first one?",
    "how long does shipping take?",
    "and what is your return policy?",
    "do you have a winter jacket under 120?",
    "something similar but cheaper",
    "tell me more about the second one",
    "wireless headphones",
    "only black ones",
    "do you ship to Norway?",
    "a yoga mat",
    "which payment methods do you accept?",
    "hiking boots in size 42",
    "what about a backpack?",
    "ok thanks",
    "a desk lamp",
    "how much is express delivery?",
    "a coffee grinder",
    "can I pay with klarna?",
    "a leather wallet in brown",
    "show me more",
    "a face cream",
)


@dataclass
class Row:
    part: str
    label: str
    products: int
    shoppers: int
    think: float
    turns: int = 0
    errors: int = 0
    throughput: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    cpu_ms: Dict[str, float] = field(default_factory=dict)
    note: str = ""


def machine() -> str:
    return f"{platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}"


# --------------------------------------------------------------------------- catalogues


def expand_catalogue(work: Path, products: int, *, seed: int = 7, samples: int = 1000) -> None:
    """Grow the built shop in ``work`` to ``products`` rows with templated variants, and re-index.

    Variant ``j`` copies real product ``j mod base`` under another model-line name (title,
    description, SKU); its vector is the base product's embedding plus a real renaming
    displacement (:func:`perf.retrieval_benchmark.derive_vectors`' method), renormalised.
    """
    import faiss
    from sqlalchemy import create_engine

    from perf.retrieval_benchmark import renaming_displacements
    from retrieval.index import VectorIndex
    from retrieval.indexing import PRODUCTS, product_fingerprint
    from shopdb import demo_data as gen

    database = work / "shop.db"
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        base = [dict(r) for r in db.execute("SELECT * FROM products ORDER BY id")]
        if len(base) >= products:
            return
        rng = random.Random(seed)
        columns = [c for c in base[0] if c != "id"]
        insert = f"INSERT INTO products ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        batch: List[tuple] = []
        for j in range(len(base), products):
            row = dict(base[j % len(base)])
            line = row["description"].split(" is a", 1)[0].replace("The ", "", 1).replace(row["brand"] + " ", "", 1)
            new_line = gen._line_name(rng)
            if line and line in row["title"]:
                row["title"] = row["title"].replace(line, new_line, 1)
                row["description"] = row["description"].replace(line, new_line)
            row["sku"] = f"{row['sku']}-V{j}"
            batch.append(tuple(row[c] for c in columns))
            if len(batch) == 50_000:
                db.executemany(insert, batch)
                batch.clear()
        db.executemany(insert, batch)
        db.commit()
        ids = np.array([r[0] for r in db.execute("SELECT id FROM products ORDER BY id")], dtype=np.int64)

    index_dir = work / "index"
    real = VectorIndex.load(index_dir, PRODUCTS)
    inner = faiss.downcast_index(real.index.index) if hasattr(real.index, "id_map") else real.index
    real_ids = faiss.vector_to_array(real.index.id_map) if hasattr(real.index, "id_map") else np.arange(len(base))
    vectors_by_id = dict(zip(real_ids.tolist(), inner.reconstruct_n(0, inner.ntotal)))
    base_vectors = np.stack([vectors_by_id[int(r["id"])] for r in base])
    settings = get_settings()  # displacements are cached under <var>/bench/scale, shared with that benchmark
    (settings.var_dir / "bench" / "scale").mkdir(parents=True, exist_ok=True)
    displacements = renaming_displacements(settings, samples, seed)
    rng_np = np.random.default_rng(seed)
    vectors = np.empty((len(ids), base_vectors.shape[1]), dtype=np.float32)
    vectors[: len(base)] = base_vectors
    for start in range(len(base), len(ids), 100_000):
        stop = min(len(ids), start + 100_000)
        x = (
            base_vectors[np.arange(start, stop) % len(base)]
            + displacements[rng_np.integers(0, len(displacements), stop - start)]
        )
        vectors[start:stop] = x / np.linalg.norm(x, axis=1, keepdims=True)
    engine = create_engine(f"sqlite:///{database}")
    fingerprint = product_fingerprint(engine)
    engine.dispose()
    index = VectorIndex.build(PRODUCTS, ids, vectors, model=real.manifest.model, source=fingerprint)
    index.save(index_dir)


def shop_copy(source: Path, products: int, cache: Path) -> Path:
    """A shop of ``products`` products (built once per size under ``cache``), copied into a fresh folder."""
    built = cache / f"shop-{products}"
    if not (built / ".complete").exists():
        shutil.rmtree(built, ignore_errors=True)
        shutil.copytree(source, built, ignore=shutil.ignore_patterns("tracker.db*", "events.db*", "logs", "uploads"))
        started = time.monotonic()
        expand_catalogue(built, products)
        print(f"  catalogue of {products:,} products built in {time.monotonic() - started:.0f} s", flush=True)
        (built / ".complete").touch()
    work = Path(tempfile.mkdtemp(prefix=f"shop-growth-{products}-"))
    shutil.copytree(built, work, dirs_exist_ok=True)
    return work


# --------------------------------------------------------------------------- running


class Assistant:
    """The assistant (or stock Rasa with the same action server) on a shop folder, for one block of rows."""

    def __init__(self, model: Path, work: Path, port: int, *, stock: bool = False) -> None:
        self.work = work
        self.config = LaunchConfig(
            model=model,
            rasa_port=port,
            actions_port=port + 1,
            tracker_db=work / "tracker.db",
            log_dir=work / "logs",
            endpoints=STOCK_DIR / "endpoints.yml" if stock else BOT_DIR / "endpoints.yml",
            credentials=STOCK_DIR / "credentials.yml" if stock else BOT_DIR / "credentials.yml",
            extra_env={"SHOP_VAR_DIR": str(work), "SHOP_SUPPORT_HOURS": "always"},
            insights_port=port + 2,
            with_insights=not stock,
            rasa_ready_path="/" if stock else "/health/ready",
        )
        self.processes = AssistantProcesses(self.config)
        self.ready_s = 0.0

    def __enter__(self) -> "Assistant":
        from perf.scaleout_stack import ScaleOutProcesses

        started = time.monotonic()
        self.processes.__enter__()
        ScaleOutProcesses.wait_for_model(self.config.rasa_url, 900)
        asyncio.run(self.search_answered(900))  # the action server loads the catalogue on its first search
        self.ready_s = time.monotonic() - started
        # Warm up (not reported): the first turns of a fresh server pay one-time costs (lazy imports,
        # first allocations of the intent model's runtime, the databases' caches).
        asyncio.run(loadtest.run_load(self.url, 5, WARM_UP_SECONDS, 100_000, seed=3, demo_order=DEMO_ORDER, think=0.1))
        return self

    async def search_answered(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                conversation = loadtest.RestConversation(session, self.url, timeout=timeout)
                if loadtest.answered(await conversation.turn("I'm looking for running shoes")):
                    return
                await asyncio.sleep(2)
        raise RuntimeError("the assistant did not answer a product search in time")

    def __exit__(self, *exc: Any) -> None:
        self.processes.__exit__(*exc)

    @property
    def url(self) -> str:
        return self.config.rasa_url

    def groups(self) -> Dict[str, List[int]]:
        return server_groups(self.processes.processes)

    def rss_mb(self) -> Dict[str, float]:
        """Resident memory of each server now (MB)."""
        found = {}
        for name, process in self.processes.processes.items():
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
                kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
                found[name] = kb / 1024
            except (OSError, StopIteration):
                continue
        return found


def load_row(
    assistant: Assistant, part: str, label: str, products: int, shoppers: int, duration: float, think: float
) -> Row:
    """One load run: latency, throughput and each process's CPU per turn."""
    groups = assistant.groups()
    before = cpu_snapshot(groups)
    result = asyncio.run(
        loadtest.run_load(assistant.url, shoppers, duration, 100_000, seed=7, demo_order=DEMO_ORDER, think=think)
    )
    after = cpu_snapshot(groups)
    latencies = result.latencies_ms()
    turns = max(1, len(latencies))
    row = Row(
        part,
        label,
        products,
        shoppers,
        think,
        len(latencies),
        result.errors,
        len(latencies) / max(1e-9, result.finished - result.started),
        percentile(latencies, 50),
        percentile(latencies, 95),
        percentile(latencies, 99),
        {group: 1000 * (after[group] - before[group]) / turns for group in groups},
    )
    print("  " + format_row(row), flush=True)
    return row


async def long_conversations(url: str, shoppers: int, turns: int, think: float) -> List[List[float]]:
    """Latency (ms) of every turn of ``shoppers`` concurrent ``turns``-turn conversations."""
    async with aiohttp.ClientSession() as session:

        async def one(n: int) -> List[float]:
            rng = random.Random(n)
            conversation = loadtest.RestConversation(session, url, timeout=30)
            await asyncio.sleep(rng.uniform(0, think))
            times = []
            for turn in range(turns):
                started = time.perf_counter()
                messages = await conversation.turn(LONG_CONVERSATION[turn % len(LONG_CONVERSATION)])
                times.append((time.perf_counter() - started) * 1000 if loadtest.answered(messages) else float("nan"))
                await asyncio.sleep(rng.expovariate(1 / think) if think else 0)
            return times

        return list(await asyncio.gather(*(one(n) for n in range(shoppers))))


def alone_cpu_by_window(assistant: Assistant, turns: int, window: int = 10) -> Tuple[float, float]:
    """The Rasa server's CPU ms per turn over the first and the last ``window`` turns of one conversation
    held alone (one turn at a time). Whole windows: the kernel counts CPU time in 10 ms ticks."""
    groups = {"rasa": assistant.groups()["rasa"]}

    async def run() -> Tuple[float, float]:
        marks: Dict[int, float] = {}
        async with aiohttp.ClientSession() as session:
            conversation = loadtest.RestConversation(session, assistant.url, timeout=30)
            for turn in range(turns + 1):
                if turn in (0, window, turns - window, turns):
                    marks[turn] = cpu_snapshot(groups)["rasa"]
                if turn < turns:
                    await conversation.turn(LONG_CONVERSATION[turn % len(LONG_CONVERSATION)])
        first = 1000 * (marks[window] - marks[0]) / window
        last = 1000 * (marks[turns] - marks[turns - window]) / window
        return first, last

    return asyncio.run(run())


def conversation_rows(assistant: Assistant, products: int, args: argparse.Namespace) -> List[Row]:
    times = asyncio.run(long_conversations(assistant.url, args.conversation_shoppers, args.turns, args.think))
    # CPU per turn is only attributable with one turn at a time: three conversations alone, median.
    alone = [alone_cpu_by_window(assistant, args.turns) for _ in range(3)]
    rows = []
    windows = (("turns 1-10", slice(0, 10), 0), (f"turns {args.turns - 9}-{args.turns}", slice(-10, None), 1))
    for label, window, which in windows:
        latencies = [t for conversation in times for t in conversation[window] if t == t]
        errors = sum(1 for conversation in times for t in conversation[window] if t != t)
        cpu = float(np.median([run[which] for run in alone]))
        row = Row(
            "conversation",
            label,
            products,
            args.conversation_shoppers,
            args.think,
            len(latencies),
            errors,
            0.0,
            percentile(latencies, 50),
            percentile(latencies, 95),
            percentile(latencies, 99),
            {"rasa (alone)": cpu},
        )
        print("  " + format_row(row), flush=True)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- the stock peer


def stock_model(cache: Path) -> Path:
    """Stock Rasa's model of the bot's domain and data (trained once per version of both)."""
    digest = hashlib.sha256()
    sources = [STOCK_DIR / "config.yml", BOT_DIR / "domain.yml", *sorted((BOT_DIR / "data").rglob("*.yml"))]
    sources += sorted((BOT_DIR / "domain").rglob("*.yml")) if (BOT_DIR / "domain").exists() else []
    for path in sources:
        digest.update(path.read_bytes())
    model = cache / f"stock-{digest.hexdigest()[:12]}.tar.gz"
    if model.exists():
        return model
    cache.mkdir(parents=True, exist_ok=True)
    print("  training stock Rasa (DIETClassifier + TEDPolicy) on the bot's data ...", flush=True)
    started = time.monotonic()
    domain = BOT_DIR / "domain" if (BOT_DIR / "domain").exists() else BOT_DIR / "domain.yml"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("rasa")),
            "train",
            "--config",
            str(STOCK_DIR / "config.yml"),
            "--domain",
            str(domain),
            "--data",
            str(BOT_DIR / "data"),
            "--out",
            str(cache),
            "--fixed-model-name",
            model.name.removesuffix(".tar.gz"),
        ],
        cwd=BOT_DIR,
        env=dict(os.environ, **OFFLINE_ENV),
        check=True,
        capture_output=True,
    )
    print(f"  trained in {time.monotonic() - started:.0f} s", flush=True)
    return model


# --------------------------------------------------------------------------- report


def format_row(row: Row) -> str:
    cpu = ", ".join(f"{name} {ms:.1f}" for name, ms in row.cpu_ms.items() if name != "services")
    speed = f"{row.throughput:6.1f}/s" if row.throughput else "       "
    return (
        f"{row.part:<12} {row.label:<26} {row.products:>9,} {row.shoppers:>4} {row.think:>5.2f} "
        f"{row.turns:>6} {row.errors:>4} {speed} {row.p50:7.1f} {row.p95:7.1f} {row.p99:7.1f}  {cpu}"
        + (f"  [{row.note}]" if row.note else "")
    )


HEADER = (
    f"{'part':<12} {'row':<26} {'products':>9} {'shop':>4} {'think':>5} {'turns':>6} {'err':>4} "
    f"{'turns/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  CPU ms per turn"
)


def table(rows: Sequence[Row]) -> str:
    return "\n".join([HEADER, *(format_row(row) for row in rows)])


# --------------------------------------------------------------------------- main


def parts_of(text: str) -> List[str]:
    chosen = [p for p in text.split(",") if p]
    unknown = set(chosen) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    return chosen


def ports(start: int) -> Iterator[int]:
    port = start
    while True:
        yield port
        port += 10


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Turn cost against catalogue size, conversation length, crowd; stock Rasa."
    )
    parser.add_argument("--model", type=Path, help="model archive (default: newest in var/models)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"which parts: {','.join(PARTS)}")
    parser.add_argument("--sizes", default="5000,100000,1000000", help="catalogue sizes; the first is built for real")
    parser.add_argument("--shoppers", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.4, help="mean pause between a shopper's turns (s)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per load run")
    parser.add_argument("--turns", type=int, default=50, help="turns of the long conversations")
    parser.add_argument("--conversation-shoppers", type=int, default=10)
    parser.add_argument("--crowds", default="20,100,300")
    parser.add_argument("--scaleout", action="store_true", help="also run the larger crowds on the scale-out stack")
    parser.add_argument("--base-port", type=int, default=7200)
    args = parser.parse_args(argv)
    parts = parts_of(args.parts)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    crowds = [int(c) for c in args.crowds.split(",") if c]
    settings = get_settings()
    model = args.model or latest_model(settings.var_dir / "models")
    cache = settings.var_dir / "bench" / "growth"
    cache.mkdir(parents=True, exist_ok=True)
    port = ports(args.base_port)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}; model {model.name}", flush=True)
    print(HEADER, flush=True)

    real = cache / f"shop-{sizes[0]}"
    if not (real / ".complete").exists():
        shutil.rmtree(real, ignore_errors=True)
        build_embedded_shop(real, sizes[0])
        (real / ".complete").touch()
    rows: List[Row] = []
    notes: List[str] = []

    def on_shop(products: int, stock: bool = False, use_model: Path = model) -> Assistant:
        # The first size is ``real`` itself (already complete): shop_copy only copies it.
        return Assistant(use_model, shop_copy(real, products, cache), next(port), stock=stock)

    def finished(assistant: Assistant) -> None:
        shutil.rmtree(assistant.work, ignore_errors=True)

    if "catalogue" in parts:
        for products in sizes:
            assistant = on_shop(products)
            with assistant:
                rows.append(
                    load_row(assistant, "catalogue", "paced", products, args.shoppers, args.duration, args.think)
                )
                rows.append(load_row(assistant, "catalogue", "saturation", products, args.shoppers, args.duration, 0.0))
                memory = ", ".join(f"{name} {mb:,.0f}" for name, mb in assistant.rss_mb().items())
                notes.append(f"{products:,} products: ready in {assistant.ready_s:.0f} s; memory (MB) {memory}")
            finished(assistant)

    if "conversation" in parts or "crowd" in parts:
        assistant = on_shop(sizes[0])
        with assistant:
            if "conversation" in parts:
                rows += conversation_rows(assistant, sizes[0], args)
            if "crowd" in parts:
                for crowd in crowds:
                    rows.append(load_row(assistant, "crowd", "embedded", sizes[0], crowd, args.duration, args.think))
        finished(assistant)
        if "crowd" in parts and args.scaleout:
            rows += scaleout_rows(model, sizes[0], [c for c in crowds if c > args.shoppers], args)

    if "peer" in parts:
        peer: Dict[str, Dict[str, Row]] = {}
        for name, stock, use_model in (
            ("this project", False, model),
            ("stock Rasa", True, stock_model(cache / "stock_rasa")),
        ):
            assistant = on_shop(sizes[0], stock=stock, use_model=use_model)
            with assistant:
                peer[name] = {
                    "paced": load_row(
                        assistant, "peer", f"{name}, paced", sizes[0], args.shoppers, args.duration, args.think
                    ),
                    "saturation": load_row(
                        assistant, "peer", f"{name}, saturation", sizes[0], args.shoppers, args.duration, 0.0
                    ),
                }
            finished(assistant)
            rows += peer[name].values()
        ours, stock_rows = peer["this project"], peer["stock Rasa"]
        notes.append(
            f"this project vs stock Rasa on {sizes[0]:,} products: saturation "
            f"{ours['saturation'].throughput / max(1e-9, stock_rows['saturation'].throughput):.2f}x the throughput; "
            f"paced p50 {ours['paced'].p50:.1f} vs {stock_rows['paced'].p50:.1f} ms, "
            f"p95 {ours['paced'].p95:.1f} vs {stock_rows['paced'].p95:.1f} ms"
        )

    print()
    print(f"machine: {machine()}; load average now {os.getloadavg()[0]:.2f}")
    print(table(rows))
    for note in notes:
        print(note)
    conversation = [row for row in rows if row.part == "conversation"]
    if len(conversation) == 2 and conversation[0].p95:
        print(
            f"p95 at the end of a {args.turns}-turn conversation vs its first ten turns: "
            f"{conversation[1].p95 / conversation[0].p95:.2f}x; Rasa CPU per turn "
            f"{conversation[1].cpu_ms['rasa (alone)']:.1f} vs {conversation[0].cpu_ms['rasa (alone)']:.1f} ms"
        )
    return 0 if all(row.errors == 0 for row in rows) else 1


def scaleout_rows(model: Path, products: int, crowds: List[int], args: argparse.Namespace) -> List[Row]:
    """The larger crowds on the scale-out stack: two Rasa servers, two action servers."""
    from perf.scaleout_benchmark import run_scaleout
    from perf.scaleout_stack import BackingServices, build_catalogue

    services = BackingServices(
        tracker_db="shop_growth_tracker", catalogue_db="shop_growth_catalogue", queue="shop_growth_events"
    )
    reason = services.unreachable()
    if reason:
        print(f"scale-out skipped: {reason}", file=sys.stderr)
        return []
    rows = []
    services.create_databases()
    index_dir = Path(tempfile.mkdtemp(prefix="shop-growth-index-"))
    try:
        build_catalogue(services, index_dir, products)
        for crowd in crowds:
            options = argparse.Namespace(
                shoppers=crowd,
                duration=args.duration,
                think=args.think,
                protocols=["rest"],
                max_turns=100_000,
                action_servers=2,
                base_port=args.base_port + 500,
            )
            figures = run_scaleout(model, services, index_dir, 2, options)
            for run in figures.runs:
                row = Row(
                    "crowd",
                    f"scale-out 2+2, {run.kind}",
                    products,
                    crowd,
                    run.think,
                    run.turns,
                    run.errors,
                    run.throughput,
                    run.p50,
                    run.p95,
                    run.p99,
                    run.cpu_ms_per_turn,
                )
                print("  " + format_row(row), flush=True)
                rows.append(row)
    finally:
        services.reset_queue(delete=True)
        services.drop_databases()
        shutil.rmtree(index_dir, ignore_errors=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
