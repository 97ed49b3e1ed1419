"""Every Rasa server follows the model registry: it loads what was promoted, and the A/B challenger.

Each server reads :func:`learning.registry.serving_plan` every ``SHOP_MODEL_POLL_SECONDS`` and,
when the plan names another archive than the one it answers with, builds the new model beside the
old one and swaps it in without dropping a turn (``rasa_addons.patches.model_serving``). In the
scale-out mode every server reads the same database, so every server swaps within one poll. The
registry's first row is the model the assistant started with (:func:`learning.registry.adopt`), so
rollback always has somewhere to go.

The model last swapped out stays loaded, so a rollback is immediate. An archive that fails to load
is logged once and skipped (the server keeps the model it has) until the plan names another one.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional, Set

from sqlalchemy.orm import sessionmaker

from learning.registry import ServingPlan, adopt, serving_plan
from rasa_addons.patches import model_serving

logger = logging.getLogger(__name__)

RunInThread = Callable[..., Awaitable[Any]]


class RegistryFollower:
    """One server's side of the registry: what it loaded, what failed to load."""

    def __init__(self, agent_of: Callable[[], Any], sessions: sessionmaker, run_db: RunInThread) -> None:
        self.agent_of, self.sessions, self.run_db = agent_of, sessions, run_db
        self.broken: Set[Path] = set()
        # The model last swapped out stays loaded: a rollback (or an A/B test of the model just
        # replaced) is then one assignment, not a load of tens of seconds.
        self.previous: Optional[Any] = None

    def _read_plan(self, started_with: Optional[Path]) -> ServingPlan:
        with self.sessions.begin() as session:
            plan = serving_plan(session)
            if plan.primary is None and started_with is not None and adopt(session, started_with):
                plan = serving_plan(session)
            return plan

    async def _load(self, agent: Any, path: Path) -> Optional[Any]:
        if self.previous is not None and model_serving.model_path(self.previous) == path:
            return self.previous
        challenger = model_serving.challenger_of(agent)
        if challenger is not None and model_serving.model_path(challenger.processor) == path:
            return challenger.processor  # the challenger won: it is loaded already
        if path in self.broken:
            return None
        try:
            return await model_serving.load_processor(agent, path)
        except Exception as error:
            self.broken.add(path)
            logger.error("model %s could not be loaded (%s): this server keeps its model", path, error)
            return None

    async def step(self) -> bool:
        """Align this server with the registry once; True when it changed what it serves."""
        agent = self.agent_of()
        if agent is None or agent.processor is None:
            return False
        plan = await self.run_db(self._read_plan, model_serving.model_path(agent.processor))
        if plan.primary is None:
            return False
        changed = False
        wanted = Path(plan.primary.path).resolve()
        if wanted != model_serving.model_path(agent.processor):
            processor = await self._load(agent, wanted)
            if processor is not None:
                self.previous = agent.processor
                model_serving.put_in_service(agent, processor)
                logger.info("now serving model version %s (%s)", plan.primary.version, wanted.name)
                changed = True
        changed |= await self._follow_challenger(agent, plan)
        return changed

    async def _follow_challenger(self, agent: Any, plan: ServingPlan) -> bool:
        current = model_serving.challenger_of(agent)
        if plan.challenger is None:
            if current is None:
                return False
            model_serving.set_challenger(agent, None)
            logger.info("A/B test ended: every conversation is answered by the serving model")
            return True
        wanted = Path(plan.challenger.path).resolve()
        salt = str(plan.challenger.version)
        if current is not None and model_serving.model_path(current.processor) == wanted:
            if (current.share, current.salt) == (plan.share, salt):
                return False
        processor = await self._load(agent, wanted)
        if processor is None:
            return False
        model_serving.set_challenger(agent, processor, plan.share, salt)
        logger.info("A/B test: model version %s answers %.0f %% of senders", plan.challenger.version, plan.share * 100)
        return True


async def follow_registry_forever(
    agent_of: Callable[[], Any], sessions: sessionmaker, run_db: RunInThread, seconds: float
) -> None:
    """:meth:`RegistryFollower.step` every ``seconds`` for as long as the server runs (0: never)."""
    if seconds <= 0:
        return
    follower = RegistryFollower(agent_of, sessions, run_db)
    while True:
        try:
            await follower.step()
        except Exception as error:  # the database away for a moment: the next round tries again
            logger.warning("the model registry was not read this round (%s)", type(error).__name__)
        await asyncio.sleep(seconds)


__all__ = ["RegistryFollower", "follow_registry_forever"]
