"""Pictures the assistant draws for products without a photo: ``GET /webhooks/shop/images/products/<id>.svg``.

The demo catalogue has no photos, and a shop's import may leave some out; a card with a broken
image looks broken in every chat client. So every product has a picture at a stable address
(:data:`core.links.PRODUCT_IMAGE_PATH`): its title on a colour of its category, drawn as SVG here
(no imaging library needed for text on a rectangle). The text is escaped and the answer carries a
policy that runs nothing, so a product title can never become markup.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from typing import TYPE_CHECKING, Optional, Tuple
from xml.sax.saxutils import escape

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from shopdb.models import Product
from web.http import json_error

if TYPE_CHECKING:  # pragma: no cover
    from web.channel import ShopChannel

IMAGE_NAME = re.compile(r"^(\d{1,12})\.svg$")
# Soft colours that dark text reads well on, one per category (by a hash of its name).
PALETTE = ("#dbe7f3", "#e4f1e1", "#f6e6d8", "#efe0f0", "#f3efd6", "#dff1ef", "#f2dfe0", "#e3e5ee")
IMAGE_HEADERS = {
    "Cache-Control": "public, max-age=86400",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}


def colour_of(category: str) -> str:
    return PALETTE[hashlib.sha256(category.encode()).digest()[0] % len(PALETTE)]


def product_svg(title: str, category: str, width: int = 400, height: int = 300) -> str:
    """A picture of a product: its title (up to three lines) and category on the category's colour."""
    lines = textwrap.wrap(title, 22)[:3] or ["?"]
    first_y = height / 2 - (len(lines) - 1) * 17
    text = "".join(
        f'<text x="50%" y="{first_y + n * 34:.0f}" font-size="26" font-weight="600">{escape(line)}</text>'
        for n, line in enumerate(lines)
    )
    label = escape(category.split("/")[-1].replace("-", " ")[:40])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">'
        f'<rect width="100%" height="100%" fill="{colour_of(category)}"/>'
        f'<g font-family="sans-serif" fill="#2d3748" text-anchor="middle">{text}'
        f'<text x="50%" y="{height - 24}" font-size="16" fill="#5a6577">{label}</text></g></svg>'
    )


def register_product_images(bp: Blueprint, channel: "ShopChannel") -> None:
    """The picture route on the shop channel's blueprint."""

    def lookup(product_id: int) -> Optional[Tuple[str, str]]:
        with channel.store.session() as session:
            product = session.get(Product, product_id)
            if product is None:
                return None
            return product.title, product.category.path if product.category else ""

    @bp.route("/images/products/<name>", methods=["GET"])
    async def product_image(_: Request, name: str) -> HTTPResponse:
        match = IMAGE_NAME.match(name)
        found = await channel.service.db(lookup, int(match.group(1))) if match and channel.service else None
        if found is None:
            return json_error("no such product", 404)
        return response.text(product_svg(*found), content_type="image/svg+xml", headers=IMAGE_HEADERS)


__all__ = ["product_svg", "register_product_images"]
