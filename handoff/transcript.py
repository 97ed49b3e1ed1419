"""Reading a conversation out of Rasa events: transcript, intents, summary, page context.

The functions take event dicts (``Event.as_dict()`` in the Rasa server,
``tracker.events`` in the action server) so the hand-off action and the
channel's history endpoint produce the same messages from the same events.
A shopper line carries the NLU's frustration score when its parse data has one
(``nlu_models.frustration``), so the agent sees how the shopper felt, line by line.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from nlu_models.frustration_score import Frustration, frustration_in

MAX_TRANSCRIPT_MESSAGES = 300
# Intents that say nothing about what the shopper wants.
SMALL_TALK_INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "affirm",
        "deny",
        "thank",
        "thanks",
        "thankyou",
        "bot_challenge",
        "request_human",
        "contact_human_agent",
        "human_handoff",
        "nlu_fallback",
        "out_of_scope",
        "chitchat",
        "mood_great",
        "mood_unhappy",
    }
)
_DATA_KEYS = ("quick_replies", "buttons", "attachment", "image", "custom", "elements")


def _iso(timestamp: Any) -> Optional[str]:
    if not isinstance(timestamp, (int, float)):
        return None
    return dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc).isoformat()


def _intent(event: Dict[str, Any]) -> Dict[str, Any]:
    intent = (event.get("parse_data") or {}).get("intent") or {}
    return intent if isinstance(intent, dict) else {}


def _bot_payload(event: Dict[str, Any]) -> Dict[str, Any]:
    """A BotUttered event in the shape the socket.io channel emits live."""
    data = event.get("data") or {}
    payload: Dict[str, Any] = {}
    buttons = data.get("quick_replies") or data.get("buttons")
    if buttons:
        payload["quick_replies"] = [
            {"content_type": "text", "title": b.get("title"), "payload": b.get("payload")}
            for b in buttons
            if isinstance(b, dict)
        ]
    if data.get("attachment"):
        payload["attachment"] = data["attachment"]
    elif data.get("elements"):
        payload["attachment"] = {
            "type": "template",
            "payload": {"template_type": "generic", "elements": data["elements"]},
        }
    if data.get("image"):
        payload["image"] = data["image"]
    if data.get("custom"):
        payload["custom"] = data["custom"]
    return payload


def _frustration(frustration: Frustration) -> Dict[str, Any]:
    return {"score": frustration.score, "frustrated": frustration.frustrated, "signals": list(frustration.signals)}


def conversation_messages(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Every user, bot and agent line, oldest first, with hand-off markers.

    Roles: ``user``, ``bot``, ``agent`` (a BotUttered with ``metadata.agent``),
    ``system`` (notices such as "an agent joined") and ``event`` (``pause`` /
    ``resume`` markers, so a restored widget knows the hand-off state).
    """
    messages: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        at = _iso(event.get("timestamp"))
        metadata = event.get("metadata") or {}
        if kind == "user":
            text = event.get("text")
            if not text:
                continue
            line: Dict[str, Any] = {
                "role": "user",
                "text": metadata.get("display_text") or text,
                "at": at,
                "intent": _intent(event).get("name"),
                "to_agent": bool(metadata.get("handoff_ticket")),
            }
            if metadata.get("photo"):  # a photo the shopper sent (shopdb/photos.py): agents see it
                line["photo"] = metadata["photo"]
            frustration = frustration_in(event.get("parse_data"))
            if frustration is not None:
                line["frustration"] = _frustration(frustration)
            messages.append(line)
        elif kind == "bot":
            role = "agent" if metadata.get("agent") else "system" if metadata.get("system") else "bot"
            message: Dict[str, Any] = {"role": role, "text": event.get("text") or "", "at": at}
            message.update(_bot_payload(event))
            if metadata.get("agent"):
                message["agent"] = metadata["agent"]
            if message["text"] or len(message) > 3:
                messages.append(message)
        elif kind in ("pause", "resume"):
            messages.append({"role": "event", "text": kind, "at": at})
    return messages[-MAX_TRANSCRIPT_MESSAGES:]


