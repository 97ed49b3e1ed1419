"""The channel's input rules without a server: session ids, page metadata, customer tokens, cards."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest

from actions.cards import product_carousel
from core.signing import CustomerTokens
from shopdb.counters import SharedLimiter
from web.channel import ShopChannel, ShopChannelConfig, clean_page
from web.console import LoginThrottle, cookie_is_secure
from web.product_images import colour_of, product_svg


def test_only_conversation_ids_this_server_issued_are_valid(web_settings) -> None:
    channel = ShopChannel.from_credentials({})
    assert channel.valid_session_id(channel.conversation_ids.new())
    for value in (
        None,
        "",
        "short",
        "x" * 129,
        "has space in it!!",
        "../../etc/passwd0000",
        12345678901234567,
        "é" * 20,
        "a" * 16,
        "0f8c2b1e4d5a6b7c8d9e0f1a2b3c4d5e",
        "shopper-00000001",
    ):
        assert not channel.valid_session_id(value), value


def test_clean_page_keeps_only_known_fields() -> None:
    page = {
        "url": "https://shop.example/p/42",
        "product_id": 42,
        "title": "Shoe\x00",
        "secret": "drop me",
        "cart": [
            {"product_id": "42", "quantity": 2},
            {"product_id": "7", "quantity": -1},
            "junk",
            {"product_id": "8", "quantity": True},
            {"product_id": "9"},
        ],
    }
    assert clean_page(page) == {
        "url": "https://shop.example/p/42",
        "product_id": "42",
        "title": "Shoe",
        "cart": [{"product_id": "42", "quantity": 2}, {"product_id": "9", "quantity": 1}],
    }
    assert clean_page("not a dict") is None
    assert clean_page({"url": "x" * 10_000}) is None  # too big: dropped whole


def test_config_from_credentials_ignores_unknown_keys() -> None:
    config = ShopChannelConfig.from_credentials({"socketio_path": "/ws", "bogus": 1, "canned_replies": None})
    assert config.socketio_path == "/ws" and config.canned_replies  # None keeps the default list
    assert ShopChannelConfig.from_credentials(None).socketio_path == "/socket.io"


def test_metadata_customer_id_only_from_a_signed_token(web_settings) -> None:
    channel = ShopChannel.from_credentials({})
    token = channel.customer_tokens.sign("C0000001")
    assert channel.clean_metadata({"customer_token": token})["customer_id"] == "C0000001"
    with_proof = channel.clean_metadata({"customer_token": token}, "chat-1")
    assert channel.customer_proofs.valid(with_proof["customer_proof"], "chat-1", "C0000001")
    forged = channel.clean_metadata({"customer_id": "C0000002", "customer_token": CustomerTokens("x").sign("C0000002")})
    assert "customer_id" not in forged
    assert channel.clean_metadata(json.dumps({"page": {"product_id": "5"}})) == {"page": {"product_id": "5"}}
    assert channel.clean_metadata("{not json") == {}
    assert channel.clean_metadata(["a list"]) == {}
    assert channel.clean_metadata({"display_text": "Yes please"}) == {"display_text": "Yes please"}


def test_demo_page_is_on_in_embedded_mode_only(web_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # web_settings sets SHOP_DATABASE_URL: a deployment, so the demo (with its demo customer) is off...
    assert ShopChannel.from_credentials({}).demo_enabled is False
    # ...unless switched on explicitly.
    assert ShopChannel.from_credentials({"demo_page": True}).demo_enabled is True


def test_product_carousel_from_dicts_and_rows() -> None:
    row = SimpleNamespace(
        id=7,
        title="Trail runner",
        price=Decimal("89.9"),
        currency="EUR",
        rating=4.26,
        image_url="https://img/7.jpg",
        sku="SHO-RUN-0000007",
    )
    attachment = product_carousel([row, {"id": 8, "title": "Sock", "price": 5, "currency": "EUR", "rating": None}])
    assert attachment["type"] == "template" and attachment["payload"]["template_type"] == "generic"
    first, second = attachment["payload"]["elements"]
    assert first["title"] == "Trail runner" and first["subtitle"] == "89.90 EUR · ★ 4.3"
    assert first["product"] == {
        "id": "7",
        "sku": "SHO-RUN-0000007",
        "price": "89.90",
        "currency": "EUR",
        "rating": 4.26,
        "url": "/webhooks/shop/demo?product=7",
        "in_stock": True,
    }
    assert [b["title"] for b in first["buttons"]] == ["View", "Add to cart"]
    assert first["buttons"][1]["payload"] == '/add_to_cart{"product_id": "7"}'
    assert second["subtitle"] == "5.00 EUR" and second["image_url"] == "/webhooks/shop/images/products/8.svg"
    # Below the public address, every link is absolute: cards are shown on other sites too.
    [absolute] = product_carousel([{"id": 8, "title": "Sock"}], base_url="https://chat.example/")["payload"]["elements"]
    assert absolute["product"]["url"] == "https://chat.example/webhooks/shop/demo?product=8"
    assert absolute["image_url"] == "https://chat.example/webhooks/shop/images/products/8.svg"
    assert absolute["buttons"][0] == {"type": "web_url", "title": "View", "url": absolute["product"]["url"]}
    # out of stock: said on the card, nothing to add to a cart, a stock alert instead
    [gone] = product_carousel([{"id": 9, "title": "Tent", "price": 99, "currency": "EUR", "in_stock": False}])[
        "payload"
    ]["elements"]
    assert gone["subtitle"] == "99.00 EUR · out of stock" and gone["product"]["in_stock"] is False
    assert [b["title"] for b in gone["buttons"]] == ["View", "Tell me when it's back"]
    assert gone["buttons"][1]["payload"] == '/stock_alert{"product_id": "9"}'


def test_login_throttle_blocks_guessing_per_account_then_per_address() -> None:
    throttle = LoginThrottle(SharedLimiter.from_url("memory://"))
    for _ in range(5):
        assert throttle.attempt("1.2.3.4", "anna")
    assert not throttle.attempt("1.2.3.4", "anna")  # the sixth try within 5 minutes
    assert throttle.attempt("1.2.3.4", "bob")  # another account from the same address
    assert throttle.attempt("5.6.7.8", "anna")  # the same account from elsewhere
    for index in range(30):
        throttle.attempt("9.9.9.9", f"user{index}")
    assert not throttle.attempt("9.9.9.9", "dave")  # the address is out of tries
    throttle.succeeded("5.6.7.8", "anna")


def test_console_cookie_is_secure_behind_tls() -> None:
    assert cookie_is_secure("https", None)  # TLS here, or at nginx with X-Forwarded-Proto trusted
    assert not cookie_is_secure("http", None)  # the embedded mode on loopback
    assert cookie_is_secure("http", True) and not cookie_is_secure("https", False)  # SHOP_COOKIE_SECURE


def test_product_pictures_escape_the_title() -> None:
    svg = product_svg('Boots <script>alert("x")</script> & more', "Shoes/Hiking-boots")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; more" in svg
    assert 'fill="#' in svg and "Hiking boots" in svg
    assert colour_of("Shoes/Hiking-boots") == colour_of("Shoes/Hiking-boots")  # one colour per category
    assert len({colour_of(f"Category {n}") for n in range(40)}) > 4  # and several across categories
