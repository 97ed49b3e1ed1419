"""What a search finds: products and policy passages, plain dataclasses, JSON-ready via ``to_dict()``.

Actions put these into slots and message payloads, so every field is a JSON scalar, list or dict
(prices as floats with a currency).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, List, Optional


class _Serialisable:
    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


@dataclass
class ProductHit(_Serialisable):
    id: int
    sku: str
    title: str
    brand: str
    category: str
    price: float
    currency: str
    in_stock: bool
    stock: int
    rating: Optional[float]
    image_url: Optional[str]
    attributes: Dict[str, Any]
    description: str = ""
    score: Optional[float] = None  # retrieval score (higher is better); None for direct look-ups


@dataclass
class ProductSearch(_Serialisable):
    """Products found for a shopper's words, and what the words were understood to ask for, so the
    assistant can say it ("white sneakers in size 42, I read "whte" as white")."""

    hits: List[ProductHit]
    filters: Dict[str, Any]  # what was asked: the caller's filters and those read from the words
    relaxed: bool  # the hits meet only part of ``filters`` (nothing met them all)
    corrections: Dict[str, str]  # typed word -> the catalogue's word it was read as
    cheapest_first: bool  # "cheap": the cheapest of the relevant products first


@dataclass
class PolicyHit(_Serialisable):
    key: str
    topic: str
    title: str
    text: str
    source: str
    score: float


__all__ = ["PolicyHit", "ProductHit", "ProductSearch"]
