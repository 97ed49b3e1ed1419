"""The console's model registry (``learning``), for admins: train a candidate, promote, roll back,
run an A/B test and read its comparison.

``GET  agent/models``                  the registry, what this server answers with, the A/B report
``POST agent/models/retrain``          train and gate a candidate (``shop learn retrain`` in its own process)
``POST agent/models/<v>/promote``      put a candidate that passed the gate in service
``POST agent/models/rollback``         the model served before serves again
``POST agent/models/<v>/ab``           ``{share}``: an A/B test of a passed candidate beside the serving model
``POST agent/models/ab/stop``          end the A/B test

Every Rasa server follows the registry within ``SHOP_MODEL_POLL_SECONDS`` (``learning.serving``).
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, Optional, Tuple

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select

from core.clock import utcnow
from core.settings import PROJECT_ROOT, get_settings
from handoff.store import AgentInfo
from insights.experiments import running_test
from learning import registry
from rasa_addons.patches import model_serving
from shopdb.db import session_factory
from shopdb.models import ModelStatus, ModelVersion
from web.http import HttpError, json_body

if TYPE_CHECKING:  # pragma: no cover
    from web.channel import ShopChannel


def register_models(
    bp: Blueprint,
    channel: "ShopChannel",
    current_agent: Callable[..., Awaitable[Tuple[AgentInfo, Any]]],
    secured: Callable[..., HTTPResponse],
) -> None:
    assert channel.service is not None
    service = channel.service
    sessions = session_factory(channel.store.engine)

    async def admin(request: Request, *, csrf: bool) -> AgentInfo:
        agent, _ = await current_agent(request, csrf=csrf)
        if not agent.is_admin:
            raise HttpError(403, "the model registry is for admins")
        return agent

    def answering() -> Dict[str, Any]:
        """What this server answers with (every server follows the registry within one poll)."""
        agent = channel.rasa_agent()
        challenger = model_serving.challenger_of(agent)

        def name(processor: Any) -> Optional[str]:
            path = model_serving.model_path(processor)
            return path.name if path else None

        return {
            "model": name(agent.processor),
            "challenger": {"model": name(challenger.processor), "share": challenger.share} if challenger else None,
        }

    @bp.route("/agent/models", methods=["GET"])
    async def models(request: Request) -> HTTPResponse:
        await admin(request, csrf=False)

        def load() -> Dict[str, Any]:
            with sessions() as session:
                listing = registry.listing(session)
            return {"models": listing, "ab": running_test(sessions)}

        data = await service.db_within(10 * service.timeout, load)
        return secured({**data, "this_server": answering()})

    @bp.route("/agent/models/retrain", methods=["POST"])
    async def retrain(request: Request) -> HTTPResponse:
        agent = await admin(request, csrf=True)

        def training() -> bool:
            with sessions() as session:
                return (
                    session.execute(select(ModelVersion.id).where(ModelVersion.status == ModelStatus.TRAINING)).first()
                    is not None
                )

        if await service.db(training):
            raise HttpError(409, "a candidate is being trained already")
        logs = get_settings().var_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"retrain-{utcnow().strftime('%Y%m%d-%H%M%S')}.log"
        with log.open("ab") as out:
            # Its own process: training takes minutes of CPU and must not slow this server's turns.
            subprocess.Popen(
                [sys.executable, "-m", "learning", "retrain", "--by", agent.username],
                cwd=PROJECT_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return secured({"started": True, "log": log.name}, status=202)

    async def change(request: Request, apply: Callable[[Any, str], Any]) -> HTTPResponse:
        agent = await admin(request, csrf=True)

        def save() -> Dict[str, Any]:
            with sessions.begin() as session:
                row = apply(session, agent.username)
                return registry.as_json(row) if row is not None else {}

        try:
            return secured({"model": await service.db(save)})
        except registry.RegistryRefused as refused:
            raise HttpError(409, str(refused)) from None

    @bp.route("/agent/models/<version:int>/promote", methods=["POST"])
    async def promote(request: Request, version: int) -> HTTPResponse:
        return await change(request, lambda session, by: registry.promote(session, version, by))

    @bp.route("/agent/models/rollback", methods=["POST"])
    async def rollback(request: Request) -> HTTPResponse:
        return await change(request, registry.rollback)

    @bp.route("/agent/models/<version:int>/ab", methods=["POST"])
    async def start_ab(request: Request, version: int) -> HTTPResponse:
        share = json_body(request).get("share", 0.5)
        if not isinstance(share, (int, float)) or isinstance(share, bool):
            raise HttpError(400, "share: a fraction between 0 and 1")
        return await change(request, lambda session, by: registry.start_ab(session, version, float(share), by))

    @bp.route("/agent/models/ab/stop", methods=["POST"])
    async def stop_ab(request: Request) -> HTTPResponse:
        return await change(request, registry.stop_ab)


__all__ = ["register_models"]
