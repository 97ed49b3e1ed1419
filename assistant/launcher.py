"""Start the whole assistant: the rasa-sdk action server, the Rasa server and
the insights consumer (shopper profiles and analytics from the event stream).

``make start`` runs ``python -m assistant.launcher``; the end-to-end tests use
:class:`AssistantProcesses` to bring up the same servers on free ports, and
``docker-compose.yml`` runs the same commands as separate services
(``tests/test_docker_compose.py`` checks that they agree with
:func:`rasa_server_command`, :func:`action_server_command` and
:func:`insights_consumer_command`).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from assistant import preflight
from assistant.settings import PROJECT_ROOT, get_settings

BOT_DIR = PROJECT_ROOT / "bot"
LOGGING_CONFIG = BOT_DIR / "logging.yml"  # masks personal data in both servers' logs
DEFAULT_ACTIONS_PORT = 5055
DEFAULT_RASA_PORT = 5005


@dataclass
class LaunchConfig:
    """Where and how the two servers run."""

    model: Path
    host: str = "127.0.0.1"
    rasa_port: int = DEFAULT_RASA_PORT
    actions_port: int = DEFAULT_ACTIONS_PORT
    endpoints: Path = BOT_DIR / "endpoints.yml"
    credentials: Path = BOT_DIR / "credentials.yml"
    tracker_db: Path = field(default_factory=lambda: get_settings().var_dir / "tracker.db")
    log_dir: Optional[Path] = None
    extra_env: Dict[str, str] = field(default_factory=dict)
    with_insights: bool = False  # also run the event-stream consumer (profiles, analytics)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}"


def _rasa_executable() -> str:
    """The ``rasa`` script of the interpreter that runs us (the project venv)."""
    candidate = Path(sys.executable).with_name("rasa")
    return str(candidate) if candidate.exists() else "rasa"


def action_server_command(port: int = DEFAULT_ACTIONS_PORT, logging_config: Path = LOGGING_CONFIG) -> List[str]:
    return [
        _rasa_executable(), "run", "actions", "--actions", "actions", "--port", str(port),
        "--logging-config-file", str(logging_config),
    ]


def rasa_server_command(
    model: Path,
    port: int = DEFAULT_RASA_PORT,
    host: str = "127.0.0.1",
    endpoints: Path = BOT_DIR / "endpoints.yml",
    credentials: Path = BOT_DIR / "credentials.yml",
    logging_config: Path = LOGGING_CONFIG,
) -> List[str]:
    """The ``rasa run`` command line.

    Rasa's HTTP API is enabled only when ``SHOP_RASA_TOKEN`` is set, and then
    it is protected by that token; the webhook channels are always on.
    """
    command = [
        _rasa_executable(), "run",
        "--model", str(model),
        "--endpoints", str(endpoints),
        "--credentials", str(credentials),
        "--interface", host,
        "--port", str(port),
        "--logging-config-file", str(logging_config),
    ]
    token = os.environ.get("SHOP_RASA_TOKEN")
    if token:
        command += ["--enable-api", "--auth-token", token]
    return command


def insights_consumer_command(endpoints: Path = BOT_DIR / "endpoints.yml") -> List[str]:
    """The consumer that turns the event broker's stream into shopper profiles and analytics."""
    return [sys.executable, "-m", "insights", "consume", "--endpoints", str(endpoints)]


def server_environment(config: LaunchConfig) -> Dict[str, str]:
    """Environment both servers share: offline model loading, where the stores are."""
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("SHOP_ACTION_ENDPOINT_URL", f"{config.actions_url}/webhook")
    env.setdefault("SHOP_TRACKER_DB", str(config.tracker_db))
    env.setdefault("SHOP_EVENTS_DB", str(config.tracker_db.with_name("events.db")))  # SQL event broker (insights)
    env.update(config.extra_env)
    return env


