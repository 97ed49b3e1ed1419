"""The support team's figures, computed from the analytics facts.

Definitions (the page and the CLI report print them too):

- a *conversation* is one Rasa session of one sender (``session_started`` starts the next) that
  has at least one shopper message in the period;
- *fallback rate*: shopper messages the bot did not understand (``nlu_fallback``, or a
  default / two-stage fallback action) / all shopper messages;
- *hand-off rate*: conversations handed to a human (``action_handoff_to_human`` or
  ``ConversationPaused``) / conversations; *containment* is the rest: conversations that
  finished without a human;
- *top unanswered questions*: the (masked) messages behind fallbacks, grouped case- and
  punctuation-insensitively;
- *conversion after recommendations*: conversations in which the bot showed products, and
  among them those where the shopper added one of *those* products to the cart (or bought
  one) within ``window`` afterwards;
- *frustration*: over the shopper messages the NLU scored (``nlu_models.frustration``; messages
  without a score, such as lines written to an agent, are left out): the share at or above the
  scorer's threshold, the mean score, the requests (the intent before it became
  ``express_frustration``) most often frustrated, and the conversations with a frustrated message
  that were handed to a human.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import sessionmaker

from insights.intent_meanings import normalise_question
from shopdb.models import FactKind, InsightFact
from shopdb.ratings import ratings_between, satisfaction


def _in_period(since: Optional[dt.datetime], until: Optional[dt.datetime]):
    conditions = []
    if since is not None:
        conditions.append(InsightFact.at >= since)
    if until is not None:
        conditions.append(InsightFact.at < until)
    return and_(*conditions) if conditions else true()


def _bucket(dialect: str, bucket: str):
    if bucket not in ("hour", "day"):
        raise ValueError("bucket must be 'hour' or 'day'")
    if dialect == "postgresql":
        return func.to_char(
            func.date_trunc(bucket, InsightFact.at), "YYYY-MM-DD" + (" HH24:00" if bucket == "hour" else "")
        )
    return func.strftime("%Y-%m-%d" + (" %H:00" if bucket == "hour" else ""), InsightFact.at)


@dataclass
class Rate:
    numerator: int
    denominator: int

    @property
    def rate(self) -> Optional[float]:
        return round(self.numerator / self.denominator, 4) if self.denominator else None

    def as_dict(self, numerator: str, denominator: str) -> Dict[str, Any]:
        return {numerator: self.numerator, denominator: self.denominator, "rate": self.rate}


class Analytics:
    """Queries over ``insight_facts`` for one period."""

    def __init__(
        self, sessions: sessionmaker, since: Optional[dt.datetime] = None, until: Optional[dt.datetime] = None
    ) -> None:
        self.sessions, self.since, self.until = sessions, since, until

    @property
    def _where(self):
        return _in_period(self.since, self.until)

    def intent_volumes(self, bucket: str = "day") -> List[Dict[str, Any]]:
        """Shopper messages per intent per hour/day."""
        with self.sessions() as session:
            label = _bucket(session.bind.dialect.name, bucket).label("bucket")
            rows = session.execute(
                select(label, InsightFact.name, func.count())
                .where(InsightFact.kind == FactKind.TURN, self._where)
                .group_by(label, InsightFact.name)
                .order_by(label, func.count().desc(), InsightFact.name)
            ).all()
        return [{"bucket": b, "intent": n, "count": c} for b, n, c in rows]

    def intent_totals(self) -> List[Dict[str, Any]]:
        with self.sessions() as session:
            rows = session.execute(
                select(InsightFact.name, func.count(), func.avg(InsightFact.confidence))
                .where(InsightFact.kind == FactKind.TURN, self._where)
                .group_by(InsightFact.name)
                .order_by(func.count().desc(), InsightFact.name)
            ).all()
        return [
            {"intent": n, "count": c, "mean_confidence": round(a, 4) if a is not None else None} for n, c, a in rows
        ]

    def _count(self, kind: str) -> int:
        with self.sessions() as session:
            return session.execute(
                select(func.count()).select_from(InsightFact).where(InsightFact.kind == kind, self._where)
            ).scalar_one()

    def fallback_rate(self) -> Rate:
        return Rate(self._count(FactKind.FALLBACK), self._count(FactKind.TURN))

    def _conversations(self, kind: str) -> set:
        with self.sessions() as session:
            return set(
                session.execute(
                    select(InsightFact.sender_id, InsightFact.conversation)
                    .where(InsightFact.kind == kind, self._where)
                    .distinct()
                ).all()
            )

    def handoff_rate(self) -> Rate:
        talked = self._conversations(FactKind.TURN)
        handed = self._conversations(FactKind.HANDOFF) & talked
        return Rate(len(handed), len(talked))

    def containment(self) -> Rate:
        handoff = self.handoff_rate()
        return Rate(handoff.denominator - handoff.numerator, handoff.denominator)

    def top_unanswered(self, limit: int = 10) -> List[Dict[str, Any]]:
        with self.sessions() as session:
            rows = session.execute(
                select(InsightFact.text, InsightFact.at)
                .where(InsightFact.kind == FactKind.FALLBACK, InsightFact.text.isnot(None), self._where)
                .order_by(InsightFact.at)
            ).all()
        counts: Counter = Counter()
        example: Dict[str, Tuple[str, dt.datetime]] = {}
        for text, at in rows:
            key = normalise_question(text)
            if not key:
                continue
            counts[key] += 1
            example[key] = (text, at)  # the latest wording
        return [
            {"question": example[k][0], "count": c, "last_seen": example[k][1].isoformat(timespec="seconds")}
            for k, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        ]

    def recommendation_conversion(
        self, window: dt.timedelta = dt.timedelta(days=7), only: Optional[Set[Tuple[str, int]]] = None
    ) -> Dict[str, Any]:
        """``only``: these (sender, conversation) pairs (an A/B test's arm); default every conversation."""
        with self.sessions() as session:
            recs = session.execute(
                select(InsightFact.sender_id, InsightFact.conversation, InsightFact.at, InsightFact.data).where(
                    InsightFact.kind == FactKind.RECOMMENDATION, self._where
                )
            ).all()
            if only is not None:
                recs = [r for r in recs if (r[0], r[1]) in only]
            senders = {r[0] for r in recs}
            until = self.until + window if self.until is not None else None
            outcomes = (
                session.execute(
                    select(InsightFact.sender_id, InsightFact.name, InsightFact.at, InsightFact.data).where(
                        InsightFact.kind == FactKind.SITE,
                        InsightFact.name.in_(("added_to_cart", "purchased")),
                        InsightFact.sender_id.in_(senders),
                        _in_period(self.since, until),
                    )
                ).all()
                if senders
                else []
            )
        shown: Dict[Tuple[str, int], List[Tuple[dt.datetime, set]]] = defaultdict(list)
        for sender, conversation, at, data in recs:
            shown[(sender, conversation)].append((at, set(map(str, (data or {}).get("product_ids", [])))))
        by_sender: Dict[str, List[Tuple[str, dt.datetime, set]]] = defaultdict(list)
        for sender, name, at, data in outcomes:
            data = data or {}
            ids = set(map(str, data.get("product_ids") or [])) | (
                {str(data["product_id"])} if data.get("product_id") else set()
            )
            by_sender[sender].append((name, at, ids))
        carted = purchased = 0
        for (sender, _), shows in shown.items():
            hit = {"added_to_cart": False, "purchased": False}
            for name, at, ids in by_sender.get(sender, []):
                if any(shown_at <= at <= shown_at + window and ids & products for shown_at, products in shows):
                    hit[name] = True
            carted += hit["added_to_cart"] or hit["purchased"]
            purchased += hit["purchased"]
        total = len(shown)
        return {
            "conversations_with_recommendations": total,
            "added_to_cart": carted,
            "purchased": purchased,
            "cart_rate": Rate(carted, total).rate,
            "purchase_rate": Rate(purchased, total).rate,
            "window_days": window.days,
        }

    def frustration(self, top: int = 5) -> Dict[str, Any]:
        with self.sessions() as session:
            rows = session.execute(
                select(InsightFact.sender_id, InsightFact.conversation, InsightFact.data).where(
                    InsightFact.kind == FactKind.TURN, self._where
                )
            ).all()
        scores: List[float] = []
        intents: Counter = Counter()
        frustrated: set = set()
        for sender, conversation, data in rows:
            score = (data or {}).get("frustration")
            if not isinstance(score, dict) or not isinstance(score.get("score"), (int, float)):
                continue
            scores.append(float(score["score"]))
            if score.get("frustrated"):
                intents[str(score.get("intent") or "unknown")] += 1
                frustrated.add((sender, conversation))
        handed = self._conversations(FactKind.HANDOFF) & frustrated
        return {
            "scored_messages": len(scores),
            "frustrated_messages": sum(intents.values()),
            "rate": Rate(sum(intents.values()), len(scores)).rate,
            "mean_score": round(sum(scores) / len(scores), 4) if scores else None,
            "frustrated_conversations": len(frustrated),
            "handed_off": len(handed),
            "handoff_rate": Rate(len(handed), len(frustrated)).rate,
            "top_intents": [
                {"intent": name, "count": count}
                for name, count in sorted(intents.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
            ],
        }

    def ratings(self) -> List[Dict[str, Any]]:
        """Every rating of the period (CSAT): when, how many stars, with or without a person, the comment."""
        with self.sessions() as session:
            rows = ratings_between(session, self.since, self.until)
            return [
                {
                    "rated_at": r.created_at.isoformat(timespec="seconds"),
                    "rating": r.rating,
                    "with_agent": r.with_agent,
                    "comment": r.comment or "",
                }
                for r in rows
            ]

    def satisfaction(self) -> Dict[str, Any]:
        """CSAT of the period: conversations the bot handled alone against those a person took part in."""
        rated = self.ratings()
        return {
            "bot": satisfaction([r["rating"] for r in rated if not r["with_agent"]]).as_dict(),
            "agent": satisfaction([r["rating"] for r in rated if r["with_agent"]]).as_dict(),
            "all": satisfaction([r["rating"] for r in rated]).as_dict(),
        }

    def overview(self, bucket: str = "day", top: int = 10) -> "Report":
        return Report(
            since=self.since.isoformat(timespec="seconds") if self.since else None,
            until=self.until.isoformat(timespec="seconds") if self.until else None,
            fallback=self.fallback_rate().as_dict("fallbacks", "messages"),
            handoff=self.handoff_rate().as_dict("handed_off", "conversations"),
            containment=self.containment().as_dict("contained", "conversations"),
            conversion=self.recommendation_conversion(),
            frustration=self.frustration(),
            satisfaction=self.satisfaction(),
            intents=self.intent_totals(),
            intent_volumes=self.intent_volumes(bucket),
            unanswered=self.top_unanswered(top),
        )


@dataclass
class Report:
    since: Optional[str]
    until: Optional[str]
    fallback: Dict[str, Any]
    handoff: Dict[str, Any]
    containment: Dict[str, Any]
    conversion: Dict[str, Any]
    frustration: Dict[str, Any]
    satisfaction: Dict[str, Any] = field(default_factory=dict)
    intents: List[Dict[str, Any]] = field(default_factory=list)
    intent_volumes: List[Dict[str, Any]] = field(default_factory=list)
    unanswered: List[Dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def rows(self) -> List[Dict[str, Any]]:
        """The whole report as long-format rows (``section, key, name, value``) for one CSV file."""
        out: List[Dict[str, Any]] = []
        for section in ("fallback", "handoff", "containment", "conversion"):
            for key, value in getattr(self, section).items():
                out.append({"section": section, "key": key, "name": "", "value": value})
        for key, value in self.frustration.items():
            if key != "top_intents":
                out.append({"section": "frustration", "key": key, "name": "", "value": value})
        for group, figures in self.satisfaction.items():
            for key in ("rated", "average", "satisfied"):
                out.append({"section": "satisfaction", "key": key, "name": group, "value": figures[key]})
        for row in self.frustration["top_intents"]:
            out.append({"section": "frustrated_intents", "key": "count", "name": row["intent"], "value": row["count"]})
        for row in self.intents:
            out.append({"section": "intents", "key": "count", "name": row["intent"], "value": row["count"]})
        for row in self.intent_volumes:
            out.append({"section": "intent_volume", "key": row["bucket"], "name": row["intent"], "value": row["count"]})
        for row in self.unanswered:
            out.append({"section": "unanswered", "key": "count", "name": row["question"], "value": row["count"]})
        return out


def write_csv(rows: List[Dict[str, Any]], stream: Any) -> None:
    """CSV with a header from the first row's keys; formula-looking cells are quoted as text."""
    import csv

    if not rows:
        stream.write("")
        return
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _safe_cell(v) for k, v in row.items()})


def _safe_cell(value: Any) -> Any:
    # Shopper text ends up in spreadsheets: keep "=cmd()" from becoming a formula (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
