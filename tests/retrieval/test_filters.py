"""Product filters: coercion, and sizes and capacities matched the way catalogues write them."""

from __future__ import annotations

import pytest

from retrieval.filters import ProductFilters, colour_matches, measure_of, normalise_size, size_matches


@pytest.mark.parametrize(
    "wanted,offered",
    [
        ("42", "39-42"),
        ("39", "39-42"),
        ("M", "S/M"),
        ("28cm", "28 cm"),
        ("1000 pcs", "1,000 pieces"),
        ("2 people", "2-person"),
        ("4Y", "4-5Y"),
        ("xl", "XL"),
    ],
)
def test_sizes_written_differently_or_as_a_range_match(wanted, offered):
    assert size_matches(wanted, offered)


@pytest.mark.parametrize(
    "wanted,offered",
    [("43", "39-42"), ("L", "XL"), ("42", "42.5"), ("2 people", "4-person"), ("4", "4-5Y"), ("S", "M/L")],
)
def test_other_sizes_do_not_match(wanted, offered):
    assert not size_matches(wanted, offered)


def test_one_spelling_per_size():
    assert normalise_size(" 1,500  pc ") == "1500 PIECES"
    assert normalise_size("2 ppl") == "2-PERSON"
    assert normalise_size("l / xl") == "L/XL"


@pytest.mark.parametrize(
    "value,measure",
    [
        ("20,000 mAh", (20000.0, "mAh")),
        ("10k mah", (10000.0, "mAh")),
        ("2-person", (2.0, "person")),
        ("tent for 4 people", (4.0, "person")),
        ("1 man tent", (1.0, "person")),
        ("500 ml", (0.5, "l")),
        ("30l", (30.0, "l")),
        ("10 litres", (10.0, "l")),
    ],
)
def test_capacities_are_an_amount_and_a_unit(value, measure):
    assert measure_of(value) == measure


@pytest.mark.parametrize("value", ["size 42", "2 x 5 kg", "menswear 2", "15.6 inch", "42"])
def test_other_numbers_are_no_capacity(value):
    assert measure_of(value) is None


def test_coerce_reads_every_filter_and_refuses_unknown_ones():
    f = ProductFilters.coerce(
        {"color": "Red", "max_price": "19.5", "in_stock": "yes", "brand": "", "material": "cork", "capacity": 2}
    )
    assert (f.colour, f.max_price, f.in_stock, f.brand, f.material, f.capacity) == (
        "Red",
        19.5,
        True,
        None,
        "cork",
        "2",
    )
    with pytest.raises(ValueError):
        ProductFilters.coerce({"colour_of_sky": "blue"})


def test_explicit_filters_win_and_details_can_be_let_go():
    explicit = ProductFilters(category="Shoes", size="42")
    inferred = ProductFilters(category="Shoes/Sneakers", colour="white", size="43")
    merged = explicit.merged(inferred)
    assert (merged.category, merged.colour, merged.size) == ("Shoes", "white", "42")
    assert merged.without("colour", "size") == ProductFilters(category="Shoes")


@pytest.mark.parametrize(
    "wanted, offered, shown",
    [
        ("blue", "blue", True),
        ("blue", "midnight blue", True),
        ("blue", "navy", True),  # "in blue?" includes navy, as a person in a shop would
        ("red", "burgundy", True),
        ("green", "sage green", True),
        ("grey", "graphite", True),
        ("navy", "blue", False),  # a shade asked for is that shade
        ("blue", "black", False),
        ("red", "tortoiseshell", False),  # a whole word, not letters inside one
        ("white", "cream", False),
        ("blue", "", False),
    ],
)
def test_a_basic_colour_includes_its_shades(wanted, offered, shown):
    assert colour_matches(wanted, offered) is shown
