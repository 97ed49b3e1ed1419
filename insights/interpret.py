"""Turn one broker event (Rasa's own or a site event) into an :class:`Observation`.

Why a separate step: the broker carries Rasa's event dicts verbatim (text,
parse data, metadata). Everything after this point sees only what the
profiles need, with personal entity values already dropped; the raw text stays
in memory for frustration cues and is masked before anything keeps it. The NLU's
frustration score (``nlu_models.frustration``) comes along with the shopper's own
intent, so analytics can tell which requests frustrate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from insights.intent_meanings import PERSONAL_ENTITIES, RECOMMENDATION_SLOTS
from nlu_models.frustration_score import ORIGINAL_INTENT_KEY, Frustration, frustration_in

SITE_EVENT = "shop_site_event"  # the ``event`` name of site events on the stream


@dataclass
class Entity:
    type: str
    value: Optional[str]  # None for personal entities (the type alone is kept)


@dataclass
class Observation:
    """What one broker event tells about a shopper."""

    type: str  # user | action | bot | slot | pause | resume | session | restart | site | other
    sender_id: str
    at: dt.datetime
    key: str  # stable hash of the raw event, to drop duplicates (at-least-once brokers)
    timestamp: Optional[float] = None  # the event's own epoch timestamp
    customer_id: Optional[str] = None
    intent: Optional[str] = None
    confidence: Optional[float] = None
    entities: List[Entity] = field(default_factory=list)
    text: str = ""  # raw user text: used in memory only, masked before storage
    action: Optional[str] = None
    product_ids: List[str] = field(default_factory=list)  # recommendations shown / products of a site event
    site: Dict[str, Any] = field(default_factory=dict)  # validated site event fields
    slot: Optional[Tuple[str, Any]] = None  # (name, value) of a SlotSet
    frustration: Optional[Frustration] = None  # the NLU's score of a user message, when it has one
    frustrated_intent: Optional[str] = None  # the intent before the NLU turned it into express_frustration
    model_id: Optional[str] = None  # the model that read a user message (Rasa stamps it; A/B tests compare)


def event_key(raw: Mapping[str, Any]) -> str:
    blob = json.dumps(raw, sort_keys=True, default=str).encode()
    return hashlib.blake2b(blob, digest_size=10).hexdigest()


def _timestamp(raw: Mapping[str, Any]) -> dt.datetime:
    ts: Any = raw.get("timestamp")  # any JSON value, or missing: float() sorts out the bad ones
    try:
        return dt.datetime.utcfromtimestamp(float(ts))
    except (TypeError, ValueError, OverflowError, OSError):
        return dt.datetime.utcnow()


def _float(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def customer_from_metadata(metadata: Any) -> Optional[str]:
    """The verified customer id the widget channel puts into message metadata."""
    if not isinstance(metadata, Mapping):
        return None
    value = metadata.get("customer_id")
    if value is None and isinstance(metadata.get("customer"), Mapping):
        value = metadata["customer"].get("id")
    return str(value)[:64] if value not in (None, "") else None


def _entities(parse_data: Mapping[str, Any]) -> List[Entity]:
    out: List[Entity] = []
    for item in parse_data.get("entities") or []:
        if not isinstance(item, Mapping) or not item.get("entity"):
            continue
        kind = str(item["entity"])
        value = item.get("value")
        if kind.lower() in PERSONAL_ENTITIES or value is None:
            out.append(Entity(kind, None))
        else:
            out.append(Entity(kind, str(value)[:100]))
    return out


def product_ids_in(payload: Any, limit: int = 50) -> List[str]:
    """Product ids named anywhere in a bot message's custom payload, carousel or buttons.

    Understands ``actions.cards.product_carousel`` (``element.product.id`` and the
    ``/add_to_cart{"product_id": ...}`` button) and plain ``{"products": [{"id": ...}]}``.
    """
    found: List[str] = []

    def walk(node: Any, in_products: bool) -> None:
        if len(found) >= limit:
            return
        if isinstance(node, Mapping):
            if node.get("product_id") not in (None, ""):
                found.append(str(node["product_id"]))
            elif in_products and node.get("id") not in (None, ""):
                found.append(str(node["id"]))
            elif in_products and node.get("sku") not in (None, ""):
                found.append(str(node["sku"]))
            for key, value in node.items():
                if isinstance(value, (Mapping, list)):
                    walk(value, key in ("product", "products", "items", "results"))
                elif key == "payload" and isinstance(value, str) and "{" in value:
                    walk(_payload_entities(value), False)
        elif isinstance(node, list):
            for item in node:
                walk(item, in_products)

    walk(payload, False)
    return list(dict.fromkeys(found))


def _payload_entities(payload: str) -> Any:
    """Entities of a button payload like ``/view_product{"product_id": "12"}``."""
    try:
        return json.loads(payload[payload.index("{") :])
    except (ValueError, json.JSONDecodeError):
        return None


def interpret(raw: Mapping[str, Any]) -> Optional[Observation]:
    """The observation in one broker event, or None when it has no sender."""
    sender = raw.get("sender_id")
    if not sender:
        return None
    kind = raw.get("event")
    obs = Observation(
        type="other",
        sender_id=str(sender)[:255],
        at=_timestamp(raw),
        key=event_key(raw),
        timestamp=_float(raw.get("timestamp")),
    )
    if kind == "user":
        parse = raw.get("parse_data") or {}
        intent = parse.get("intent") or {}
        obs.type = "user"
        obs.text = str(raw.get("text") or "")
        obs.intent = intent.get("name")
        confidence = intent.get("confidence")
        obs.confidence = float(confidence) if confidence is not None else None
        obs.entities = _entities(parse)
        obs.customer_id = customer_from_metadata(raw.get("metadata"))
        obs.frustration = frustration_in(parse)
        original = parse.get(ORIGINAL_INTENT_KEY)
        obs.frustrated_intent = str(original)[:100] if isinstance(original, str) and original else None
        metadata = raw.get("metadata")
        model_id = metadata.get("model_id") if isinstance(metadata, dict) else None
        obs.model_id = str(model_id)[:64] if isinstance(model_id, str) and model_id else None
    elif kind == "action":
        obs.type, obs.action = "action", raw.get("name")
    elif kind == "bot":
        obs.type = "bot"
        obs.product_ids = product_ids_in(raw.get("data") or {})
    elif kind == "slot":
        obs.type = "slot"
        obs.slot = (str(raw.get("name") or ""), raw.get("value"))
        if raw.get("name") in RECOMMENDATION_SLOTS and isinstance(raw.get("value"), list):
            obs.product_ids = [str(v) for v in raw["value"] if v not in (None, "")][:50]
    elif kind == "pause":
        obs.type = "pause"
    elif kind == "resume":
        obs.type = "resume"
    elif kind == "session_started":
        obs.type = "session"
    elif kind == "restart":
        obs.type = "restart"
    elif kind == SITE_EVENT:
        from insights.site_events import SiteEvent  # validated again: the stream may hold anything

        try:
            site = SiteEvent.parse_obj(raw)
        except ValueError:
            return None
        obs.type = "site"
        obs.customer_id = site.customer_id
        obs.site = site.dict(exclude_none=True)
        obs.product_ids = site.all_product_ids()
        obs.text = site.query or ""
    return obs
