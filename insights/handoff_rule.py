"""When to offer a person, and what stage a shopper is in: rules over the profile's counters."""

from __future__ import annotations

from typing import Dict, Optional

from insights.intent_meanings import IntentKind, Stage
from insights.profile import Profile

HELP_WINDOW_TURNS = 3  # a complaint or a request for a human marks the next turns as "needs help"
FALLBACKS_FOR_HELP = 2  # consecutive misunderstandings before help is offered
TOTAL_FALLBACKS_FOR_HELP = 3  # ... or this many in one conversation
FRUSTRATION_FOR_HELP = 2
OFFER_COOLDOWN_TURNS = 4  # do not offer a human again right after an offer


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


__all__ = ["derive_stage", "needs_help", "offer_reason", "should_offer_human"]
