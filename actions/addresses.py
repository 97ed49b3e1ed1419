"""Reading a delivery address a shopper typed on one line.

Why not ask field by field: a shopper writes "Kastanienallee 7, 10115 Berlin" in one
go; asking five questions for that is tedious. What the line leaves out (name,
country) is taken from the order's current address. The result is checked by
``retrieval.shop_search.DeliveryAddress`` (required fields, countries we ship to)
before anything changes.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional

from shopdb.countries import country_code

# Postcode then city ("1012 AB Amsterdam", "10115 Berlin", "00-950 Warszawa", "D02 X285 Dublin").
_POSTCODE = r"\d{4}\s?[A-Za-z]{2}|\d{2}-\d{3}|\d{4}-\d{3}|[A-Za-z]\d{2}\s?[A-Za-z0-9]{4}|\d{4,5}"
_POSTCODE_CITY = re.compile(rf"^(?P<postcode>{_POSTCODE})\s+(?P<city>[^\d].*)$")
_CITY_POSTCODE = re.compile(rf"^(?P<city>[^\d]+?)\s+(?P<postcode>{_POSTCODE})$")
_LEAD_IN = re.compile(
    r"^(?:please\s+)?(?:(?:send|deliver|ship|change)\s+(?:it|them|my order|the order|the address)?"
    r"\s*(?:to|into)?\s*|(?:my\s+)?(?:new\s+)?address\s+is\s*:?\s*|to\s+)",
    re.I,
)


def _country(part: str) -> Optional[str]:
    """The ISO code of a trailing "NL", "Norway" or "the UK" (shopdb.countries, one table for the whole
    assistant: a country the shop does not deliver to is read too, so the check can say so)."""
    text = part.strip().rstrip(".")
    if re.fullmatch(r"[A-Za-z]{2}", text):
        return text.upper()
    return country_code(text)


def parse_address(text: str, default_name: str = "", default_country: str = "") -> Optional[Dict[str, Optional[str]]]:
    """``"Alex Morgan, Canal Street 12, 1012 AB Amsterdam, NL"`` -> address fields, or None if unreadable."""
    text = _LEAD_IN.sub("", (text or "").strip())[:400]
    parts: List[str] = [p.strip() for p in re.split(r"[,;\n]+", text) if p.strip()]
    if not parts:
        return None
    country = _country(parts[-1]) if len(parts) > 1 else None
    if country:
        parts.pop()
    found = None
    for index, part in enumerate(parts):
        match = _POSTCODE_CITY.match(part) or _CITY_POSTCODE.match(part)
        if match:
            found = index, match.group("postcode").upper(), match.group("city").strip()
            break
    if found is None:
        return None
    index, postcode, city = found
    before = parts[:index]
    street_positions = [i for i, p in enumerate(before) if re.search(r"\d", p) and re.search(r"[A-Za-z]", p)]
    if not street_positions:
        return None
    first_street = street_positions[0]
    names = [p for p in before[:first_street] if not re.search(r"\d", p)]
    lines = before[first_street:]
    return {
        "name": names[0] if names else default_name,
        "line1": lines[0],
        "line2": ", ".join(lines[1:]) or None,
        "city": city,
        "postcode": postcode,
        "country": country or default_country,
    }
