"""No message without a reply: the last line of defence after Rasa's prediction loop.

Rasa 3.6 may end a turn without a word: the policies predict ``action_listen`` straight after the
message (no rule or story covers the state and TED is confident anyway), a custom action returns
no message, or the conversation is paused for a person and the message came through a channel
that does not route it to the agents (Rasa's own REST channel). The shopper then sees nothing.

:func:`install` wraps ``MessageProcessor._run_prediction_loop``: when the loop ends and nothing was
said since the shopper's message, the domain's ``utter_no_reply`` (or ``utter_handoff_in_progress``
for a paused conversation) is sent and logged like any bot message, marked ``shop_no_reply`` in its
metadata and in a warning naming the intent and the last action, so every use is a bug report for
the dialogue data, never a silent one. Rasa offers no hook after the prediction loop.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

logger = logging.getLogger(__name__)

NO_REPLY_RESPONSE = "utter_no_reply"
PAUSED_RESPONSE = "utter_handoff_in_progress"
NO_REPLY_MARK = "shop_no_reply"  # in BotUttered metadata: tests and analytics can count the net's catches

_installed = False


def answered_since_message(tracker: Any) -> bool:
    """Whether the bot said anything after the shopper's latest message (True when there is none)."""
    from rasa.shared.core.events import BotUttered, UserUttered

    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            return True
        if isinstance(event, UserUttered):
            return False
    return True


def _last_action(tracker: Any) -> Optional[str]:
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered

    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return None
        if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            return event.action_name
    return None


def install() -> bool:
    """Wrap Rasa's prediction loop (idempotent); True the first time."""
    global _installed
    if _installed:
        return False
    from rasa.core.actions.action import create_bot_utterance
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted

    original = MessageProcessor._run_prediction_loop

    async def run_prediction_loop(self: Any, output_channel: Any, tracker: Any) -> None:
        await original(self, output_channel, tracker)
        if answered_since_message(tracker):
            return
        response = PAUSED_RESPONSE if tracker.is_paused() else NO_REPLY_RESPONSE
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        logger.warning(
            "no reply to a message (intent %s, last action %s): said %s", intent, _last_action(tracker), response
        )
        message = await self.nlg.generate(response, tracker, output_channel.name())
        if not message:  # a domain without the response: still never silent
            message = {"text": "Sorry, I couldn't answer that. Could you say it another way?"}
        await output_channel.send_response(tracker.sender_id, message)
        utterance = create_bot_utterance(dict(message))
        utterance.metadata = {**(utterance.metadata or {}), NO_REPLY_MARK: True, "utter_action": response}
        tracker.update(utterance)
        tracker.update(ActionExecuted(response, policy="no_silence"))
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME, policy="no_silence"))

    MessageProcessor._run_prediction_loop = run_prediction_loop
    _installed = True
    return True


__all__ = ["NO_REPLY_MARK", "NO_REPLY_RESPONSE", "PAUSED_RESPONSE", "answered_since_message", "install"]
