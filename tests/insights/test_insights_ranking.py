"""Profile-aware ranking: interests, price band and purchases move candidates; similarity still counts."""

from __future__ import annotations

import datetime as dt

from insights.interpret import interpret
from insights.profile import Profile
from insights.profile_updates import observe
from insights.recommend import rank, score_candidates
from retrieval.results import ProductHit


def hit(pid: int, title: str, category: str, brand: str, colour: str, price: float, score: float) -> ProductHit:
    return ProductHit(
        id=pid,
        sku=f"SKU-{pid}",
        title=title,
        brand=brand,
        category=category,
        price=price,
        currency="EUR",
        in_stock=True,
        stock=3,
        rating=4.0,
        image_url=None,
        attributes={"colour": colour, "size": ["40", "41"]},
        score=score,
    )


CANDIDATES = [  # the knowledge service's order: equally similar running shoes, then the rest
    hit(1, "Zoom Road", "Shoes/Running shoes", "Zoom", "blue", 120.0, 0.82),
    hit(2, "Plain jogger", "Shoes/Running shoes", "Plain", "black", 35.0, 0.81),
    hit(3, "Acme Sprint", "Shoes/Running shoes", "Acme", "red", 89.0, 0.80),
    hit(4, "Acme Trail", "Shoes/Running shoes", "Acme", "red", 95.0, 0.80),
    hit(5, "Hiker boot", "Shoes/Hiking boots", "Peak", "brown", 140.0, 0.60),
]


def viewed(profile: Profile, product: dict, at: int) -> None:
    """Apply a product view as the consumer does (through interpret + observe)."""
    raw = {
        "event": "shop_site_event",
        "type": "product_viewed",
        "sender_id": "s",
        "timestamp": 1_767_225_600 + at,
        "product_id": str(product["id"]),
        "category": product["category"],
        "price": product["price"],
    }
    obs = interpret(raw)
    obs.site.update(product)  # what the catalogue would say about it
    observe(profile, obs)


def red_acme_shopper() -> Profile:
    profile = Profile(subject="s")
    for i, (pid, price) in enumerate([(31, 85.0), (32, 99.0), (33, 92.0)]):
        viewed(
            profile,
            {
                "id": str(pid),
                "category": "Shoes/Running shoes",
                "brand": "Acme",
                "attributes": {"colour": "red"},
                "price": price,
            },
            i,
        )
    return profile


def ids(items) -> list:
    return [c.id for c in items]


def test_an_empty_profile_keeps_the_similarity_order():
    assert ids(rank(CANDIDATES, Profile())) == [1, 2, 3, 4, 5]
    assert ids(rank(CANDIDATES, None)) == [1, 2, 3, 4, 5]


def test_interests_move_matching_products_up():
    profile = red_acme_shopper()
    assert profile.top_interests()["colour"] == ["red"] and profile.top_interests()["brand"] == ["acme"]
    ranked = ids(rank(CANDIDATES, profile))
    assert ranked[:2] == [3, 4]
    parts = {s.candidate.id: s.parts for s in score_candidates(CANDIDATES, profile)}
    assert parts[3]["attributes"] > parts[1]["attributes"] and parts[3]["price"] > parts[2]["price"]


def test_price_band_prefers_what_the_shopper_looks_at():
    profile = Profile(subject="s")
    for i, price in enumerate([30.0, 38.0, 33.0]):  # a budget shopper, no colour or brand taste
        viewed(profile, {"id": str(40 + i), "category": "Shoes/Running shoes", "price": price}, i)
    low, high = profile.price_band("Shoes/Running shoes")
    assert 30 <= low <= high <= 38
    assert ids(rank(CANDIDATES, profile))[0] == 2  # the 35 EUR jogger, though only third by similarity


def test_already_bought_products_go_down():
    profile = red_acme_shopper()
    ranked = ids(rank(CANDIDATES, profile, purchases=["3"]))
    assert ranked.index(4) < ranked.index(3)


def test_similarity_still_counts_against_weak_interests():
    profile = Profile(subject="s")
    viewed(
        profile,
        {
            "id": "50",
            "category": "Shoes/Hiking boots",
            "brand": "Peak",
            "attributes": {"colour": "brown"},
            "price": 140.0,
        },
        0,
    )
    far = [
        hit(1, "Zoom Road", "Shoes/Running shoes", "Zoom", "blue", 120.0, 0.9),
        hit(5, "Hiker boot", "Shoes/Hiking boots", "Peak", "brown", 140.0, 0.1),
    ]
    # One view is little evidence: a far better similarity match stays first.
    assert ids(rank(far, profile))[0] == 1


def test_dicts_orm_like_objects_and_limit():
    profile = red_acme_shopper()
    dicts = [c.to_dict() for c in CANDIDATES]
    ranked = rank(dicts, profile, limit=2)
    assert [d["id"] for d in ranked] == [3, 4] and isinstance(ranked[0], dict)
    assert profile.last_seen == dt.datetime(2026, 1, 1, 0, 0, 2)
