"""docker-compose.yml must match the code: no Docker engine runs here, so these
checks are what keeps the production topology honest."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from assistant import launcher
from core.settings import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_ROOT = Path("/app")  # WORKDIR of the Dockerfile


def repo_path(container_path: str, working_dir: str) -> Path:
    path = Path(working_dir) / container_path
    return PROJECT_ROOT / path.relative_to(APP_ROOT)


def shop_env(service: str) -> dict:
    return SERVICES[service]["environment"]


def test_topology_has_every_part() -> None:
    assert {"rasa", "actions", "postgres", "redis", "rabbitmq", "web", "shop-init", "insights-consumer"} <= set(
        SERVICES
    )
    assert SERVICES["rasa"]["deploy"]["replicas"] >= 2


def test_rasa_service_runs_the_launchers_command() -> None:
    service = SERVICES["rasa"]
    command = service["command"]
    expected = launcher.rasa_server_command(
        Path("/app/var/models"),
        port=5005,
        host="0.0.0.0",
        endpoints=Path("endpoints.scaleout.yml"),
        credentials=Path("credentials.yml"),
        logging_config=Path("logging.yml"),
    )
    assert command[0] == "rasa" and command[1:] == expected[1:]
    for flag in ("--endpoints", "--credentials", "--logging-config-file"):
        assert repo_path(command[command.index(flag) + 1], service["working_dir"]).is_file()
    assert "5005" in [str(p) for p in service["expose"]]


def test_action_service_runs_the_launchers_command_on_the_endpoint_port() -> None:
    service = SERVICES["actions"]
    command = service["command"]
    assert command[1:] == launcher.action_server_command(5055, logging_config=Path("logging.yml"))[1:]
    logging_config = command[command.index("--logging-config-file") + 1]
    assert repo_path(logging_config, service["working_dir"]).is_file()
    # Rasa calls the action servers through the front (nginx spreads the calls over the replicas).
    endpoint = urlparse(shop_env("rasa")["SHOP_ACTION_ENDPOINT_URL"])
    assert endpoint.hostname == "web" and endpoint.port == 5055
    assert service["deploy"]["replicas"] >= 2
    assert (PROJECT_ROOT / "actions" / "__init__.py").is_file()


def test_only_the_front_publishes_a_port_and_the_action_servers_need_the_token() -> None:
    """The action servers are on the internal network only, and every call carries the shared token."""
    published = {
        name
        for name, service in SERVICES.items()
        if any(not str(port).startswith("127.0.0.1:") for port in service.get("ports") or ())
    }
    assert published == {"web"}  # Grafana listens on the host's loopback only
    internal = {name for name, network in COMPOSE["networks"].items() if (network or {}).get("internal")}
    assert set(SERVICES["actions"]["networks"]) <= internal
    assert "SHOP_ACTION_TOKEN" in shop_env("rasa") and "SHOP_ACTION_TOKEN" in shop_env("actions")
    endpoints = yaml.safe_load((PROJECT_ROOT / "bot" / "endpoints.scaleout.yml").read_text())
    assert (
        endpoints["action_endpoint"]["headers"]["Authorization"] == "Bearer ${SHOP_ACTION_TOKEN}"
    )  # read by Rasa with the variable filled in


def test_insights_service_runs_the_launchers_consumer_command() -> None:
    command = SERVICES["insights-consumer"]["command"]
    assert command[1:] == launcher.insights_consumer_command(Path("bot/endpoints.scaleout.yml"), 5057, "0.0.0.0")[1:]


@pytest.mark.parametrize(("service", "port"), [("rasa", 5005), ("actions", 5055), ("insights-consumer", 5057)])
def test_every_server_is_health_checked_and_scraped_on_its_port(service: str, port: int) -> None:
    """Compose asks each server's /health/ready, and Prometheus scrapes the same service and port."""
    check = " ".join(SERVICES[service]["healthcheck"]["test"])
    assert f"http://localhost:{port}/health/ready" in check
    assert str(port) in [str(p) for p in SERVICES[service]["expose"]]
    scrape = yaml.safe_load((PROJECT_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    found = [(sd["names"], sd["port"]) for job in scrape["scrape_configs"] for sd in job.get("dns_sd_configs", [])]
    assert ([service], port) in found


def test_prometheus_and_grafana_mount_the_deploy_files() -> None:
    for service in ("prometheus", "grafana"):
        for volume in SERVICES[service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (PROJECT_ROOT / source).exists(), volume
    datasource = yaml.safe_load((PROJECT_ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())[
        "datasources"
    ][0]
    assert urlparse(datasource["url"]).hostname == "prometheus"
    dashboard = json.loads((PROJECT_ROOT / "deploy/grafana/shop-assistant.json").read_text())
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p.get("targets", [])}
    assert uids == {datasource["uid"]}


@pytest.mark.parametrize("name", ["shop-init", "insights-consumer"])
def test_one_shot_and_consumer_commands_exist(name: str) -> None:
    command = SERVICES[name]["command"]
    # `shop ...` is the project's console script (cli.shop); `python -m ...` a module of the image
    argv = ["-m", "cli.shop", *command[1:]] if command[0] == "shop" else command[1:]
    assert command[0] == "shop" or command[:2] == ["python", "-m"]
    result = subprocess.run([sys.executable, *argv, "--help"], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    for argument in command[3:]:
        if argument.endswith(".yml"):
            assert (PROJECT_ROOT / argument).is_file(), argument


def test_scaleout_endpoints_use_only_variables_the_services_set() -> None:
    text = (PROJECT_ROOT / "bot" / "endpoints.scaleout.yml").read_text()
    used = set(re.findall(r"\$\{(\w+)\}", text))
    assert used, "endpoints.scaleout.yml should read its settings from the environment"
    assert used <= set(shop_env("rasa")), used - set(shop_env("rasa"))


def test_scaleout_endpoints_select_rasas_real_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.utils import AvailableEndpoints

    for name, value in shop_env("rasa").items():
        monkeypatch.setenv(name, str(value).replace("${SHOP_POSTGRES_PASSWORD}", "x"))
    endpoints = AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "bot" / "endpoints.scaleout.yml"))
    assert endpoints.tracker_store.type == "rasa_addons.tracker_store.CachedSQLTrackerStore"  # Rasa's SQL tables
    assert endpoints.tracker_store.kwargs["dialect"] == "postgresql"
    assert endpoints.lock_store.type == "redis"
    assert endpoints.event_broker.type == "pika"
    assert endpoints.action.url == "http://web:5055/webhook"
    assert endpoints.event_broker.kwargs["queues"] == ["shop_events"]


def test_backing_services_match_the_urls() -> None:
    env = shop_env("rasa")
    assert env["SHOP_POSTGRES_HOST"] == "postgres" and "5432" in map(str, SERVICES["postgres"]["expose"])
    database_url = re.sub(r"\$\{[^}]*\}", "secret", env["SHOP_DATABASE_URL"])
    assert urlparse(database_url).hostname == "postgres" and urlparse(database_url).port == 5432
    assert env["SHOP_REDIS_HOST"] == "redis" and "6379" in map(str, SERVICES["redis"]["expose"])
    assert urlparse(env["SHOP_SOCKETIO_MESSAGE_QUEUE"]).hostname == "redis"  # agent replies across servers
    assert env["SHOP_RABBITMQ_HOST"] == "rabbitmq" and "5672" in map(str, SERVICES["rabbitmq"]["expose"])


def test_web_front_proxies_to_the_rasa_and_action_services() -> None:
    """deploy/nginx.conf is the front the loopback scale-out stack runs (perf.scaleout_stack), for compose's names."""
    from perf.scaleout_stack import nginx_site

    volume = SERVICES["web"]["volumes"][0].split(":")[0]
    nginx = (PROJECT_ROOT / volume).read_text()
    assert nginx == nginx_site(["rasa:5005"], ["actions:5055"], listen="80", actions_listen="5055"), (
        "regenerate deploy/nginx.conf with perf.scaleout_stack.nginx_site()"
    )
    assert "server rasa:5005" in nginx and "server actions:5055" in nginx and "/socket.io/" in nginx
    assert nginx.count("X-Forwarded-Proto $scheme") == 2  # https at the front: Secure console cookies
    assert shop_env("rasa")["SANIC_PROXIES_COUNT"] == "1"  # ...which the Rasa servers trust
    assert "80" in [str(p).split(":")[-1] for p in SERVICES["web"]["ports"]]
    assert {"rasa", "actions"} <= set(SERVICES["web"]["depends_on"])


def test_event_queue_is_configured() -> None:
    assert shop_env("rasa")["SHOP_RABBITMQ_QUEUE"] == "shop_events"  # what the insights consumer's docs name


def test_dockerfile_copies_only_what_exists() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (PROJECT_ROOT / source).exists(), source
