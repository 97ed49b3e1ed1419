"""Complaints: recorded for the support team with the shopper's own words, and a person offered.

A complaint is a ticket of the hand-off store (:func:`handoff.tickets.record_complaint`) that agents
see in the console while the shopper keeps talking to the bot: unlike a hand-off it pauses
nothing. A complaint chosen with a button has no words yet: ``complaint_form`` asks for them and
the next message, whatever it says, is the complaint (``bot/data/rules/complaints.yml``).
"""

from __future__ import annotations

import logging
from typing import List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.account import signed_in_customer
from actions.common import ShopAction, latest_text
from actions.orders import find_order_number, has_proof
from core.log_masking import conversation_ref
from handoff.store import MAX_MESSAGE_CHARS
from handoff.tickets import TooManyTickets, client_of_events, record_complaint

logger = logging.getLogger(__name__)

TEXT_SLOT = "complaint_text"  # filled by complaint_form from the message after the question


def complaint_order(tracker: Tracker, words: str) -> Tuple[Optional[str], bool]:
    """The order the complaint is about and whether this conversation proved it is the shopper's.

    A number in the words wins (unverified unless it is the verified one); else the order of the conversation.
    """
    verified_number = tracker.get_slot("order_number") if has_proof(tracker) else None
    named = find_order_number(words) or tracker.get_slot("order_number")
    return named, bool(named) and named == verified_number


class ActionRecordComplaint(ShopAction):
    def name(self) -> Text:
        return "action_record_complaint"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        typed = str(tracker.get_slot(TEXT_SLOT) or "")
        words = (typed if not typed.startswith("/") else "") or latest_text(tracker)
        words = words[:MAX_MESSAGE_CHARS].strip()
        if not words:  # a button: no words yet
            return [FollowupAction("complaint_form")]
        events = list(tracker.events)
        customer_id = signed_in_customer(tracker)
        order_number, verified = complaint_order(tracker, words)
        reset = [SlotSet(TEXT_SLOT, None)]
        try:
            ticket, is_new = record_complaint(
                tracker.sender_id,
                events,
                words,
                customer_id=customer_id,
                order_number=order_number,
                order_verified=verified,
                client=client_of_events(events),
            )
        except TooManyTickets:
            logger.warning("complaint refused: too many tickets from the client of this conversation")
            dispatcher.utter_message(response="utter_complaint_limit")
            return reset
        except Exception as error:  # database down or locked: say so, the bot keeps answering
            logger.error("could not store the complaint (%s)", type(error).__name__)
            dispatcher.utter_message(response="utter_complaint_unavailable")
            return reset
        logger.info("complaint ticket %s recorded for conversation %s", ticket.id, conversation_ref(tracker.sender_id))
        if not is_new:
            response = "utter_complaint_added"
        elif customer_id or verified:  # the team can answer by e-mail
            response = "utter_complaint_recorded"
        else:
            response = "utter_complaint_recorded_guest"
        dispatcher.utter_message(response=response, ticket=ticket.id)
        return reset
