"""Rasa's calls to the action server keep their connection and send the same JSON
(rasa_addons/patches/action_calls.py), against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Tuple

from aiohttp import web

from rasa_addons.patches import action_calls


async def call_twice(payloads: List[Dict[str, Any]]) -> Tuple[List[Any], List[Any], List[str]]:
    from rasa.utils.endpoints import EndpointConfig

    peers: List[Any] = []
    received: List[Any] = []
    auth: List[str] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        received.append(await request.json())
        auth.append(request.headers.get("Authorization", ""))
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"Authorization": "Bearer t0ken"})
    try:
        answers = [await endpoint.request(json=payload, method="post") for payload in payloads]
    finally:
        await action_calls.close_kept_sessions()
        await runner.cleanup()
    assert all(answer == {"events": [], "responses": []} for answer in answers)
    return peers, received, auth


def test_action_calls_share_one_connection_and_send_the_same_json() -> None:
    action_calls.install()
    payloads = [
        {"next_action": "action_search_products", "tracker": {"events": [{"text": "vélo / 42 €", "n": 1.5}]}},
        {"next_action": "action_order_status", "tracker": {"events": [], "slots": {"order_number": None}}},
    ]
    peers, received, auth = asyncio.run(call_twice(payloads))
    assert received == payloads  # same content (non-ASCII text, floats, nulls, slashes)
    assert auth == ["Bearer t0ken", "Bearer t0ken"]  # the endpoint's headers still go out
    assert peers[0] == peers[1]  # the second call came over the first call's connection


def test_a_closed_loop_gets_a_new_session() -> None:
    action_calls.install()
    first, _, _ = asyncio.run(call_twice([{"n": 1}]))
    second, _, _ = asyncio.run(call_twice([{"n": 2}]))  # another event loop: no session of the last one
    assert first and second
