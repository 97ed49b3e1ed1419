"""Fixtures shared by the end-to-end tests: a small shop, a trained bot, running servers.

Each is built once per test session, from the project's real code, in a
temporary folder: a small catalogue in SQLite with its FAISS index
(``shop build``), a bot trained with ``bot/config.test.yml`` (the
same data as production, fewer epochs), and the action server + Rasa server
started by :class:`assistant.launcher.AssistantProcesses` on free ports.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import shutil
import socket
import subprocess
import sys
import threading
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import pytest

from assistant.launcher import AssistantProcesses, LaunchConfig, latest_model
from core.settings import PROJECT_ROOT, Settings

BOT_DIR = PROJECT_ROOT / "bot"

TEST_CATALOGUE_SIZE = 600
# Hand-off tests need agents on duty whatever the hour the suite runs at, in this process and in the
# servers it starts (shop_env copies the environment); tests of the closed hours set their own.
os.environ["SHOP_SUPPORT_HOURS"] = "always"
# Agents take conversations from the queue in these tests; the routing tests run servers of their own
# with SHOP_HANDOFF_ROUTING=auto (the default), so no ticket of another test is routed to their agents.
os.environ["SHOP_HANDOFF_ROUTING"] = "manual"


def free_ports(count: int) -> List[int]:
    """``count`` distinct free loopback ports.

    All sockets stay bound until every port is picked: a port released and asked for
    again can come straight back, and two servers given one port fail to start.
    """
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


@pytest.fixture(scope="session")
def pick_ports():
    """:func:`free_ports` for tests that start servers of their own."""
    return free_ports


def _run(command: list, env: Dict[str, str], cwd: Path = PROJECT_ROOT) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )


class ShopSite:
    """A shop's own web site on another loopback port: another origin than the assistant's.

    Serves the pages a test puts in :attr:`pages` (path -> (content type, body)); 404 otherwise.
    """

    def __init__(self) -> None:
        self.pages: Dict[str, Tuple[str, bytes]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                content_type, body = site.pages.get(self.path.split("?")[0], ("text/plain", b""))
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8") -> str:
        """Serve ``body`` at ``path``; returns its URL."""
        self.pages[path] = (content_type, body.encode() if isinstance(body, str) else body)
        return self.origin + path


@pytest.fixture(scope="session")
def shop_sites() -> Iterator[Tuple[ShopSite, ShopSite]]:
    """(a site allowed to embed the widget, one that is not): their ports are bound before the servers start."""
    sites = ShopSite(), ShopSite()
    yield sites
    for site in sites:
        site.server.shutdown()


@pytest.fixture(scope="session")
def shop_env(tmp_path_factory: pytest.TempPathFactory, shop_sites: Tuple[ShopSite, ShopSite]) -> Dict[str, str]:
    """Environment pointing every process at a fresh, small shop in a temp folder."""
    var_dir = tmp_path_factory.mktemp("shop-var")
    env = dict(os.environ)
    env.update(
        SHOP_VAR_DIR=str(var_dir),
        SHOP_WIDGET_ORIGINS=shop_sites[0].origin,  # the shop's own site embeds the widget
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONUNBUFFERED="1",
        # Every test of the session talks from 127.0.0.1, and the limits are shared and persistent:
        # room for all of them (the limit tests use addresses of their own).
        SHOP_HANDOFF_CLIENT_LIMIT="100",
        SHOP_VERIFY_CLIENT_LIMIT="200",
    )
    env.pop("SHOP_DATABASE_URL", None)
    env.pop("SHOP_INDEX_DIR", None)
    _run([sys.executable, "-m", "cli.shop", "build", "--products", str(TEST_CATALOGUE_SIZE)], env)
    return env


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory, shop_env: Dict[str, str]) -> Path:
    """The whole bot trained with the quick test configuration.

    ``SHOP_TEST_MODEL`` names an archive already trained from this checkout with
    ``config.test.yml`` (to rerun a few test files without training again).
    """
    prebuilt = os.environ.get("SHOP_TEST_MODEL")
    if prebuilt and Path(prebuilt).is_file():
        return Path(prebuilt)
    out = tmp_path_factory.mktemp("models")
    rasa = str(Path(sys.executable).with_name("rasa"))
    _run(
        [
            rasa,
            "train",
            "--config",
            "config.test.yml",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            str(out),
            "--fixed-model-name",
            "shop-test",
        ],
        shop_env,
        cwd=BOT_DIR,
    )
    return latest_model(out)


@contextlib.contextmanager
def _launched(
    shop_env: Dict[str, str], model: Path, var_dir: Path, env: Dict[str, str]
) -> Iterator[AssistantProcesses]:
    """The servers on free loopback ports over ``var_dir``, as `make start` runs them (their logs on failure)."""
    rasa_port, actions_port = free_ports(2)
    config = LaunchConfig(
        model=model,
        rasa_port=rasa_port,
        actions_port=actions_port,
        tracker_db=var_dir / "tracker.db",
        log_dir=var_dir / "logs",
        extra_env={
            **{k: v for k, v in shop_env.items() if k.startswith("SHOP_") or k.endswith("_OFFLINE")},
            **env,
        },
    )
    processes = AssistantProcesses(config)
    try:
        processes.start()
    except Exception:
        for log in sorted((var_dir / "logs").glob("*.log")):
            sys.stderr.write(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}\n")
        raise
    try:
        yield processes
    finally:
        processes.stop()


@pytest.fixture(scope="session")
def running_assistant(
    tmp_path_factory: pytest.TempPathFactory, shop_env: Dict[str, str], trained_model: Path
) -> Iterator[AssistantProcesses]:
    """Action server + Rasa server on free loopback ports, as `make start` runs them."""
    with _launched(shop_env, trained_model, Path(shop_env["SHOP_VAR_DIR"]), {}) as processes:
        yield processes


@pytest.fixture(scope="session")
def assistant_on_a_copy(
    shop_env: Dict[str, str], trained_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., "contextlib.AbstractContextManager[AssistantProcesses]"]:
    """``with assistant_on_a_copy(SHOP_X="...") as processes:`` the servers as `make start` runs them, on
    a copy of the test shop (database and index) with settings of their own: for tests that write
    orders or hand-offs, or need another mode, apart from the session's ``running_assistant``."""

    @contextlib.contextmanager
    def launch(**env: str) -> Iterator[AssistantProcesses]:
        source = Path(shop_env["SHOP_VAR_DIR"])
        var = tmp_path_factory.mktemp("assistant-copy")
        shutil.copyfile(source / "shop.db", var / "shop.db")
        shutil.copytree(source / "index", var / "index")
        with _launched(shop_env, trained_model, var, {"SHOP_VAR_DIR": str(var), **env}) as processes:
            yield processes

    return launch


