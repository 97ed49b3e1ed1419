"""Country names as shoppers write them map to one ISO code, and the NLU lookup leaves out everyday words."""

from __future__ import annotations

import pytest

from shopdb import policies as pol
from shopdb.countries import COUNTRY_NAMES, country_code, country_name, find_country, lookup_terms, sorted_by_name


@pytest.mark.parametrize(
    "written, code",
    [
        ("Spain", "ES"),
        ("spain", "ES"),
        ("España", "ES"),
        ("es", "ES"),
        ("the UK", "GB"),
        ("United  Kingdom", "GB"),
        ("Holland", "NL"),
        ("the netherlands", "NL"),
        ("Deutschland", "DE"),
        ("Canada", "CA"),
        ("Narnia", None),
        ("", None),
        (None, None),
    ],
)
def test_country_code_of_names_codes_and_variants(written, code):
    assert country_code(written) == code


def test_find_country_in_a_message():
    assert find_country("do you ship to spain?") == "ES"
    assert find_country("Delivery time to the Netherlands pls") == "NL"
    assert find_country("i live in northern ireland") == "GB"  # the longer name wins over "ireland"
    assert find_country("how long to Ireland") == "IE"
    assert find_country("can you send it to Norway or Sweden") == "NO"
    assert find_country("how long does shipping take?") is None
    assert find_country("my bonus is spainful") is None  # whole words only


def test_every_served_country_has_a_name_and_the_lookup_skips_everyday_words():
    assert set(pol.SHIPPING_COUNTRIES) <= set(COUNTRY_NAMES)
    terms = lookup_terms()
    assert {"spain", "netherlands", "holland", "uk", "canada", "switzerland", "norway"} <= set(terms)
    assert "turkey" not in terms and "china" not in terms and find_country("ship to Turkey?") == "TR"
    assert [country_name(c) for c in sorted_by_name(["SE", "NL", "AT"])] == ["Austria", "the Netherlands", "Sweden"]
