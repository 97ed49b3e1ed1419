"""Product facts the profiles need (category, brand, colour, size, price), read from the shop database.

Why a cache: every product view or cart event names a product; the consumer
looks it up once, not once per event, and tolerates ids the catalogue does not
know (the widget may run against a newer catalogue than this database).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from shopdb.models import Product

logger = logging.getLogger(__name__)

# Catalogue attribute keys that feed the profile's attribute interests.
ATTRIBUTE_KEYS = {"colour": "colour", "color": "colour", "size": "size", "sizes": "size", "material": "material"}


@dataclass(frozen=True)
class ProductInfo:
    """The slice of a product that personalisation uses."""

    id: str
    sku: str = ""
    title: str = ""
    category: str = ""  # full path, "Shoes/Running shoes"
    brand: str = ""
    price: Optional[float] = None
    attributes: Dict[str, Any] = field(default_factory=dict)
    rating: Optional[float] = None

    @property
    def top_category(self) -> str:
        return self.category.split("/", 1)[0]

    def attribute_values(self) -> Dict[str, List[str]]:
        """Profile attribute -> values (lists for multi-valued attributes such as sizes), brand included."""
        out: Dict[str, List[str]] = {}
        for key, name in ATTRIBUTE_KEYS.items():
            value = self.attributes.get(key)
            if value in (None, "", []):
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            out.setdefault(name, []).extend(str(v).lower() for v in values)
        if self.brand:
            out["brand"] = [self.brand.lower()]
        return out

    @classmethod
    def from_product(cls, product: Product) -> "ProductInfo":
        return cls(
            id=str(product.id),
            sku=product.sku,
            title=product.title,
            category=product.category.path if product.category is not None else "",
            brand=product.brand or "",
            price=float(product.price) if product.price is not None else None,
            attributes=dict(product.attributes or {}),
            rating=product.rating,
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "ProductInfo":
        """From a site event or a candidate dict that carries the facts itself."""
        price = data.get("price")
        return cls(
            id=str(data.get("product_id") or data.get("id") or data.get("sku") or ""),
            sku=str(data.get("sku") or ""),
            title=str(data.get("title") or ""),
            category=str(data.get("category") or ""),
            brand=str(data.get("brand") or ""),
            price=float(price) if price is not None else None,
            attributes=dict(data.get("attributes") or {}),
        )


ProductRefLike = Union[str, int]


class Catalogue:
    """Looks products up by database id or SKU, with a bounded LRU cache."""

    def __init__(self, sessions: Optional[sessionmaker], cache_size: int = 5000) -> None:
        self._sessions = sessions
        self._cache: "OrderedDict[str, Optional[ProductInfo]]" = OrderedDict()
        self._cache_size = cache_size

    def lookup(self, ref: ProductRefLike) -> Optional[ProductInfo]:
        key = str(ref).strip()
        if not key:
            return None
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        info = self._load([key]).get(key)
        self._remember(key, info)
        return info

    def _remember(self, key: str, info: Optional[ProductInfo]) -> None:
        self._cache[key] = info
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _load(self, keys: List[str]) -> Dict[str, ProductInfo]:
        if self._sessions is None:
            return {}
        ids = [int(k) for k in keys if k.isdigit()]
        found: Dict[str, ProductInfo] = {}
        try:
            with self._sessions() as session:
                rows = (
                    session.execute(select(Product).where(or_(Product.id.in_(ids), Product.sku.in_(keys))))
                    .unique()
                    .scalars()
                    .all()
                )
                for product in rows:
                    info = ProductInfo.from_product(product)
                    found[info.id] = info
                    found[info.sku] = info
        except DBAPIError:  # no catalogue in this database: the events' own fields will do
            logger.warning("product look-up failed", exc_info=True)
        return found