# -- a small shop of its own for the database and retrieval tests ------------------------------------
SHOP_TODAY = dt.date(2025, 3, 1)
SHOP_NOW = dt.datetime(2025, 3, 1, 12, 0, 0)
N_PRODUCTS = 300


@pytest.fixture(scope="session")
def built_shop(tmp_path_factory) -> Settings:
    from assistant.shop_data import build

    root = tmp_path_factory.mktemp("shop")
    settings = Settings(var_dir=root, database_url=f"sqlite:///{root / 'shop.db'}", index_dir=root / "index")
    build(settings, N_PRODUCTS, today=SHOP_TODAY, progress=False, out=io.StringIO())
    return settings


@pytest.fixture
def shop_settings(built_shop: Settings, tmp_path: Path) -> Settings:
    """A private copy of the built shop (database + indexes)."""
    src = built_shop.var_dir
    for name in ("shop.db", "shop.db-wal", "shop.db-shm"):
        if (src / name).exists():
            shutil.copy(src / name, tmp_path / name)
    shutil.copytree(src / "index", tmp_path / "index")
    return Settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'shop.db'}", index_dir=tmp_path / "index")


@pytest.fixture
def search(shop_settings: Settings):
    """Product and policy search over the private copy of the small shop."""
    from retrieval.shop_search import ShopSearch

    shop_search = ShopSearch.from_settings(shop_settings)
    yield shop_search
    shop_search.engine.dispose()


@pytest.fixture
def orders(shop_settings: Settings):
    """The order operations on the private copy, with the shop's clock at SHOP_NOW."""
    from shopdb.orders import Orders

    shop_orders = Orders.from_settings(shop_settings, clock=lambda: SHOP_NOW)
    yield shop_orders
    shop_orders.engine.dispose()
