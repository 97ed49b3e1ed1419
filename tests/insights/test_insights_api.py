"""Site events (validation, the stream) and the Sanic blueprints on a real server on a free port."""

from __future__ import annotations

import asyncio
import socket
from itertools import count
from typing import Any, Awaitable, Callable, Optional

import aiohttp
import pytest
from sanic import Sanic, response

from insights import site_events
from insights.api import analytics_blueprint, privacy_blueprint, site_events_blueprint
from insights.consumer import consume_sql
from insights.profile_store import get_profile
from insights.site_events import InvalidSiteEvent
from insights.stream import SQLEventSource

_apps = count()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app: Sanic, scenario: Callable[[aiohttp.ClientSession, str], Awaitable[Any]]) -> Any:
    """Run ``app`` on a free loopback port for the duration of ``scenario``."""

    async def main() -> Any:
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        await server.startup()
        await server.before_start()
        await server.after_start()
        try:
            async with aiohttp.ClientSession() as client:
                return await scenario(client, f"http://127.0.0.1:{port}")
        finally:
            await server.before_stop()
            server.close()
            await server.wait_closed()
            await server.after_stop()

    return asyncio.run(main())


def new_app() -> Sanic:
    Sanic.test_mode = True  # several servers in one process: Sanic then keeps its original methods
    return Sanic(f"insights_test_{next(_apps)}")


def test_validation_gives_clear_errors_and_strips_personal_data():
    with pytest.raises(InvalidSiteEvent) as error:
        site_events.validate({"type": "product_viewed", "sender_id": "s1"})
    assert "needs product_id" in str(error.value)
    with pytest.raises(InvalidSiteEvent) as error:
        site_events.validate({"type": "teleported", "sender_id": "s1"})
    assert error.value.errors[0]["field"] == "type"
    with pytest.raises(InvalidSiteEvent):
        site_events.validate({"type": "page_viewed", "sender_id": "bad id with spaces", "page": "/"})

    event, ignored = site_events.validate(
        {
            "type": "searched",
            "sender_id": "s1",
            "query": "gift for jane@example.com order 10000042",
            "customer_id": "C-forged",
            "email": "jane@example.com",
        },
        customer_id="C0000007",
    )
    assert event.query == "gift for <email> order <number>"
    assert event.customer_id == "C0000007"  # the channel's verified id, never the body's
    assert ignored == ["email"]
    page, _ = site_events.validate(
        {"type": "page_viewed", "sender_id": "s1", "page": "https://shop/p/12?email=a@b.c&t=x"}
    )
    assert page.page == "/p/12"


def test_record_publishes_on_the_stream_the_consumer_reads(shop, broker):
    pid = shop.product_id("BOOT-BRN-1")
    site_events.record({"type": "product_viewed", "product_id": pid}, sender_id="web-1", broker=broker)
    with pytest.raises(InvalidSiteEvent):
        site_events.record({"type": "added_to_cart"}, sender_id="web-1", broker=broker)
    result = consume_sql(broker.url, shop.sessions)
    assert result.events == 1  # the invalid one was never published
    profile = get_profile("web-1", sessions=shop.sessions)
    assert profile.viewed == [pid] and "Shoes/Boots" in profile.categories


def test_site_events_endpoint(shop, broker):
    app = new_app()
    app.blueprint(
        site_events_blueprint(
            identify=lambda request: (request.headers.get("x-sender"), "C0000099"),
            broker=lambda request: broker,
        )
    )

    async def scenario(client: aiohttp.ClientSession, base: str) -> None:
        ok = await client.post(
            f"{base}/insights/events",
            headers={"x-sender": "w-2"},
            json={
                "events": [
                    {"type": "searched", "query": "boots"},
                    {"type": "added_to_cart", "product_id": "7", "colour": "x"},
                ]
            },
        )
        assert ok.status == 202 and await ok.json() == {"recorded": 2, "ignored_fields": ["colour"]}
        bad = await client.post(
            f"{base}/insights/events",
            headers={"x-sender": "w-2"},
            json={"events": [{"type": "searched", "query": "ok"}, {"type": "added_to_cart"}]},
        )
        body = await bad.json()
        assert bad.status == 400 and body["errors"][0]["index"] == 1 and "product_id" in body["errors"][0]["message"]
        empty = await client.post(f"{base}/insights/events", data=b"")
        assert empty.status == 400

    serve(app, scenario)
    events = SQLEventSource.from_url(broker.url).events_of(["w-2"])
    assert [e["type"] for e in events] == ["searched", "added_to_cart"]  # nothing of the rejected request
    assert {e["customer_id"] for e in events} == {"C0000099"}


