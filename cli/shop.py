"""``shop``: start the assistant, build its data, train it, manage agents, report, benchmark.

Each subcommand hands its arguments to the module that does the work (and that keeps its own
``--help``), so ``shop build --products 600`` is ``assistant.shop_data build --products 600``::

    shop start                      both servers and the insights consumer (``make start``)
    shop build | import | migrate | index | stats | revision    the shop database and indexes
    shop train [--config FILE]      ``rasa train`` of the bot into var/models
    shop backup [DIR] | restore DIR  a consistent copy of the databases, indexes and photos, and back
    shop dashboard --prometheus URL  the Grafana dashboard drawn as one HTML page from Prometheus' data
    shop learn collect | queue | label | export   the review queue of misread messages -> training data
    shop learn retrain | models | promote | rollback | ab | ab-report   candidates, the gate, the registry
    shop create-agent NAME          a support agent (``shop agents list-agents | set-routing | set-password``)
    shop report [--since 7d]        the support team's figures (``shop insights ...`` for the rest)
    shop nlu train | evaluate | predict | import-bitext   the intent classifier without Rasa; Bitext training data
    shop bench NAME [...]           load | soak | scaleout | growth | stack | search | recommendations | events | nlu | routing
                                    | languages | entities | conversations | requests | learning | swap
    shop settings                   every SHOP_* setting in effect (secrets hidden)
    shop action-token               the token the Rasa servers send the action servers
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from core.settings import PROJECT_ROOT, get_settings

# command -> (module with main(argv), arguments put in front of the user's)
DELEGATES: Dict[str, Tuple[str, Sequence[str]]] = {
    "start": ("assistant.launcher", ()),
    "build": ("assistant.shop_data", ("build",)),
    "import": ("assistant.shop_data", ("import",)),
    "migrate": ("assistant.shop_data", ("migrate",)),
    "index": ("assistant.shop_data", ("index",)),
    "stats": ("assistant.shop_data", ("stats",)),
    "revision": ("assistant.shop_data", ("revision",)),
    "backup": ("assistant.backup", ("backup",)),
    "restore": ("assistant.backup", ("restore",)),
    "dashboard": ("monitoring.dashboard", ()),
    "create-agent": ("web.__main__", ("create-agent",)),
    "agents": ("web.__main__", ()),
    "report": ("insights.__main__", ("report",)),
    "insights": ("insights.__main__", ()),
    "nlu": ("nlu_models.cli", ()),
    "learn": ("learning.__main__", ()),
}
BENCHMARKS: Dict[str, str] = {
    "load": "perf.loadtest",
    "soak": "perf.soak",
    "scaleout": "perf.scaleout_benchmark",
    "growth": "perf.growth_benchmark",
    "stack": "perf.scaleout_stack",
    "search": "perf.retrieval_benchmark",
    "recommendations": "perf.recommendation_benchmark",
    "events": "perf.event_latency",
    "nlu": "perf.nlu_benchmark",
    "routing": "perf.routing_benchmark",
    "languages": "perf.language_benchmark",
    "entities": "perf.entity_benchmark",
    "requests": "perf.requests_benchmark",
    "conversations": "perf.conversation_suite",
    "learning": "perf.learning_loop_benchmark",
    "swap": "perf.model_swap",
}


def _delegate(module: str, argv: List[str]) -> int:
    """``module.main(argv)``; imported only when asked for (the modules load Rasa, TensorFlow, torch)."""
    main: Callable[[Optional[List[str]]], int] = importlib.import_module(module).main
    return int(main(argv) or 0)


def train(argv: List[str]) -> int:
    """``rasa train`` of the bot in ``bot/`` (``--config config.yml`` unless given) into ``<var_dir>/models``."""
    rasa = Path(sys.executable).with_name("rasa")
    out = Path(get_settings().var_dir) / "models"
    command = [
        str(rasa) if rasa.exists() else "rasa",
        "train",
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        str(out),
    ]
    if "--config" not in argv:
        command += ["--config", "config.yml"]
    return subprocess.call(command + argv, cwd=PROJECT_ROOT / "bot")


SECRET_FIELDS = frozenset(
    {"secret_key", "action_token", "rasa_token", "metrics_token", "postgres_password", "rabbitmq_password"}
)


def show_settings(argv: List[str]) -> int:
    """Every setting in effect, as ``SHOP_NAME=value`` lines (documented in docs/configuration.md)."""
    settings = get_settings()
    for name in type(settings).__fields__:
        value = getattr(settings, name)
        shown = "(set)" if name in SECRET_FIELDS and value else "" if value is None else value
        if name.endswith("_url") and value:
            parts = urlsplit(str(value))
            if parts.password:  # postgresql://user:secret@host/db -> postgresql://user:***@host/db
                shown = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
        print(f"SHOP_{name.upper()}={shown}")
    return 0


def action_token(argv: List[str]) -> int:
    from core.signing import action_server_token

    print(action_server_token())
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command in DELEGATES:
        module, prefix = DELEGATES[command]
        return _delegate(module, [*prefix, *rest])
    if command == "bench":
        if not rest or rest[0] not in BENCHMARKS:
            print(f"shop bench: one of {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        return _delegate(BENCHMARKS[rest[0]], rest[1:])
    if command == "train":
        return train(rest)
    if command == "action-token":
        return action_token(rest)
    if command == "settings":
        return show_settings(rest)
    print(f"shop: unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
