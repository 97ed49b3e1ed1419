"""Rich message payloads the widget renders: product cards and carousels.

Why the generic-template attachment: it is the format Rasa's socket.io output
and Rasa-Webchat already understand, so a third-party widget still shows
title, image and buttons. Our widget reads the extra ``product`` field for
price, rating and the add-to-cart button.

The button titles are the domain's words: the actions pass ``titles`` (from the
``utter_label_view`` and ``utter_label_add_to_cart`` responses, see
:func:`actions.render.product_attachment`); the defaults serve callers without a domain.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Mapping, Optional

from core.links import DEFAULT_PRODUCT_URL, product_image, product_url

DEFAULT_TITLES = {
    "view": "View",
    "add_to_cart": "Add to cart",
    "out_of_stock": "out of stock",
    "notify_me": "Tell me when it's back",
}


def _get(product: Any, key: str, default: Any = None) -> Any:
    if isinstance(product, Mapping):
        return product.get(key, default)
    return getattr(product, key, default)


def _price_text(price: Any, currency: str) -> str:
    if price is None:
        return ""
    amount = Decimal(str(price)).quantize(Decimal("0.01"))
    return f"{amount} {currency}".strip()


def product_element(
    product: Any,
    url_template: str = DEFAULT_PRODUCT_URL,
    titles: Optional[Mapping[str, str]] = None,
    base_url: str = "",
) -> Dict[str, Any]:
    """One product (ORM row or dict) as a generic-template element; links below ``base_url``."""
    titles = {**DEFAULT_TITLES, **(titles or {})}
    product_id = str(_get(product, "id"))
    title = str(_get(product, "title", "") or "")
    currency = str(_get(product, "currency", "") or "")
    price = _get(product, "price")
    rating: Optional[float] = _get(product, "rating")
    url = product_url(product, base_url, url_template)
    price_text = _price_text(price, currency)
    in_stock = _get(product, "in_stock", True) is not False  # unknown (a plain dict): assume it can be bought
    subtitle = _get(product, "subtitle") or " · ".join(
        part
        for part in (
            price_text,
            f"★ {rating:.1f}" if rating is not None else "",
            "" if in_stock else titles["out_of_stock"],
        )
        if part
    )
    buttons: List[Dict[str, Any]] = [{"type": "web_url", "title": titles["view"], "url": url}]
    if in_stock:
        buttons.append(
            {
                "type": "postback",
                "title": titles["add_to_cart"],
                "action": "add_to_cart",
                "payload": "/add_to_cart" + json.dumps({"product_id": product_id}),
            }
        )
    else:  # nothing to add to a cart: a stock alert instead
        buttons.append(
            {
                "type": "postback",
                "title": titles["notify_me"],
                "payload": "/stock_alert" + json.dumps({"product_id": product_id}),
            }
        )
    return {
        "title": title,
        "subtitle": subtitle,
        "image_url": product_image(product, base_url),
        "product": {
            "id": product_id,
            "sku": _get(product, "sku"),
            "price": str(Decimal(str(price)).quantize(Decimal("0.01"))) if price is not None else None,
            "currency": currency,
            "rating": float(rating) if rating is not None else None,
            "url": url,
            "in_stock": in_stock,
        },
        "buttons": buttons,
    }


def product_carousel(
    products: Iterable[Any],
    url_template: str = DEFAULT_PRODUCT_URL,
    titles: Optional[Mapping[str, str]] = None,
    base_url: str = "",
) -> Dict[str, Any]:
    """An attachment for ``dispatcher.utter_message(attachment=...)``: one card or a carousel."""
    return {
        "type": "template",
        "payload": {
            "template_type": "generic",
            "elements": [product_element(p, url_template, titles, base_url) for p in products],
        },
    }


__all__ = ["product_carousel", "product_element"]
