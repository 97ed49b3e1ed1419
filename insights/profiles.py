"""Shopper intent profiles: what a session (or a customer) wants, likes and needs now.

A profile is plain data (a pydantic model stored as JSON) updated by
:meth:`Profile.observe` one observation at a time, so the same code serves
the live consumer, the benchmark's simulated shoppers and the tests. Stage is
*derived* from the accumulated state (:func:`derive_stage`) rather than moved
by hand, so it can never disagree with the counters it is computed from.

Public API for the actions and the web channel:
:func:`get_profile`, :func:`should_offer_human`, :func:`offer_reason`,
:func:`summarise_for_handoff`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from core.log_masking import mask_personal_data
from insights.catalogue import Catalogue, ProductInfo
from insights.interpret import Observation, interpret
from shopdb.models import FactKind, ProfileScope, ShopperProfile
from insights.intent_meanings import (
    ATTRIBUTE_ENTITIES,
    CATEGORY_ENTITIES,
    FALLBACK_ACTIONS,
    FALLBACK_INTENTS,
    HANDOFF_ACTIONS,
    HELP_OFFER_ACTIONS,
    HELP_OFFER_SLOTS,
    PRICE_ENTITIES,
    IntentKind,
    Stage,
    frustration_signals,
    goal_for,
    intent_kind,
)

logger = logging.getLogger(__name__)

# Tuning of the profile; why these values is said beside each.
DECAY = 0.9  # older interest signals fade: ten signals later one weighs a third
SIGNAL_WEIGHTS = {"viewed": 1.0, "searched": 1.0, "mentioned": 1.5, "carted": 2.0, "purchased": 3.0}
HELP_WINDOW_TURNS = 3  # a complaint or a request for a human marks the next turns as "needs help"
FALLBACKS_FOR_HELP = 2  # consecutive misunderstandings before help is offered
TOTAL_FALLBACKS_FOR_HELP = 3  # ... or this many in one conversation
FRUSTRATION_FOR_HELP = 2
OFFER_COOLDOWN_TURNS = 4  # do not offer a human again right after an offer
MAX_LIST = 20
MAX_PRODUCTS = 30
MAX_KEYS = 64


class ProductRef(BaseModel):
    """A product the shopper touched, with what a summary needs."""

    id: str
    title: str = ""
    category: str = ""
    brand: str = ""
    price: Optional[float] = None


class Profile(BaseModel):
    """The intent profile of one session (sender) or one customer."""

    scope: str = ProfileScope.SESSION
    subject: str = ""
    customer_id: Optional[str] = None
    conversation: int = 0
    stage: Stage = Stage.BROWSING
    goal: Optional[str] = None
    last_intent: Optional[str] = None
    last_confidence: Optional[float] = None
    last_kind: IntentKind = IntentKind.OTHER
    turns: int = 0  # user turns in this conversation
    total_turns: int = 0
    intents: Dict[str, int] = Field(default_factory=dict)
    categories: Dict[str, float] = Field(default_factory=dict)  # category path -> interest weight
    attributes: Dict[str, Dict[str, float]] = Field(default_factory=dict)  # colour/size/brand/material
    prices: List[float] = Field(default_factory=list)  # prices of products looked at (recent)
    category_prices: Dict[str, List[float]] = Field(default_factory=dict)  # the same, per category
    budget_max: Optional[float] = None
    viewed: List[str] = Field(default_factory=list)
    carted: List[str] = Field(default_factory=list)
    purchased: List[str] = Field(default_factory=list)
    recommended: List[str] = Field(default_factory=list)
    products: Dict[str, ProductRef] = Field(default_factory=dict)
    searches: List[str] = Field(default_factory=list)  # masked
    unanswered: List[str] = Field(default_factory=list)  # masked texts the bot did not understand
    fallback_count: int = 0  # this conversation
    consecutive_fallbacks: int = 0
    total_fallbacks: int = 0
    frustration_count: int = 0  # this conversation
    help_signal_turn: Optional[int] = None  # turn of the last complaint / request for a human
    help_offered_turn: Optional[int] = None
    paused: bool = False  # a human has the conversation (ConversationPaused)
    handoffs: int = 0
    session_carted: bool = False
    session_purchased: bool = False
    first_seen: Optional[dt.datetime] = None
    last_seen: Optional[dt.datetime] = None
    last_ts: Optional[float] = None  # broker timestamp of the newest event applied
    # Internal: duplicate detection, the last user message (masked / hashed) for fallbacks and repeats.
    recent_keys: List[str] = Field(default_factory=list)
    pending_text: Optional[str] = None
    pending_fallback: bool = False
    last_text_hash: Optional[str] = None
    session_views: List[str] = Field(default_factory=list)  # categories of products viewed this conversation
    turn_recommended: List[str] = Field(default_factory=list)  # shown since the last user message

    # ------------------------------------------------------------------ derived views
    @property
    def signals(self) -> float:
        """How much evidence the interests rest on (sum of weights)."""
        return sum(self.categories.values()) + sum(sum(v.values()) for v in self.attributes.values())

    def price_band(self, category: Optional[str] = None) -> Optional[Tuple[float, float]]:
        """(low, high) the shopper is looking at: the middle of recent prices, capped by a stated budget.

        With ``category``, the prices seen in that category when there are at least two
        (a shopper's "mid-range" differs between socks and boots).
        """
        own = self.category_prices.get(category or "", [])
        prices = sorted(own if len(own) >= 2 else self.prices)
        if prices:
            lo = prices[int(0.2 * (len(prices) - 1))]
            hi = prices[int(round(0.8 * (len(prices) - 1)))]
        elif self.budget_max is not None:
            lo, hi = 0.0, self.budget_max
        else:
            return None
        if self.budget_max is not None:
            hi = min(hi, self.budget_max) if hi > 0 else self.budget_max
            lo = min(lo, hi)
        return round(lo, 2), round(hi, 2)

    def top_interests(self, n: int = 3) -> Dict[str, List[str]]:
        out = {"categories": [k for k, _ in sorted(self.categories.items(), key=lambda kv: -kv[1])[:n]]}
        for name, values in self.attributes.items():
            out[name] = [k for k, _ in sorted(values.items(), key=lambda kv: -kv[1])[:n]]
        return out

    # ------------------------------------------------------------------ updates
    def reset_conversation(self) -> None:
        """A new conversation (Rasa session): short-term state starts over, interests stay."""
        self.conversation += 1
        self.turns = 0
        self.fallback_count = self.consecutive_fallbacks = self.frustration_count = 0
        self.help_signal_turn = self.help_offered_turn = None
        self.paused = False
        self.session_carted = self.session_purchased = False
        self.session_views = []
        self.goal = None
        self.last_kind = IntentKind.OTHER
        self.pending_text, self.pending_fallback = None, False
        self.stage = Stage.BROWSING

    def seen(self, key: str) -> bool:
        """True when this event was applied already (brokers deliver at least once)."""
        if key in self.recent_keys:
            return True
        self.recent_keys = (self.recent_keys + [key])[-MAX_KEYS:]
        return False

    def observe(self, obs: Observation, catalogue: Optional[Catalogue] = None) -> List["FactRow"]:
        """Apply one observation; returns the analytics facts it gives rise to."""
        facts: List[FactRow] = []
        self.first_seen = self.first_seen or obs.at
        self.last_seen = max(self.last_seen or obs.at, obs.at)
        if obs.timestamp is not None:
            self.last_ts = max(self.last_ts or obs.timestamp, obs.timestamp)
        if obs.customer_id and self.scope == ProfileScope.SESSION:
            self.customer_id = obs.customer_id
        handler = getattr(self, f"_on_{obs.type}", None)
        if handler is not None:
            handler(obs, catalogue, facts)
        self.stage = derive_stage(self)
        return facts

    def _on_session(self, obs: Observation, _c: Optional[Catalogue], facts: List["FactRow"]) -> None:
        self.reset_conversation()
        facts.append(FactRow(FactKind.SESSION, "session_started"))

    def _on_restart(self, obs: Observation, c: Optional[Catalogue], facts: List["FactRow"]) -> None:
        self._on_session(obs, c, facts)

    def _on_user(self, obs: Observation, catalogue: Optional[Catalogue], facts: List["FactRow"]) -> None:
        intent = obs.intent or "unknown"
        kind = intent_kind(intent)
        self.turns += 1
        self.total_turns += 1
        self.turn_recommended = []
        self.intents[intent] = self.intents.get(intent, 0) + 1
        self.last_intent, self.last_confidence, self.last_kind = intent, obs.confidence, kind
        masked = mask_personal_data(obs.text)[:300] if obs.text else None
        entity_types = sorted({e.type for e in obs.entities})
        facts.append(FactRow(FactKind.TURN, intent, obs.confidence, data={"kind": kind.value, "entities": entity_types}))

        # Frustration: words, shouting, repeating the previous message; complaints count too.
        text_hash = _hash(obs.text) if obs.text else None
        repeated = obs.text if text_hash and text_hash == self.last_text_hash else None
        frustration = frustration_signals(obs.text, repeated)
        if kind is IntentKind.COMPLAINT:
            frustration += 1
        self.frustration_count += frustration
        self.last_text_hash = text_hash
        if kind in (IntentKind.COMPLAINT, IntentKind.HANDOFF) or frustration >= FRUSTRATION_FOR_HELP:
            self.help_signal_turn = self.turns

        self.pending_fallback = False  # a new turn; the streak ends once an action answers it (_on_action)
        if kind is IntentKind.FALLBACK or intent in FALLBACK_INTENTS:
            self._fallback(intent, masked, facts)
        else:
            goal = goal_for(intent, kind)
            if goal:
                self.goal = self._goal_with_details(goal, obs)
        self.pending_text = masked

        for entity in obs.entities:
            if entity.value is None:
                continue
            name = entity.type.lower()
            if name in ATTRIBUTE_ENTITIES:
                self._bump_attribute(ATTRIBUTE_ENTITIES[name], entity.value, SIGNAL_WEIGHTS["mentioned"])
            elif name in CATEGORY_ENTITIES:
                self._bump_category(entity.value, SIGNAL_WEIGHTS["mentioned"])
            elif name in PRICE_ENTITIES:
                amount = _amount(entity.value)
                if amount is not None:
                    self.budget_max = amount
        if kind is IntentKind.BROWSE and masked:
            self.searches = (self.searches + [masked])[-5:]

    def _fallback(self, name: str, masked: Optional[str], facts: List["FactRow"]) -> None:
        """Count one misunderstood turn once, whether the NLU or a fallback action says so."""
        if self.pending_fallback:
            return
        self.pending_fallback = True
        self.fallback_count += 1
        self.total_fallbacks += 1
        self.consecutive_fallbacks += 1
        if masked:
            self.unanswered = (self.unanswered + [masked])[-3:]
        facts.append(FactRow(FactKind.FALLBACK, name, text=masked))

    def _on_action(self, obs: Observation, _c: Optional[Catalogue], facts: List["FactRow"]) -> None:
        name = obs.action or ""
        if not name or name in ("action_listen", "action_session_start"):
            return
        facts.append(FactRow(FactKind.ACTION, name))
        if name in FALLBACK_ACTIONS:
            self._fallback(name, self.pending_text, facts)
        elif name in HANDOFF_ACTIONS:
            self.handoffs += 1
            self.help_signal_turn = self.turns
            facts.append(FactRow(FactKind.HANDOFF, name))
        elif name in HELP_OFFER_ACTIONS:
            self.help_offered_turn = self.turns
        if name not in FALLBACK_ACTIONS and not self.pending_fallback:
            self.consecutive_fallbacks = 0  # the bot answered the turn

    def _on_pause(self, obs: Observation, _c: Optional[Catalogue], facts: List["FactRow"]) -> None:
        if not self.paused:
            self.paused = True
            facts.append(FactRow(FactKind.HANDOFF, "pause"))

    def _on_resume(self, obs: Observation, _c: Optional[Catalogue], facts: List["FactRow"]) -> None:
        if self.paused:
            self.paused = False
            self.help_signal_turn = None
            self.consecutive_fallbacks = 0
            facts.append(FactRow(FactKind.RESUME, "resume"))

    def _on_bot(self, obs: Observation, catalogue: Optional[Catalogue], facts: List["FactRow"]) -> None:
        self._recommended(obs.product_ids, catalogue, facts)

    def _on_slot(self, obs: Observation, catalogue: Optional[Catalogue], facts: List["FactRow"]) -> None:
        if obs.slot and obs.slot[0] in HELP_OFFER_SLOTS and obs.slot[1]:
            self.help_offered_turn = self.turns
        self._recommended(obs.product_ids, catalogue, facts)

    def _recommended(self, ids: List[str], catalogue: Optional[Catalogue], facts: List["FactRow"]) -> None:
        # A carousel and the slot that stores it name the same products: count them once per turn.
        new = [i for i in dict.fromkeys(ids) if i not in self.turn_recommended]
        if not new:
            return
        self.turn_recommended += new
        self.recommended = ([i for i in self.recommended if i not in new] + new)[-MAX_LIST:]
        facts.append(FactRow(FactKind.RECOMMENDATION, "shown", data={"product_ids": new}))

    def _on_site(self, obs: Observation, catalogue: Optional[Catalogue], facts: List["FactRow"]) -> None:
        site = obs.site
        kind = site.get("type", "")
        infos = self._products(obs, catalogue)
        data: Dict[str, Any] = {k: site[k] for k in ("product_id", "product_ids", "category", "price", "quantity", "page") if k in site}
        if infos and "category" not in data:
            data["category"] = infos[0].category
        text = None
        if kind == "product_viewed":
            for info in infos:
                self._product_signal(info, "viewed")
                self.viewed = _push(self.viewed, info.id)
                if info.category:
                    self.session_views = (self.session_views + [f"{info.category}|{info.id}"])[-MAX_LIST:]
        elif kind == "added_to_cart":
            for info in infos:
                self._product_signal(info, "carted")
                self.carted = _push(self.carted, info.id)
            self.session_carted = True
            self.goal = self._product_goal("buy", infos)
        elif kind == "purchased":
            for info in infos:
                self._product_signal(info, "purchased")
                self.purchased = _push(self.purchased, info.id, MAX_LIST * 5)
            self.carted = [p for p in self.carted if p not in {i.id for i in infos}]
            self.session_purchased = True
            self.goal = "follow up on a purchase"
        elif kind == "searched":
            text = site.get("query")
            if text:
                self.searches = (self.searches + [text])[-5:]
            if site.get("category"):
                self._bump_category(site["category"], SIGNAL_WEIGHTS["searched"])
            self.goal = f"find {text}" if text else self.goal
        elif kind == "page_viewed" and site.get("category"):
            self._bump_category(site["category"], SIGNAL_WEIGHTS["viewed"] * 0.5)
        facts.append(FactRow(FactKind.SITE, kind, text=text, data=data))

    # ------------------------------------------------------------------ helpers
    def _products(self, obs: Observation, catalogue: Optional[Catalogue]) -> List[ProductInfo]:
        infos: List[ProductInfo] = []
        for ref in obs.product_ids:
            info = catalogue.lookup(ref) if catalogue is not None else None
            if info is None:  # unknown to this database: use what the event itself says
                info = ProductInfo.from_mapping({**obs.site, "product_id": ref})
            infos.append(info)
        return infos

    def _product_signal(self, info: ProductInfo, signal: str) -> None:
        weight = SIGNAL_WEIGHTS[signal]
        if info.category:
            self._bump_category(info.category, weight)
        for name, values in info.attribute_values().items():
            if len(values) != 1:
                continue  # "available in sizes 36-46" says nothing about the shopper's size
            self._bump_attribute(name, values[0], weight)
        if info.price is not None:
            self.prices = (self.prices + [info.price])[-MAX_LIST:]
            if info.category:
                seen = self.category_prices.get(info.category, [])
                self.category_prices[info.category] = (seen + [info.price])[-10:]
                if len(self.category_prices) > MAX_LIST:
                    self.category_prices.pop(next(iter(self.category_prices)))
        self.products[info.id] = ProductRef(
            id=info.id, title=info.title, category=info.category, brand=info.brand, price=info.price
        )
        if len(self.products) > MAX_PRODUCTS:
            for key in list(self.products)[: len(self.products) - MAX_PRODUCTS]:
                del self.products[key]

    def _bump_category(self, category: str, weight: float) -> None:
        self.categories = _bump(self.categories, category.strip(), weight)

    def _bump_attribute(self, name: str, value: str, weight: float) -> None:
        self.attributes[name] = _bump(self.attributes.get(name, {}), value.strip().lower(), weight)

    def _goal_with_details(self, goal: str, obs: Observation) -> str:
        details = [e.value for e in obs.entities if e.value and e.type.lower() in (*ATTRIBUTE_ENTITIES, *CATEGORY_ENTITIES)]
        return f"{goal}: {', '.join(details[:4])}" if details else goal

    def _product_goal(self, verb: str, infos: List[ProductInfo]) -> str:
        titles = [i.title for i in infos if i.title]
        return f"{verb} {titles[0]}" if titles else verb


@dataclass
class FactRow:
    """One analytics fact, before the consumer stores it as an ``InsightFact``."""

    kind: str
    name: str
    confidence: Optional[float] = None
    text: Optional[str] = None
    data: Dict[str, Any] = field(default_factory=dict)


def _push(items: List[str], item: str, limit: int = MAX_LIST) -> List[str]:
    return ([i for i in items if i != item] + [item])[-limit:]


def _bump(weights: Dict[str, float], key: str, weight: float) -> Dict[str, float]:
    if not key:
        return weights
    out = {k: round(v * DECAY, 4) for k, v in weights.items() if v * DECAY >= 0.01}
    out[key] = round(out.get(key, 0.0) + weight, 4)
    return out


def _hash(text: str) -> str:
    norm = re.sub(r"[^\w ]+", "", text.lower()).strip()
    return hashlib.blake2b(norm.encode(), digest_size=8).hexdigest()


def _amount(value: str) -> Optional[float]:
    match = re.search(r"\d+(?:[.,]\d+)?", str(value))
    return float(match.group().replace(",", ".")) if match else None


# ---------------------------------------------------------------------- rules
def _comparing(profile: Profile) -> bool:
    """Two or more different products of one category looked at in this conversation."""
    by_category: Dict[str, set] = {}
    for entry in profile.session_views:
        category, _, product = entry.partition("|")
        by_category.setdefault(category, set()).add(product)
    return any(len(products) >= 2 for products in by_category.values())


def needs_help(profile: Profile) -> bool:
    if profile.paused:
        return True
    if profile.consecutive_fallbacks >= FALLBACKS_FOR_HELP:
        return True
    if profile.help_signal_turn is not None and profile.turns - profile.help_signal_turn < HELP_WINDOW_TURNS:
        return True
    return False


def derive_stage(profile: Profile) -> Stage:
    """The stage from the profile's state; needing help overrides the buying journey."""
    if needs_help(profile):
        return Stage.NEEDS_HELP
    if profile.session_purchased or profile.last_kind is IntentKind.POST_PURCHASE:
        return Stage.POST_PURCHASE
    if profile.session_carted or profile.last_kind is IntentKind.BUY:
        return Stage.READY_TO_BUY
    if profile.last_kind is IntentKind.COMPARE or _comparing(profile):
        return Stage.COMPARING
    return Stage.BROWSING


def offer_reason(profile: Profile) -> Optional[str]:
    """Why a human should be offered now, or None (also None while one already has the conversation)."""
    if profile.paused:
        return None
    if profile.help_offered_turn is not None and profile.turns - profile.help_offered_turn < OFFER_COOLDOWN_TURNS:
        return None
    if profile.consecutive_fallbacks >= FALLBACKS_FOR_HELP:
        return f"{profile.consecutive_fallbacks} messages in a row not understood"
    if profile.fallback_count >= TOTAL_FALLBACKS_FOR_HELP:
        return f"{profile.fallback_count} messages not understood in this conversation"
    if profile.last_kind is IntentKind.COMPLAINT:
        return "complaint"
    if profile.frustration_count >= FRUSTRATION_FOR_HELP:
        return "the shopper seems frustrated"
    return None


def should_offer_human(profile: Profile) -> bool:
    """Proactive help: repeated fallbacks, a complaint or frustration, unless an offer was just made."""
    return offer_reason(profile) is not None


_STAGE_WORDS = {
    Stage.BROWSING: "browsing", Stage.COMPARING: "comparing products", Stage.READY_TO_BUY: "ready to buy",
    Stage.POST_PURCHASE: "after a purchase", Stage.NEEDS_HELP: "needs help",
}


def summarise_for_handoff(profile: Profile) -> str:
    """A few lines an agent reads before taking over: goal, stage, interests, products, trouble."""
    lines = [f"Wants to: {profile.goal or (profile.last_intent or 'unknown').replace('_', ' ')}."]
    trouble = []
    if profile.fallback_count:
        trouble.append(f"{profile.fallback_count} message(s) not understood")
    if profile.frustration_count:
        trouble.append("signs of frustration")
    if profile.last_kind is IntentKind.COMPLAINT or "complaint" in profile.intents:
        trouble.append("complaint")
    stage = _STAGE_WORDS[profile.stage]
    lines.append(f"Stage: {stage}" + (f" ({', '.join(trouble)})." if trouble else "."))
    interests = profile.top_interests(2)
    parts = []
    if interests["categories"]:
        parts.append(", ".join(interests["categories"]))
    for name in ("brand", "colour", "size"):
        if interests.get(name):
            parts.append(f"{name} {'/'.join(interests[name])}")
    band = profile.price_band()
    if band:
        parts.append(f"price {band[0]:.0f}-{band[1]:.0f}")
    if parts:
        lines.append("Interested in: " + "; ".join(parts) + ".")
    for label, ids in (("In cart", profile.carted), ("Viewed", profile.viewed[-3:]), ("Bought", profile.purchased[-3:])):
        if ids:
            names = [profile.products[i].title or i if i in profile.products else i for i in ids[-3:]]
            lines.append(f"{label}: {'; '.join(names)}.")
    if profile.unanswered:
        lines.append("Not understood: " + " | ".join(f'"{t}"' for t in profile.unanswered[-2:]))
    top = sorted(profile.intents.items(), key=lambda kv: -kv[1])[:4]
    if top:
        lines.append("Intents: " + ", ".join(f"{k} x{v}" for k, v in top) + ".")
    return "\n".join(lines)


# ---------------------------------------------------------------------- storage
def load(session, scope: str, subject: str) -> Optional[Profile]:
    row = session.execute(
        select(ShopperProfile).where(ShopperProfile.scope == scope, ShopperProfile.subject == subject)
    ).scalar_one_or_none()
    return Profile.parse_obj(row.data) if row is not None else None


def store(session, profile: Profile) -> None:
    row = session.execute(
        select(ShopperProfile).where(
            ShopperProfile.scope == profile.scope, ShopperProfile.subject == profile.subject
        )
    ).scalar_one_or_none()
    now = dt.datetime.utcnow()
    if row is None:
        row = ShopperProfile(scope=profile.scope, subject=profile.subject, created_at=now)
        session.add(row)
    row.customer_id = profile.customer_id if profile.scope == ProfileScope.SESSION else profile.subject
    row.stage = profile.stage.value
    row.goal = (profile.goal or "")[:200] or None
    row.data = json.loads(profile.json())
    row.updated_at = now
    row.last_event_at = profile.last_seen


def merge(session_profile: Optional[Profile], customer_profile: Optional[Profile]) -> Profile:
    """The session's view, with the customer's long-term interests and purchases blended in at half weight."""
    if session_profile is None and customer_profile is None:
        return Profile()
    if customer_profile is None:
        return session_profile  # type: ignore[return-value]
    if session_profile is None:
        return customer_profile
    merged = session_profile.copy(deep=True)
    for key, weight in customer_profile.categories.items():
        merged.categories[key] = round(merged.categories.get(key, 0.0) + 0.5 * weight, 4)
    for name, values in customer_profile.attributes.items():
        target = merged.attributes.setdefault(name, {})
        for key, weight in values.items():
            target[key] = round(target.get(key, 0.0) + 0.5 * weight, 4)
    merged.purchased = list(dict.fromkeys(customer_profile.purchased + merged.purchased))
    merged.prices = (customer_profile.prices[-10:] + merged.prices)[-MAX_LIST:]
    for category, prices in customer_profile.category_prices.items():
        merged.category_prices[category] = (prices[-5:] + merged.category_prices.get(category, []))[-10:]
    merged.products = {**customer_profile.products, **merged.products}
    merged.budget_max = merged.budget_max or customer_profile.budget_max
    return merged


def absorb(customer: Profile, session_profile: Profile) -> None:
    """Fold what an anonymous session learnt into the customer's profile when the shopper logs in."""
    for key, weight in session_profile.categories.items():
        customer.categories[key] = round(customer.categories.get(key, 0.0) + weight, 4)
    for name, values in session_profile.attributes.items():
        target = customer.attributes.setdefault(name, {})
        for key, weight in values.items():
            target[key] = round(target.get(key, 0.0) + weight, 4)
    customer.prices = (customer.prices + session_profile.prices)[-MAX_LIST:]
    for category, prices in session_profile.category_prices.items():
        customer.category_prices[category] = (customer.category_prices.get(category, []) + prices)[-10:]
    customer.viewed = list(dict.fromkeys(customer.viewed + session_profile.viewed))[-MAX_LIST:]
    customer.purchased = list(dict.fromkeys(customer.purchased + session_profile.purchased))
    customer.products.update(session_profile.products)
    customer.budget_max = customer.budget_max or session_profile.budget_max


def get_profile(
    sender_id: Optional[str] = None,
    customer_id: Optional[str] = None,
    *,
    recent_events: Optional[Iterable[Mapping[str, Any]]] = None,
    sessions: Optional[sessionmaker] = None,
) -> Profile:
    """The current profile of a conversation and/or a customer (an empty one when nothing is known).

    With a sender id the session profile comes first and the customer's
    long-term interests and purchases are blended in when the session is
    linked to a customer (or ``customer_id`` is given).

    ``recent_events`` (an action's ``tracker.events``) closes the gap to the
    stream: Rasa publishes a turn's events after the turn, so the events newer
    than the stored profile are applied here, in memory, before answering.
    """
    from insights.db import shop_sessions

    sessions = sessions or shop_sessions()
    session_profile = customer_profile = None
    try:
        with sessions() as session:
            session_profile = load(session, ProfileScope.SESSION, sender_id) if sender_id else None
            customer_id = customer_id or (session_profile.customer_id if session_profile else None)
            customer_profile = load(session, ProfileScope.CUSTOMER, customer_id) if customer_id else None
    except DBAPIError:  # tables not migrated yet: the recent events alone still make a profile
        logger.warning("shopper profiles unavailable (run `python -m insights migrate`)", exc_info=True)
    if recent_events is not None and sender_id:
        session_profile = session_profile or Profile(scope=ProfileScope.SESSION, subject=sender_id)
        catalogue = Catalogue(sessions)
        for raw in recent_events:
            timestamp = raw.get("timestamp")
            if timestamp is None or (session_profile.last_ts is not None and float(timestamp) <= session_profile.last_ts):
                continue
            obs = interpret({**raw, "sender_id": sender_id})
            if obs is not None:
                session_profile.observe(obs, catalogue)
    profile = merge(session_profile, customer_profile)
    if not profile.subject:
        profile.subject = sender_id or customer_id or ""
        profile.customer_id = customer_id
    return profile
