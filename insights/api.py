"""Sanic blueprints the web channel mounts: site events in, analytics page out, data rights.

Why factories with ``identify`` and ``guard`` hooks: who the shopper is (the
signed customer token) and who may see analytics (the agent login) are the
web package's business. These blueprints never trust an id from a request
body for anything but the anonymous widget session, and refuse everything
when no guard is given.

    app.blueprint(site_events_blueprint(identify=channel_identity))      # POST /insights/events
    app.blueprint(analytics_blueprint(guard=require_agent))               # GET  /insights/analytics/
    app.blueprint(privacy_blueprint(guard=require_agent))                 # POST /insights/privacy/{export,delete}
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import io
import logging
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, Union

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from insights.analytics import Analytics, write_csv
from insights.site_events import InvalidSiteEvent, validate

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_EVENTS_PER_REQUEST = 50

Identity = Tuple[Optional[str], Optional[str]]  # (sender_id, verified customer_id)
Identify = Callable[[Request], Union[Identity, Awaitable[Identity]]]
Guard = Callable[[Request], Union[Optional[HTTPResponse], Awaitable[Optional[HTTPResponse]]]]


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def rasa_agent_broker(request: Request) -> Any:
    """The event broker of the Rasa server this request runs in (the stream Rasa itself writes to)."""
    agent = getattr(request.app.ctx, "agent", None)
    broker = getattr(getattr(agent, "tracker_store", None), "event_broker", None)
    if broker is None:
        from insights.stream import default_broker

        broker = default_broker()
    return broker


def _deny_all(request: Request) -> HTTPResponse:
    return response.json({"error": "forbidden: mount this blueprint with a guard"}, status=403)


def _apply_guard(bp: Blueprint, guard: Optional[Guard]) -> None:
    check = guard or _deny_all

    @bp.on_request
    async def _guard(request: Request) -> Optional[HTTPResponse]:
        return await _maybe_await(check(request))


def site_events_blueprint(
    *,
    identify: Optional[Identify] = None,
    broker: Optional[Callable[[Request], Any]] = None,
    url_prefix: str = "/insights",
    name: str = "insights_site_events",
) -> Blueprint:
    """``POST {prefix}/events``: one site event, or ``{"events": [...]}`` (at most 50).

    ``identify(request)`` returns ``(sender_id, customer_id)`` from the
    channel's verified session; a customer id in the body is always ignored.
    All events of a request are validated before any is published.
    """
    bp = Blueprint(name, url_prefix=url_prefix)
    get_broker = broker or rasa_agent_broker

    @bp.post("/events")
    async def post_events(request: Request) -> HTTPResponse:
        body = request.json if request.body else None
        items = body.get("events") if isinstance(body, dict) and "events" in body else [body]
        if not isinstance(items, list) or not items:
            return response.json({"errors": [{"field": "events", "message": "must be a non-empty list"}]}, status=400)
        if len(items) > MAX_EVENTS_PER_REQUEST:
            return response.json(
                {"errors": [{"field": "events", "message": f"at most {MAX_EVENTS_PER_REQUEST} per request"}]},
                status=413,
            )
        sender_id, customer_id = await _maybe_await(identify(request)) if identify else (None, None)
        events, ignored, errors = [], set(), []
        for index, item in enumerate(items):
            try:
                event, skipped = validate(item, sender_id=sender_id, customer_id=customer_id)
            except InvalidSiteEvent as error:
                errors += [{"index": index, **e} for e in error.errors]
                continue
            events.append(event)
            ignored.update(skipped)
        if errors:
            return response.json({"errors": errors}, status=400)
        target = get_broker(request)
        for event in events:
            target.publish(event.dict(exclude_none=True))
        return response.json({"recorded": len(events), "ignored_fields": sorted(ignored)}, status=202)

    return bp


def _parse_time(value: Optional[str]) -> Optional[dt.datetime]:
    """ISO date/time, or a relative ``7d`` / ``12h``."""
    if not value:
        return None
    value = value.strip()
    if value[-1:] in ("d", "h") and value[:-1].isdigit():
        delta = dt.timedelta(days=int(value[:-1])) if value[-1] == "d" else dt.timedelta(hours=int(value[:-1]))
        return dt.datetime.utcnow() - delta
    parsed = dt.datetime.fromisoformat(value)
    return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


def analytics_blueprint(
    *,
    guard: Optional[Guard],
    sessions: Any = None,
    url_prefix: str = "/insights/analytics",
    name: str = "insights_analytics",
) -> Blueprint:
    """The analytics page (``GET {prefix}/``), its JSON (``api/report``) and CSV exports (``api/<table>.csv``).

    ``guard(request)`` returns None to allow or an ``HTTPResponse`` (401/403/redirect) to refuse.
    """
    bp = Blueprint(name, url_prefix=url_prefix)
    _apply_guard(bp, guard)

    def analytics(request: Request) -> Analytics:
        from insights.db import shop_sessions

        args = request.args
        return Analytics(sessions or shop_sessions(), _parse_time(args.get("since")), _parse_time(args.get("until")))

    async def run(fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    @bp.get("/")
    async def page(request: Request) -> HTTPResponse:
        return await response.file(STATIC_DIR / "analytics.html", headers={"Cache-Control": "no-store"})

    @bp.get("/static/<filename:str>")
    async def static(request: Request, filename: str) -> HTTPResponse:
        path = (STATIC_DIR / filename).resolve()
        if path.parent != STATIC_DIR or not path.is_file():
            return response.json({"error": "not found"}, status=404)
        return await response.file(path)

    @bp.get("/api/report")
    async def report(request: Request) -> HTTPResponse:
        try:
            view = analytics(request)
            bucket = request.args.get("bucket", "day")
            result = await run(partial(lambda v, b: v.overview(bucket=b).as_dict(), view, bucket))
        except ValueError as error:
            return response.json({"error": str(error)}, status=400)
        return response.json(result)

    @bp.get("/api/ab")
    async def ab_test(request: Request) -> HTTPResponse:
        """The running A/B test of two model versions (insights.experiments), or why there is none."""
        from insights.db import shop_sessions
        from insights.experiments import running_test

        return response.json(await run(partial(running_test, sessions or shop_sessions())))

    tables: Dict[str, Callable[[Analytics, Request], List[Dict[str, Any]]]] = {
        "report": lambda a, r: a.overview(bucket=r.args.get("bucket", "day")).rows(),
        "intents": lambda a, r: a.intent_totals(),
        "intent_volumes": lambda a, r: a.intent_volumes(r.args.get("bucket", "day")),
        "unanswered": lambda a, r: a.top_unanswered(int(r.args.get("limit", 50))),
        "ratings": lambda a, r: a.ratings(),
    }

    @bp.get("/api/<filename:str>")  # "<table>.csv" (sanic-routing has no suffix patterns)
    async def csv_export(request: Request, filename: str) -> HTTPResponse:
        table = filename[: -len(".csv")] if filename.endswith(".csv") else ""
        if table not in tables:
            return response.json({"error": f"unknown table; one of {sorted(tables)}"}, status=404)
        try:
            view = analytics(request)
            rows = await run(partial(tables[table], view, request))
        except ValueError as error:
            return response.json({"error": str(error)}, status=400)
        buffer = io.StringIO()
        write_csv(rows, buffer)
        return response.text(
            buffer.getvalue(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{table}.csv"'},
        )

    return bp


def privacy_blueprint(
    *,
    guard: Optional[Guard],
    sessions: Any = None,
    stores: Optional[Dict[str, Any]] = None,
    url_prefix: str = "/insights/privacy",
    name: str = "insights_privacy",
) -> Blueprint:
    """``POST {prefix}/export`` and ``{prefix}/delete`` with ``{"customer_id": ...}`` or ``{"sender_id": ...}``.

    ``stores`` overrides where raw data lives (``broker``: an ``SQLEventSource`` or None,
    ``tracker_url``); by default the stores of ``bot/endpoints.yml``.
    """
    from insights import operations

    overrides = dict(stores or {})

    bp = Blueprint(name, url_prefix=url_prefix)
    _apply_guard(bp, guard)

    def subject(request: Request) -> Dict[str, Optional[str]]:
        body = request.json if request.body else None
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object with customer_id or sender_id")
        out = {k: (str(body[k]) if body.get(k) not in (None, "") else None) for k in ("customer_id", "sender_id")}
        if not any(out.values()):
            raise ValueError("give customer_id or sender_id")
        return out

    async def handle(request: Request, fn: Callable[..., Any]) -> HTTPResponse:
        try:
            who = subject(request)
        except ValueError as error:
            return response.json({"error": str(error)}, status=400)
        result = await asyncio.get_running_loop().run_in_executor(None, partial(fn, sessions=sessions, **who))
        return response.json(result, default=str)

    @bp.post("/export")
    async def export(request: Request) -> HTTPResponse:
        extra = {k: v for k, v in overrides.items() if k == "broker"}
        return await handle(request, partial(operations.export_shopper, **extra))

    @bp.post("/delete")
    async def erase(request: Request) -> HTTPResponse:
        return await handle(request, partial(operations.delete_shopper, **overrides))

    return bp