def wait_until_up(url: str, timeout: float, process: Optional[subprocess.Popen] = None) -> None:
    """Poll ``url`` until it answers 200; fail early if ``process`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up within {timeout:.0f} s")


class AssistantProcesses:
    """The action server and the Rasa server as child processes.

    Use as a context manager; both are stopped (SIGTERM, then SIGKILL) on exit.
    """

    def __init__(self, config: LaunchConfig) -> None:
        self.config = config
        self.processes: Dict[str, subprocess.Popen] = {}

    def _spawn(self, name: str, command: List[str]) -> subprocess.Popen:
        env = server_environment(self.config)
        stdout = None
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            stdout = open(self.config.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            command, cwd=BOT_DIR, env=env, stdout=stdout, stderr=subprocess.STDOUT if stdout else None
        )
        self.processes[name] = process
        return process

    def start_actions(self, timeout: float = 120) -> None:
        process = self._spawn("actions", action_server_command(self.config.actions_port))
        wait_until_up(f"{self.config.actions_url}/health", timeout, process)

    def start_rasa(self, timeout: float = 300) -> None:
        self.config.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        command = rasa_server_command(
            self.config.model, self.config.rasa_port, self.config.host,
            self.config.endpoints, self.config.credentials,
        )
        process = self._spawn("rasa", command)
        wait_until_up(f"{self.config.rasa_url}/", timeout, process)

    def start_insights(self, settle: float = 2.0) -> None:
        process = self._spawn("insights", insights_consumer_command(self.config.endpoints))
        time.sleep(settle)
        if process.poll() is not None:
            raise RuntimeError(f"the insights consumer exited with code {process.returncode}")

    def start(self) -> "AssistantProcesses":
        try:
            self.start_actions()
            self.start_rasa()
            if self.config.with_insights:
                self.start_insights()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, name: Optional[str] = None, kill: bool = False) -> None:
        names = [name] if name else list(self.processes)
        for key in names:
            process = self.processes.pop(key, None)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> "AssistantProcesses":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def latest_model(models_dir: Path) -> Path:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise FileNotFoundError(f"no trained model in {models_dir}; run `make train`")
    return models[-1]


def _newest_model_or_none(models_dir: Path) -> Optional[Path]:
    try:
        return latest_model(models_dir)
    except FileNotFoundError:
        return None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Start the shop assistant (embedded default).")
    parser.add_argument("--model", type=Path, help="model archive (default: newest in var/models)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_RASA_PORT)
    parser.add_argument("--actions-port", type=int, default=DEFAULT_ACTIONS_PORT)
    args = parser.parse_args(argv)

    settings = get_settings()
    model = args.model or _newest_model_or_none(settings.var_dir / "models")
    problems = preflight.check(settings, model)  # one actionable line each instead of a traceback wall
    for problem in problems:
        print(f"cannot start the shop assistant: {problem}", file=sys.stderr)
    if problems or model is None:
        return preflight.EXIT_PREFLIGHT
    config = LaunchConfig(
        model=model, host=args.host, rasa_port=args.port, actions_port=args.actions_port, with_insights=True
    )
    try:
        assistant = AssistantProcesses(config).start()
    except (RuntimeError, TimeoutError) as error:  # a server died or hung at start-up: its log is above
        print(f"cannot start the shop assistant: {error} (see its log above)", file=sys.stderr)
        return 1
    try:
        print(
            f"\nThe shop assistant is up.\n"
            f"  Chat (REST):   curl -s {config.rasa_url}/webhooks/rest/webhook "
            f"-d '{{\"sender\": \"me\", \"message\": \"hi\"}}'\n"
            f"  Demo shop:     {config.rasa_url}/webhooks/shop/demo\n"
            f"  Agent console: {config.rasa_url}/webhooks/shop/console "
            f"(create an agent: python -m web create-agent NAME)\n"
            f"  Rasa server:   {config.rasa_url}/\n"
            f"  Action server: {config.actions_url}/health\n"
            f"Press Ctrl+C to stop.",
            flush=True,
        )
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        try:
            while not stopping:
                for name, process in assistant.processes.items():
                    if process.poll() is not None:
                        print(f"{name} server exited with code {process.returncode}", file=sys.stderr)
                        return 1
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    finally:
        assistant.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
