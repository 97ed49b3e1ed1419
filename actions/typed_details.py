"""Order numbers and e-mail addresses in what shoppers type, and what exactly is wrong with one of the
wrong shape.

"how to cancel order 370795561790?" deserves "our order numbers have 8 digits, 370795561790 has 12"
rather than a bare "What's your order number?". Everything here reads only the shopper's own words,
never the shop's data, so a correction says nothing about which orders exist; it comes before any
look-up and is not a failed verification (actions/orders.py: the order form and its questions).

Each function returns the message for ``dispatcher.utter_message(**problem)``, or None. The values
echo only what the shopper typed, reduced to letters, digits, dashes and ``#`` (an order number) or
to the part after the ``@`` (an e-mail address).
"""

from __future__ import annotations

import re
from typing import Any, Collection, Dict, Optional

from rasa_sdk import Tracker

ORDER_NUMBER_DIGITS = 8
_ORDER_NUMBER_RE = re.compile(r"(?<!\d)\d{4}[\s-]?\d{4}(?!\d)")
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A run of digits (groups joined by a space or dash), maybe with letters or "#": not part of an
# e-mail, a price, a date or a decimal.
_NUMBERISH = re.compile(
    r"(?<![\w@.,/€$£+-])#?[A-Za-z]{0,5}[-#:]?\d+(?:[ -]\d{3,})*(?:-?[A-Za-z]{1,4}\d*)?(?![\w@-]|[.,/]\d)", re.ASCII
)
_ORDER_CUE = re.compile(r"(?:order|ord|number|no\.?|nr\.?|#)\s*[:#]?\s*$", re.I)
_EMAILISH = re.compile(r"[^\s@<>()\"',;:]*@[^\s@<>()\"',;:]*")
_DOMAIN_WITHOUT_ENDING = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.I | re.ASCII)

# What the order form says about a wrong shape: each ends with its question, so the form's
# question that follows in the same turn stays unsaid (see :func:`said_this_turn`).
ORDER_NUMBER_SHAPES = ("utter_order_number_wrong_length", "utter_order_number_not_digits")
EMAIL_SHAPES = ("utter_email_missing_ending", "utter_email_missing_domain")


def find_order_number(value: Any) -> Optional[str]:
    """The 8-digit order number in what the shopper wrote ("it's #1000-0001"), or None."""
    from shopdb.orders import normalise_order_number

    if value is None:
        return None
    match = _ORDER_NUMBER_RE.search(str(value)[:200])
    return normalise_order_number(match.group(0)) if match else None


def find_email(value: Any) -> Optional[str]:
    from shopdb.orders import normalise_email

    if value is None:
        return None
    match = _EMAIL_RE.search(str(value)[:300])
    return normalise_email(match.group(0)) if match else None


_NO_ORDER_NUMBER = re.compile(
    r"\b(?:(?:don'?t|do not|doesn'?t|does not|can'?t|cannot|couldn'?t|never)\s+(?:have|know|find|got|get|remember|see)"
    r"|(?:lost|forgot|forgotten|deleted|misplaced|no idea)"
    r"|where\b.{0,30}\b(?:find|get|see|look|is)|what(?:'?s| is)\s+my"
    r"|(?:without|no)\s+(?:an?\s+|the\s+|my\s+)?order)\b.{0,40}\b(?:number|nr|no\.?|#|confirmation)",
    re.IGNORECASE,
)


def asks_for_order_number_help(text: Any) -> bool:
    """The shopper has no order number at hand ("I don't have my order number", "where do I find it?")."""
    text = str(text or "")[:300]
    return find_order_number(text) is None and bool(_NO_ORDER_NUMBER.search(text))


def order_number_problem(text: Any) -> Optional[Dict[str, Any]]:
    """What is wrong with the order number in ``text`` ("370795561790" has 12 digits, "ORD-1234" has
    letters), or None when it holds a right one or nothing that looks like an attempt."""
    text = str(text or "")[:300]
    if find_order_number(text):
        return None
    for found in _NUMBERISH.finditer(text):
        typed = found.group(0)
        digits = re.sub(r"\D", "", typed)
        cued = bool(_ORDER_CUE.search(text[: found.start()])) or typed.startswith("#")
        if re.search(r"[A-Za-z]", typed):
            if len(digits) >= 3:
                return {"response": "utter_order_number_not_digits", "typed_number": typed[:24]}
        elif len(digits) != ORDER_NUMBER_DIGITS and (len(digits) >= 5 or (cued and len(digits) >= 3)):
            return {
                "response": "utter_order_number_wrong_length",
                "typed_number": typed[:24],
                "digit_count": len(digits),
            }
    return None


def email_problem(text: Any) -> Optional[Dict[str, Any]]:
    """What is wrong with the e-mail address in ``text`` ("alex.morgan@gmail" has no ending after the
    domain, "alex.morgan@" no domain), or None when it holds a right one or no "@" at all."""
    text = str(text or "")[:300]
    if find_email(text):
        return None
    for found in _EMAILISH.finditer(text):
        name, _, domain = found.group(0).rstrip(".!?").partition("@")
        if not name:
            continue
        if not domain.strip(".") or domain.startswith("."):
            return {"response": "utter_email_missing_domain"}
        if _DOMAIN_WITHOUT_ENDING.fullmatch(domain):
            return {"response": "utter_email_missing_ending", "email_domain": domain[:60]}
    return None


def said_this_turn(tracker: Tracker, responses: Collection[str]) -> bool:
    """Whether one of ``responses`` went out since the shopper's latest message (Rasa names the response
    of every bot message in its metadata, ``utter_action``)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") in responses:
            return True
    return False


__all__ = [
    "EMAIL_SHAPES",
    "asks_for_order_number_help",
    "ORDER_NUMBER_SHAPES",
    "email_problem",
    "find_email",
    "find_order_number",
    "order_number_problem",
    "said_this_turn",
]
