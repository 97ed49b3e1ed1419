"""A real Prometheus (Debian's) scrapes the running servers: the Rasa server, the action server and
the insights consumer, as `make start` runs them. It loads the project's alert rules
(deploy/prometheus/alerts.yml), and every query of the Grafana dashboard
(deploy/grafana/shop-assistant.json) runs on what it scraped."""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from assistant.launcher import BOT_DIR, insights_consumer_command, server_environment, wait_until_up
from core.settings import PROJECT_ROOT

PROMETHEUS = shutil.which("prometheus")
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(PROMETHEUS is None, reason="Prometheus is installed by `make test-tools`")

ALERTS = PROJECT_ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "shop-assistant.json"
JOBS = ("shop-rasa", "shop-actions", "shop-insights")


def _get(url: str, timeout: float = 10) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _post(url: str, body: Dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


class PrometheusAPI:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> List[Dict[str, Any]]:
        reply = _get(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}")
        assert reply["status"] == "success", (expr, reply)
        return reply["data"]["result"]

    def value(self, expr: str) -> float:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else float("nan")

    def wait_for(self, expr: str, ok: Any, timeout: float = 45) -> float:
        deadline = time.monotonic() + timeout
        value = float("nan")
        while time.monotonic() < deadline:
            value = self.value(expr)
            if not math.isnan(value) and ok(value):
                return value
            time.sleep(0.5)
        raise AssertionError(f"{expr} = {value} after {timeout:.0f} s")


@pytest.fixture(scope="module")
def consumer_url(running_assistant, tmp_path_factory, pick_ports) -> Iterator[str]:
    """The insights consumer on the assistant's event stream, with a shop database of its own
    (its cursor and profiles stay apart from the other tests' consumers)."""
    config = running_assistant.config
    var = Path(server_environment(config)["SHOP_VAR_DIR"])
    own = tmp_path_factory.mktemp("consumer-db")
    shutil.copyfile(var / "shop.db", own / "shop.db")
    (port,) = pick_ports(1)
    env = server_environment(config)
    env["SHOP_DATABASE_URL"] = f"sqlite:///{own / 'shop.db'}"
    log = open(own / "consumer.log", "wb")
    process = subprocess.Popen(
        insights_consumer_command(config.endpoints, port), cwd=BOT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/health/ready", 60, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def prometheus(running_assistant, consumer_url, tmp_path_factory, pick_ports) -> Iterator[PrometheusAPI]:
    """Prometheus scraping the three servers every second, with the project's alert rules."""
    assert PROMETHEUS is not None
    config = running_assistant.config
    work = tmp_path_factory.mktemp("prometheus")
    targets = {
        "shop-rasa": urllib.parse.urlsplit(config.rasa_url).netloc,
        "shop-actions": urllib.parse.urlsplit(config.actions_url).netloc,
        "shop-insights": urllib.parse.urlsplit(consumer_url).netloc,
    }
    (work / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(ALERTS)],
                "scrape_configs": [
                    {"job_name": job, "static_configs": [{"targets": [target]}]} for job, target in targets.items()
                ],
            }
        )
    )
    (port,) = pick_ports(1)
    log = open(work / "prometheus.log", "wb")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/-/ready", 60, process)
        yield PrometheusAPI(url)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_prometheus_scrapes_every_server_and_sees_the_turns(running_assistant, prometheus) -> None:
    rasa = running_assistant.config.rasa_url
    for job in JOBS:
        prometheus.wait_for(f'up{{job="{job}"}}', lambda up: up == 1)
    before = prometheus.wait_for("sum(shop_turn_seconds_count)", lambda _: True)
    consumed_before = prometheus.wait_for("sum(shop_events_consumed_total)", lambda _: True)

    session = _post(f"{rasa}/webhooks/shop/session", {})["session_id"]
    for message in ("hi", "do you have red dresses?", "what are your delivery times?"):
        assert _post(f"{rasa}/webhooks/shop/webhook", {"sender": session, "message": message})

    prometheus.wait_for("sum(shop_turn_seconds_count)", lambda turns: turns >= before + 3)
    for stage in ("nlu", "policy", "action"):
        prometheus.wait_for(f'sum(shop_turn_stage_seconds_count{{stage="{stage}"}})', lambda n: n >= before + 3)
    prometheus.wait_for('sum(shop_action_seconds_count{action="action_search_products"})', lambda n: n >= 1)
    prometheus.wait_for("sum(shop_events_consumed_total)", lambda n: n > consumed_before)
    prometheus.wait_for("sum(shop_events_published_total)", lambda n: n > 0)
    p95 = prometheus.wait_for(
        "histogram_quantile(0.95, sum by (le) (rate(shop_turn_seconds_bucket[1m])))", lambda s: s > 0
    )
    assert p95 < 10
    (model,) = prometheus.query("shop_model_info")
    assert model["metric"]["model"] == running_assistant.config.model.name
    assert prometheus.value("max(shop_handoff_queue_length)") >= 0  # read from the database at scrape time

    # No series carries a conversation: label values are bounded (stages, intents, actions, scores).
    match = urllib.parse.urlencode({"match[]": '{__name__=~"shop_.*"}'})
    series = _get(f"{prometheus.url}/api/v1/series?{match}")
    values = {value for labels in series["data"] for value in labels.values()}
    assert not any(session in value or session[:12] in value for value in values)


