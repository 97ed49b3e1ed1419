"""Unanswered questions grouped by meaning: the review queue's fallbacks and new request types,
clustered by sentence embedding, biggest group first, so a reviewer sees what shoppers keep asking
that the bot cannot answer (a missing FAQ passage, a missing intent) instead of one message at a time.

Agglomerative clustering (scikit-learn) on cosine distance with a distance threshold: no number of
clusters to guess, and a question unlike any other stays alone (and is not shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, List

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopdb.models import ReviewItem, ReviewSource, ReviewStatus

MAX_ITEMS = 2000  # the newest; clustering is quadratic in the items


@dataclass
class Cluster:
    size: int
    example: str  # the member nearest the cluster's centre
    texts: List[str]  # up to 10 members
    item_ids: List[int]


def unanswered(session: Session) -> List[ReviewItem]:
    """Pending fallbacks and messages marked as new request types, newest first."""
    rows = session.execute(
        select(ReviewItem)
        .where(ReviewItem.status.in_((ReviewStatus.PENDING, ReviewStatus.NEW_REQUEST)))
        .order_by(ReviewItem.id.desc())
        .limit(4 * MAX_ITEMS)
    ).scalars()
    wanted = [
        item
        for item in rows
        if item.status == ReviewStatus.NEW_REQUEST or ReviewSource.FALLBACK in (item.sources or [])
    ]
    return wanted[:MAX_ITEMS]


def clusters(
    items: List[ReviewItem], encode: Callable[[List[str]], Any], distance: float = 0.35, min_size: int = 2
) -> List[Cluster]:
    """Groups of at least ``min_size`` items whose members are within ``distance`` (cosine) on average."""
    if len(items) < min_size:
        return []
    from sklearn.cluster import AgglomerativeClustering

    vectors = np.asarray(encode([item.text for item in items]), dtype=np.float32)
    labels = AgglomerativeClustering(
        n_clusters=None, affinity="cosine", linkage="average", distance_threshold=distance
    ).fit_predict(vectors)
    found = []
    for label in set(labels.tolist()):
        members = [i for i, value in enumerate(labels) if value == label]
        if len(members) < min_size:
            continue
        centre = vectors[members].mean(axis=0)
        nearest = members[int(np.argmax(vectors[members] @ centre))]
        found.append(
            Cluster(
                size=len(members),
                example=items[nearest].text,
                texts=[items[i].text for i in members[:10]],
                item_ids=[int(items[i].id) for i in members],
            )
        )
    return sorted(found, key=lambda c: (-c.size, c.example))


__all__ = ["Cluster", "clusters", "unanswered"]
