"""Hand the conversation to a human: open a ticket (:mod:`handoff.tickets`), tell the shopper, pause the bot.

``ConversationPaused`` stops Rasa from predicting; the web channel then routes the shopper's
messages to the agent console until an agent hands back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from handoff.tickets import TooManyTickets, client_of_events, create_ticket

logger = logging.getLogger(__name__)


class ActionHandoffToHuman(Action):
    """Queue the conversation for a human agent and pause the bot."""

    def name(self) -> Text:
        return "action_handoff_to_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        events = list(tracker.events)
        try:
            ticket, position, is_new = await asyncio.to_thread(
                create_ticket, tracker.sender_id, events, tracker.get_slot("handoff_reason"), client_of_events(events)
            )
        except TooManyTickets:
            logger.warning("hand-off refused: too many tickets from the client of this conversation")
            dispatcher.utter_message(response="utter_handoff_limit")
            return []
        except Exception as error:  # database down or locked: say so, keep the bot answering
            logger.error("could not store the hand-off ticket (%s)", type(error).__name__)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        logger.info("hand-off ticket %s queued at position %s", ticket.id, position)
        if is_new:
            dispatcher.utter_message(response="utter_handoff_queued", position=max(position, 1))
        else:
            dispatcher.utter_message(response="utter_handoff_already_queued")
        return [ConversationPaused()]
