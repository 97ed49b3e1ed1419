"""Every run-time patch of Rasa and Sanic internals, installed by one call: :func:`install_all`.

Rasa 3.6 offers no hook for these, so each replaces one function of the pinned version; each is
measured or tested, and each module says why:

==========================  ================================================================  ==========================
module                      what it changes                                                   why
==========================  ================================================================  ==========================
``sanic_websocket``         Sanic 21.12 ``WebsocketImplProtocol.recv`` (Sanic 22.3's code)    WebSockets on Python 3.11
``action_validation``       Rasa ``RemoteAction._validate_action_result`` (schema compiled)   17 % of Rasa's CPU
``sqlite_stores``           WAL + one kept connection for Rasa's SQLite stores                17 ms -> 0.8 ms per event
``event_delivery``          Rasa ``MessageProcessor.save_tracker`` waits for broker confirms  no event lost on a kill -9
``action_fallback``         Rasa ``RemoteAction.run``: time limit, circuit breaker, apology   no silence without actions
``no_silence``              Rasa ``MessageProcessor._run_prediction_loop``: a reply if none   no message without a reply
``action_calls``            Rasa ``EndpointConfig.session``: kept, ujson-encoding session     a fifth of an action call
``rule_lookup``             Rasa ``RulePolicy._get_possible_keys``: rules that can match      a sixth of Rasa's CPU
``graph_runner``            Rasa ``DaskGraphRunner.run``: the nodes in turn, without dask     a tenth of Rasa's CPU
``turn_metrics``            Rasa ``MessageProcessor`` turn and stages timed (Prometheus)      turns seen in operation
``model_serving``           Rasa ``Agent.handle_message``: the sender's model (A/B test)      models swapped, A/B tests
==========================  ================================================================  ==========================

:func:`install_all` first checks the installed versions against :data:`PINNED`: a patch of another
version's internals would fail in ways no test of ours sees, so an upgrade has to review them.
The shop channel calls it when Rasa builds the channel's routes (``web.channel``), the one moment
our code runs inside ``rasa run`` before the first message.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Dict, Optional

from rasa_addons.patches import (
    action_calls,
    action_fallback,
    action_validation,
    event_delivery,
    graph_runner,
    model_serving,
    no_silence,
    rule_lookup,
    sanic_websocket,
    sqlite_stores,
    turn_metrics,
)
from rasa_addons.patches.action_fallback import LocalHandoff

PINNED: Dict[str, str] = {"rasa": "3.6.21", "sanic": "21.12.2"}


class UnpatchedVersion(RuntimeError):
    """An installed version differs from the one the patches were written for."""


def check_versions() -> None:
    wrong = {name: version(name) for name in PINNED if version(name) != PINNED[name]}
    if wrong:
        found = ", ".join(f"{name} {found} (patched: {PINNED[name]})" for name, found in wrong.items())
        raise UnpatchedVersion(
            f"rasa_addons.patches were written for other versions: {found}; review every patch "
            "in rasa_addons/patches before changing the pins"
        )


def install_all(local_handoff: Optional[LocalHandoff] = None) -> None:
    """Check the versions, then install every patch in this process (idempotent)."""
    check_versions()
    sanic_websocket.install()
    action_validation.install()
    sqlite_stores.install()
    event_delivery.install()
    action_fallback.install(local_handoff=local_handoff)
    no_silence.install()
    action_calls.install()
    rule_lookup.install()
    graph_runner.install()
    turn_metrics.install()
    model_serving.install()


__all__ = ["PINNED", "UnpatchedVersion", "check_versions", "install_all"]
