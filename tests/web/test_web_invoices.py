"""GET /webhooks/shop/invoices/<token>.pdf on a real Sanic server with the shop channel as Rasa mounts
it, without Rasa's agent (no trained model): a signed link gets the PDF, anything else a bare refusal."""

from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal
from itertools import count
from typing import Any, Awaitable, Callable, Dict, List

import aiohttp
import pytest
from sanic import Sanic

from core.signing import INVOICE_LINK_PATH, InvoiceLinks, resolve_secret_key
from shopdb.db import create_db_engine, session_factory, session_scope
from shopdb.models import Customer, Order, OrderItem

_apps = count()
PAID_AT = dt.datetime(2025, 2, 28, 10, 0)
# number -> status; every order: 89.99 + 2 x 7.50 + 4.95 shipping = 109.94 (VAT 21%: 19.08, net 90.86)
ORDERS = {"10000001": "delivered", "10000003": "placed", "10000007": "cancelled"}


@pytest.fixture
def invoice_db(web_settings, db_url: str) -> None:
    engine = create_db_engine(db_url)
    with session_scope(session_factory(engine)) as s:
        s.add(Customer(customer_id="C0000001", email="alex.morgan@example.com", name="Alex Morgan"))
        s.flush()
        for number, status in ORDERS.items():
            s.add(
                Order(
                    order_number=number,
                    customer_ref=1,
                    status=status,
                    placed_at=PAID_AT - dt.timedelta(minutes=5),
                    paid_at=None if status == "placed" else PAID_AT,
                    total=Decimal("109.94"),
                    ship_name="Alex Morgan",
                    ship_line1="Canal Street 12",
                    ship_city="Amsterdam",
                    ship_postcode="1012 AB",
                    ship_country="NL",
                    items=[
                        OrderItem(sku="RUN-1", title="Trail runners", quantity=1, unit_price=Decimal("89.99")),
                        OrderItem(sku="SOCK-1", title="Sports socks", quantity=2, unit_price=Decimal("7.50")),
                    ],
                )
            )
    engine.dispose()


@pytest.fixture
def serve_channel(serve_app) -> Callable[[Callable[[aiohttp.ClientSession, str], Awaitable[Any]]], Any]:
    """The shop channel mounted the way ``rasa run`` mounts it, served on a free loopback port."""
    from rasa.core.channels.channel import register

    from web.channel import ShopChannel

    def serve(scenario: Callable[[aiohttp.ClientSession, str], Awaitable[Any]]) -> Any:
        Sanic.test_mode = True  # several apps in one process
        app = Sanic(f"invoice_test_{next(_apps)}")
        register([ShopChannel.from_credentials({})], app, "/webhooks/")
        assert getattr(app.ctx, "agent", None) is None  # no model loaded: the route must not need one

        async def with_client(base: str) -> Any:
            async with aiohttp.ClientSession() as client:
                return await scenario(client, base)

        return serve_app(app, with_client)

    return serve


async def fetch(client: aiohttp.ClientSession, url: str) -> Dict[str, Any]:
    async with client.get(url) as reply:
        return {"status": reply.status, "headers": dict(reply.headers), "body": await reply.read()}


def pdf_strings(pdf: bytes) -> List[str]:
    """The text a PDF shows with the standard fonts (literal strings of its uncompressed content)."""
    strings = re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", pdf)
    unescape = lambda s: re.sub(rb"\\([0-7]{3}|.)", lambda m: bytes([int(m[1], 8)]) if len(m[1]) == 3 else m[1], s)  # noqa: E731
    return [unescape(s).decode("cp1252") for s in strings]


def links() -> InvoiceLinks:
    return InvoiceLinks(resolve_secret_key())


def test_a_signed_link_downloads_the_invoice_pdf(invoice_db, monkeypatch, serve_channel) -> None:
    import web.invoices

    threads: Dict[str, str] = {}

    def recorded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            threads[name] = threading.current_thread().name
            return function(*args)

        return run

    monkeypatch.setattr(web.invoices, "load_invoice", recorded("load", web.invoices.load_invoice))
    monkeypatch.setattr(web.invoices, "render_invoice_pdf", recorded("render", web.invoices.render_invoice_pdf))
    url = links().url("10000001")
    assert url.startswith(INVOICE_LINK_PATH)

    async def download(client: aiohttp.ClientSession, base: str) -> Dict[str, Any]:
        threads["loop"] = threading.current_thread().name  # the server's event loop runs here too
        return await fetch(client, base + url)

    reply = serve_channel(download)
    assert reply["status"] == 200
    headers = reply["headers"]
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == 'attachment; filename="invoice-10000001.pdf"'
    assert headers["Cache-Control"] == "no-store"
    pdf = reply["body"]
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = pdf_strings(pdf)
    for shown in ("INV-10000001", "10000001", "Larkspur Market", "Alex Morgan", "Trail runners", "Sports socks"):
        assert shown in text, shown
    assert ["Total excl. VAT", "90.86", "VAT 21%", "19.08", "Total (EUR)", "109.94"] == text[-7:-1]
    # the database read and the rendering ran in worker threads, never on the event loop's
    assert threads["load"].startswith("shop-db") and threads["render"] != threads["loop"]


def test_forged_expired_and_unissued_links_get_a_bare_refusal(invoice_db, monkeypatch, serve_channel) -> None:
    from itsdangerous.timed import TimestampSigner

    good = links().url("10000001")
    payload, issued, signature = good[len(INVOICE_LINK_PATH) : -len(".pdf")].split(".")
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    other_order = links().url("10000003")[len(INVOICE_LINK_PATH) :].split(".")[0]
    refused = {
        f"{INVOICE_LINK_PATH}{payload}.{issued}.{flipped}.pdf": 404,  # tampered signature
        f"{INVOICE_LINK_PATH}{other_order}.{issued}.{signature}.pdf": 404,  # another order, this signature
        InvoiceLinks("not our secret").url("10000001"): 404,
        good[: -len(".pdf")]: 404,  # not a .pdf name
        f"{INVOICE_LINK_PATH}10000001.pdf": 404,
        links().url("10000003"): 404,  # placed, not paid: no invoice yet
        links().url("10000007"): 404,  # cancelled since the link was made
        links().url("99999999"): 404,  # no such order
    }
    yesterday = TimestampSigner.get_timestamp(TimestampSigner("x")) - 24 * 3600 - 1
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: yesterday)
        refused[links().url("10000001")] = 410  # signed here, expired

    async def scenario(client: aiohttp.ClientSession, base: str) -> List[Dict[str, Any]]:
        return [await fetch(client, base + url) for url in refused]

    replies = serve_channel(scenario)
    assert [r["status"] for r in replies] == list(refused.values())
    for reply in replies:
        assert reply["body"] == b"" and reply["headers"]["Cache-Control"] == "no-store"
