"""Liveness and readiness, the same on every server.

``/health/live`` says the process serves requests (its event loop runs): restart it when this fails.
``/health/ready`` runs the server's readiness checks (the model loaded, the database and the index
reachable, ...) and answers 200 only when all pass: send it traffic only then. The launcher, nginx
and the compose health checks ask it.

A check is a function that returns when its part is fine and raises otherwise; :class:`NotReady`
carries a message meant for operators. Other exceptions are reported by type only: their text may
quote a database URL or a query.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, Awaitable, Callable, Dict, Tuple, Union

Check = Callable[[], Union[None, Awaitable[None]]]
CHECK_TIMEOUT = 2.0  # seconds; a database that takes longer is not one to send shoppers to


class NotReady(Exception):
    """A part is not ready yet; the message says which and why (shown on ``/health/ready``)."""


_registered: Dict[str, Check] = {}


def register_readiness(name: str, check: Check) -> None:
    """Add a process-wide readiness check (the action server's code registers its own parts:
    its Sanic app is built by rasa-sdk, which our plugin extends without seeing the actions)."""
    _registered[name] = check


def registered_checks() -> Dict[str, Check]:
    return dict(_registered)


def liveness() -> Dict[str, Any]:
    return {"status": "live", "time": time.time()}


async def _run(check: Check, timeout: float) -> str:
    try:
        if inspect.iscoroutinefunction(check):
            await asyncio.wait_for(check(), timeout)
        else:
            result = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, check), timeout)
            if inspect.isawaitable(result):
                await asyncio.wait_for(result, timeout)
    except NotReady as reason:
        return str(reason)
    except asyncio.TimeoutError:
        return f"no answer within {timeout:.0f} s"
    except Exception as error:
        return f"failed ({type(error).__name__})"
    return "ok"


async def readiness(checks: Dict[str, Check], timeout: float = CHECK_TIMEOUT) -> Tuple[int, Dict[str, Any]]:
    """(HTTP status, body) of ``/health/ready``: 200 when every check says ok, else 503."""
    names = list(checks)
    results = await asyncio.gather(*(_run(checks[name], timeout) for name in names))
    report = dict(zip(names, results))
    ready = all(result == "ok" for result in results)
    return (200 if ready else 503), {"status": "ready" if ready else "not ready", "checks": report}


def sql_reachable(engine: Any) -> Check:
    """A check that the database behind a SQLAlchemy ``engine`` answers ``SELECT 1``."""
    import sqlalchemy as sa

    def check() -> None:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    return check


__all__ = [
    "CHECK_TIMEOUT",
    "Check",
    "NotReady",
    "liveness",
    "readiness",
    "register_readiness",
    "registered_checks",
    "sql_reachable",
]
