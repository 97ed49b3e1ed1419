"""What a chat client can show, and the shape of the lines that are not the bot's (agents, notices).

Rasa's stock widgets (rasa-webchat, Chatwoot's, a shop's own) render only the standard message
shapes: a message with ``text`` and nothing else is text; ``text`` with ``buttons`` or
``quick_replies`` are buttons; a generic-template ``attachment`` is a carousel. A text message
with any other key (``agent``, ``system``, even ``metadata``) falls outside them and is dropped
silently: the shopper never sees the agent. So each client gets the shape it can show:

* a client that announces the ``speakers`` capability (our widget, see ``widget.js``) gets
  ``{"text", "metadata": {"role", "agent"}}`` and labels the line itself;
* every other client gets plain ``{"text"}``, the agent's name written into the text with the
  domain's ``utter_agent_line`` response.

A client announces what it can show in ``session_request`` and in each message's metadata
(``capabilities``, see :mod:`core.capabilities`).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

from core.capabilities import SPEAKERS

AGENT_LINE = "utter_agent_line"

# Socket.io rooms of a conversation: every socket of the session joins the session's own room (bot
# messages, typing, hand-off state) and one of these two, by what it can show.
_LABELLED_ROOM = "{session}#speakers"
_PLAIN_ROOM = "{session}#plain"


def speaker_room(session_id: str, capabilities: Tuple[str, ...]) -> str:
    """The room of the sockets of ``session_id`` that show lines the same way as this client."""
    template = _LABELLED_ROOM if SPEAKERS in capabilities else _PLAIN_ROOM
    return template.format(session=session_id)


def line_payloads(
    text: str, *, agent_name: Optional[str], agent_line: Callable[..., str]
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(labelled, plain) ``bot_uttered`` payloads of an agent's line (``agent_name``) or a notice (None).

    ``agent_line(agent_name=..., line=...)`` writes the agent's name into the plain text.
    """
    if agent_name is None:
        return {"text": text, "metadata": {"role": "system"}}, {"text": text}
    labelled = {"text": text, "metadata": {"role": "agent", "agent": {"name": agent_name}}}
    return labelled, {"text": agent_line(agent_name=agent_name, line=text)}


def rooms_of(session_id: str) -> Tuple[str, str]:
    """(labelled room, plain room) of a conversation."""
    return _LABELLED_ROOM.format(session=session_id), _PLAIN_ROOM.format(session=session_id)


__all__ = [
    "AGENT_LINE",
    "line_payloads",
    "rooms_of",
    "speaker_room",
]
