"""Policy text parses into passages, and states the same numbers the order logic enforces."""

from __future__ import annotations

from shopdb import policies as pol


def test_passages_parse_with_unique_keys_and_sources():
    passages = pol.load_passages()
    assert len(passages) >= 40
    assert len({p.key for p in passages}) == len(passages)
    topics = {p.topic for p in passages}
    assert {"shipping", "returns", "refunds", "payment", "warranty", "account", "privacy"} <= topics
    for p in passages:
        assert p.source.startswith("shopdb/data/policies/") and "#" in p.source
        assert 15 <= len(p.text.split()) <= 160, p.key


def test_text_agrees_with_enforced_rules():
    by_key = {p.key: p for p in pol.load_passages()}
    assert f"{pol.RETURN_WINDOW_DAYS} days" in by_key["returns/return-window"].text
    lo, hi = pol.REFUND_BUSINESS_DAYS
    assert f"{lo}-{hi} business days" in by_key["refunds/when-you-get-your-money-back"].text
    countries = by_key["shipping/delivery-countries"].text
    names = {
        "AT": "Austria",
        "BE": "Belgium",
        "DE": "Germany",
        "DK": "Denmark",
        "ES": "Spain",
        "FI": "Finland",
        "FR": "France",
        "IE": "Ireland",
        "IT": "Italy",
        "LU": "Luxembourg",
        "NL": "Netherlands",
        "PL": "Poland",
        "PT": "Portugal",
        "SE": "Sweden",
    }
    assert set(names) == set(pol.SHIPPING_COUNTRIES)
    assert all(name in countries for name in names.values())


def test_markdown_parser_splits_sections():
    text = "# Title\nintro\n\n## First part\nline one\nline two\n\n## Second\n\n## Third\nbody"
    passages = pol.parse_markdown(text, "demo", "demo.md")
    assert [p.key for p in passages] == ["demo/first-part", "demo/third"]
    assert passages[0].text == "line one line two" and passages[0].source == "demo.md#first-part"
