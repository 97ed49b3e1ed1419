"""A shopper's intent profile: what a session (or a customer) wants, likes and needs now.

Plain data (a pydantic model stored as JSON in ``insight_profiles``) with its derived views
(interests, price band). How it learns from events is :mod:`insights.profile_updates`; when a
person should be offered is :mod:`insights.handoff_rule`; storing and reading profiles is
:mod:`insights.profile_store`.
"""

from __future__ import annotations

import datetime as dt
from typing import Dict, List, Optional, Tuple

from pydantic import BaseModel, Field

from insights.intent_meanings import IntentKind, Stage
from shopdb.models import ProfileScope

# Tuning of the profile; why these values is said beside each.
DECAY = 0.9  # older interest signals fade: ten signals later one weighs a third
SIGNAL_WEIGHTS = {"viewed": 1.0, "searched": 1.0, "mentioned": 1.5, "carted": 2.0, "purchased": 3.0}
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


__all__ = ["DECAY", "MAX_LIST", "MAX_PRODUCTS", "SIGNAL_WEIGHTS", "Profile", "ProductRef"]
