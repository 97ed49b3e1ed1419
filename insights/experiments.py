"""A/B tests of two model versions: each arm's figures, the differences' significance, a winner.

Every event a model's turn produces carries that model's id (Rasa stamps it; the consumer keeps it
on the turn's fact), so a conversation belongs to the model that read its first message in the
period. Per arm, with the analytics' own definitions (``insights.analytics``):

- containment (conversations finished without a person) and hand-off rate;
- fallback rate (shopper messages not understood);
- CSAT: the share of rated conversations rated 4 or 5 (and the mean);
- conversion after recommendations: conversations with products shown in which one was carted.

Each proportion is compared with a two-sided two-proportion z-test (pooled variance; a closed form
in a few lines, so no statistics package is loaded into the servers for it). A winner is called
only when both arms have ``SHOP_AB_MIN_CONVERSATIONS`` conversations, containment differs at
``p < SHOP_AB_SIGNIFICANCE``, and the winner is not significantly worse on any other figure.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from core.settings import get_settings
from insights.analytics import Analytics, Rate
from shopdb.model_versions import challenger, serving
from shopdb.models import ConversationRating, FactKind, InsightFact

Conversation = Tuple[str, int]

# figure -> True when higher is better
FIGURES: Dict[str, bool] = {
    "containment": True,
    "handoff_rate": False,
    "fallback_rate": False,
    "csat_satisfied": True,
    "conversion": True,
}


def two_proportion_p(successes_a: int, n_a: int, successes_b: int, n_b: int) -> Optional[float]:
    """Two-sided p-value of "the two rates are equal" (pooled two-proportion z-test)."""
    if n_a == 0 or n_b == 0:
        return None
    pooled = (successes_a + successes_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0:
        return 1.0
    z = (successes_a / n_a - successes_b / n_b) / spread
    return math.erfc(abs(z) / math.sqrt(2))


@dataclass
class Arm:
    version: int
    model_id: str
    conversations: int = 0
    rates: Dict[str, Rate] = field(default_factory=dict)
    csat_mean: Optional[float] = None

    def as_dict(self) -> Dict[str, Any]:
        return {
            "version": self.version,
            "conversations": self.conversations,
            "csat_mean": self.csat_mean,
            **{name: asdict(rate) | {"rate": rate.rate} for name, rate in self.rates.items()},
        }


@dataclass
class Comparison:
    arms: List[Arm]
    p_values: Dict[str, Optional[float]]
    winner: Optional[int]  # a version, once the rules allow calling one
    verdict: str
    min_conversations: int
    significance: float

    def as_dict(self) -> Dict[str, Any]:
        return {
            "arms": [arm.as_dict() for arm in self.arms],
            "p_values": {k: (round(v, 4) if v is not None else None) for k, v in self.p_values.items()},
            "winner": self.winner,
            "verdict": self.verdict,
            "min_conversations": self.min_conversations,
            "significance": self.significance,
        }


def _conversations_by_model(analytics: Analytics) -> Dict[str, Set[Conversation]]:
    """Each conversation of the period under the model that read its first message."""
    with analytics.sessions() as session:
        rows = session.execute(
            select(InsightFact.sender_id, InsightFact.conversation, InsightFact.data)
            .where(InsightFact.kind == FactKind.TURN, analytics._where)
            .order_by(InsightFact.at, InsightFact.id)
        ).all()
    first: Dict[Conversation, str] = {}
    for sender, conversation, data in rows:
        model_id = (data or {}).get("model_id")
        if model_id and (sender, conversation) not in first:
            first[(sender, conversation)] = str(model_id)
    by_model: Dict[str, Set[Conversation]] = {}
    for key, model_id in first.items():
        by_model.setdefault(model_id, set()).add(key)
    return by_model


def _arm(analytics: Analytics, version: int, model_id: str, conversations: Set[Conversation]) -> Arm:
    with analytics.sessions() as session:
        facts = session.execute(
            select(InsightFact.sender_id, InsightFact.conversation, InsightFact.kind).where(
                InsightFact.kind.in_((FactKind.TURN, FactKind.FALLBACK, FactKind.HANDOFF)), analytics._where
            )
        ).all()
        senders = {sender for sender, _ in conversations}
        ratings = (
            [
                r
                for (r,) in session.execute(
                    select(ConversationRating.rating).where(ConversationRating.sender_id.in_(senders))
                ).all()
            ]
            if senders
            else []
        )
    messages = fallbacks = 0
    handed: Set[Conversation] = set()
    for sender, conversation, kind in facts:
        if (sender, conversation) not in conversations:
            continue
        if kind == FactKind.TURN:
            messages += 1
        elif kind == FactKind.FALLBACK:
            fallbacks += 1
        else:
            handed.add((sender, conversation))
    conversion = analytics.recommendation_conversion(only=conversations)
    n = len(conversations)
    return Arm(
        version=version,
        model_id=model_id,
        conversations=n,
        rates={
            "containment": Rate(n - len(handed), n),
            "handoff_rate": Rate(len(handed), n),
            "fallback_rate": Rate(fallbacks, messages),
            "csat_satisfied": Rate(sum(1 for r in ratings if r >= 4), len(ratings)),
            "conversion": Rate(conversion["added_to_cart"], conversion["conversations_with_recommendations"]),
        },
        csat_mean=round(sum(ratings) / len(ratings), 2) if ratings else None,
    )


def compare(
    sessions: sessionmaker,
    arms: List[Tuple[int, str]],
    since: Optional[dt.datetime] = None,
    until: Optional[dt.datetime] = None,
    min_conversations: int = 200,
    significance: float = 0.05,
) -> Comparison:
    """``arms``: (version, model id) of the serving model and the challenger, in that order."""
    analytics = Analytics(sessions, since, until)
    by_model = _conversations_by_model(analytics)
    measured = [_arm(analytics, version, model_id, by_model.get(model_id, set())) for version, model_id in arms]
    a, b = measured
    p_values = {
        name: two_proportion_p(
            a.rates[name].numerator, a.rates[name].denominator, b.rates[name].numerator, b.rates[name].denominator
        )
        for name in FIGURES
    }
    winner, verdict = _verdict(a, b, p_values, min_conversations, significance)
    return Comparison(measured, p_values, winner, verdict, min_conversations, significance)


def _verdict(
    a: Arm, b: Arm, p_values: Dict[str, Optional[float]], min_conversations: int, significance: float
) -> Tuple[Optional[int], str]:
    short = [arm for arm in (a, b) if arm.conversations < min_conversations]
    if short:
        return None, "not enough conversations yet: " + ", ".join(
            f"version {arm.version} has {arm.conversations} of {min_conversations}" for arm in short
        )
    p = p_values["containment"]
    if p is None or p >= significance:
        return None, f"no significant difference in containment (p = {p if p is None else round(p, 4)})"
    best, other = (a, b) if (a.rates["containment"].rate or 0) > (b.rates["containment"].rate or 0) else (b, a)
    worse = []
    for name, higher_is_better in FIGURES.items():
        p_value = p_values[name]
        if name in ("containment", "handoff_rate") or p_value is None or p_value >= significance:
            continue
        ours, theirs = best.rates[name].rate or 0, other.rates[name].rate or 0
        if (ours < theirs) if higher_is_better else (ours > theirs):
            worse.append(name)
    if worse:
        return None, f"version {best.version} contains more but is significantly worse on {', '.join(worse)}"
    return best.version, f"version {best.version} contains significantly more conversations (p = {p:.4f})"


def running_test(sessions: sessionmaker, since: Optional[dt.datetime] = None) -> Dict[str, Any]:
    """The model registry's A/B test (serving model against the challenger, ``learning.registry``)
    compared since it started, or why there is none: the analytics page, the console and
    ``shop learn ab-report`` all show this."""
    with sessions() as session:
        primary, other = serving(session), challenger(session)
        if primary is None or other is None or not primary.model_id or not other.model_id:
            return {"running": False, "verdict": "no A/B test is running"}
        arms = [(int(primary.id), str(primary.model_id)), (int(other.id), str(other.model_id))]
        since = since or other.ab_started_at
        share = other.ab_share
    settings = get_settings()
    comparison = compare(
        sessions,
        arms,
        since=since,
        min_conversations=settings.ab_min_conversations,
        significance=settings.ab_significance,
    )
    return {"running": True, "share": share, **comparison.as_dict()}


__all__ = ["Arm", "Comparison", "FIGURES", "compare", "running_test", "two_proportion_p"]
