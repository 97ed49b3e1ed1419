"""The query parser on an imported catalogue that is not the demo taxonomy (a bike shop): typos repaired
into the catalogue's words, plain English left alone, slang prices, capacities, sizes, brands."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.filters import size_matches
from retrieval.query_parser import CatalogueVocabulary, QueryParser, abbreviation_cost, slip_cost

Row = Tuple[str, str, str, str, Dict[str, Any]]


def _bike_shop() -> List[Row]:
    """Six products per kind, each kind with its own words, brands, colours, materials and sizes."""
    kinds = [
        (
            "Bikes/Gravel bikes",
            "Gravel Bike",
            "A fast gravel bike for long rides on rough roads.",
            ["Velotech", "Rivendale"],
            ["petrol", "sand"],
            ["carbon", "aluminium"],
            {"size": ["S", "M", "L"]},
        ),
        (
            "Bikes/City bikes",
            "City Bike",
            "A comfortable city bike for commuting to work.",
            ["Rivendale"],
            ["light blue", "cream"],
            ["steel"],
            {"size": ["S", "M"]},
        ),
        (
            "Parts/Brakes",
            "Disc Brakes",
            "Powerful disc brakes that stop in the wet.",
            ["Velotech"],
            ["black"],
            ["aluminium"],
            {},
        ),
        (
            "Parts/Saddles",
            "Comfort Saddle",
            "A padded saddle for long days.",
            ["Selle Nova"],
            ["black", "tan"],
            ["leather"],
            {},
        ),
        (
            "Camping/Tents",
            "Bikepacking Tent",
            "A light tent that packs small.",
            ["Trailhut"],
            ["olive"],
            ["ripstop nylon"],
            {"size": "2-person"},
        ),
        (
            "Clothing/Socks",
            "Cycling Socks",
            "Socks that keep feet dry, 3 pieces per pack.",
            ["Velotech"],
            ["black", "white"],
            ["merino wool"],
            {"size": ["35-38", "39-42", "43-46"]},
        ),
        (
            "Accessories/Bottles",
            "Water Bottle",
            "A water bottle for the cage on your frame.",
            ["Trailhut"],
            ["black"],
            ["stainless steel"],
            {"size": "750 ml"},
        ),
        ("Care/Creams", "Chamois Cream", "Chamois cream against saddle sores.", ["Selle Nova"], [""], [""], {}),
    ]
    rows: List[Row] = []
    for category, noun, description, brands, colours, materials, extra in kinds:
        for n in range(6):
            brand, colour, material = brands[n % len(brands)], colours[n % len(colours)], materials[n % len(materials)]
            attributes = {"colour": colour, "material": material, **extra}
            if category == "Camping/Tents" and n % 2:
                attributes["size"] = "4-person"
            title = f"{brand} Model{n} {noun}" + (f", {colour.title()}" if colour else "")
            rows.append(
                (
                    title,
                    f"{description} Made from {material}." if material else description,
                    brand,
                    category,
                    {k: v for k, v in attributes.items() if v},
                )
            )
    return rows


@pytest.fixture(scope="module")
def parser() -> QueryParser:
    return QueryParser(CatalogueVocabulary.from_rows(_bike_shop()))


def test_typos_become_the_catalogues_own_words(parser):
    parsed = parser.parse("any petrl gravl bikes from velotek in sz M??")
    f = parsed.filters
    assert (f.category, f.colour, f.brand, f.size) == ("Bikes/Gravel bikes", "petrol", "Velotech", "M")
    assert parsed.corrections == {"petrl": "petrol", "gravl": "gravel", "velotek": "velotech"}


def test_plain_english_words_are_never_repaired(parser):
    # each is one cheap slip from a catalogue word (brakes, saddle, steel) but spelt right
    for text in ("what breaks first on a bike", "a paddle for my niece", "something to steal the show"):
        assert parser.parse(text).corrections == {}, text
    assert parser.vocabulary.repair("brakse") == "brakes"  # the same distance, not a word: repaired


def test_an_english_spelling_is_repaired_when_it_completes_a_catalogue_phrase(parser):
    parsed = parser.parse("light blu city bike")
    assert parsed.filters.colour == "light blue" and parsed.corrections == {"blu": "blue"}
    assert parser.parse("blu bike").corrections == {}


def test_short_forms_and_words_run_together(parser):
    parsed = parser.parse("blk waterbottle")
    assert parsed.corrections == {"blk": "black", "waterbottle": "water bottle"}
    assert (parsed.filters.colour, parsed.filters.category) == ("black", "Accessories/Bottles")


@pytest.mark.parametrize(
    "text,low,high",
    [
        ("gravel bike under 600 quid", None, 600),
        ("saddle max 80e", None, 80),
        ("brakes between 20 and 50", 20, 50),
        ("city bike from 300 to 450 euro", 300, 450),
        ("socks under a tenner", None, 10),
        ("a carbon bike, 2000 or more", 2000, None),
        ("tent, nothing more than 150", None, 150),
        ("gravel bike at least 1.2k", 1200, None),
        ("bottle €15 max", None, 15),
        ("saddle for less than 40 bucks", None, 40),
    ],
)
def test_slang_prices(parser, text, low, high):
    f = parser.parse(text).filters
    assert (f.min_price, f.max_price) == (low, high)


@pytest.mark.parametrize(
    "text,strict_max,strict_min",
    [
        ("tent under 150", True, None),
        ("tent below 150", True, None),
        ("tent up to 150", False, None),
        ("tent, no more than 150", False, None),
        ("tent 150 max", False, None),
        ("tent over 50", None, True),
        ("tent at least 50", None, False),
        ("tent 50 or more", None, False),
    ],
)
def test_under_is_a_strict_bound_up_to_is_not(parser, text, strict_max, strict_min):
    """ "under 150" leaves out a 150.00 tent; "up to 150" keeps it."""
    f = parser.parse(text).filters
    assert (f.max_exclusive, f.min_exclusive) == (strict_max, strict_min)


def test_capacity_is_the_catalogues_value_when_it_has_one(parser):
    f = parser.parse("tent for 2 people").filters
    assert (f.category, f.capacity, f.size) == ("Camping/Tents", "2-person", None)
    assert parser.parse("4 ppl tent").filters.capacity == "4-person"
    assert parser.parse("3 person tent").filters.capacity == "3-person"  # none sold: the search relaxes it
    assert parser.parse("water bottle 0.75l").filters.capacity == "750 ml"


def test_sizes_the_category_sells(parser):
    socks = parser.parse("cycling socks 42").filters
    assert socks.size == "42" and size_matches(socks.size, "39-42")
    assert parser.parse("gravel bike L").filters.size == "L"  # a capital letter
    assert parser.parse("city bike size m").filters.size == "M"
    assert parser.parse("socks, im a 44").filters.size == "44"
    assert parser.parse("gravel bike 42").filters.size is None  # bikes come in S, M, L


def test_cheap_is_a_sort_not_a_word_to_search(parser):
    parsed = parser.parse("cheap gravel bike")
    assert parsed.cheap and "cheap" not in parsed.text and parsed.filters.max_price is None
    assert not parser.parse("gravel bike").cheap


def test_a_value_the_category_does_not_sell_is_another_word(parser):
    cream = parser.parse("chamois cream")
    assert cream.filters.category == "Care/Creams" and cream.filters.colour is None
    assert parser.parse("cream city bike").filters.colour == "cream"


def test_a_word_of_a_value_stands_for_it_and_descriptions_name_categories(parser):
    assert parser.parse("merino socks").filters.material == "merino wool"
    assert parser.parse("something for commuting").filters.category == "Bikes/City bikes"
    assert parser.parse("selle nova saddle in tan").filters.brand == "Selle Nova"


def test_slips_cost_more_at_the_start_and_for_other_letters():
    assert slip_cost("runing", "running") == 1
    assert slip_cost("runing", "pruning") == 2  # a letter added in front
    assert slip_cost("jeens", "jeans") == 1  # a vowel for a vowel
    assert slip_cost("poss", "pots") == 2  # another consonant
    assert abbreviation_cost("gry", "grey") == 1 and abbreviation_cost("blk", "black") == 1.5
    assert abbreviation_cost("big", "beige") == 1 and abbreviation_cost("bg", "bag") is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=700) | st.from_regex(r"[a-z0-9 ,.€£$-]{0,120}", fullmatch=True))
def test_any_text_is_read_without_error(parser, text):
    parsed = parser.parse(text)
    assert len(parsed.text) <= 500 and all(isinstance(v, str) for v in parsed.corrections.values())
