"""Structured constraints on a product search, and how a product's sizes and capacities satisfy them.

Why sizes need more than string equality: catalogues write one size in several ways ("28cm" and
"28 cm", "1,000 pieces" and "1000 pcs", "2-person" and "2 people") and sell ranges and pairs
("39-42" socks fit a 42, an "S/M" hat fits an M). Capacities ("for 2 people", "30 l", "20000 mAh")
are compared as a number and a unit, wherever the catalogue keeps them (a size or an attribute).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping, Optional, Tuple, Union

Measure = Tuple[float, str]  # (amount, unit): (2.0, "person"), (30.0, "l"), (20000.0, "mAh")


@dataclass
class ProductFilters:
    """Structured constraints on a product search; ``None`` means "any"."""

    category: Optional[str] = None  # a category path prefix or name: "Shoes", "Shoes/Running shoes", "running shoes"
    min_price: Optional[float] = None
    max_price: Optional[float] = None
    # "under 150" leaves out a 150.00 item, "up to 150" keeps it: the bound's word decides (None: inclusive)
    min_exclusive: Optional[bool] = None
    max_exclusive: Optional[bool] = None
    colour: Optional[str] = None
    size: Optional[str] = None  # "42" also matches a "39-42" product, "M" an "S/M" one
    brand: Optional[str] = None
    material: Optional[str] = None
    capacity: Optional[str] = None  # "2-person", "30 l", "20,000 mAh": compared by amount and unit
    in_stock: Optional[bool] = None

    @classmethod
    def coerce(cls, value: Union["ProductFilters", Mapping[str, Any], None]) -> "ProductFilters":
        if value is None:
            return cls()
        if isinstance(value, ProductFilters):
            return value
        known = {f.name for f in fields(cls)}
        data = {("colour" if k == "color" else k): v for k, v in dict(value).items()}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown product filter(s): {', '.join(sorted(unknown))}")
        out = cls(**{k: v for k, v in data.items() if v not in (None, "")})
        for name in ("min_price", "max_price"):
            v = getattr(out, name)
            if v is not None:
                setattr(out, name, float(v))
        for name in ("size", "capacity"):
            v = getattr(out, name)
            if v is not None:
                setattr(out, name, str(v))
        for name in ("in_stock", "min_exclusive", "max_exclusive"):
            v = getattr(out, name)
            if v is not None and not isinstance(v, bool):
                setattr(out, name, str(v).lower() in ("1", "true", "yes"))
        return out

    def admits_price(self, price: float) -> bool:
        """Whether ``price`` is within the price bounds (the other filters are not looked at)."""
        if self.max_price is not None and (price >= self.max_price if self.max_exclusive else price > self.max_price):
            return False
        if self.min_price is not None and (price <= self.min_price if self.min_exclusive else price < self.min_price):
            return False
        return True

    def is_empty(self) -> bool:
        return all(v is None for v in asdict(self).values())

    def merged(self, other: "ProductFilters") -> "ProductFilters":
        """``self`` with the gaps filled from ``other`` (explicit filters win over inferred ones)."""
        return replace(self, **{k: v for k, v in asdict(other).items() if getattr(self, k) is None and v is not None})

    def without(self, *names: str) -> "ProductFilters":
        """A copy with the filters ``names`` unset."""
        return replace(self, **dict.fromkeys(names))


_STRICT_BOUND = re.compile(
    r"(?<!no )(?<!not )(?<!nothing )\b(?:under|below|less than|cheaper than|over|above|more than)\b|[<>]"
)


def is_strict_bound(words: str) -> bool:
    """Whether the words before a price make it a strict bound: "under 150", "over 50" (not "up to 150",
    "at least 50", "no more than 150")."""
    return bool(_STRICT_BOUND.search(words.lower()))


# ----------------------------------------------------------------------------- sizes

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_NUMBER_UNIT = re.compile(r"(\d)\s*(?=[A-Z])")
_PERSON = re.compile(r"^(\d+)\s*-?\s*(?:PERSONS?|PEOPLE|PPL|PERS|MAN|MEN)$")
_PIECES = re.compile(r"\b(?:PCS|PC|PIECE)\b")
_RANGE = re.compile(r"^(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*([A-Z]*)$")
_SINGLE = re.compile(r"^(\d+(?:\.\d+)?)\s*([A-Z]*)$")


def normalise_size(value: Any) -> str:
    """One spelling per size: ``"28cm"`` -> ``"28 CM"``, ``"1,000 pcs"`` -> ``"1000 PIECES"``,
    ``"2 people"`` -> ``"2-PERSON"``, ``"s/m"`` -> ``"S/M"``."""
    text = " ".join(str(value).upper().split())
    text = _THOUSANDS.sub("", text)
    text = _PIECES.sub("PIECES", text)
    person = _PERSON.match(text)
    if person:
        return f"{person.group(1)}-PERSON"
    return _NUMBER_UNIT.sub(r"\1 ", text).replace(" - ", "-").replace(" / ", "/")


# A basic colour a shopper names also means its shades, as a person in a shop would show them: "in blue?"
# includes navy ones. A shade the shopper names ("navy") means that shade only.
COLOUR_SHADES = {
    "blue": ("navy", "teal", "cobalt", "denim", "indigo"),
    "red": ("burgundy", "maroon", "wine", "crimson"),
    "green": ("olive", "khaki", "mint", "sage"),
    "grey": ("graphite", "charcoal", "slate", "steel"),
    "gray": ("graphite", "charcoal", "slate", "steel"),
    "brown": ("tan", "walnut", "camel", "chocolate", "cognac"),
    "yellow": ("mustard",),
    "orange": ("terracotta",),
    "purple": ("lilac", "lavender", "violet", "plum"),
}


def colour_matches(wanted: str, offered: str) -> bool:
    """Whether a product in colour ``offered`` ("midnight blue", "navy") is what a shopper asking for ``wanted``
    ("blue") would be shown: the colour or one of its shades, as a whole word of the product's colour."""
    want, have = wanted.strip().lower(), offered.strip().lower()
    if not want or not have:
        return False
    return any(re.search(rf"\b{re.escape(name)}\b", have) for name in (want, *COLOUR_SHADES.get(want, ())))


