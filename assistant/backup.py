"""``shop backup`` and ``shop restore``: a consistent copy of everything the assistant keeps.

What is copied, from the settings and the endpoints file the servers use:

- the shop database (catalogue, orders, hand-offs, agents, ratings, profiles, analytics),
- Rasa's tracker store (every conversation),
- the SQL event broker's stream when it is SQL (the embedded mode; RabbitMQ's queue is transient),
- the search indexes and the shoppers' photos (files).

Each SQLite database is copied with SQLite's online backup API: one consistent snapshot per file
while the servers keep writing (WAL mode lets them). A PostgreSQL database is dumped with
``pg_dump --format=custom`` (a consistent snapshot too) and restored with ``pg_restore --clean``.
A backup is a folder with ``manifest.json``, which lists every file with its size and SHA-256;
restore checks them before it touches anything.

Restore into the stores the current settings name (``SHOP_VAR_DIR``, ``SHOP_DATABASE_URL``, the
endpoints file): stop the servers first. Trained models are not part of a backup (``shop train``
makes them again from ``bot/``, which git keeps).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlalchemy.engine import make_url

from core.settings import Settings, get_settings

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Store:
    """One database of the assistant: its role and SQLAlchemy URL."""

    name: str  # shop | tracker | events
    url: str

    @property
    def dialect(self) -> str:
        return make_url(self.url).get_backend_name()

    @property
    def sqlite_path(self) -> Path:
        database = make_url(self.url).database
        if not database or database == ":memory:":
            raise ValueError(f"the {self.name} store is not a SQLite file: {self.name} cannot be backed up")
        return Path(database)

    @property
    def file_name(self) -> str:
        return f"{self.name}.db" if self.dialect == "sqlite" else f"{self.name}.dump"


def stores(settings: Settings, endpoints: Optional[Path] = None) -> List[Store]:
    """The databases in use: the shop's, the tracker store's and the SQL event broker's."""
    from insights.stream import read_broker_config, tracker_store_url

    found = [Store("shop", settings.resolved_database_url)]
    tracker = tracker_store_url(endpoints, settings)
    if tracker:
        found.append(Store("tracker", tracker))
    broker = read_broker_config(endpoints, settings)
    if broker is not None and broker.is_sql:
        found.append(Store("events", broker.sql_url()))
    return found


def folders(settings: Settings) -> Dict[str, Path]:
    """The folders of files: the search indexes and the shoppers' photos."""
    from shopdb.photos import photos_dir

    return {"index": settings.resolved_index_dir, "photos": photos_dir(settings)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections keep writing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source, timeout=30)  # read-write open: read-only ones fail on a WAL file without -shm
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # all pages in one step: one snapshot of the source
    finally:
        dst.close()
        src.close()


def _pg_command(tool: str, url: str) -> tuple[List[str], Dict[str, str]]:
    """``tool``'s connection arguments for a PostgreSQL URL; the password goes in the environment."""
    import os

    parsed = make_url(url)
    args = [tool, "--host", parsed.host or "localhost", "--port", str(parsed.port or 5432)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args + ["--dbname", parsed.database or ""], env


def _file_entry(path: Path, root: Path) -> Dict[str, Any]:
    return {"path": str(path.relative_to(root)), "bytes": path.stat().st_size, "sha256": _sha256(path)}


def backup(target: Path, settings: Optional[Settings] = None, endpoints: Optional[Path] = None) -> Dict[str, Any]:
    """Write a backup into the new folder ``target``; returns its manifest."""
    settings = settings or get_settings()
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} is not empty: a backup goes into a new folder")
    target.mkdir(parents=True, exist_ok=True)
    manifest: Dict[str, Any] = {
        "format": FORMAT_VERSION,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "stores": {},
        "folders": {},
    }
    for store in stores(settings, endpoints):
        out = target / store.file_name
        if store.dialect == "sqlite":
            if not store.sqlite_path.exists():
                continue  # e.g. no conversation yet: nothing to keep
            _sqlite_copy(store.sqlite_path, out)
        elif store.dialect == "postgresql":
            command, env = _pg_command("pg_dump", store.url)
            subprocess.run([*command, "--format=custom", "--file", str(out)], env=env, check=True)
        else:
            raise ValueError(f"cannot back up a {store.dialect} database ({store.name})")
        manifest["stores"][store.name] = {"dialect": store.dialect, **_file_entry(out, target)}
    for name, folder in folders(settings).items():
        if not folder.is_dir():
            continue
        shutil.copytree(folder, target / name)
        files = sorted(p for p in (target / name).rglob("*") if p.is_file())
        manifest["folders"][name] = [_file_entry(p, target) for p in files]
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def verify(source: Path) -> Dict[str, Any]:
    """The backup's manifest, after checking every file it lists; raises ValueError on a mismatch."""
    manifest = json.loads((source / MANIFEST).read_text())
    if manifest.get("format") != FORMAT_VERSION:
        raise ValueError(f"backup format {manifest.get('format')} is not {FORMAT_VERSION}")
    entries = list(manifest["stores"].values()) + [e for files in manifest["folders"].values() for e in files]
    for entry in entries:
        path = source / entry["path"]
        if not path.is_file() or path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            raise ValueError(f"{entry['path']} is missing or damaged in the backup")
    return manifest


