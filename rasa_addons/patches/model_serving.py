"""Swapping the model of a running Rasa server, and serving two models at once (an A/B test).

Rasa 3.6 loads a new model over ``PUT /model`` by building a new ``Agent`` on the server's event
loop: every conversation waits while the archive loads (seconds), and the server serves one model
only. Here the new model's ``MessageProcessor`` is built in a worker thread with the agent's own
tracker store, lock store, action endpoint and HTTP interpreter, then put in place in one
assignment on the event loop: a turn already running finishes on the processor it started with,
the next one uses the new model, and no conversation is dropped or paused.

For an A/B test a second processor (the *challenger*) is kept on the agent; :func:`install` wraps
``Agent.handle_message`` so a sender whose stable hash falls under the challenger's share is
answered by it in every turn (sticky per sender). Rasa stamps every event with the id of the model
that produced it, which is how the analytics tell the two apart (``insights.experiments``).
Rasa offers no hook for either.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from rasa_addons.patches import turn_metrics

CHALLENGER_ATTR = "shop_challenger"

_installed = False


def bucket(sender_id: str, salt: str) -> float:
    """A sender's fixed place in [0, 1) for one test (``salt``: a new test reshuffles the senders)."""
    digest = hashlib.blake2b(f"{salt}:{sender_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class Challenger:
    """The second model of an A/B test and the share of senders it answers."""

    processor: Any
    share: float
    salt: str

    def takes(self, sender_id: str) -> bool:
        return bucket(sender_id, self.salt) < self.share


def challenger_of(agent: Any) -> Optional[Challenger]:
    return getattr(agent, CHALLENGER_ATTR, None)


def processor_for(agent: Any, sender_id: str) -> Any:
    """The processor that answers ``sender_id``: the challenger's for its share of senders."""
    challenger = challenger_of(agent)
    if challenger is not None and challenger.takes(sender_id):
        return challenger.processor
    return agent.processor


def model_path(processor: Any) -> Optional[Path]:
    """The archive a processor answers with (Rasa keeps the folder when it was started with one)."""
    path = getattr(processor, "model_path", None) if processor is not None else None
    if not path:
        return None
    found = Path(path).resolve()
    return found / str(processor.model_filename) if found.is_dir() else found


def _new_processor(agent: Any, path: Path) -> Any:
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.core.processor import MessageProcessor

    processor = MessageProcessor(
        model_path=path,
        tracker_store=agent.tracker_store,
        lock_store=agent.lock_store,
        action_endpoint=agent.action_endpoint,
        generator=agent.nlg,
        http_interpreter=agent.http_interpreter,
    )
    if isinstance(agent.nlg, TemplatedNaturalLanguageGenerator):
        # Each model says its own domain's responses (the one in service keeps saying its own).
        processor.nlg = TemplatedNaturalLanguageGenerator(processor.domain.responses)
    return processor


async def load_processor(agent: Any, path: Path) -> Any:
    """A processor for the model archive at ``path``, built off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, _new_processor, agent, path)


def put_in_service(agent: Any, processor: Any) -> None:
    """``processor`` answers every turn from now on (the A/B challenger's share excepted)."""
    agent.processor = processor
    agent.domain = processor.domain
    agent.tracker_store.domain = processor.domain
    agent.nlg = processor.nlg
    turn_metrics.forget_models()


def set_challenger(agent: Any, processor: Optional[Any], share: float = 0.0, salt: str = "") -> None:
    """Start (``processor``) or end (None) an A/B test on this server."""
    setattr(agent, CHALLENGER_ATTR, Challenger(processor, share, salt) if processor is not None else None)
    turn_metrics.forget_models()


def install() -> bool:
    """Route each message to its sender's model (idempotent); True the first time."""
    global _installed
    if _installed:
        return False
    from rasa.core.agent import Agent

    async def handle_message(self: Any, message: Any) -> Any:
        if not self.is_ready():
            return None
        processor = processor_for(self, message.sender_id)
        async with self.lock_store.lock(message.sender_id):
            return await processor.handle_message(message)

    Agent.handle_message = handle_message
    _installed = True
    return True


__all__ = [
    "Challenger",
    "bucket",
    "challenger_of",
    "install",
    "load_processor",
    "model_path",
    "processor_for",
    "put_in_service",
    "set_challenger",
]