def size_matches(wanted: str, offered: str) -> bool:
    """Whether a product offered in size ``offered`` fits a shopper asking for ``wanted``."""
    want, have = normalise_size(wanted), normalise_size(offered)
    if want == have or want in have.split("/"):
        return True
    bounds, single = _RANGE.match(have), _SINGLE.match(want)
    if bounds and single and bounds.group(3) == single.group(2):  # "39-42" fits 42, "4-5Y" fits "4Y"
        return float(bounds.group(1)) <= float(single.group(1)) <= float(bounds.group(2))
    return False


# ----------------------------------------------------------------------------- capacities

_MEASURE = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d+)*)\s*(k)?\s*-?\s*(persons?|people|ppl|pers|man|men|litres?|liters?|ltrs?|l|ml|mah)(?![a-z])",
    re.I,
)
_UNITS = {"ml": "l", "mah": "mAh"}


def measure_in(text: str) -> Optional[Tuple[Measure, "re.Match[str]"]]:
    """The first capacity written in ``text`` ("2 ppl", "10k mAh", "5l", "500 ml") and where it is."""
    found = _MEASURE.search(text)
    if found is None:
        return None
    number, thousand, unit = found.groups()
    digits = number.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+", number) else number.replace(",", ".")
    try:
        amount = float(digits) * (1000 if thousand else 1)
    except ValueError:
        return None
    unit = unit.lower()
    kind = "person" if unit[0] in "pm" and unit not in ("ml", "mah") else _UNITS.get(unit, "l")
    if unit == "ml":
        amount /= 1000
    return (round(amount, 3), kind), found


def measure_of(value: Any) -> Optional[Measure]:
    """The capacity a catalogue value or a filter states, or None."""
    found = measure_in(str(value))
    return found[0] if found else None


__all__ = ["Measure", "ProductFilters", "measure_in", "measure_of", "normalise_size", "size_matches"]
