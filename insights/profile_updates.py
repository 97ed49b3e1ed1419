"""How a profile learns: one observation (a Rasa or site event) at a time, 13 event handlers.

:func:`observe` applies an :class:`~insights.interpret.Observation` to a :class:`~insights.profile.Profile`
and returns the analytics facts it gives rise to; the same code serves the live consumer, the
benchmark's simulated shoppers and the tests. The stage is recomputed after every observation
(:func:`insights.handoff_rule.derive_stage`), so it never disagrees with the counters.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from core.log_masking import mask_personal_data
from insights.catalogue import Catalogue, ProductInfo
from insights.handoff_rule import FRUSTRATION_FOR_HELP, derive_stage
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
    frustration_signals,
    goal_for,
    intent_kind,
)
from insights.interpret import Observation
from insights.profile import DECAY, MAX_LIST, MAX_PRODUCTS, SIGNAL_WEIGHTS, ProductRef, Profile
from nlu_models.frustration_score import Frustration
from shopdb.models import FactKind, ProfileScope


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


def observe(profile: Profile, obs: Observation, catalogue: Optional[Catalogue] = None) -> List[FactRow]:
    """Apply one observation to ``profile``; returns the analytics facts it gives rise to."""
    facts: List[FactRow] = []
    profile.first_seen = profile.first_seen or obs.at
    profile.last_seen = max(profile.last_seen or obs.at, obs.at)
    if obs.timestamp is not None:
        profile.last_ts = max(profile.last_ts or obs.timestamp, obs.timestamp)
    if obs.customer_id and profile.scope == ProfileScope.SESSION:
        profile.customer_id = obs.customer_id
    handler = _HANDLERS.get(obs.type)
    if handler is not None:
        handler(profile, obs, catalogue, facts)
    profile.stage = derive_stage(profile)
    return facts


def _frustration(frustration: Frustration, intent: str) -> Dict[str, Any]:
    """A turn's NLU frustration score as analytics keep it; ``intent``: what the shopper asked for
    (before the NLU turned a frustrated message into ``express_frustration``)."""
    return {
        "score": frustration.score,
        "frustrated": frustration.frustrated,
        "signals": [mask_personal_data(signal) for signal in frustration.signals],
        "intent": intent,
    }


def _on_session(profile: Profile, obs: Observation, _c: Optional[Catalogue], facts: List[FactRow]) -> None:
    profile.reset_conversation()
    facts.append(FactRow(FactKind.SESSION, "session_started"))


def _on_restart(profile: Profile, obs: Observation, c: Optional[Catalogue], facts: List[FactRow]) -> None:
    _on_session(profile, obs, c, facts)


def _on_user(profile: Profile, obs: Observation, catalogue: Optional[Catalogue], facts: List[FactRow]) -> None:
    intent = obs.intent or "unknown"
    kind = intent_kind(intent)
    profile.turns += 1
    profile.total_turns += 1
    profile.turn_recommended = []
    profile.intents[intent] = profile.intents.get(intent, 0) + 1
    profile.last_intent, profile.last_confidence, profile.last_kind = intent, obs.confidence, kind
    masked = mask_personal_data(obs.text)[:300] if obs.text else None
    entity_types = sorted({e.type for e in obs.entities})
    turn: Dict[str, Any] = {"kind": kind.value, "entities": entity_types}
    if obs.frustration is not None:
        turn["frustration"] = _frustration(obs.frustration, obs.frustrated_intent or intent)
    if obs.model_id:
        turn["model_id"] = obs.model_id  # which model answered: A/B tests compare (insights/experiments.py)
    facts.append(FactRow(FactKind.TURN, intent, obs.confidence, data=turn))

    # Frustration: words, shouting, repeating the previous message; complaints count too.
    text_hash = _hash(obs.text) if obs.text else None
    repeated = obs.text if text_hash and text_hash == profile.last_text_hash else None
    frustration = frustration_signals(obs.text, repeated)
    if kind is IntentKind.COMPLAINT:
        frustration += 1
    profile.frustration_count += frustration
    profile.last_text_hash = text_hash
    if kind in (IntentKind.COMPLAINT, IntentKind.HANDOFF) or frustration >= FRUSTRATION_FOR_HELP:
        profile.help_signal_turn = profile.turns

    profile.pending_fallback = False  # a new turn; the streak ends once an action answers it (_on_action)
    if kind is IntentKind.FALLBACK or intent in FALLBACK_INTENTS:
        _fallback(profile, intent, masked, facts)
    else:
        goal = goal_for(intent, kind)
        if goal:
            profile.goal = _goal_with_details(profile, goal, obs)
    profile.pending_text = masked

    for entity in obs.entities:
        if entity.value is None:
            continue
        name = entity.type.lower()
        if name in ATTRIBUTE_ENTITIES:
            _bump_attribute(profile, ATTRIBUTE_ENTITIES[name], entity.value, SIGNAL_WEIGHTS["mentioned"])
        elif name in CATEGORY_ENTITIES:
            _bump_category(profile, entity.value, SIGNAL_WEIGHTS["mentioned"])
        elif name in PRICE_ENTITIES:
            amount = _amount(entity.value)
            if amount is not None:
                profile.budget_max = amount
    if kind is IntentKind.BROWSE and masked:
        profile.searches = (profile.searches + [masked])[-5:]


def _fallback(profile: Profile, name: str, masked: Optional[str], facts: List[FactRow]) -> None:
    """Count one misunderstood turn once, whether the NLU or a fallback action says so."""
    if profile.pending_fallback:
        return
    profile.pending_fallback = True
    profile.fallback_count += 1
    profile.total_fallbacks += 1
    profile.consecutive_fallbacks += 1
    if masked:
        profile.unanswered = (profile.unanswered + [masked])[-3:]
    facts.append(FactRow(FactKind.FALLBACK, name, text=masked))


def _on_action(profile: Profile, obs: Observation, _c: Optional[Catalogue], facts: List[FactRow]) -> None:
    name = obs.action or ""
    if not name or name in ("action_listen", "action_session_start"):
        return
    facts.append(FactRow(FactKind.ACTION, name))
    if name in FALLBACK_ACTIONS:
        _fallback(profile, name, profile.pending_text, facts)
    elif name in HANDOFF_ACTIONS:
        profile.handoffs += 1
        profile.help_signal_turn = profile.turns
        facts.append(FactRow(FactKind.HANDOFF, name))
    elif name in HELP_OFFER_ACTIONS:
        profile.help_offered_turn = profile.turns
    if name not in FALLBACK_ACTIONS and not profile.pending_fallback:
        profile.consecutive_fallbacks = 0  # the bot answered the turn


def _on_pause(profile: Profile, obs: Observation, _c: Optional[Catalogue], facts: List[FactRow]) -> None:
    if not profile.paused:
        profile.paused = True
        facts.append(FactRow(FactKind.HANDOFF, "pause"))


def _on_resume(profile: Profile, obs: Observation, _c: Optional[Catalogue], facts: List[FactRow]) -> None:
    if profile.paused:
        profile.paused = False
        profile.help_signal_turn = None
        profile.consecutive_fallbacks = 0
        facts.append(FactRow(FactKind.RESUME, "resume"))


def _on_bot(profile: Profile, obs: Observation, catalogue: Optional[Catalogue], facts: List[FactRow]) -> None:
    _recommended(profile, obs.product_ids, catalogue, facts)


def _on_slot(profile: Profile, obs: Observation, catalogue: Optional[Catalogue], facts: List[FactRow]) -> None:
    if obs.slot and obs.slot[0] in HELP_OFFER_SLOTS and obs.slot[1]:
        profile.help_offered_turn = profile.turns
    _recommended(profile, obs.product_ids, catalogue, facts)


def _recommended(profile: Profile, ids: List[str], catalogue: Optional[Catalogue], facts: List[FactRow]) -> None:
    # A carousel and the slot that stores it name the same products: count them once per turn.
    new = [i for i in dict.fromkeys(ids) if i not in profile.turn_recommended]
    if not new:
        return
    profile.turn_recommended += new
    profile.recommended = ([i for i in profile.recommended if i not in new] + new)[-MAX_LIST:]
    facts.append(FactRow(FactKind.RECOMMENDATION, "shown", data={"product_ids": new}))


def _on_site(profile: Profile, obs: Observation, catalogue: Optional[Catalogue], facts: List[FactRow]) -> None:
    site = obs.site
    kind = site.get("type", "")
    infos = _products(profile, obs, catalogue)
    data: Dict[str, Any] = {
        k: site[k] for k in ("product_id", "product_ids", "category", "price", "quantity", "page") if k in site
    }
    if infos and "category" not in data:
        data["category"] = infos[0].category
    text = None
    if kind == "product_viewed":
        for info in infos:
            _product_signal(profile, info, "viewed")
            profile.viewed = _push(profile.viewed, info.id)
            if info.category:
                profile.session_views = (profile.session_views + [f"{info.category}|{info.id}"])[-MAX_LIST:]
    elif kind == "added_to_cart":
        for info in infos:
            _product_signal(profile, info, "carted")
            profile.carted = _push(profile.carted, info.id)
        profile.session_carted = True
        profile.goal = _product_goal(profile, "buy", infos)
    elif kind == "purchased":
        for info in infos:
            _product_signal(profile, info, "purchased")
            profile.purchased = _push(profile.purchased, info.id, MAX_LIST * 5)
        profile.carted = [p for p in profile.carted if p not in {i.id for i in infos}]
        profile.session_purchased = True
        profile.goal = "follow up on a purchase"
    elif kind == "searched":
        text = site.get("query")
        if text:
            profile.searches = (profile.searches + [text])[-5:]
        if site.get("category"):
            _bump_category(profile, site["category"], SIGNAL_WEIGHTS["searched"])
        profile.goal = f"find {text}" if text else profile.goal
    elif kind == "page_viewed" and site.get("category"):
        _bump_category(profile, site["category"], SIGNAL_WEIGHTS["viewed"] * 0.5)
    facts.append(FactRow(FactKind.SITE, kind, text=text, data=data))


# ------------------------------------------------------------------ helpers
def _products(profile: Profile, obs: Observation, catalogue: Optional[Catalogue]) -> List[ProductInfo]:
    infos: List[ProductInfo] = []
    for ref in obs.product_ids:
        info = catalogue.lookup(ref) if catalogue is not None else None
        if info is None:  # unknown to this database: use what the event itself says
            info = ProductInfo.from_mapping({**obs.site, "product_id": ref})
        infos.append(info)
    return infos


def _product_signal(profile: Profile, info: ProductInfo, signal: str) -> None:
    weight = SIGNAL_WEIGHTS[signal]
    if info.category:
        _bump_category(profile, info.category, weight)
    for name, values in info.attribute_values().items():
        if len(values) != 1:
            continue  # "available in sizes 36-46" says nothing about the shopper's size
        _bump_attribute(profile, name, values[0], weight)
    if info.price is not None:
        profile.prices = (profile.prices + [info.price])[-MAX_LIST:]
        if info.category:
            seen = profile.category_prices.get(info.category, [])
            profile.category_prices[info.category] = (seen + [info.price])[-10:]
            if len(profile.category_prices) > MAX_LIST:
                profile.category_prices.pop(next(iter(profile.category_prices)))
    profile.products[info.id] = ProductRef(
        id=info.id, title=info.title, category=info.category, brand=info.brand, price=info.price
    )
    if len(profile.products) > MAX_PRODUCTS:
        for key in list(profile.products)[: len(profile.products) - MAX_PRODUCTS]:
            del profile.products[key]


def _bump_category(profile: Profile, category: str, weight: float) -> None:
    profile.categories = _bump(profile.categories, category.strip(), weight)


def _bump_attribute(profile: Profile, name: str, value: str, weight: float) -> None:
    profile.attributes[name] = _bump(profile.attributes.get(name, {}), value.strip().lower(), weight)


def _goal_with_details(profile: Profile, goal: str, obs: Observation) -> str:
    details = [e.value for e in obs.entities if e.value and e.type.lower() in (*ATTRIBUTE_ENTITIES, *CATEGORY_ENTITIES)]
    return f"{goal}: {', '.join(details[:4])}" if details else goal


def _product_goal(profile: Profile, verb: str, infos: List[ProductInfo]) -> str:
    titles = [i.title for i in infos if i.title]
    return f"{verb} {titles[0]}" if titles else verb


_HANDLERS: Dict[str, Callable[[Profile, Observation, Optional[Catalogue], List[FactRow]], None]] = {
    "session": _on_session,
    "restart": _on_restart,
    "user": _on_user,
    "action": _on_action,
    "pause": _on_pause,
    "resume": _on_resume,
    "bot": _on_bot,
    "slot": _on_slot,
    "site": _on_site,
}


__all__ = ["FactRow", "observe"]
