"""A group of unanswered questions answered once: a reviewer writes the shop's answer, it becomes a
policy/FAQ passage in the shop database, and the group's queued messages are marked answered.

The action servers index a passage added this way at the next policy question
(``retrieval.search.PolicyRetriever.catch_up``), so the next shopper asking it gets the answer: the
fallback path asks the shop's passages before it says it did not understand.
"""

from __future__ import annotations

import re
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import utcnow
from shopdb.models import PolicyPassage, ReviewItem, ReviewStatus

MAX_TITLE = 200
MAX_TEXT = 4000


class AnswerRefused(ValueError):
    """A passage that cannot be stored as given (the message says why)."""


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "answer"


def answer_questions(
    session: Session, item_ids: Sequence[int], title: str, text: str, by: str, topic: str = "faq"
) -> PolicyPassage:
    """Store the answer as a passage under ``topic`` and mark the items it answers."""
    title, text, topic = " ".join(title.split()), text.strip(), slug(topic)
    if not title or len(title) > MAX_TITLE:
        raise AnswerRefused(f"a title of 1-{MAX_TITLE} characters")
    if not text or len(text) > MAX_TEXT:
        raise AnswerRefused(f"an answer of 1-{MAX_TEXT} characters")
    key = f"{topic}/{slug(title)}"
    if session.execute(select(PolicyPassage.id).where(PolicyPassage.key == key)).first() is not None:
        raise AnswerRefused(f"the shop already has a passage {key!r}: give this one another title")
    # Shoppers see the source under the answer: the passage's place, not who wrote it (the answered
    # items keep the reviewer).
    passage = PolicyPassage(key=key, topic=topic, title=title, text=text, source=f"{topic}#{slug(title)}")
    session.add(passage)
    items = session.execute(
        select(ReviewItem).where(
            ReviewItem.id.in_(list(item_ids)),
            ReviewItem.status.in_((ReviewStatus.PENDING, ReviewStatus.NEW_REQUEST)),
        )
    ).scalars()
    for item in items:
        item.status, item.intent, item.reviewer, item.reviewed_at = ReviewStatus.ANSWERED, None, by, utcnow()
    session.flush()
    return passage


__all__ = ["AnswerRefused", "answer_questions", "slug"]