def test_the_alert_rules_load_and_every_dashboard_query_runs(prometheus) -> None:
    """The alerts evaluate without error, and every dashboard panel's query names only metrics a
    server exports and returns data."""
    deadline = time.monotonic() + 30
    while True:
        groups = _get(f"{prometheus.url}/api/v1/rules")["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        if rules and all(rule.get("health") == "ok" for rule in rules) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {rule["name"] for rule in rules} >= {
        "ShopServerDown",
        "ShopTurnErrors",
        "ShopSlowTurns",
        "ShopHandoffQueueWait",
        "ShopEventBrokerLag",
    }
    assert [rule["name"] for rule in rules if rule.get("health") != "ok"] == []
    assert not [rule["name"] for rule in rules if rule["state"] == "firing" and rule["name"] == "ShopServerDown"]

    exported = set(_get(f"{prometheus.url}/api/v1/label/__name__/values")["data"])
    expressions = [
        target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel.get("targets", [])
    ]
    assert len(expressions) >= 20
    for rule in yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]:
        expressions.append(rule["expr"])
    for expr in expressions:
        for name in re.findall(r"\b((?:shop|process)_[a-z_]+)\b", expr):
            assert name in exported, f"{name} (in {expr!r}) is exported by no server"
        prometheus.query(expr)  # a syntax or type error fails here


def _screenshot(page_file: Path, png: Path) -> int:
    """Open the page in Debian's Chromium and save a screenshot; returns the lines drawn. In a thread
    of its own: Playwright's sync API would keep this thread's event loop for the rest of the session."""
    from playwright.sync_api import sync_playwright

    def shoot() -> int:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
            )
            page = browser.new_page(viewport={"width": 1180, "height": 900})
            page.goto(page_file.as_uri())
            lines = page.locator("section.panel svg polyline").count()
            page.screenshot(path=str(png), full_page=True)
            browser.close()
            return lines

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(shoot).result()


def test_the_dashboard_page_draws_every_panel_from_prometheus(prometheus) -> None:
    """`shop dashboard`: the Grafana dashboard's panels drawn from this Prometheus' data."""
    from monitoring.dashboard import render

    prometheus.wait_for("sum(rate(shop_turn_seconds_count[1m]))", lambda rate: rate > 0)
    page_html = render(prometheus.url, minutes=3)
    spec = json.loads(DASHBOARD.read_text())
    for title in (panel["title"] for panel in spec["panels"]):
        assert f">{html.escape(title)}<" in page_html, title
    out = PROJECT_ROOT / "test-artifacts" / "operations"
    out.mkdir(parents=True, exist_ok=True)
    (out / "dashboard.html").write_text(page_html)
    if CHROMIUM is None:
        pytest.skip("Chromium is installed by `make test-tools`")
    assert _screenshot(out / "dashboard.html", out / "dashboard.png") >= 10  # lines drawn, not "no data"