def test_analytics_and_privacy_need_a_guard_and_serve_json_csv_and_export(shop, broker):
    from .conftest import publish, user

    publish(broker, "g-1", user("hello", "greet", customer_id="C0000005"), user("blah", "nlu_fallback", 0.1))
    consume_sql(broker.url, shop.sessions)

    def agent_only(request) -> Optional[Any]:
        return None if request.headers.get("x-agent") == "yes" else response.json({"error": "login"}, status=401)

    app = new_app()
    app.blueprint(analytics_blueprint(guard=None, sessions=shop.sessions, url_prefix="/open", name="open"))
    app.blueprint(analytics_blueprint(guard=agent_only, sessions=shop.sessions))
    app.blueprint(
        privacy_blueprint(
            guard=agent_only,
            sessions=shop.sessions,
            stores={"broker": SQLEventSource.from_url(broker.url), "tracker_url": None},
        )
    )
    agent = {"x-agent": "yes"}

    async def scenario(client: aiohttp.ClientSession, base: str) -> None:
        assert (await client.get(f"{base}/open/api/report")).status == 403  # no guard given: refused
        assert (await client.get(f"{base}/insights/analytics/api/report")).status == 401
        page = await client.get(f"{base}/insights/analytics/", headers=agent)
        assert page.status == 200 and "analytics.js" in await page.text()
        script = await client.get(f"{base}/insights/analytics/static/analytics.js", headers=agent)
        assert script.status == 200 and "textContent" in await script.text()
        assert (await client.get(f"{base}/insights/analytics/static/..%2Fapi.py", headers=agent)).status == 404
        report = await (await client.get(f"{base}/insights/analytics/api/report?bucket=hour", headers=agent)).json()
        assert report["fallback"] == {"fallbacks": 1, "messages": 2, "rate": 0.5}
        csv_response = await client.get(f"{base}/insights/analytics/api/intents.csv", headers=agent)
        assert csv_response.headers["Content-Type"].startswith("text/csv")
        assert (await csv_response.text()).splitlines()[0] == "intent,count,mean_confidence"
        assert (await client.get(f"{base}/insights/analytics/api/report?since=yesterday", headers=agent)).status == 400

        assert (await client.post(f"{base}/insights/privacy/export", json={"customer_id": "C0000005"})).status == 401
        exported = await (
            await client.post(f"{base}/insights/privacy/export", headers=agent, json={"customer_id": "C0000005"})
        ).json()
        assert exported["conversations"] == ["g-1"] and [f["kind"] for f in exported["facts"]] == [
            "turn",
            "turn",
            "fallback",
        ]
        assert [e["text"] for e in exported["events"]] == ["hello", "blah"]  # the raw stream is theirs too
        missing = await client.post(f"{base}/insights/privacy/delete", headers=agent, json={})
        assert missing.status == 400

    serve(app, scenario)


@pytest.mark.parametrize(
    "kwargs,host",
    [
        ({"dialect": "sqlite", "db": "/tmp/x/events.db"}, None),
        ({"dialect": "postgresql", "db": "rasa", "username": "shop", "password": "p@ss", "port": 5432}, "db.local"),
        ({"dialect": "postgresql", "db": "rasa"}, "db.local:6543"),
        ({}, "postgresql://u:p@h/db"),
    ],
)
def test_broker_urls_are_built_as_rasa_builds_them(kwargs, host):
    from rasa.core.tracker_store import SQLTrackerStore

    from insights.stream import BrokerConfig

    ours = BrokerConfig(type="SQL", url=host, kwargs=kwargs).sql_url()
    theirs = SQLTrackerStore.get_db_url(host=host, **kwargs)
    assert ours == (theirs if isinstance(theirs, str) else theirs.render_as_string(hide_password=False))


def test_the_projects_endpoints_name_rasas_sql_broker(isolated_var):
    from insights.stream import read_broker_config

    config = read_broker_config()
    assert config.is_sql and config.sql_url() == f"sqlite:///{isolated_var / 'events.db'}"
