"""The console's review queue (``learning``): for agents with the reviewer flag, and admins.

``GET  agent/review``              pending messages, one per text with how often it was said (``?source=fallback``),
                                   the counts, the labels allowed
``GET  agent/review/<id>/similar`` pending messages nearest to one by sentence embedding
``POST agent/review/<id>``         one decision: ``{action, intent?, entities?}``, for every pending message with
                                   the same text too (``same_text: false`` for this one only)
``POST agent/review/bulk``         one decision on many: ``{ids, action, intent?}``
``POST agent/review/collect``      read the tracker store's new messages into the queue now

Decisions go through :func:`learning.review.decide`, which checks labels against the model's domain;
the reviewer's username is kept with each as provenance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, Tuple

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.store import AgentInfo
from learning.review import (
    ACTIONS,
    ReviewRefused,
    Vocabulary,
    as_json,
    decide,
    decide_many,
    pending_distinct,
    same_text,
    similar,
)
from shopdb.db import session_factory
from web.http import HttpError, json_body

if TYPE_CHECKING:  # pragma: no cover
    from web.channel import ShopChannel

EMBEDDING_SECONDS = 60.0  # the first similarity search loads the sentence encoder into this server


def register_review(
    bp: Blueprint,
    channel: "ShopChannel",
    current_agent: Callable[..., Awaitable[Tuple[AgentInfo, Any]]],
    secured: Callable[..., HTTPResponse],
) -> None:
    assert channel.service is not None
    service = channel.service
    sessions = session_factory(channel.store.engine)

    async def reviewer(request: Request, *, csrf: bool) -> AgentInfo:
        agent, _ = await current_agent(request, csrf=csrf)
        if not (agent.can_review or agent.is_admin):
            raise HttpError(403, "the review queue is for reviewers")
        return agent

    def vocabulary() -> Vocabulary:
        domain = channel.rasa_agent().domain
        return Vocabulary(intents=frozenset(domain.intents), entities=frozenset(domain.entities))

    @bp.route("/agent/review", methods=["GET"])
    async def queue(request: Request) -> HTTPResponse:
        await reviewer(request, csrf=False)
        source = request.args.get("source")

        def load() -> Dict[str, Any]:
            from learning.collect import queue_counts

            with sessions() as session:  # one entry per text: the same words from many conversations
                items = [{**as_json(item), "repeats": n} for item, n in pending_distinct(session, 50, source)]
            return {"items": items, "counts": queue_counts(sessions)}

        data = await service.db_within(5 * service.timeout, load)
        labels = vocabulary()
        data.update(intents=sorted(labels.intents), entities=sorted(labels.entities), actions=list(ACTIONS))
        return secured(data)

    @bp.route("/agent/review/<raw_id:int>/similar", methods=["GET"])
    async def nearest(request: Request, raw_id: int) -> HTTPResponse:
        await reviewer(request, csrf=False)
        from core.settings import get_settings
        from retrieval.embeddings import embedder_for

        encoder = embedder_for(get_settings())

        def find() -> List[Dict[str, Any]]:
            with sessions() as session:
                return [{**as_json(item), "score": score} for item, score in similar(session, raw_id, encoder.encode)]

        try:
            return secured({"items": await service.db_within(EMBEDDING_SECONDS, find)})
        except ReviewRefused as refused:
            raise HttpError(404, str(refused)) from None

    @bp.route("/agent/review/<raw_id:int>", methods=["POST"])
    async def one(request: Request, raw_id: int) -> HTTPResponse:
        agent = await reviewer(request, csrf=True)
        body = json_body(request)
        labels = vocabulary()

        def save() -> Dict[str, Any]:
            with sessions.begin() as session:
                action, intent, entities = str(body.get("action")), body.get("intent"), body.get("entities")
                item = decide(session, raw_id, agent.username, action, labels, intent, entities)
                # The same words from other conversations get the same decision (the entities' spans too).
                for other in same_text(session, item) if body.get("same_text", True) else []:
                    decide(session, other, agent.username, action, labels, intent, entities)
                return as_json(item)

        try:
            return secured({"item": await service.db(save)})
        except ReviewRefused as refused:
            raise HttpError(400, str(refused)) from None

    @bp.route("/agent/review/bulk", methods=["POST"])
    async def many(request: Request) -> HTTPResponse:
        agent = await reviewer(request, csrf=True)
        body = json_body(request)
        raw_ids = body.get("ids")
        if not isinstance(raw_ids, list) or not raw_ids or len(raw_ids) > 200:
            raise HttpError(400, "ids: a list of 1-200 review item ids")
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in raw_ids):
            raise HttpError(400, "ids: a list of 1-200 review item ids")
        ids: List[int] = raw_ids
        labels = vocabulary()

        def save() -> List[Dict[str, Any]]:
            with sessions.begin() as session:  # all or none
                items = decide_many(session, ids, agent.username, str(body.get("action")), labels, body.get("intent"))
                return [as_json(item) for item in items]

        try:
            return secured({"items": await service.db_within(5 * service.timeout, save)})
        except ReviewRefused as refused:
            raise HttpError(400, str(refused)) from None

    @bp.route("/agent/review/collect", methods=["POST"])
    async def collect_now(request: Request) -> HTTPResponse:
        await reviewer(request, csrf=True)
        from insights.stream import tracker_store_url
        from learning.collect import TrackerEvents, collect

        url = tracker_store_url()
        if url is None:
            raise HttpError(409, "the tracker store is not SQL: nothing to collect")
        tracker_url: str = url

        def run() -> Dict[str, int]:
            result = collect(sessions, TrackerEvents.from_url(tracker_url))
            return {"events": result.events, "added": result.added, "updated": result.updated}

        return secured({"collected": await service.db_within(60.0, run)})


async def collect_forever(channel: "ShopChannel", minutes: float) -> None:
    """Fill the review queue every ``minutes`` (``SHOP_REVIEW_COLLECT_MINUTES``; 0: only on demand).
    Every Rasa server runs it: the cursor in the database and one row per message keep the queue
    whole; a round that meets another server's at the same rows gives way and the next one goes on."""
    import asyncio
    import logging

    from insights.stream import tracker_store_url
    from learning.collect import TrackerEvents, collect

    if minutes <= 0:
        return
    assert channel.service is not None
    sessions = session_factory(channel.store.engine)
    events = None
    while True:
        await asyncio.sleep(minutes * 60)
        try:
            if events is None:
                url = tracker_store_url()
                if url is None:
                    return  # not a SQL tracker store: nothing to read
                events = TrackerEvents.from_url(url)
            await channel.service.db_within(120.0, collect, sessions, events)
        except Exception as error:
            logging.getLogger(__name__).warning("the review queue was not filled this round (%s)", type(error).__name__)


__all__ = ["collect_forever", "register_review"]
