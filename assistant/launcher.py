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
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from assistant import preflight
from core.settings import OFFLINE_ENV, PROJECT_ROOT, Settings, get_settings
from core.signing import action_server_token

BOT_DIR = PROJECT_ROOT / "bot"
LOGGING_CONFIG = BOT_DIR / "logging.yml"  # masks personal data in both servers' logs
DEFAULT_ACTIONS_PORT = 5055
DEFAULT_RASA_PORT = 5005
DEFAULT_INSIGHTS_PORT = 5057
# Sanic's worker counts of `rasa run` and `rasa run actions`: above 1 a server forks, and its workers
# share their metrics through files (prometheus-client's multi-process mode, monitoring.metrics).
WORKER_ENV = {"rasa": "SANIC_WORKERS", "actions": "ACTION_SERVER_SANIC_WORKERS"}


@dataclass
class LaunchConfig:
    """Where and how the two servers run."""

    model: Path
    host: str = "127.0.0.1"
    rasa_port: int = DEFAULT_RASA_PORT
    actions_port: int = DEFAULT_ACTIONS_PORT
    insights_port: int = DEFAULT_INSIGHTS_PORT  # the consumer's /metrics and /health
    endpoints: Path = BOT_DIR / "endpoints.yml"
    credentials: Path = BOT_DIR / "credentials.yml"
    tracker_db: Path = field(default_factory=lambda: get_settings().resolved_tracker_db)
    log_dir: Optional[Path] = None
    extra_env: Dict[str, str] = field(default_factory=dict)
    with_insights: bool = False  # also run the event-stream consumer (profiles, analytics)
    rasa_ready_path: str = "/health/ready"  # "/" for a stock Rasa server without the shop channel

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}"

    @property
    def insights_url(self) -> str:
        return f"http://{self.host}:{self.insights_port}"


def _rasa_executable() -> str:
    """The ``rasa`` script of the interpreter that runs us (the project venv)."""
    candidate = Path(sys.executable).with_name("rasa")
    return str(candidate) if candidate.exists() else "rasa"


def action_server_command(port: int = DEFAULT_ACTIONS_PORT, logging_config: Path = LOGGING_CONFIG) -> List[str]:
    return [
        _rasa_executable(),
        "run",
        "actions",
        "--actions",
        "actions",
        "--port",
        str(port),
        "--logging-config-file",
        str(logging_config),
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
        _rasa_executable(),
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
        "--interface",
        host,
        "--port",
        str(port),
        "--logging-config-file",
        str(logging_config),
    ]
    token = get_settings().rasa_token
    if token:
        # One argument: a random token may start with "-", which argparse would read as an option.
        command += ["--enable-api", f"--auth-token={token}"]
    return command


def insights_consumer_command(
    endpoints: Path = BOT_DIR / "endpoints.yml", port: int = DEFAULT_INSIGHTS_PORT, host: str = "127.0.0.1"
) -> List[str]:
    """The consumer that turns the event broker's stream into shopper profiles and analytics."""
    return [
        sys.executable,
        "-m",
        "insights",
        "consume",
        "--endpoints",
        str(endpoints),
        "--host",
        host,
        "--port",
        str(port),
    ]


def retrain_schedule_command() -> List[str]:
    """Scheduled retraining (``SHOP_RETRAIN_SCHEDULE``): its own process, the training takes minutes of CPU."""
    return [sys.executable, "-m", "learning", "schedule"]


def _settings_for(env: Dict[str, str]) -> Settings:
    """The settings the children will read from ``env`` (the parts that decide the secrets)."""
    values = {
        "var_dir": env.get("SHOP_VAR_DIR"),
        "database_url": env.get("SHOP_DATABASE_URL"),
        "secret_key": env.get("SHOP_SECRET_KEY"),
        "action_token": env.get("SHOP_ACTION_TOKEN"),
    }
    return Settings(**{k: v for k, v in values.items() if v})


