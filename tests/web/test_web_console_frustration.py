"""The console API shows the NLU's frustration: per shopper line in a ticket, and the peak in the queue.

The shop channel's real blueprint (what Rasa mounts under ``/webhooks/shop``) on a Sanic server on
a free loopback port, a ticket opened by the real hand-off path, an agent logging in over HTTP.
No bot is needed: the conversation's events are given as the tracker store would hold them.
"""

from __future__ import annotations

from typing import Any, Dict, List

import aiohttp
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from sanic import Sanic

from handoff.store import default_store
from handoff.tickets import create_ticket
from nlu_models.frustration_score import frustration_score

PASSWORD = "a long enough test password"


def _scored(text: str, intent: str, original: str = "") -> Dict[str, Any]:
    """A user event as the NLU leaves it with the frustration scorer in the pipeline."""
    parse: Dict[str, Any] = {"intent": {"name": intent, "confidence": 0.9}, "entities": []}
    parse["frustration"] = frustration_score(text).as_dict()
    if original:
        parse["frustrated_intent"] = original
    return UserUttered(text, parse["intent"], [], parse_data=parse).as_dict()


def _conversation() -> List[Dict[str, Any]]:
    return [
        ActionExecuted("action_listen").as_dict(),
        _scored("where is my parcel?", "order_status"),
        BotUttered("It left our warehouse on Monday.").as_dict(),
        _scored("STILL NO PARCEL?! useless", "express_frustration", original="order_status"),
        BotUttered("I'm sorry this has been frustrating.").as_dict(),
        _scored("yes, a person please", "request_human"),
    ]


def _get(client: aiohttp.ClientSession, url: str) -> Any:
    async def fetch() -> Any:
        async with client.get(url) as reply:
            assert reply.status == 200, await reply.text()
            return await reply.json()

    return fetch()


def test_the_console_api_returns_each_lines_frustration_and_the_queues_peak(web_settings, serve_app) -> None:
    from web.channel import ShopChannel

    store = default_store()
    store.create_agent("robin", PASSWORD, "Robin")
    ticket, _, _ = create_ticket("conversation-frustrated-1", _conversation())
    calm, _, _ = create_ticket("conversation-calm-1", [_scored("do you sell gift cards?", "ask_policy")])
    unscored, _, _ = create_ticket("conversation-unscored-1", [UserUttered("hi", {"name": "greet"}).as_dict()])

    async def on_new_message(_: Any) -> None:  # the bot is never asked here
        raise AssertionError("no message goes to the bot")

    Sanic.test_mode = True
    app = Sanic("console_frustration_test")
    channel = ShopChannel.from_credentials({})
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/shop")

    async def scenario(base: str) -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            login = await client.post(f"{base}/agent/login", json={"username": "robin", "password": PASSWORD})
            assert login.status == 200, await login.text()

            queue = await _get(client, f"{base}/agent/queue")
            peaks = {t["id"]: t["peak_frustration"] for t in queue["tickets"]}
            assert peaks == {
                ticket.id: {"score": 1.0, "frustrated": True},
                calm.id: {"score": 0.0, "frustrated": False},
                unscored.id: None,
            }
            assert all("transcript" not in t for t in queue["tickets"])

            detail = await _get(client, f"{base}/agent/tickets/{ticket.id}")
            lines = [(m["role"], m.get("frustration")) for m in detail["ticket"]["transcript"]]
            assert lines == [
                ("user", {"score": 0.0, "frustrated": False, "signals": []}),
                ("bot", None),
                ("user", {"score": 1.0, "frustrated": True, "signals": ["useless", "still no", "?!", "shouting"]}),
                ("bot", None),
                ("user", {"score": 0.0, "frustrated": False, "signals": []}),
            ]
            assert detail["ticket"]["peak_frustration"] == {"score": 1.0, "frustrated": True}

            async with aiohttp.ClientSession() as stranger:
                async with stranger.get(f"{base}/agent/tickets/{ticket.id}") as refused:
                    assert refused.status == 401  # the scores are for logged-in agents only

    serve_app(app, lambda root: scenario(root + "/webhooks/shop"))
