"""The shopper's words for colours, categories, sizes, ordinals, order problems and countries.

Why one module: the NLU lookup tables (``bot/data/nlu/lookups.yml``) and the
actions that turn extracted entity values into catalogue filters must agree.
Both come from here, and both follow the catalogue's taxonomy
(:mod:`shopdb.taxonomy`) and the country names of :mod:`shopdb.countries`.
Regenerate the lookup file after a change of either::

    python -m actions.vocabulary            # rewrites bot/data/nlu/lookups.yml
    python -m actions.vocabulary --check    # exit 1 when the file is stale (CI)
"""

from __future__ import annotations

import argparse
import re
import sys
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

from shopdb.countries import lookup_terms as country_lookup_terms
from shopdb.taxonomy import PRODUCT_TYPES

LOOKUP_FILE = Path(__file__).resolve().parent.parent / "bot" / "data" / "nlu" / "lookups.yml"

# Colour words the catalogue uses that are also everyday words are left out of the lookup.
_AMBIGUOUS_COLOURS = {"clear", "natural", "steel", "walnut", "floral print", "multicolour", "colour-changing"}
_EXTRA_COLOURS = {
    "gray": "grey",
    "purple": "purple",
    "yellow": "yellow",
    "orange": "orange",
    "gold": "gold",
    "khaki": "khaki",
    "maroon": "burgundy",
    "turquoise": "teal",
    "dark grey": "charcoal",
    "dark gray": "charcoal",
    "light grey": "grey",
    "light gray": "grey",
    "space gray": "space grey",
    "off-white": "cream",
    "off white": "cream",
}

# Category words that are too common in other sentences ("top rated", "throw it away").
_AMBIGUOUS_CATEGORY_TERMS = {
    "top",
    "throw",
    "cans",
    "kicks",
    "chain",
    "sheets",
    "tee",
    "home",
    "book to read",
    "cushion for sleeping",
    "booklight",
    "accessories",
    "small accessories",
}

# Singulars of plural synonyms that mean something else ("what's the weight?", "denim" the material).
_NOT_A_PRODUCT_WHEN_SINGULAR = {"denim", "shade", "sunny", "weight", "polarised glass", "shoes for kid"}

ORDINALS: Dict[str, int] = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "6th": 6,
    "seventh": 7,
    "7th": 7,
    "eighth": 8,
    "8th": 8,
}
# "last"/"final" are regexes in bot/data/nlu/regexes.yml ("the last one", not "last week").
_LAST = {"last": -1, "final": -1}
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a": 1,
    "an": 1,
    "both": 2,
}

# Word the shopper uses -> shopdb.models.OrderIssue.kind
PROBLEM_KINDS: Dict[str, str] = {
    "missing": "missing",
    "never arrived": "missing",
    "didn't arrive": "missing",
    "did not arrive": "missing",
    "not arrived": "missing",
    "lost": "missing",
    "not in the box": "missing",
    "damaged": "damaged",
    "broken": "damaged",
    "cracked": "damaged",
    "crushed": "damaged",
    "smashed": "damaged",
    "torn": "damaged",
    "tear": "damaged",
    "ripped": "damaged",
    "scratched": "damaged",
    "dented": "damaged",
    "defective": "damaged",
    "faulty": "damaged",
    "stopped working": "damaged",
    "doesn't work": "damaged",
    "does not work": "damaged",
    "don't work": "damaged",
    "leaking": "damaged",
    "stained": "damaged",
    "wrong item": "wrong_item",
    "wrong size": "wrong_item",
    "wrong colour": "wrong_item",
    "wrong color": "wrong_item",
    "wrong product": "wrong_item",
    "wrong order": "wrong_item",
}

_SIZE_WORDS = {
    "extra small": "XS",
    "small": "S",
    "medium": "M",
    "large": "L",
    "extra large": "XL",
    "x-large": "XL",
    "xx-large": "XXL",
}


def _plural(term: str) -> str:
    if term.endswith(("s", "x", "ch", "sh")):
        return term if term.endswith("s") else term + "es"
    if term.endswith("y") and term[-2:-1] not in "aeiou":
        return term[:-1] + "ies"
    if term.endswith("fe"):
        return term[:-2] + "ves"
    return term + "s"


def _singular(term: str) -> str:
    if term.endswith("knives"):
        return term[:-3] + "fe"
    if term.endswith("ies"):
        return term[:-3] + "y"
    if term.endswith(("ches", "shes", "xes", "sses")):
        return term[:-2]
    return term[:-1] if term.endswith("s") and not term.endswith("ss") else term


@lru_cache(maxsize=1)
def colour_terms() -> Dict[str, str]:
    """Colour word -> the catalogue's colour value."""
    terms: Dict[str, str] = {}
    for product_type in PRODUCT_TYPES:
        for colour in product_type.colours:
            if colour not in _AMBIGUOUS_COLOURS:
                terms[colour.lower()] = colour
    for word, colour in _EXTRA_COLOURS.items():
        terms.setdefault(word, colour)
    return terms


