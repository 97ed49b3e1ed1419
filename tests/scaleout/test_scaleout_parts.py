"""The scale-out launcher's parts that need no running servers: config, nginx front, event accounting."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from perf.scaleout_stack import (
    SCALEOUT_ENDPOINTS,
    ScaleOutConfig,
    ScaleOutProcesses,
    account_events,
    nginx_main_config,
    nginx_site,
)


def test_the_servers_get_every_variable_of_the_scaleout_endpoints(tmp_path: Path) -> None:
    used = set(re.findall(r"\$\{(\w+)\}", SCALEOUT_ENDPOINTS.read_text()))
    stack = ScaleOutProcesses(ScaleOutConfig(model=Path("m.tar.gz"), base_port=7040, run_dir=tmp_path))
    env = stack.environment()
    assert used <= set(env), used - set(env)
    assert env["SHOP_ACTION_ENDPOINT_URL"] == "http://127.0.0.1:7041/webhook"  # through the front
    assert env["SHOP_SECRET_KEY"] and env["SHOP_DATABASE_URL"].startswith("postgresql://")


def test_ports_do_not_overlap() -> None:
    config = ScaleOutConfig(model=Path("m.tar.gz"), rasa_servers=3, action_servers=2, base_port=7040)
    ports = [config.front_port, config.actions_front_port, *config.rasa_ports, *config.actions_ports]
    assert len(set(ports)) == len(ports) == 7 and max(ports) < 7050


def test_front_balances_rest_freely_and_sockets_sticky() -> None:
    site = nginx_site(
        ["127.0.0.1:1", "127.0.0.1:2"], ["127.0.0.1:3"], listen="127.0.0.1:9", actions_listen="127.0.0.1:8"
    )
    rest = site[site.index("upstream rasa_servers") : site.index("upstream rasa_sockets")]
    sockets = site[site.index("upstream rasa_sockets") : site.index("upstream action_servers")]
    assert "least_conn" in rest and "ip_hash" not in rest
    assert "ip_hash" in sockets
    assert rest.count("server 127.0.0.1:") == sockets.count("server 127.0.0.1:") == 2
    assert "proxy_next_upstream error timeout" in site


@pytest.mark.skipif(not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()), reason="nginx not installed")
def test_generated_nginx_configuration_is_valid(tmp_path: Path) -> None:
    site = nginx_site(
        ["127.0.0.1:7042", "127.0.0.1:7043"],
        ["127.0.0.1:7044"],
        listen="127.0.0.1:7040",
        actions_listen="127.0.0.1:7041",
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_main_config(site, tmp_path))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _tracker(tmp_path: Path, rows: list) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp FLOAT)")
        )
        for row in rows:
            connection.execute(
                text("INSERT INTO events (sender_id, type_name, timestamp) VALUES (:s, :t, :ts)"),
                {"s": row[0], "t": row[1], "ts": row[2]},
            )
    engine.dispose()
    return url


def test_event_accounting_finds_lost_duplicated_and_unknown_events(tmp_path: Path) -> None:
    url = _tracker(tmp_path, [("a", "user", 1.5), ("a", "action", 1.6), ("b", "user", 2.25)])
    published = [
        {"sender_id": "a", "event": "user", "timestamp": 1.5},
        {"sender_id": "a", "event": "action", "timestamp": 1.6},
        {"sender_id": "a", "event": "action", "timestamp": 1.6},  # published twice
        {"sender_id": "c", "event": "user", "timestamp": 9.0},  # never stored
    ]  # b's user event never published
    account = account_events(url, published)
    assert (account.lost, account.duplicated, account.unknown) == (1, 1, 1)
    assert not account.consistent
    only_a = account_events(url, published[:2], senders=["a"])
    assert only_a.consistent and only_a.tracker_events == only_a.broker_events == 2
