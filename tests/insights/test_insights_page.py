"""The analytics page in a real browser (Debian's Chromium): figures, charts, shopper text shown as text."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil

import pytest
from rasa.shared.core.events import SessionStarted

from insights.api import analytics_blueprint
from insights.consumer import consume_sql
from shopdb.models import ModelStatus, ModelVersion

from .conftest import action, publish, user
from .test_insights_api import free_port, new_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is installed by `make test-tools`")
def test_the_page_draws_the_figures_and_never_runs_shopper_text(shop, broker, tmp_path):
    playwright = pytest.importorskip("playwright.async_api")
    hostile = "<img src=x onerror=\"document.title='pwned'\">"
    publish(
        broker,
        "p-1",
        SessionStarted(),
        user("red shoes", "search_products", model_id="model-a"),
        user(hostile, "nlu_fallback", 0.1, model_id="model-a"),
        action("action_default_fallback"),
    )
    publish(
        broker,
        "p-2",
        SessionStarted(),
        user("human!", "request_human", model_id="model-b"),
        action("action_handoff_to_human"),
    )
    consume_sql(broker.url, shop.sessions)
    with shop.sessions.begin() as session:  # an A/B test in the model registry: model-b answers half the shoppers
        session.add(ModelVersion(status=ModelStatus.SERVING, model_id="model-a", path="a.tar.gz", metrics={}, gate={}))
        session.add(
            ModelVersion(
                status=ModelStatus.CANDIDATE,
                model_id="model-b",
                path="b.tar.gz",
                metrics={},
                gate={"passed": True},
                ab_share=0.5,
                ab_started_at=dt.datetime(2020, 1, 1),
            )
        )

    app = new_app()
    app.blueprint(analytics_blueprint(guard=lambda request: None, sessions=shop.sessions))

    async def main() -> None:
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        await server.startup()
        await server.before_start()
        await server.after_start()
        try:
            async with playwright.async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                page = await browser.new_page(viewport={"width": 390, "height": 900})
                await page.goto(f"http://127.0.0.1:{port}/insights/analytics/")
                await page.select_option("select[name=since]", "")
                await page.click("button[type=submit]")
                await page.wait_for_function("document.querySelector('#status').textContent.startsWith('Updated')")
                kpis = await page.inner_text("#kpis")
                assert "33.3 %" in kpis  # fallback rate: 1 of 3 messages
                assert "50.0 %" in kpis  # hand-off rate: 1 of 2 conversations
                assert await page.locator("#volume-chart svg rect").count() >= 3
                assert await page.inner_text("#unanswered tbody") == f"{hostile}\t1\t" + (
                    await page.inner_text("#unanswered tbody td:nth-child(3)")
                )
                assert await page.locator("#unanswered img").count() == 0 and await page.title() != "pwned"
                async with page.expect_download() as download:
                    await page.click("text=Unanswered questions (CSV)")
                path = await (await download.value).path()
                assert "onerror" in open(path, encoding="utf-8").read()
                assert await page.is_visible("#ab")
                assert "(serving, 1 conversations)" in await page.inner_text("#ab-a")
                rows = await page.inner_text("#ab tbody")
                assert "Hand-off rate\t0.0 %\t100.0 %" in rows and "Fallback rate\t50.0 %\t0.0 %" in rows
                assert "not enough conversations yet" in await page.inner_text("#ab-verdict")
                await page.screenshot(path=str(tmp_path / "analytics.png"), full_page=True)
                await browser.close()
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(main())