@lru_cache(maxsize=1)
def category_terms() -> Dict[str, str]:
    """Shopper's word for a kind of product (singular and plural) -> category path."""
    terms: Dict[str, str] = {}

    def add(term: str, category: str) -> None:
        term = term.lower().strip()
        if not term or term in _AMBIGUOUS_CATEGORY_TERMS:
            return
        singular = _singular(term)
        forms = (term, _plural(term)) + ((singular,) if singular not in _NOT_A_PRODUCT_WHEN_SINGULAR else ())
        for form in forms:
            if form not in _AMBIGUOUS_CATEGORY_TERMS:
                terms.setdefault(form, category)

    for product_type in PRODUCT_TYPES:
        add(product_type.noun, product_type.category)
        for synonym in product_type.synonyms:
            add(synonym, product_type.category)
    for product_type in PRODUCT_TYPES:  # leaf names last: the types' own words win
        top, _, leaf = product_type.category.partition("/")
        if "&" not in leaf:
            add(leaf, product_type.category)
            add(_singular(leaf), product_type.category)
    return terms


@lru_cache(maxsize=1)
def top_level_terms() -> Dict[str, str]:
    """Department words ("shoes", "kitchen") -> top-level category name."""
    out: Dict[str, str] = {}
    for product_type in PRODUCT_TYPES:
        top = product_type.category.split("/", 1)[0]
        for part in re.split(r"\s*&\s*", top):
            if part.lower() not in _AMBIGUOUS_CATEGORY_TERMS:
                out.setdefault(part.lower(), top)
    out.setdefault("jewelry", "Jewellery")
    return out


# -- normalisers used by the actions ------------------------------------------------------


def normalise_colour(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    return colour_terms().get(value.lower().strip(), value.lower().strip())


def category_for(value: Optional[str]) -> Optional[str]:
    """Category path (``"Shoes/Running shoes"``) or top level (``"Shoes"``) for a shopper's word."""
    if not value:
        return None
    term = value.lower().strip()
    return category_terms().get(term) or top_level_terms().get(term)


def normalise_size(value: Optional[str]) -> Optional[str]:
    """``"medium"`` -> ``"M"``, ``"EU 42"`` -> ``"42"``, ``"xl"`` -> ``"XL"``."""
    if not value:
        return None
    text = value.lower().strip()
    text = re.sub(r"^(?:size|eu|uk)\s*", "", text)
    if text in _SIZE_WORDS:
        return _SIZE_WORDS[text]
    text = text.replace(",", ".")
    return text.upper() if text.isalpha() else text


def parse_price(value: Optional[str]) -> Optional[Decimal]:
    if not value:
        return None
    digits = re.sub(r"[^\d.,]", "", str(value)).replace(",", ".")
    try:
        price = Decimal(digits)
    except InvalidOperation:
        return None
    return price if price >= 0 else None


def parse_quantity(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    text = str(value).lower().strip()
    if text.isdigit():
        return int(text) or None
    return _NUMBER_WORDS.get(text)


def ordinal_position(value: Optional[str]) -> Optional[int]:
    """1-based position for ``"second"``/``"2nd"``/``"2"``; -1 for ``"last"``."""
    if value is None:
        return None
    text = str(value).lower().strip().lstrip("#")
    if text in ORDINALS or text in _LAST:
        return ORDINALS.get(text, _LAST.get(text))
    if text.isdigit() and int(text) > 0:
        return int(text)
    return _NUMBER_WORDS.get(text)


def problem_kind(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    text = value.lower().strip()
    if text in PROBLEM_KINDS:
        return PROBLEM_KINDS[text]
    if text.startswith("wrong"):
        return "wrong_item"
    return None


# -- lookup tables -------------------------------------------------------------------------


def _by_length(terms: Iterable[str]) -> List[str]:
    """Longest first: the lookup regex is one alternation, the first alternative wins."""
    return sorted(set(terms), key=lambda t: (-len(t), t))


def lookup_tables() -> Dict[str, Sequence[str]]:
    return {
        "category": _by_length(list(category_terms()) + list(top_level_terms())),
        "colour": _by_length(colour_terms()),
        "ordinal": _by_length(ORDINALS),
        "problem_type": _by_length(PROBLEM_KINDS),
        "country": _by_length(country_lookup_terms()),
    }


def render_lookups() -> str:
    lines = [
        "# GENERATED by `python -m actions.vocabulary` from shopdb/taxonomy.py: do not edit by hand.",
        'version: "3.1"',
        "nlu:",
    ]
    for name, terms in lookup_tables().items():
        lines.append(f"- lookup: {name}")
        lines.append("  examples: |")
        lines.extend(f"    - {term}" for term in terms)
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the lookup file is out of date")
    parser.add_argument("--out", type=Path, default=LOOKUP_FILE)
    args = parser.parse_args(argv)
    text = render_lookups()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run python -m actions.vocabulary", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
