"""The console's Models view in a real browser (Playwright + Debian's Chromium), on an assistant of
its own: an admin sees the registry, promotes a candidate that passed the gate (the Rasa server
swaps to it), cannot promote one the gate refused, and rolls back; other agents are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from learning import registry
from perf.model_swap import relabelled_copy
from shopdb.db import create_db_engine, session_factory

pytestmark = pytest.mark.slow

from playwright.sync_api import expect  # noqa: E402

SWAP_TIMEOUT = 90_000  # ms: the Rasa server loads the promoted model beside the old one


@pytest.fixture(scope="module")
def models_shop(assistant_on_a_copy, shop_at, trained_model: Path, tmp_path_factory) -> Iterator[Any]:
    from assistant.launcher import server_environment

    folder = tmp_path_factory.mktemp("candidates")
    with assistant_on_a_copy(SHOP_MODEL_POLL_SECONDS="1") as processes:
        shop = shop_at(processes.config.rasa_url, server_environment(processes.config))
        sessions = session_factory(create_db_engine(f"sqlite:///{processes.config.tracker_db.with_name('shop.db')}"))
        with sessions.begin() as session:
            registry.adopt(session, trained_model)  # or the server at its first poll, whichever comes first
        with sessions.begin() as session:
            passed = registry.register(
                session,
                relabelled_copy(trained_model, folder / "passed.tar.gz"),
                by="rene",
                gate={"passed": True, "reasons": []},
                metrics={"nlu_test": {"accuracy": 0.97, "examples": 161}},
            )
            refused = registry.register(
                session,
                relabelled_copy(trained_model, folder / "refused.tar.gz"),
                by="rene",
                gate={"passed": False, "reasons": ["shoppers: 0.610 against 0.876 in service"]},
            )
            shop.versions = (passed.id, refused.id)
        yield shop


def test_an_admin_promotes_a_passed_candidate_and_rolls_back(
    browser, models_shop, agent_in, artifacts: Path, trained_model: Path
) -> None:
    shop = models_shop
    passed, refused = shop.versions
    admin = agent_in(shop, "Ada", admin=True)
    agent = agent_in(shop, "Pat")

    other = requests.Session()
    assert other.post(f"{shop.channel}/agent/login", json={"username": agent.username, "password": agent.password}).ok
    assert other.get(f"{shop.channel}/agent/models", timeout=30).status_code == 403

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{shop.channel}/console")
    page.get_by_label("Username").fill(admin.username)
    page.get_by_label("Password").fill(admin.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Models").click()

    rows = page.locator("#models-list tr")
    expect(rows).to_have_count(3, timeout=30_000)
    expect(page.locator(f'tr[data-version="{refused}"] [data-role="gate"]')).to_contain_text("refused: shoppers: 0.610")
    expect(page.locator(f'tr[data-version="{refused}"]').get_by_role("button", name="Promote")).to_have_count(0)
    expect(page.locator(f'tr[data-version="{passed}"] [data-role="gate"]')).to_have_text("passed")
    page.screenshot(path=str(artifacts / "console-models.png"))

    # The gate's refusal holds over the API too.
    api = requests.Session()
    login = api.post(f"{shop.channel}/agent/login", json={"username": admin.username, "password": admin.password})
    csrf = {"X-CSRF-Token": login.json()["csrf"]}
    answer = api.post(f"{shop.channel}/agent/models/{refused}/promote", json={}, headers=csrf, timeout=30)
    assert answer.status_code == 409 and "did not pass the promotion gate" in answer.text

    page.locator(f'tr[data-version="{passed}"]').get_by_role("button", name="Promote").click()
    expect(page.locator(f'tr[data-version="{passed}"] [data-role="status"]')).to_have_text("serving")

    def this_server_serves(name: str) -> None:
        serving = page.locator("#models-serving")
        for _ in range(SWAP_TIMEOUT // 1000):
            page.get_by_role("button", name="Models").click()  # closes
            page.get_by_role("button", name="Models").click()  # and opens again: reloads
            if name in (serving.text_content() or ""):
                return
            page.wait_for_timeout(1000)
        raise AssertionError(f"the server did not swap to {name}: {serving.text_content()}")

    this_server_serves("passed.tar.gz")
    page.get_by_role("button", name="Roll back").click()
    expect(page.locator(f'tr[data-version="{passed}"] [data-role="status"]')).to_have_text("candidate")
    this_server_serves(trained_model.name)
