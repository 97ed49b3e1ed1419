"""The shop's data: ``shop build | import | migrate | index | stats | revision``.

``build`` is what ``make`` runs: migrate the database, generate and load the
demo shop (unless it is already there, or the user imported a catalogue),
load the policies, and build or incrementally update the FAISS indexes.
Running it again when nothing changed takes about a second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional, Tuple, Type

from core.settings import Settings, get_settings

if TYPE_CHECKING:  # pragma: no cover
    from shopdb.importer import ImportReport


def _settings(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    overrides = {}
    if getattr(args, "database_url", None):
        overrides["database_url"] = args.database_url
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = Path(args.index_dir)
    if getattr(args, "model", None):
        overrides["embedding_model"] = args.model
    if getattr(args, "backend", None):
        overrides["embedding_backend"] = args.backend
    return settings.copy(update=overrides) if overrides else settings


def build(
    settings: Settings,
    products: int = 5000,
    *,
    fresh: bool = False,
    seed: Optional[int] = None,
    today: Optional[dt.date] = None,
    index_kind: str = "auto",
    progress: bool = True,
    out=sys.stdout,
) -> dict:
    """Create/migrate the database, load data when needed, build indexes. Returns timings."""
    from retrieval.embeddings import embedder_for
    from retrieval.indexing import build_indexes
    from shopdb import demo_data as gen
    from shopdb.db import create_db_engine, migrate
    from shopdb.loader import get_meta, load_generated, load_policies
    from shopdb.policies import load_passages, passages_checksum

    seed = gen.DEFAULT_SEED if seed is None else seed
    timings: dict = {}
    t0 = time.perf_counter()
    url = settings.resolved_database_url
    migrate(url)
    timings["migrate_s"] = round(time.perf_counter() - t0, 2)
    engine = create_db_engine(url)
    with engine.connect() as conn:
        meta = get_meta(conn)
    wanted = {"generator_version": gen.GENERATOR_VERSION, "seed": str(seed), "products": str(products)}
    imported = meta.get("source") == "import"
    current = all(meta.get(k) == v for k, v in wanted.items()) and meta.get("source") == "generated"
    t = time.perf_counter()
    if fresh or not (current or imported):
        stats = load_generated(engine, products, seed=seed, today=today, progress=progress)
        print(
            f"loaded {stats.products} products, {stats.relations} links, {stats.customers} customers, "
            f"{stats.orders} orders, {stats.returns} returns",
            file=out,
        )
    else:
        print("catalogue up to date" + (" (imported catalogue kept)" if imported else ""), file=out)
    timings["data_s"] = round(time.perf_counter() - t, 2)
    passages = load_passages()
    if fresh or meta.get("policies_checksum") != passages_checksum(passages):
        print(f"loaded {load_policies(engine, passages)} policy passages", file=out)
    t = time.perf_counter()
    reports = build_indexes(
        engine, settings.resolved_index_dir, embedder_for(settings), rebuild=fresh, kind=index_kind, progress=progress
    )
    for r in reports:
        what = (
            "up to date"
            if r.skipped
            else (
                f"synced ({r.updated} re-embedded, {r.removed} removed)"
                if (r.updated or r.removed)
                else f"built ({r.kind})"
            )
        )
        print(f"index {r.name}: {r.count} vectors, {what}, {r.seconds:.1f}s", file=out)
    timings["index_s"] = round(time.perf_counter() - t, 2)
    timings["total_s"] = round(time.perf_counter() - t0, 2)
    print(f"done in {timings['total_s']}s (db {url.split('://')[0]}, index {settings.resolved_index_dir})", file=out)
    engine.dispose()
    return timings


def import_catalogue(settings: Settings, path: Path, **options: bool) -> "ImportReport":
    """Import a shop's product file into the database, then sync the product index with it."""
    from retrieval.embeddings import embedder_for
    from retrieval.indexing import build_indexes
    from shopdb.db import create_db_engine
    from shopdb.importer import import_file

    report = import_file(settings, path, **options)
    if report.loaded:
        engine = create_db_engine(settings.resolved_database_url)
        try:
            synced = build_indexes(engine, settings.resolved_index_dir, embedder_for(settings), progress=False)[0]
        finally:
            engine.dispose()
        state = "synced" if synced.updated or synced.removed else "built" if not synced.skipped else "unchanged"
        report.index = f"{synced.count} vectors ({state})"
    return report


