"""A turn's events are on RabbitMQ before the shopper gets the answer.

Rasa 3.6's Pika event broker publishes from background tasks: the tracker store
writes the turn to PostgreSQL, the answer goes out, and the publishes run
whenever the event loop gets to them. A Rasa server killed right after
answering (``kill -9``, OOM, a node lost) therefore loses the events of its last
turn from the stream although the tracker has them:
``tests/scaleout/test_scaleout.py`` saw 9 of 53 events missing on RabbitMQ that way.

:func:`install` makes ``MessageProcessor.save_tracker`` wait for the publishes
that saving started (aio-pika's channel has publisher confirms on, so each wait
ends when RabbitMQ has the persistent message in its durable queue). An answered
turn is then in the stream; a server killed before answering leaves the shopper
without an answer, and the retry is a new turn. Cost: one RabbitMQ round trip per
turn (about a millisecond on loopback), no CPU. The SQL broker of the embedded
default publishes synchronously, so there is nothing to wait for.
The shop channel (``web.channel``) installs it with the other Rasa fixes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Set

logger = logging.getLogger(__name__)

PUBLISH_WAIT_SECONDS = 5.0
_installed = False


def _pending_publishes(tracker_store: Any) -> Set[asyncio.Task]:
    broker = getattr(tracker_store, "event_broker", None)
    return set(getattr(broker, "_background_tasks", None) or ())


async def wait_for_publishes(started: Set[asyncio.Task], timeout: float = PUBLISH_WAIT_SECONDS) -> bool:
    """Waits for ``started``; False (and a warning) when RabbitMQ did not confirm in time."""
    if not started:
        return True
    _done, late = await asyncio.wait(started, timeout=timeout)
    if late:
        logger.warning("%d event publish(es) not confirmed by the broker within %.0f s", len(late), timeout)
    return not late


def install() -> None:
    """Patch ``MessageProcessor.save_tracker`` once per process (idempotent)."""
    global _installed
    if _installed:
        return
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.save_tracker

    async def save_tracker(self: MessageProcessor, tracker: Any) -> None:
        before = _pending_publishes(self.tracker_store)
        await original(self, tracker)
        await wait_for_publishes(_pending_publishes(self.tracker_store) - before)

    save_tracker.__doc__ = original.__doc__
    MessageProcessor.save_tracker = save_tracker
    _installed = True


__all__ = ["install", "wait_for_publishes"]