def peak_frustration(messages: Iterable[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The highest frustration of the shopper's lines in a transcript; None when none was scored."""
    scores = [m["frustration"] for m in messages if m.get("role") == "user" and isinstance(m.get("frustration"), dict)]
    if not scores:
        return None
    peak = max(scores, key=lambda f: f["score"])
    return {"score": peak["score"], "frustrated": peak["frustrated"]}


def detected_intents(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Intents of the shopper's messages: name, how often, highest confidence; first seen first."""
    found: "OrderedDict[str, Dict[str, Any]]" = OrderedDict()
    for event in events:
        if event.get("event") != "user":
            continue
        intent = _intent(event)
        name = intent.get("name")
        if not name:
            continue
        confidence = float(intent.get("confidence") or 0.0)
        entry = found.setdefault(name, {"name": name, "count": 0, "confidence": 0.0})
        entry["count"] += 1
        entry["confidence"] = round(max(entry["confidence"], confidence), 3)
    return list(found.values())


def page_context(events: Iterable[Dict[str, Any]]) -> Dict[str, Any]:
    """The latest page (product viewed, cart) and verified customer id sent with the shopper's messages."""
    context: Dict[str, Any] = {}
    for event in events:
        if event.get("event") != "user":
            continue
        metadata = event.get("metadata") or {}
        if isinstance(metadata.get("page"), dict):
            context["page"] = metadata["page"]
        if metadata.get("customer_id"):
            context["customer_id"] = metadata["customer_id"]
    return context


def _humanize(intent_name: str) -> str:
    return intent_name.replace("_", " ").replace("/", ": ").strip()


def _entities(events: Iterable[Dict[str, Any]]) -> "OrderedDict[str, str]":
    values: "OrderedDict[str, str]" = OrderedDict()
    for event in events:
        if event.get("event") != "user":
            continue
        for entity in (event.get("parse_data") or {}).get("entities") or []:
            if isinstance(entity, dict) and entity.get("entity") and entity.get("value") is not None:
                values[str(entity["entity"])] = str(entity["value"])
    return values


def _quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def summarize(events: List[Dict[str, Any]]) -> str:
    """A few lines telling the agent what the shopper wanted, before they read the transcript.

    Extractive on purpose: the topical intents, the entities (order numbers,
    products...), the page being viewed and the shopper's own words.
    """
    user_texts = [text for _, text in _user_events_with_text(events)]
    topics = [i["name"] for i in detected_intents(events) if i["name"] not in SMALL_TALK_INTENTS]
    lines: List[str] = []
    if topics:
        lines.append("Wants help with: " + ", ".join(_humanize(t) for t in topics) + ".")
    entities = _entities(events)
    if entities:
        lines.append("Details: " + ", ".join(f"{_humanize(k)} {v}" for k, v in entities.items()) + ".")
    page = page_context(events).get("page") or {}
    viewing = page.get("title") or (f"product {page['product_id']}" if page.get("product_id") else None)
    if viewing:
        lines.append(f"Viewing: {viewing}.")
    cart = page.get("cart")
    if isinstance(cart, list) and cart:
        lines.append(f"Cart: {sum(int(i.get('quantity', 1) or 1) for i in cart if isinstance(i, dict))} item(s).")
    substantive = [t for e, t in _user_events_with_text(events) if _intent(e).get("name") not in SMALL_TALK_INTENTS]
    if substantive:
        lines.append("First asked: " + _quote(substantive[0]))
    if user_texts:
        lines.append(f"Asked for a person after {len(user_texts)} message(s); last said: {_quote(user_texts[-1])}")
    else:
        lines.append("Asked for a person before writing anything.")
    return "\n".join(lines)


def _user_events_with_text(events: Iterable[Dict[str, Any]]) -> Iterator[Tuple[Dict[str, Any], str]]:
    for event in events:
        if event.get("event") == "user" and event.get("text"):
            yield event, event["text"]


__all__ = ["conversation_messages", "detected_intents", "page_context", "peak_frustration", "summarize"]
