"""``python -m assistant.launcher`` with a broken shop: one actionable line and a non-zero exit.

Each case breaks one thing in a copy of the session's small shop (``shop_env``):
the database (a PostgreSQL database that does not exist, a port nothing listens
on, a damaged or missing SQLite file, an explicit database URL without
``SHOP_SECRET_KEY``), the FAISS indexes (missing, truncated) or the model. The launcher must name the file or URL and the command that fixes
it, on one line, without a traceback, and start no server. About 1-2 s a case.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from assistant.preflight import EXIT_PREFLIGHT
from core.settings import PROJECT_ROOT

NOTHING_LISTENS = 7299  # in this test's port range (7200-7299); nothing is started on it


def launch(env: Dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.launcher", "--port", "7298", "--actions-port", "7297", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def shop(tmp_path: Path, shop_env: Dict[str, str]) -> Dict[str, object]:
    """A private copy of the session's shop (database + indexes) and a stand-in model archive."""
    var = tmp_path / "var"
    source = Path(shop_env["SHOP_VAR_DIR"])
    var.mkdir()
    shutil.copy(source / "shop.db", var / "shop.db")
    shutil.copytree(source / "index", var / "index")
    model = tmp_path / "model.tar.gz"  # the checks read only the archive's header
    model.write_bytes(gzip.compress(b"not really a model"))
    env = {**shop_env, "SHOP_VAR_DIR": str(var)}
    for name in ("SHOP_RASA_TOKEN", "SHOP_SECRET_KEY", "SHOP_DATABASE_URL", "SHOP_INDEX_DIR"):
        env.pop(name, None)
    # The back end the index was built with, named: "auto" would import torch (2-3 s) in every case.
    built_by = json.loads((var / "index" / "products.manifest.json").read_text())["model"]
    env["SHOP_EMBEDDING_BACKEND"] = built_by.rpartition("@")[2] if "@" in built_by else "torch"
    return {"var": var, "env": env, "model": model}


def break_database_url(url: str) -> Callable[[Dict], List[str]]:
    def apply(shop: Dict) -> List[str]:
        shop["env"]["SHOP_DATABASE_URL"] = url
        shop["env"]["SHOP_SECRET_KEY"] = "k" * 32  # required with an explicit database URL (case below)
        return []

    return apply


def no_secret_key(shop: Dict) -> List[str]:
    shop["env"]["SHOP_DATABASE_URL"] = f"sqlite:///{shop['var'] / 'shop.db'}"  # the healthy copy, named explicitly
    shop["env"].pop("SHOP_SECRET_KEY", None)
    return []


def unreadable_hours(shop: Dict) -> List[str]:
    shop["env"]["SHOP_SUPPORT_HOURS"] = "weekdays 9 to 5"
    return []


def damage_sqlite(shop: Dict) -> List[str]:
    (shop["var"] / "shop.db").write_bytes(b"this is not SQLite " * 100)
    for suffix in ("-wal", "-shm"):
        (shop["var"] / f"shop.db{suffix}").unlink(missing_ok=True)
    return []


def remove_sqlite(shop: Dict) -> List[str]:
    (shop["var"] / "shop.db").unlink()
    return []


def remove_index(shop: Dict) -> List[str]:
    (shop["var"] / "index" / "products.faiss").unlink()
    return []


def truncate_index(shop: Dict) -> List[str]:
    path = shop["var"] / "index" / "policies.faiss"
    path.write_bytes(path.read_bytes()[:100])
    return []


def other_embedding_backend(shop: Dict) -> List[str]:
    shop["env"]["SHOP_EMBEDDING_BACKEND"] = "torch" if "@" in products_manifest_model(shop) else "onnx_int8"
    return []


def products_manifest_model(shop: Dict) -> str:
    return json.loads((shop["var"] / "index" / "products.manifest.json").read_text())["model"]


def remove_model(shop: Dict) -> List[str]:
    return ["--model", str(shop["var"] / "models" / "gone.tar.gz")]


def no_model_at_all(shop: Dict) -> List[str]:
    shop["model"] = None  # no --model and var/models is empty
    return []


CASES = {
    # case: (break it, words the (first) line must contain[, lines when not 1])
    "postgres database missing": (
        break_database_url("postgresql://postgres:hunter2@127.0.0.1:5432/faults_no_such_db"),
        [
            "postgresql://postgres:***@127.0.0.1:5432/faults_no_such_db",
            "does not exist",
            "createdb faults_no_such_db",
            "shop build",
        ],
    ),
    "nothing listens": (
        break_database_url(f"postgresql://postgres@127.0.0.1:{NOTHING_LISTENS}/shop"),
        [f"127.0.0.1:{NOTHING_LISTENS}", "database server is running", "SHOP_DATABASE_URL"],
    ),
    "secret key missing": (no_secret_key, ["SHOP_SECRET_KEY must be set", "secrets.token_urlsafe"]),
    "support hours unreadable": (unreadable_hours, ["SHOP_SUPPORT_HOURS", "weekdays 9 to 5", "Mon-Fri 09:00-18:00"]),
    "sqlite damaged": (damage_sqlite, ["shop.db", "not a database", "shop build"]),
    "sqlite missing": (remove_sqlite, ["shop.db", "missing", "shop build"]),
    "index missing": (remove_index, ["products.faiss", "missing", "shop index --rebuild"]),
    "index truncated": (truncate_index, ["policies.faiss", "checksum", "shop index --rebuild"]),
    "index of another embedder": (
        other_embedding_backend,
        ["'products' was built with model", "index folder", "shop index --rebuild"],
        2,
    ),  # both indexes
    "model missing": (remove_model, ["gone.tar.gz", "missing", "make train"]),
    "no model trained": (no_model_at_all, ["no trained model", "models", "make train"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_shop_gives_one_actionable_line_and_a_non_zero_exit(shop: Dict, case: str) -> None:
    breaker, words, *count = CASES[case]
    args = breaker(shop)
    if shop["model"] is not None and not args:
        args = ["--model", str(shop["model"])]
    result = launch(shop["env"], *args)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == EXIT_PREFLIGHT, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "The shop assistant is up" not in result.stdout
    assert len(lines) == (count[0] if count else 1), lines  # one line per problem
    assert all(line.startswith("cannot start the shop assistant: ") for line in lines), lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "hunter2" not in result.stderr  # the database password is never printed


def test_a_healthy_shop_passes_the_checks(shop: Dict) -> None:
    """The other side: the same copy, unbroken, has no problem (so the cases above fail for their reason)."""
    from assistant import preflight
    from core.settings import Settings

    settings = Settings(var_dir=shop["var"], _env_file=None)
    assert preflight.check(settings, shop["model"]) == []