def main(argv: Optional[List[str]] = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="overrides SHOP_DATABASE_URL")
    common.add_argument("--index-dir", help="overrides SHOP_INDEX_DIR")
    common.add_argument("--model", help="embedding model path or name (overrides SHOP_EMBEDDING_MODEL)")
    common.add_argument(
        "--backend",
        choices=["auto", "torch", "onnx", "onnx_int8"],
        help="embedding back end (overrides SHOP_EMBEDDING_BACKEND)",
    )
    common.add_argument("-v", "--verbose", action="store_true")
    parser = argparse.ArgumentParser(prog="shop", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", parents=[common], help="migrate, generate/load data, build indexes (idempotent)")
    p.add_argument("--products", type=int, default=5000)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--fresh", action="store_true", help="regenerate data and rebuild indexes from scratch")
    p.add_argument("--index-kind", choices=["auto", "flat", "ivf"], default="auto")
    p.add_argument("--today", type=dt.date.fromisoformat, default=None, help="reference date of the generated orders")

    p = sub.add_parser("import", parents=[common], help="load products from a CSV or JSON file (see shopdb/README.md)")
    p.add_argument("file", type=Path)
    p.add_argument("--replace", action="store_true", help="delete the existing catalogue first")
    p.add_argument("--dry-run", action="store_true", help="validate only")
    p.add_argument("--strict", action="store_true", help="load nothing if any row is invalid")

    sub.add_parser("migrate", parents=[common], help="alembic upgrade head")
    p = sub.add_parser("index", parents=[common], help="build, sync or verify the FAISS indexes")
    p.add_argument("--rebuild", action="store_true")
    p.add_argument("--verify", action="store_true", help="only check files against manifests")
    p.add_argument("--kind", choices=["auto", "flat", "ivf"], default="auto")
    p = sub.add_parser("revision", parents=[common], help="autogenerate an alembic revision")
    p.add_argument("-m", "--message", required=True)
    sub.add_parser("stats", parents=[common], help="row counts and index manifests")

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    settings = _settings(args)

    if args.command == "build":
        build(settings, args.products, fresh=args.fresh, seed=args.seed, today=args.today, index_kind=args.index_kind)
        return 0
    if args.command == "migrate":
        from shopdb.db import migrate

        migrate(settings.resolved_database_url)
        print("database at head")
        return 0
    if args.command == "revision":
        from alembic import command

        from shopdb.db import alembic_config

        command.revision(alembic_config(settings.resolved_database_url), message=args.message, autogenerate=True)
        return 0
    if args.command == "import":
        report = import_catalogue(settings, args.file, replace=args.replace, dry_run=args.dry_run, strict=args.strict)
        print(report.summary())
        for err in report.errors[:50]:
            print(f"  {err}", file=sys.stderr)
        if len(report.errors) > 50:
            print(f"  ... and {len(report.errors) - 50} more", file=sys.stderr)
        return 1 if report.errors else 0
    if args.command == "index":
        from retrieval.embeddings import embedder_for
        from retrieval.index import KnowledgeIndexError, VectorIndex
        from retrieval.indexing import POLICIES, PRODUCTS, build_indexes
        from shopdb.db import create_db_engine

        if args.verify:
            ok = True
            for name in (PRODUCTS, POLICIES):
                try:
                    vi = VectorIndex.load(settings.resolved_index_dir, name)
                    print(f"{name}: ok ({vi.ntotal} vectors, {vi.manifest.kind}, model {vi.manifest.model})")
                except KnowledgeIndexError as exc:
                    ok = False
                    print(f"{name}: {exc}")
            return 0 if ok else 1
        engine = create_db_engine(settings.resolved_database_url)
        for r in build_indexes(
            engine, settings.resolved_index_dir, embedder_for(settings), rebuild=args.rebuild, kind=args.kind
        ):
            print(f"index {r.name}: {r.count} vectors, {'up to date' if r.skipped else 'written'}, {r.seconds:.1f}s")
        return 0
    if args.command == "stats":
        from sqlalchemy import func, select

        from retrieval.index import KnowledgeIndexError, VectorIndex
        from shopdb import models as m
        from shopdb.db import create_db_engine

        engine = create_db_engine(settings.resolved_database_url)
        with engine.connect() as conn:
            # Type[Any]: the declarative classes derive from an untyped Base, which mypy would join to ``object``
            models: Tuple[Type[Any], ...] = (m.Product, m.Category, m.Customer, m.Order, m.Return, m.PolicyPassage)
            for model in models:
                print(f"{model.__tablename__:16s} {conn.execute(select(func.count()).select_from(model)).scalar_one()}")
        for name in ("products", "policies"):
            try:
                print(
                    json.dumps(
                        {
                            k: v
                            for k, v in vars(VectorIndex.read_manifest(settings.resolved_index_dir, name)).items()
                            if k != "source"
                        }
                    )
                )
            except KnowledgeIndexError as exc:
                print(f"{name}: {exc}")
        return 0
    return 2
