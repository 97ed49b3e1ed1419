"""Typed ``/intent{entities}`` messages: accepted only as payloads the bot itself offered.

Rasa reads a message that starts with ``/`` as an intent with entities and skips NLU.
From a public channel that is a forgery tool: ``/affirm{"order_number": ..., "email": ...}``
sets slots no form ever validated. So a message starting with ``/`` is accepted as a
payload only when the bot offered exactly that payload in a button, quick reply or card of
this conversation's current session (what a widget sends when the shopper clicks); or it names
an intent and nothing else (``/request_human``, ``/restart``): an intent alone says no more than
the words for it would, it sets no slot. Anything else is read as the text it is, without the
slash, so NLU and the forms' validation see it like any typed message.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator, Optional, Set

BARE_INTENT = re.compile(r"^/[A-Za-z_][A-Za-z0-9_]{0,63}$")  # "/request_human": an intent, no entities
MAX_BOT_MESSAGES = 50  # recent bot messages whose buttons count as offered


def _payloads_of(data: Any) -> Iterator[str]:
    if not isinstance(data, dict):
        return
    for key in ("buttons", "quick_replies"):
        for button in data.get(key) or []:
            if isinstance(button, dict) and isinstance(button.get("payload"), str):
                yield button["payload"].strip()
    elements = data.get("elements")
    attachment = data.get("attachment")
    if isinstance(attachment, dict) and isinstance(attachment.get("payload"), dict):
        elements = attachment["payload"].get("elements") or elements
    for element in elements or []:
        if isinstance(element, dict):
            for button in element.get("buttons") or []:
                if isinstance(button, dict) and isinstance(button.get("payload"), str):
                    yield button["payload"].strip()


def offered_payloads(events: Iterable[Any]) -> Set[str]:
    """Payloads of the recent bot messages of the current session (Rasa events, as objects or dicts)."""
    offered: Set[str] = set()
    bot_messages = 0
    for event in reversed(list(events)):
        kind = event.get("event") if isinstance(event, dict) else getattr(event, "type_name", None)
        if kind == "session_started":
            break
        if kind != "bot":
            continue
        data = event.get("data") if isinstance(event, dict) else getattr(event, "data", None)
        offered.update(_payloads_of(data))
        bot_messages += 1
        if bot_messages >= MAX_BOT_MESSAGES:
            break
    return offered


def is_payload(text: str) -> bool:
    return text.lstrip().startswith("/")


def accept_payload(text: str, offered: Optional[Set[str]]) -> str:
    """``text`` itself when it is ordinary text or an offered payload; else the text without its slashes."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    if BARE_INTENT.match(stripped) or (offered is not None and stripped in offered):
        return stripped
    return stripped.lstrip("/").strip() or "?"


async def guard_message(agent: Any, sender_id: str, text: str) -> str:
    """:func:`accept_payload` against the conversation's stored events (read from Rasa's tracker store)."""
    if not is_payload(text):
        return text
    offered: Set[str] = set()
    if agent is not None and getattr(agent, "tracker_store", None) is not None:
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is not None:
            offered = offered_payloads(tracker.events)
    return accept_payload(text, offered)


__all__ = ["accept_payload", "guard_message", "is_payload", "offered_payloads"]
