"""Shop data the console and the demo page show: product viewed, cart, the customer's orders.

Read-only look-ups in the knowledge tables (``shopdb.models``), by the ids
the widget sent as page metadata. The customer is looked up only by the id
the channel verified from a signed token, so an agent sees the orders of the
shopper they are talking to and nobody else's.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, Dict, List, Optional, Set

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.links import product_image
from shopdb.models import Customer, Order, Product

logger = logging.getLogger(__name__)
MAX_CART_LINES = 20


def _money(value: Any) -> Optional[str]:
    return str(Decimal(str(value)).quantize(Decimal("0.01"))) if value is not None else None


def _product_id(value: Any) -> Optional[int]:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def product_dict(product: Product) -> Dict[str, Any]:
    return {
        "id": product.id,
        "sku": product.sku,
        "title": product.title,
        "brand": product.brand,
        "category": product.category.path if product.category else None,
        "description": product.description,
        "price": _money(product.price),
        "currency": product.currency,
        "rating": product.rating,
        "stock": product.stock,
        "image_url": product_image(product),
    }


def find_product(session: Session, product_id: Any) -> Optional[Dict[str, Any]]:
    number = _product_id(product_id)
    product = session.get(Product, number) if number else None
    return product_dict(product) if product else None


def customer_summary(session: Session, customer_id: str, orders: int = 5) -> Optional[Dict[str, Any]]:
    customer = session.execute(select(Customer).where(Customer.customer_id == customer_id)).scalar_one_or_none()
    if customer is None:
        return None
    recent = session.execute(
        select(Order).where(Order.customer_ref == customer.id).order_by(Order.placed_at.desc()).limit(orders)
    ).scalars()
    return {
        "customer_id": customer.customer_id,
        "name": customer.name,
        "email": customer.email,
        "orders": [
            {
                "order_number": o.order_number,
                "status": o.status,
                "placed_at": o.placed_at.isoformat() if o.placed_at else None,
                "total": _money(o.total),
                "currency": o.currency,
                "items": len(o.items),
                "carrier": o.carrier,
                "tracking_number": o.tracking_number,
            }
            for o in recent
        ],
    }


def ticket_context(session: Session, context: Dict[str, Any], customer_id: Optional[str]) -> Dict[str, Any]:
    """Product viewed, cart lines and customer (with recent orders) for the console's side panel."""
    page = context.get("page")
    if not isinstance(page, dict):
        page = {}
    result: Dict[str, Any] = {"page_url": page.get("url"), "product": None, "cart": [], "customer": None}
    try:
        result["product"] = find_product(session, page.get("product_id"))
        for line in (page.get("cart") or [])[:MAX_CART_LINES]:
            if not isinstance(line, dict):
                continue
            product = find_product(session, line.get("product_id"))
            if product:
                result["cart"].append({**product, "quantity": line.get("quantity", 1)})
        if customer_id:
            result["customer"] = customer_summary(session, customer_id)
    except SQLAlchemyError:  # catalogue not built: the console still works without it
        logger.warning("shop tables unavailable for the console context", exc_info=True)
    return result


def demo_catalogue(session: Session, limit: int = 12) -> List[Dict[str, Any]]:
    """Products for the demo shop page: the best rated, in stock, one per category first."""
    try:
        rows = session.execute(
            select(Product).where(Product.stock > 0).order_by(Product.rating.desc().nullslast(), Product.id).limit(200)
        ).scalars()
        seen: Set[int] = set()
        picked: List[Product] = []
        rest: List[Product] = []
        for product in rows:
            (rest if product.category_id in seen else picked).append(product)
            seen.add(product.category_id)
        return [product_dict(p) for p in (picked + rest)[:limit]]
    except SQLAlchemyError:
        logger.warning("catalogue unavailable for the demo page", exc_info=True)
        return []


RESERVED_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")  # RFC 2606: never a real mailbox


def demo_customer(session: Session, customer_id: str) -> Optional[Dict[str, str]]:
    """The demo page's development log-in: ``customer_id`` only if its e-mail is on a reserved example
    domain (the generated shop's customers are), so no real customer can ever be signed in this way."""
    try:
        row = session.execute(
            select(Customer.customer_id, Customer.name, Customer.email).where(Customer.customer_id == customer_id)
        ).first()
    except SQLAlchemyError:
        return None
    if row is None or str(row[2]).lower().rsplit("@", 1)[-1] not in RESERVED_EXAMPLE_DOMAINS:
        if row is not None:
            logger.warning("demo log-in refused: the demo customer's e-mail is not on a reserved example domain")
        return None
    return {"customer_id": row[0], "name": row[1]}


__all__ = ["customer_summary", "demo_catalogue", "demo_customer", "find_product", "ticket_context"]
