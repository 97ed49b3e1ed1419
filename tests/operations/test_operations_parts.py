"""The parts behind /metrics and /health: readiness verdicts, the metrics token, worker metrics merged
across processes, JSON log lines (masked, with the turn's fields), and one definition of a fallback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, List

from core.settings import PROJECT_ROOT
from monitoring.health import NotReady, readiness
from monitoring.operations_server import metrics_allowed, operations_app


def test_ready_only_when_every_check_passes_and_errors_do_not_leak() -> None:
    def fine() -> None:
        return None

    def loading() -> None:
        raise NotReady("loading the catalogue")

    def broken() -> None:
        raise RuntimeError("postgresql://shop:secret@db/shop refused")

    async def slow() -> None:
        await asyncio.sleep(5)

    status, report = asyncio.run(readiness({"a": fine}))
    assert (status, report["status"], report["checks"]) == (200, "ready", {"a": "ok"})
    status, report = asyncio.run(readiness({"a": fine, "b": loading, "c": broken, "d": slow}, timeout=0.2))
    assert status == 503 and report["status"] == "not ready"
    assert report["checks"] == {
        "a": "ok",
        "b": "loading the catalogue",
        "c": "failed (RuntimeError)",  # the message may hold a URL with a password: type only
        "d": "no answer within 0 s",
    }


def test_metrics_need_the_token_only_when_one_is_set() -> None:
    assert metrics_allowed(None, token="")
    assert not metrics_allowed(None, token="s3cret")
    assert not metrics_allowed("Bearer wrong", token="s3cret")
    assert metrics_allowed("Bearer s3cret", token="s3cret")


def _call(app: Any, path: str, method: str = "GET") -> tuple[str, bytes]:
    status: List[str] = []
    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": method}, lambda s, h: status.append(s)))
    return status[0], body


def test_the_consumers_operations_app_serves_three_paths() -> None:
    def loading() -> None:
        raise NotReady("not consuming yet")

    app = operations_app({"consumer_loop": loading})
    status, body = _call(app, "/health/live")
    assert status.startswith("200") and json.loads(body)["status"] == "live"
    status, body = _call(app, "/health/ready")
    assert status.startswith("503") and json.loads(body)["checks"] == {"consumer_loop": "not consuming yet"}
    status, body = _call(app, "/metrics")
    assert status.startswith("200") and b"# HELP" in body
    assert _call(app, "/metrics", "POST")[0].startswith("405")
    assert _call(app, "/anything")[0].startswith("404")


def test_forked_workers_metrics_are_added_up(tmp_path: Path) -> None:
    """Multi-process mode (a server with several Sanic workers): each worker counts in its own file,
    and the page shows the sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = "from monitoring import metrics; metrics.HANDOFFS.inc({n})"
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", count.format(n=n)], env=env, check=True, cwd=PROJECT_ROOT)
    page = subprocess.run(
        [sys.executable, "-c", "from monitoring import metrics; print(metrics.exposition()[0].decode())"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    ).stdout
    assert "shop_handoffs_total 5.0" in page


def test_json_log_lines_are_masked_and_carry_the_turn_fields() -> None:
    """As `rasa run` does it: bot/logging.yml first, then Rasa's coloured console handler."""
    script = f"""
import logging
from rasa.utils.common import configure_logging_from_file
import rasa.utils.io
from monitoring.json_logs import bind
configure_logging_from_file({str(PROJECT_ROOT / "bot" / "logging.yml")!r})
rasa.utils.io.configure_colored_logging("INFO")
with bind(conversation="c:0123456789", model="shop.tar.gz"):
    logging.getLogger("shop.turns").info("turn for %s", "bob@example.com", extra={{"total_ms": 12.5}})
try:
    raise ValueError("order ORD-555555 of bob@example.com")
except ValueError:
    logging.getLogger("rasa.core").exception("failed")
"""
    env = {**os.environ, "SHOP_LOG_FORMAT": "json"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    turn = next(line for line in lines if line["logger"] == "shop.turns")
    assert turn["event"] == "turn for <email>"
    assert (turn["conversation"], turn["model"], turn["total_ms"], turn["level"]) == (
        "c:0123456789",
        "shop.tar.gz",
        12.5,
        "info",
    )
    failure = next(line for line in lines if line["logger"] == "rasa.core")
    assert "ValueError" in failure["exception"] and "bob@example.com" not in failure["exception"]
    assert "bob@example.com" not in result.stderr + result.stdout


def test_the_turn_metrics_count_fallbacks_as_the_analytics_do() -> None:
    from insights.intent_meanings import FALLBACK_ACTIONS, FALLBACK_INTENTS
    from rasa_addons.patches import turn_metrics

    assert turn_metrics.FALLBACK_ACTIONS == FALLBACK_ACTIONS
    assert turn_metrics.FALLBACK_INTENTS == FALLBACK_INTENTS


def test_every_metric_is_documented() -> None:
    from monitoring import metrics

    documented = (PROJECT_ROOT / "docs" / "operations.md").read_text()
    names = []
    for role in (metrics.RASA, metrics.ACTIONS, metrics.INSIGHTS):
        for metric in metrics._ROLE_METRICS[role]:
            suffix = "_total" if metric._type == "counter" else ""
            names.append(metric._name + suffix)
    collector_source = (PROJECT_ROOT / "handoff" / "metrics.py").read_text()
    import re

    names += re.findall(r'GaugeMetricFamily\(\s*"(\w+)"', collector_source)
    assert len(names) >= 25
    assert [name for name in names if f"`{name}`" not in documented] == []
