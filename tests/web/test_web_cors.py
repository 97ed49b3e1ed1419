"""Which sites may embed the widget (web/cors.py) and the shape of agent lines per client (web/shopper_lines.py)."""

from __future__ import annotations

import pytest

from core.capabilities import clean_capabilities
from web.channel import ShopChannel
from web.cors import WIDGET_PATHS, WidgetOrigins, parse_origins
from web.shopper_lines import line_payloads, rooms_of, speaker_room


def test_origins_are_normalised_and_malformed_ones_refused() -> None:
    assert parse_origins("https://Shop.Example/, http://127.0.0.1:8080 ,,") == (
        "https://shop.example",
        "http://127.0.0.1:8080",
    )
    assert parse_origins(["https://a.example", "https://a.example"]) == ("https://a.example",)
    assert parse_origins(None) == () and parse_origins("") == ()
    for bad in ("shop.example", "https://shop.example/path", "ftp://shop.example", "https://", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            parse_origins(bad)
    with pytest.raises(ValueError):
        parse_origins(42)


def test_listed_sites_and_the_assistants_own_pages_may_connect() -> None:
    origins = WidgetOrigins(parse_origins("https://www.shop.example"))
    own = {"HTTP_HOST": "chat.shop.example", "wsgi.url_scheme": "https"}
    assert origins.allows("https://www.shop.example", own)
    assert origins.allows("https://WWW.shop.example", own)
    assert origins.allows("https://chat.shop.example", own)  # the demo page and the console
    assert not origins.allows("https://evil.example", own)
    assert not origins.allows("http://www.shop.example", own)  # another scheme is another origin
    behind_proxy = {**own, "wsgi.url_scheme": "http", "HTTP_X_FORWARDED_PROTO": "https"}
    assert origins.allows("https://chat.shop.example", behind_proxy)
    nobody = WidgetOrigins()
    assert not nobody.allows("https://www.shop.example", own) and nobody.allows("https://chat.shop.example", own)
    assert WidgetOrigins(parse_origins("*")).allows("https://anyone.example", own)


def test_cors_covers_the_widgets_endpoints_only() -> None:
    resources = WidgetOrigins(("https://www.shop.example",)).cors_resources()
    assert set(resources) == set(WIDGET_PATHS)
    assert all(r["origins"] == ["https://www.shop.example"] for r in resources.values())
    assert not any("console" in path or "agent" in path or "analytics" in path for path in resources)


def test_credentials_win_over_the_setting(web_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import get_settings

    monkeypatch.setenv("SHOP_WIDGET_ORIGINS", "https://from-env.example")
    get_settings.cache_clear()
    try:
        assert ShopChannel.from_credentials({}).origins.origins == ("https://from-env.example",)
        configured = ShopChannel.from_credentials({"cors_allowed_origins": ["https://from-yml.example"]})
        assert configured.origins.origins == ("https://from-yml.example",)
    finally:
        get_settings.cache_clear()


def test_capabilities_keep_known_names_only() -> None:
    assert clean_capabilities(["cart", "speakers", "cart", "evil", 3, None]) == ("cart", "speakers")
    assert clean_capabilities("speakers") == () and clean_capabilities(None) == ()


def test_agent_lines_are_standard_messages_for_clients_that_cannot_label_speakers() -> None:
    labelled, plain = line_payloads(
        "Let me check.", agent_name="Robin", agent_line=lambda agent_name, line: f"{agent_name} says {line}"
    )
    assert labelled == {"text": "Let me check.", "metadata": {"role": "agent", "agent": {"name": "Robin"}}}
    assert plain == {"text": "Robin says Let me check."}  # exactly one key: what stock widgets render as text
    labelled, plain = line_payloads("Robin joined.", agent_name=None, agent_line=lambda **_: "unused")
    assert labelled == {"text": "Robin joined.", "metadata": {"role": "system"}} and plain == {"text": "Robin joined."}
    labelled_room, plain_room = rooms_of("abc")
    assert speaker_room("abc", ("cards", "speakers")) == labelled_room
    assert speaker_room("abc", ()) == plain_room != labelled_room


def test_message_metadata_carries_the_clients_capabilities(web_settings) -> None:
    channel = ShopChannel.from_credentials({})
    metadata = channel.clean_metadata({"capabilities": ["cart", "cards", "root"], "page": {"url": "/x"}})
    assert metadata["capabilities"] == ["cards", "cart"]
    assert "capabilities" not in channel.clean_metadata({"capabilities": "cart"})
