"""Profile-aware re-ranking of the knowledge service's candidates.

The knowledge service ranks by similarity to the words of one message. A
shopper's profile knows more: the categories, brands, colours and sizes they
keep coming back to, the prices they look at, what they already bought. The
score is a weighted sum of similarity and those matches, and the profile's
part grows with the evidence behind it, so an empty profile leaves the
similarity order untouched.

    ranked = rank(knowledge.search_products(text, limit=50), get_profile(sender_id), purchases)

``candidates`` may be ORM products, dataclasses or dicts: ids, category,
brand, price, attributes and score are read by name (see :func:`view`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, TypeVar

from insights.catalogue import ProductInfo
from insights.profile import Profile

T = TypeVar("T")


@dataclass(frozen=True)
class Weights:
    """How much each signal counts.

    Category/attributes/price were picked by ``python -m perf.recommendation_benchmark --tune`` on
    seed 1007 with the knowledge service's search (the reported figures use seed 7).
    """

    similarity: float = 1.0
    category: float = 0.4
    attributes: float = 1.0
    price: float = 0.8
    purchases: float = 0.3
    popularity: float = 0.05
    repeat_penalty: float = 0.5  # already bought this exact product
    evidence_scale: float = 3.0  # profile signals at which its part reaches ~63 %


DEFAULT_WEIGHTS = Weights()


@dataclass
class Scored:
    candidate: Any
    score: float
    parts: Dict[str, float] = field(default_factory=dict)


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def view(candidate: Any) -> Tuple[ProductInfo, Optional[float]]:
    """The product facts and similarity score of one candidate, whatever its type."""
    if isinstance(candidate, ProductInfo):
        return candidate, None
    if isinstance(candidate, (str, int)):  # a bare product id (e.g. a past purchase)
        return ProductInfo(id=str(candidate)), None
    product = _get(candidate, "product")  # search hits that wrap a product
    source = product if product is not None else candidate
    category = _get(source, "category_path", "category")
    if category is not None and not isinstance(category, str):
        category = _get(category, "path", "name") or ""
    price = _get(source, "price")
    rating = _get(source, "rating")
    info = ProductInfo(
        id=str(_get(source, "id", "product_id", "sku") or ""),
        sku=str(_get(source, "sku") or ""),
        title=str(_get(source, "title", "name") or ""),
        category=str(category or ""),
        brand=str(_get(source, "brand") or ""),
        price=float(price) if price is not None else None,
        attributes=dict(_get(source, "attributes") or {}),
        rating=float(rating) if rating is not None else None,
    )
    score = _get(candidate, "score", "similarity")
    return info, float(score) if score is not None else None


def _normalised(weights: Mapping[str, float]) -> Dict[str, float]:
    top = max(weights.values(), default=0.0)
    return {k: v / top for k, v in weights.items()} if top > 0 else {}


def _category_match(info: ProductInfo, categories: Mapping[str, float]) -> float:
    if not info.category or not categories:
        return 0.0
    exact = categories.get(info.category, 0.0)
    top = info.top_category
    parent = max((w for k, w in categories.items() if k.split("/", 1)[0] == top), default=0.0)
    return max(exact, 0.5 * parent)


# How telling each attribute is of taste (material and size matter less than colour and brand).
ATTRIBUTE_IMPORTANCE = {"colour": 1.0, "brand": 1.0, "size": 0.7, "material": 0.4}


def _attribute_match(info: ProductInfo, attributes: Mapping[str, Mapping[str, float]]) -> float:
    """Weighted mean, over the attributes the profile has a view on, of how much it likes this product's value."""
    values = info.attribute_values()
    total = weight_sum = 0.0
    for name, prefs in attributes.items():
        if not prefs or name not in values:
            continue
        importance = ATTRIBUTE_IMPORTANCE.get(name, 0.5)
        total += importance * max(prefs.get(v, 0.0) for v in values[name])
        weight_sum += importance
    return total / weight_sum if weight_sum else 0.0


def _price_fit(price: Optional[float], band: Optional[Tuple[float, float]]) -> float:
    """1 inside the band (with 15 % slack), falling with the log-distance outside it."""
    if price is None or band is None or price <= 0:
        return 0.0
    lo, hi = band[0] * 0.85, band[1] * 1.15
    if lo <= price <= hi:
        return 1.0
    edge = lo if price < lo else hi
    if edge <= 0:
        return 0.0
    return max(0.0, 1.0 - abs(math.log(price / edge)) / math.log(2.0))


def _purchase_affinity(info: ProductInfo, purchased: Sequence[ProductInfo]) -> float:
    if not purchased:
        return 0.0
    brand = sum(1 for p in purchased if p.brand and p.brand.lower() == info.brand.lower())
    category = sum(1 for p in purchased if p.top_category and p.top_category == info.top_category)
    return min(1.0, (brand + 0.5 * category) / len(purchased))


def _popularity(info: ProductInfo) -> float:
    return (info.rating or 0.0) / 5.0


def score_candidates(
    candidates: Iterable[T],
    profile: Optional[Profile],
    purchases: Optional[Iterable[Any]] = None,
    weights: Weights = DEFAULT_WEIGHTS,
) -> List[Scored]:
    """Every candidate with its score and the parts of it (for explanations and tests)."""
    items = list(candidates)
    views = [view(c) for c in items]
    sims = [s for _, s in views if s is not None]
    if len(sims) == len(views) and items:
        lo, hi = min(sims), max(sims)
        if lo >= 0 and hi > 0:  # relative to the best: near-equal matches stay near-equal
            sim_norm = [s / hi for s in sims]
        else:
            sim_norm = [((s - lo) / (hi - lo)) if hi > lo else 1.0 for s in sims]
    else:  # no scores: the given order is the similarity order
        n = max(1, len(items))
        sim_norm = [1.0 - i / n for i in range(len(items))]

    profile = profile or Profile()
    purchased = [view(p)[0] for p in purchases or []]
    purchased_ids = {p.id for p in purchased} | set(profile.purchased)
    categories = _normalised(profile.categories)
    attributes = {name: _normalised(values) for name, values in profile.attributes.items()}
    evidence = 1.0 - math.exp(-(profile.signals + 2 * len(purchased)) / weights.evidence_scale)

    out = []
    for (info, _), sim, candidate in zip(views, sim_norm, items):
        parts = {
            "similarity": weights.similarity * sim,
            "category": evidence * weights.category * _category_match(info, categories),
            "attributes": evidence * weights.attributes * _attribute_match(info, attributes),
            "price": evidence * weights.price * _price_fit(info.price, profile.price_band(info.category)),
            "purchases": weights.purchases * _purchase_affinity(info, purchased),
            "popularity": weights.popularity * _popularity(info),
            "repeat": -weights.repeat_penalty if info.id in purchased_ids else 0.0,
        }
        out.append(Scored(candidate, sum(parts.values()), parts))
    return out


def rank(
    candidates: Iterable[T],
    profile: Optional[Profile],
    purchases: Optional[Iterable[Any]] = None,
    *,
    limit: Optional[int] = None,
    weights: Weights = DEFAULT_WEIGHTS,
) -> List[T]:
    """``candidates`` re-ordered for this shopper (stable for ties: the similarity order wins)."""
    scored = score_candidates(candidates, profile, purchases, weights)
    order = sorted(range(len(scored)), key=lambda i: (-scored[i].score, i))
    ranked = [scored[i].candidate for i in order]
    return ranked[:limit] if limit is not None else ranked
