"""The channel's input rules without a server: session ids, page metadata, customer tokens, cards."""
from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest

from web.auth import CustomerTokens
from web.channel import ShopChannel, ShopChannelConfig, clean_page, valid_session_id
from web.console import LoginThrottle
from web.messages import product_carousel


@pytest.mark.parametrize("value", ["a" * 16, "0f8c2b1e4d5a6b7c8d9e0f1a2b3c4d5e", "ABC_def-123456789", "x" * 128])
def test_valid_session_ids(value: str) -> None:
    assert valid_session_id(value)


@pytest.mark.parametrize("value", [None, "", "short", "x" * 129, "has space in it!!", "../../etc/passwd0000", 12345678901234567, "é" * 20])
def test_invalid_session_ids(value) -> None:
    assert not valid_session_id(value)


def test_clean_page_keeps_only_known_fields() -> None:
    page = {
        "url": "https://shop.example/p/42", "product_id": 42, "title": "Shoe\x00", "secret": "drop me",
        "cart": [{"product_id": "42", "quantity": 2}, {"product_id": "7", "quantity": -1}, "junk",
                 {"product_id": "8", "quantity": True}, {"product_id": "9"}],
    }
    assert clean_page(page) == {
        "url": "https://shop.example/p/42", "product_id": "42", "title": "Shoe",
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
    row = SimpleNamespace(id=7, title="Trail runner", price=Decimal("89.9"), currency="EUR", rating=4.26,
                          image_url="https://img/7.jpg", sku="SHO-RUN-0000007")
    attachment = product_carousel([row, {"id": 8, "title": "Sock", "price": 5, "currency": "EUR", "rating": None}])
    assert attachment["type"] == "template" and attachment["payload"]["template_type"] == "generic"
    first, second = attachment["payload"]["elements"]
    assert first["title"] == "Trail runner" and first["subtitle"] == "89.90 EUR · ★ 4.3"
    assert first["product"] == {"id": "7", "sku": "SHO-RUN-0000007", "price": "89.90", "currency": "EUR",
                                "rating": 4.26, "url": "/webhooks/shop/demo?product=7"}
    assert [b["title"] for b in first["buttons"]] == ["View", "Add to cart"]
    assert first["buttons"][1]["payload"] == '/add_to_cart{"product_id": "7"}'
    assert second["subtitle"] == "5.00 EUR" and second["image_url"] == ""


def test_login_throttle_blocks_guessing_per_account_then_per_address() -> None:
    throttle = LoginThrottle(per_account=3, per_address=5, window=60)
    for _ in range(3):
        assert not throttle.blocked("1.2.3.4", "anna")
        throttle.failed("1.2.3.4", "anna")
    assert throttle.blocked("1.2.3.4", "anna")
    assert not throttle.blocked("1.2.3.4", "bob")  # another account from the same address
    assert not throttle.blocked("5.6.7.8", "anna")  # the same account from elsewhere
    throttle.failed("1.2.3.4", "bob")
    throttle.failed("1.2.3.4", "carl")
    assert throttle.blocked("1.2.3.4", "dave")  # the address is out of tries
