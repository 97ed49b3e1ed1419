"""Links the assistant sends about products: the product's page and its picture.

Absolute whenever a base is given (``SHOP_PUBLIC_URL``, the Rasa server as shoppers reach it): a
card shown on the shop's own site, or in another chat client, must not point at the page it is
shown on. A product with a page or photo of its own (the shop's catalogue import) keeps it; one
without gets the assistant's: the demo shop's product page and a picture the assistant draws
(``web/product_images.py``).
"""

from __future__ import annotations

from typing import Any, Mapping

DEFAULT_PRODUCT_URL = "/webhooks/shop/demo?product={id}"
PRODUCT_IMAGE_PATH = "/webhooks/shop/images/products/{id}.svg"


def _get(product: Any, key: str) -> Any:
    return product.get(key) if isinstance(product, Mapping) else getattr(product, key, None)


def product_url(product: Any, base_url: str = "", url_template: str = DEFAULT_PRODUCT_URL) -> str:
    """The product's own page, or the assistant's page for it below ``base_url``."""
    return str(_get(product, "url") or base_url.rstrip("/") + url_template.format(id=_get(product, "id")))


def product_image(product: Any, base_url: str = "") -> str:
    """The product's photo, or the picture the assistant draws for it below ``base_url``."""
    return str(_get(product, "image_url") or base_url.rstrip("/") + PRODUCT_IMAGE_PATH.format(id=_get(product, "id")))


__all__ = ["DEFAULT_PRODUCT_URL", "PRODUCT_IMAGE_PATH", "product_image", "product_url"]
