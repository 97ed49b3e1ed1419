"""How products and orders are shown: cards for the widget, plain text for every other channel.

Cards use the widget's generic-template attachment (:mod:`actions.cards`) with an
extra "Details" button that comes back to the bot as ``/select_product``. The
text always numbers the products the same way as ``last_results``, so "the
second one" means the same thing in the widget and on a text-only channel.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import rich_channel

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


def money(amount: Optional[float], currency: str = "EUR") -> str:
    if amount is None:
        return ""
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    return f"{symbol}{float(amount):,.2f}"


def stars(rating: Optional[float]) -> str:
    return f"★ {rating:.1f}" if rating is not None else "no ratings yet"


def product_line(product: Any) -> str:
    stock = "" if product.in_stock else " (out of stock)"
    return f"{product.title} - {money(product.price, product.currency)}, {stars(product.rating)}{stock}"


def numbered(products: Sequence[Any]) -> str:
    return "\n".join(f"{n}. {product_line(p)}" for n, p in enumerate(products, 1))


def intent_payload(intent: str, **entities: Any) -> str:
    """A button payload Rasa parses without NLU: ``/select_product{"product_id": "42"}``."""
    return f"/{intent}" + (json.dumps({k: str(v) for k, v in entities.items()}) if entities else "")


def select_payload(product_id: Any) -> str:
    return intent_payload("select_product", product_id=product_id)


def product_attachment(products: Iterable[Any]) -> Dict[str, Any]:
    """The widget's carousel, each card with a "Details" button back to the bot."""
    from actions.cards import product_carousel

    products = list(products)
    attachment = product_carousel([p.to_dict() if hasattr(p, "to_dict") else p for p in products])
    for element, product in zip(attachment["payload"]["elements"], products):
        element["buttons"] = [
            {"type": "postback", "title": "Details", "payload": select_payload(product.id)},
            *element.get("buttons", []),
        ]
    return attachment


def show_products(dispatcher: CollectingDispatcher, tracker: Tracker, products: Sequence[Any], intro: str,
                  buttons: Optional[List[Dict[str, str]]] = None) -> None:
    """An intro, the numbered list (text channels) and the cards (widget)."""
    text = intro if rich_channel(tracker) else f"{intro}\n{numbered(products)}"
    dispatcher.utter_message(text=text, buttons=buttons or [])
    dispatcher.utter_message(attachment=product_attachment(products))


def product_details(product: Any) -> str:
    """A product's facts in a few lines (the card shows the picture, this the substance)."""
    attrs = product.attributes or {}
    lines = [f"{product.title} by {product.brand}: {money(product.price, product.currency)}, {stars(product.rating)}."]
    facts = []
    if attrs.get("colour"):
        facts.append(f"colour {attrs['colour']}")
    size = attrs.get("size")
    if isinstance(size, list) and size:
        facts.append(f"sizes {size[0]} to {size[-1]}" if len(size) > 2 else f"sizes {' and '.join(size)}")
    elif size:
        facts.append(f"size {size}")
    if attrs.get("material"):
        facts.append(str(attrs["material"]))
    if attrs.get("features"):
        facts.append(", ".join(attrs["features"]))
    if facts:
        lines.append("It has " + "; ".join(facts) + ".")
    lines.append("In stock." if product.in_stock else "Currently out of stock.")
    if product.description:
        lines.append(product.description)
    return "\n".join(lines)


def order_items_text(order: Any) -> str:
    return ", ".join(f"{line.quantity} x {line.title}" for line in order.items)


def address_text(address: Dict[str, Optional[str]]) -> str:
    parts = [address.get("name"), address.get("line1"), address.get("line2"),
             " ".join(p for p in (address.get("postcode"), address.get("city")) if p), address.get("country")]
    return ", ".join(p for p in parts if p)
