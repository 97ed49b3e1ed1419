"""Profiles in the shop database: load and store, blend a session with its customer, and
:func:`get_profile`, the one call the actions and the hand-off make."""

from __future__ import annotations

import json
import logging
from typing import Any, Iterable, Mapping, Optional

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from core.clock import utcnow
from insights.catalogue import Catalogue
from insights.interpret import interpret
from insights.profile import MAX_LIST, Profile
from insights.profile_updates import observe
from shopdb.models import ProfileScope, ShopperProfile

logger = logging.getLogger(__name__)


def load(session, scope: str, subject: str) -> Optional[Profile]:
    row = session.execute(
        select(ShopperProfile).where(ShopperProfile.scope == scope, ShopperProfile.subject == subject)
    ).scalar_one_or_none()
    return Profile.parse_obj(row.data) if row is not None else None


def store(session, profile: Profile) -> None:
    row = session.execute(
        select(ShopperProfile).where(ShopperProfile.scope == profile.scope, ShopperProfile.subject == profile.subject)
    ).scalar_one_or_none()
    now = utcnow()
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
            if timestamp is None or (
                session_profile.last_ts is not None and float(timestamp) <= session_profile.last_ts
            ):
                continue
            obs = interpret({**raw, "sender_id": sender_id})
            if obs is not None:
                observe(session_profile, obs, catalogue)
    profile = merge(session_profile, customer_profile)
    if not profile.subject:
        profile.subject = sender_id or customer_id or ""
        profile.customer_id = customer_id
    return profile


__all__ = ["absorb", "get_profile", "load", "merge", "store"]