def server_environment(config: LaunchConfig) -> Dict[str, str]:
    """Environment both servers share: offline model loading, where the stores are, the action
    server's address (loopback in the embedded mode) and the token the Rasa server sends it."""
    env = dict(os.environ)
    for name, value in OFFLINE_ENV.items():
        env.setdefault(name, value)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("SHOP_ACTION_ENDPOINT_URL", f"{config.actions_url}/webhook")
    env.setdefault("SHOP_TRACKER_DB", str(config.tracker_db))
    env.setdefault("SHOP_EVENTS_DB", str(config.tracker_db.with_name("events.db")))  # SQL event broker (insights)
    env.update(config.extra_env)
    # Links in cards and invoices are absolute (they are shown on other sites too): to this server
    # unless the shop says how shoppers reach it.
    if not env.get("SHOP_PUBLIC_URL"):
        env["SHOP_PUBLIC_URL"] = config.rasa_url
    env.setdefault("SANIC_HOST", config.host)  # where `rasa run actions` listens (rasa-sdk reads SANIC_HOST)
    env.setdefault("SHOP_ACTION_TOKEN", action_server_token(_settings_for(env)))
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
        self._share_worker_metrics(name, env)
        stdout = None
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            stdout = open(self.config.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            command, cwd=BOT_DIR, env=env, stdout=stdout, stderr=subprocess.STDOUT if stdout else None
        )
        self.processes[name] = process
        return process

    def _share_worker_metrics(self, name: str, env: Dict[str, str]) -> None:
        """A server that forks workers gets a fresh folder for their metrics (``PROMETHEUS_MULTIPROC_DIR``)."""
        workers = env.get(WORKER_ENV.get(name, ""), "1")
        if not workers.isdigit() or int(workers) <= 1 or "PROMETHEUS_MULTIPROC_DIR" in env:
            return
        folder = _settings_for(env).var_dir / "metrics" / f"{name}-{os.getpid()}"
        shutil.rmtree(folder, ignore_errors=True)  # values of an earlier run would add to this one's
        folder.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)

    def command_of(self, name: str) -> List[str]:
        if name == "actions":
            return action_server_command(self.config.actions_port)
        if name == "rasa":
            return rasa_server_command(
                self.config.model,
                self.config.rasa_port,
                self.config.host,
                self.config.endpoints,
                self.config.credentials,
            )
        if name == "insights":
            return insights_consumer_command(self.config.endpoints, self.config.insights_port, self.config.host)
        if name == "schedule":
            return retrain_schedule_command()
        raise KeyError(name)

    def spawn(self, name: str) -> subprocess.Popen:
        """Start server ``name`` without waiting for it (the supervisor's restart)."""
        if name == "rasa":
            self.config.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        return self._spawn(name, self.command_of(name))

    def start_actions(self, timeout: float = 120, ready: bool = False) -> None:
        """Start the action server; wait until it listens, or with ``ready`` until its catalogue is loaded."""
        process = self.spawn("actions")
        wait_until_up(f"{self.config.actions_url}/health/{'ready' if ready else 'live'}", timeout, process)

    def start_rasa(self, timeout: float = 300) -> None:
        process = self.spawn("rasa")
        wait_until_up(f"{self.config.rasa_url}{self.config.rasa_ready_path}", timeout, process)

    def start_insights(self, timeout: float = 60) -> None:
        process = self.spawn("insights")
        wait_until_up(f"{self.config.insights_url}/health/ready", timeout, process)

    def start(self) -> "AssistantProcesses":
        try:
            self.start_actions()  # it loads its catalogue while the Rasa server loads its model
            self.start_rasa()
            wait_until_up(f"{self.config.actions_url}/health/ready", 300, self.processes["actions"])
            if self.config.with_insights:
                self.start_insights()
                if _settings_for(server_environment(self.config)).retrain_schedule:
                    self.spawn("schedule")  # learning.schedule: retrains and gates on the cron line
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


class Supervisor:
    """Restarts a server that died, with back-off; the others keep serving meanwhile.

    A crash is logged with its exit code; the first restart comes after ``first_delay`` seconds,
    each further one after twice the last delay (at most ``max_delay``), and a server that then
    runs for ``stable_after`` seconds is forgiven its history. While the action server is down
    the Rasa server answers with the fast apology (``rasa_addons.patches.action_fallback``); while the Rasa
    server is down, the front (nginx in the scale-out mode) has nobody to send shoppers to.
    """

    def __init__(
        self,
        processes: AssistantProcesses,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
        stable_after: float = 60.0,
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    ) -> None:
        self.processes = processes
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self._log = log
        self._delay: Dict[str, float] = {}
        self._started: Dict[str, float] = {name: time.monotonic() for name in processes.processes}
        self._restart_at: Dict[str, float] = {}
        self.restarts: Dict[str, int] = {}

    def check(self) -> None:
        """One round: notice crashes, restart what is due."""
        now = time.monotonic()
        for name, process in list(self.processes.processes.items()):
            if name in self._restart_at or process.poll() is None:
                continue
            lived = now - self._started.get(name, now)
            delay = (
                self.first_delay
                if lived >= self.stable_after
                else min(self.max_delay, self._delay.get(name, self.first_delay / 2) * 2)
            )
            self._delay[name] = delay
            self._restart_at[name] = now + delay
            self._log(
                f"{name} server exited with code {process.returncode} after {lived:.0f} s; "
                f"restarting it in {delay:.1f} s"
            )
        for name, due in list(self._restart_at.items()):
            if now < due:
                continue
            del self._restart_at[name]
            process = self.processes.spawn(name)
            self._started[name] = time.monotonic()
            self.restarts[name] = self.restarts.get(name, 0) + 1
            self._log(f"{name} server restarted (pid {process.pid})")


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


def registered_model(settings: Settings) -> Optional[Path]:
    """The model the registry has in service (``learning.registry``), when there is one on disk."""
    from insights.db import shop_sessions
    from learning.registry import serving

    try:
        with shop_sessions()() as session:
            row = serving(session)
            path = Path(row.path) if row is not None and row.path else None
    except Exception:  # no shop database yet, or not migrated: the newest archive will do
        return None
    return path if path is not None and path.is_file() else None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Start the shop assistant (embedded default).")
    parser.add_argument(
        "--model",
        type=Path,
        help="model archive (default: the registry's serving model, else the newest in var/models)",
    )
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
    if args.model is None:  # the shop database is there (preflight): its registry says what serves
        model = registered_model(settings) or model
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
            f'-d \'{{"sender": "me", "message": "hi"}}\'\n'
            f"  Demo shop:     {config.rasa_url}/webhooks/shop/demo\n"
            f"  Agent console: {config.rasa_url}/webhooks/shop/console "
            f"(create an agent: python -m web create-agent NAME)\n"
            f"  Rasa server:   {config.rasa_url}/health/ready  (metrics: {config.rasa_url}/metrics)\n"
            f"  Action server: {config.actions_url}/health/ready  (metrics: {config.actions_url}/metrics)\n"
            f"  Insights:      {config.insights_url}/health/ready  (metrics: {config.insights_url}/metrics)\n"
            f"Press Ctrl+C to stop.",
            flush=True,
        )
        for name, process in assistant.processes.items():
            print(f"  {name} server: pid {process.pid}", flush=True)
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        supervisor = Supervisor(assistant)
        try:
            while not stopping:
                supervisor.check()
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
    finally:
        assistant.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
