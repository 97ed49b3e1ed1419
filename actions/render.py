"""How products and orders are shown: cards for the widget, plain text for every other channel.

Cards use the widget's generic-template attachment (:mod:`actions.cards`) with an
extra "Details" button that comes back to the bot as ``/select_product``. The
text always numbers the products the same way as ``last_results``, so "the
second one" means the same thing in the widget and on a text-only channel.

The sentences are domain responses; this module only makes the values they are
filled with (amounts, lists, an address on one line), taking the few words such
a value holds ("no ratings yet", "out of stock", button titles) from the domain's
``utter_label_*`` responses.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import label, public_url, rich_channel
from core.money import money


def stars(domain: DomainDict, rating: Optional[float]) -> str:
    return f"★ {rating:.1f}" if rating is not None else label(domain, "utter_label_no_ratings")


def product_line(domain: DomainDict, product: Any) -> str:
    stock = "" if product.in_stock else f" ({label(domain, 'utter_label_out_of_stock')})"
    return f"{product.title} - {money(product.price, product.currency)}, {stars(domain, product.rating)}{stock}"


def numbered(domain: DomainDict, products: Sequence[Any]) -> str:
    return "\n".join(f"{n}. {product_line(domain, p)}" for n, p in enumerate(products, 1))


def product_list(domain: DomainDict, tracker: Tracker, products: Sequence[Any]) -> str:
    """A response's ``{product_list}``: empty on the widget (the cards show them), else a new line and the list."""
    return "" if rich_channel(tracker) else "\n" + numbered(domain, products)


def intent_payload(intent: str, **entities: Any) -> str:
    """A button payload Rasa parses without NLU: ``/select_product{"product_id": "42"}``."""
    return f"/{intent}" + (json.dumps({k: str(v) for k, v in entities.items()}) if entities else "")


def select_payload(product_id: Any) -> str:
    return intent_payload("select_product", product_id=product_id)


def product_attachment(domain: DomainDict, products: Iterable[Any]) -> Dict[str, Any]:
    """The widget's carousel, each card with a "Details" button back to the bot."""
    from actions.cards import product_carousel

    products = list(products)
    titles = {
        "view": label(domain, "utter_label_view"),
        "add_to_cart": label(domain, "utter_label_add_to_cart"),
        "out_of_stock": label(domain, "utter_label_out_of_stock"),
        "notify_me": label(domain, "utter_label_notify_me"),
    }
    attachment = product_carousel(
        [p.to_dict() if hasattr(p, "to_dict") else p for p in products], titles=titles, base_url=public_url()
    )
    details = label(domain, "utter_label_details")
    for element, product in zip(attachment["payload"]["elements"], products):
        element["buttons"] = [
            {"type": "postback", "title": details, "payload": select_payload(product.id)},
            *element.get("buttons", []),
        ]
    return attachment


def show_products(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    products: Sequence[Any],
    response: str,
    buttons: Optional[List[Dict[str, str]]] = None,
    **values: Any,
) -> None:
    """The domain ``response`` (filled with ``values`` and ``{product_list}``: the numbered list on
    text channels) and the cards (widget)."""
    dispatcher.utter_message(
        response=response, product_list=product_list(domain, tracker, products), buttons=buttons or [], **values
    )
    dispatcher.utter_message(attachment=product_attachment(domain, products))


def sizes_of(product: Any) -> List[str]:
    sizes = (product.attributes or {}).get("size")
    return [str(s) for s in sizes] if isinstance(sizes, list) else ([str(sizes)] if sizes else [])


def product_attributes(domain: DomainDict, product: Any) -> str:
    """A product's colour, sizes, material and features as a list: "colour red; sizes 38 to 46; mesh"."""
    attrs = product.attributes or {}
    facts = []
    if attrs.get("colour"):
        facts.append(label(domain, "utter_label_attribute_colour", colour=attrs["colour"]))
    size = attrs.get("size")
    if isinstance(size, list) and size:
        if len(size) > 2:
            facts.append(label(domain, "utter_label_attribute_size_range", first_size=size[0], last_size=size[-1]))
        elif len(size) == 2:
            facts.append(label(domain, "utter_label_attribute_two_sizes", first_size=size[0], last_size=size[1]))
        else:
            facts.append(label(domain, "utter_label_attribute_size", size=size[0]))
    elif size:
        facts.append(label(domain, "utter_label_attribute_size", size=size))
    if attrs.get("material"):
        facts.append(str(attrs["material"]))
    if attrs.get("features"):
        facts.append(", ".join(map(str, attrs["features"])))
    return "; ".join(facts)


DETAILS_RESPONSES = {  # (has attributes, in stock)
    (True, True): "utter_product_details",
    (True, False): "utter_product_details_out_of_stock",
    (False, True): "utter_product_details_no_attributes",
    (False, False): "utter_product_details_no_attributes_out_of_stock",
}


def product_details(domain: DomainDict, product: Any) -> Tuple[str, Dict[str, Any]]:
    """The response that presents a product (name, price, rating, attributes, stock, description) and its values."""
    attributes = product_attributes(domain, product)
    return DETAILS_RESPONSES[(bool(attributes), bool(product.in_stock))], {
        "title": product.title,
        "brand": product.brand,
        "price": money(product.price, product.currency),
        "rating": stars(domain, product.rating),
        "attributes": attributes,
        "description": f"\n{product.description}" if product.description else "",
    }


def order_items_text(order: Any) -> str:
    return ", ".join(f"{line.quantity} x {line.title}" for line in order.items)


def address_text(address: Dict[str, Optional[str]]) -> str:
    parts = [
        address.get("name"),
        address.get("line1"),
        address.get("line2"),
        " ".join(p for p in (address.get("postcode"), address.get("city")) if p),
        address.get("country"),
    ]
    return ", ".join(p for p in parts if p)