def restore(
    source: Path, settings: Optional[Settings] = None, endpoints: Optional[Path] = None, force: bool = False
) -> Dict[str, Any]:
    """Put the backup in ``source`` back into the stores the settings name (servers stopped)."""
    settings = settings or get_settings()
    manifest = verify(source)
    current = {store.name: store for store in stores(settings, endpoints)}
    missing = set(manifest["stores"]) - set(current)
    if missing:
        raise ValueError(f"the current configuration has no {', '.join(sorted(missing))} store to restore into")
    for name, entry in manifest["stores"].items():
        store = current[name]
        if store.dialect != entry["dialect"]:
            raise ValueError(f"the {name} store was {entry['dialect']} and is now {store.dialect}")
        if store.dialect == "sqlite" and store.sqlite_path.exists() and not force:
            raise FileExistsError(f"{store.sqlite_path} exists: pass --force to replace it")
    for name, entry in manifest["stores"].items():
        store = current[name]
        if store.dialect == "sqlite":
            _sqlite_copy(source / entry["path"], store.sqlite_path)  # replaces every page of the target
        else:
            command, env = _pg_command("pg_restore", store.url)
            subprocess.run(
                [*command, "--clean", "--if-exists", "--no-owner", str(source / entry["path"])], env=env, check=True
            )
    for name, folder in folders(settings).items():
        if name not in manifest["folders"]:
            continue
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(source / name, folder)
    return manifest


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="shop", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("backup", help="copy the databases, indexes and photos into a new folder")
    p.add_argument("target", nargs="?", type=Path, help="default <var_dir>/backups/<UTC time>")
    p.add_argument("--endpoints", type=Path, help="the servers' endpoints file (default bot/endpoints.yml)")
    p = sub.add_parser("restore", help="put a backup back (stop the servers first)")
    p.add_argument("source", type=Path)
    p.add_argument("--endpoints", type=Path, help="the servers' endpoints file (default bot/endpoints.yml)")
    p.add_argument("--force", action="store_true", help="replace existing SQLite databases")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        if args.command == "backup":
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            target = args.target or settings.var_dir / "backups" / stamp
            manifest = backup(target, settings, args.endpoints)
            action = f"backed up into {target}"
        else:
            manifest = restore(args.source, settings, args.endpoints, force=args.force)
            action = f"restored from {args.source}"
    except (FileExistsError, ValueError, subprocess.CalledProcessError, sqlite3.Error) as error:
        print(f"shop {args.command}: {error}", file=sys.stderr)
        return 1
    parts = [f"{name} ({entry['bytes'] / 1e6:.1f} MB)" for name, entry in manifest["stores"].items()]
    parts += [f"{name} ({len(files)} files)" for name, files in manifest["folders"].items()]
    print(f"{action}: {', '.join(parts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
