"""Stock alerts said by the Rasa server: once the product has stock again, the line is added to each waiting
conversation (the widget finds it when the shopper returns) and e-mailed where the shopper gave an address.

The shop channel's real blueprint on a Sanic server on a free loopback port, its own notifier loop
(``SHOP_STOCK_ALERT_SECONDS`` short), a migrated SQLite shop database, and aiosmtpd on loopback.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict

import aiohttp
from sqlalchemy import select, update

from shopdb import models as m
from shopdb.db import create_db_engine, session_factory, session_scope
from shopdb.stock_alerts import add_stock_alert

TITLE = "Trailhead Merino Socks, Forest Green"


async def _history(client: aiohttp.ClientSession, base: str, conversation: str) -> Dict[str, Any]:
    reply = await client.get(f"{base}/history/{conversation}")
    assert reply.status == 200, await reply.text()
    return await reply.json()


def test_a_product_back_in_stock_is_said_in_the_chat_and_mailed_once(
    smtp_server, serve_app, channel_app, db_url, monkeypatch
) -> None:
    from core.settings import get_settings

    monkeypatch.setenv("SHOP_STOCK_ALERT_SECONDS", "0.2")
    get_settings.cache_clear()
    sessions = session_factory(create_db_engine(db_url))
    with session_scope(sessions) as s:
        category = m.Category(path="Clothing/Socks", name="Socks")
        product = m.Product(sku="SOCK-1", title=TITLE, category=category, price=12.95, currency="EUR", stock=0)
        s.add(product)
        s.flush()
        product_id = int(product.id)
    app, channel = channel_app("stock_alert_test")
    by_mail, chat_only = channel.conversation_ids.new(), channel.conversation_ids.new()
    add_stock_alert(sessions, product_id, by_mail, email="sam.shopper@example.org")
    add_stock_alert(sessions, product_id, chat_only)

    async def scenario(base: str) -> None:
        async with aiohttp.ClientSession() as client:
            await asyncio.sleep(0.6)  # a few rounds while the socks are out of stock: nothing is said
            assert (await _history(client, base, by_mail))["messages"] == []
            with session_scope(sessions) as s:
                s.execute(update(m.Product).where(m.Product.id == product_id).values(stock=4))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                said = [(await _history(client, base, c))["messages"] for c in (by_mail, chat_only)]
                if all(said):
                    break
                await asyncio.sleep(0.2)
            for messages in said:
                assert [(x["role"], x["text"]) for x in messages] == [
                    ("bot", f"Good news: the {TITLE} is back in stock (€12.95).")
                ]
            await asyncio.sleep(0.6)  # later rounds say nothing again

    serve_app(app, lambda root: scenario(root + "/webhooks/shop"))

    [mail] = smtp_server.messages
    assert mail["To"] == "sam.shopper@example.org"
    assert mail["Subject"] == f"Back in stock at Larkspur Market: {TITLE}"
    assert "for €12.95" in mail.get_payload(decode=True).decode()
    with sessions() as s:
        deliveries = dict(s.execute(select(m.StockAlert.sender_id, m.StockAlert.delivery)).all())
    assert deliveries == {by_mail: "chat and e-mail", chat_only: "chat"}
