"""Fixtures of the web tests: a migrated SQLite shop database, and for the browser and API
tests the running assistant (``running_assistant`` of ``tests/conftest.py``: the project's bot
trained with ``bot/config.test.yml``, the action server and the Rasa server on free ports),
a support agent created with the real CLI, and Debian's Chromium driven by Playwright.

For quick iterations against an assistant you already started, set
``SHOP_WEB_TEST_SERVER=http://127.0.0.1:5005`` and ``SHOP_WEB_TEST_VAR_DIR=<its SHOP_VAR_DIR>``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Tuple

import pytest

from core.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
# Flags that work as root on these machines (see ../shared/docs/ENVIRONMENT.md); without the
# background-networking ones Chromium floods the closed network with refused connections.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "web"
README_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shop database with every migration applied (the real alembic chain), made once."""
    from shopdb.db import migrate

    path = tmp_path_factory.mktemp("web-db") / "shop.db"
    migrate(f"sqlite:///{path}", "heads")
    return path


@pytest.fixture
def db_url(tmp_path: Path, migrated_template: Path) -> str:
    """A fresh copy of the migrated database for one test."""
    for source in migrated_template.parent.glob("shop.db*"):
        shutil.copyfile(source, tmp_path / source.name)
    return f"sqlite:///{tmp_path / 'shop.db'}"


@pytest.fixture
def store(db_url: str):
    from handoff.store import HandoffStore

    return HandoffStore.from_url(db_url)


@pytest.fixture
def web_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[None]:
    """Point ``core.settings`` (and the cached default store) at a temp folder and database."""
    from core.settings import get_settings
    from handoff.store import default_store
    from shopdb.counters import default_limiter

    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SHOP_DATABASE_URL", db_url)
    monkeypatch.setenv("SHOP_SECRET_KEY", "test-secret-key-for-web-tests")
    get_settings.cache_clear()
    default_store.cache_clear()
    default_limiter.cache_clear()
    yield
    get_settings.cache_clear()
    default_store.cache_clear()
    default_limiter.cache_clear()


# -- the shop channel without a model ------------------------------------------------------------
def _channel_app(name: str) -> Tuple[Any, Any]:
    from rasa.core.agent import Agent
    from rasa.shared.core.domain import Domain
    from sanic import Sanic

    from web.channel import ShopChannel

    async def on_new_message(_: Any) -> None:  # the bot is never asked here
        raise AssertionError("no message goes to the bot")

    Sanic.test_mode = True
    app = Sanic(name)
    channel = ShopChannel.from_credentials({})
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/shop")
    app.ctx.agent = Agent(domain=Domain.load(str(PROJECT_ROOT / "bot" / "domain.yml")))
    return app, channel


@pytest.fixture
def channel_app() -> Callable[[str], Tuple[Any, Any]]:
    """``channel_app(name)`` -> (app, channel): a Sanic app with the shop channel's real blueprint and a Rasa
    ``Agent`` holding the bot's domain with Rasa's in-memory tracker and lock stores (no model: nothing
    may ask the bot). Serve it with ``serve_app``."""
    return _channel_app


# -- a real mail server on loopback ---------------------------------------------------------------
class Inbox:
    """aiosmtpd handler: keeps every message the server accepts."""

    def __init__(self) -> None:
        self.messages: List[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch, web_settings: None) -> Iterator[Inbox]:
    """aiosmtpd on a free loopback port, and ``SHOP_SMTP_URL`` pointing at it."""
    from aiosmtpd.controller import Controller

    from core.settings import get_settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SHOP_SMTP_URL", f"smtp://127.0.0.1:{port}")
    get_settings.cache_clear()
    yield inbox
    controller.stop()


# -- the running assistant ------------------------------------------------------------------
@dataclass
class LiveShop:
    url: str  # the Rasa server, e.g. http://127.0.0.1:5005
    env: Dict[str, str]  # environment of the servers (SHOP_VAR_DIR, ...)

    @property
    def channel(self) -> str:
        return f"{self.url}/webhooks/shop"


@pytest.fixture(scope="session")
def live_shop(request: pytest.FixtureRequest) -> LiveShop:
    server = os.environ.get("SHOP_WEB_TEST_SERVER")
    if server:
        env = dict(os.environ)
        env["SHOP_VAR_DIR"] = os.environ.get("SHOP_WEB_TEST_VAR_DIR", env.get("SHOP_VAR_DIR", ""))
        return LiveShop(url=server.rstrip("/"), env=env)
    assistant = request.getfixturevalue("running_assistant")
    shop_env = request.getfixturevalue("shop_env")
    return LiveShop(url=assistant.config.rasa_url, env=shop_env)


def sign_in_shopper(context, shop: LiveShop, customer_id: str = "C0000001", name: str = "Alex Morgan") -> None:
    """What a shop's own back end does for a signed-in shopper: render the page with a customer
    token signed with the assistant's secret. Here the demo page's ``/demo/config`` answer gets it
    (the demo page itself is a guest unless the development switch ``SHOP_DEMO_LOGIN`` is on)."""
    from core.settings import Settings
    from core.signing import CustomerTokens, resolve_secret_key

    secret = resolve_secret_key(
        Settings(var_dir=Path(shop.env["SHOP_VAR_DIR"]), secret_key=shop.env.get("SHOP_SECRET_KEY"))
    )
    token = CustomerTokens(secret).sign(customer_id)

    def add_token(route) -> None:
        reply = route.fetch()
        data = reply.json()
        data.update(customer={"customer_id": customer_id, "name": name}, customer_token=token)
        route.fulfill(response=reply, json=data)

    context.route("**/webhooks/shop/demo/config*", add_token)


@pytest.fixture
def signed_in() -> Callable[..., None]:
    return sign_in_shopper


@dataclass
class AgentAccount:
    username: str
    password: str
    display_name: str


def create_agent(shop: LiveShop, display_name: str, admin: bool = False, options: Tuple[str, ...] = ()) -> AgentAccount:
    """A new agent made with the real CLI (``python -m web create-agent``) in the servers' database;
    ``options``: more of its arguments (``--skills orders``, ``--capacity 1``, ``--supervisor``)."""
    account = AgentAccount(
        username=f"{display_name.lower()}-{secrets.token_hex(3)}",
        password=secrets.token_urlsafe(12),
        display_name=display_name,
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "web",
            "create-agent",
            account.username,
            "--display-name",
            display_name,
            "--password-stdin",
            *(["--admin"] if admin else []),
            *options,
        ],
        input=account.password + "\n",
        text=True,
        capture_output=True,
        env=shop.env,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    return account


@pytest.fixture(scope="session")
def agent_account(live_shop: LiveShop) -> AgentAccount:
    return create_agent(live_shop, "Robin")


@pytest.fixture
def make_agent(live_shop: LiveShop) -> Callable[..., AgentAccount]:
    return lambda display_name, admin=False: create_agent(live_shop, display_name, admin)


@pytest.fixture
def agent_in() -> Callable[..., AgentAccount]:
    """``agent_in(shop, display_name, options=("--skills", "orders"))``: an agent in another shop's database."""
    return create_agent


@pytest.fixture(scope="session")
def shop_at() -> Callable[[str, Dict[str, str]], LiveShop]:
    """``shop_at(url, env)``: a :class:`LiveShop` for servers a test started itself."""
    return lambda url, env: LiveShop(url=url, env=env)


# -- the browser ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright's sync API. It holds this thread's event loop until the
    session ends, so only tests/web (the last folder to run) uses it; elsewhere, drive it in a thread."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is missing: apt-get install -y chromium (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives every run a fresh temporary profile (its own --user-data-dir).
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def publish_screenshot() -> Callable[[Path, str], None]:
    """Refreshes a README screenshot when asked (SHOP_UPDATE_SCREENSHOTS=1), never by default."""

    def publish(source: Path, name: str) -> None:
        if os.environ.get("SHOP_UPDATE_SCREENSHOTS") == "1":
            README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, README_SCREENSHOTS / name)

    return publish


Scenario = Callable[[str], Awaitable[Any]]


async def _serve(app: Any, scenario: Scenario) -> Any:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        return await scenario(f"http://127.0.0.1:{port}")
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


@pytest.fixture
def serve_app() -> Callable[[Any, Scenario], Any]:
    """``serve_app(app, scenario)``: a Sanic app on a free loopback port while ``scenario(base_url)`` runs.

    In a thread of its own with its own event loop: once the browser tests have run, Playwright's
    sync API holds this thread's loop, and ``asyncio.run`` here would refuse to start.
    """

    def serve(app: Any, scenario: Scenario) -> Any:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, _serve(app, scenario)).result()

    return serve
