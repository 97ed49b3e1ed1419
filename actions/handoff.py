"""Hand the conversation to a human: open a ticket (:mod:`handoff.tickets`), tell the shopper, pause the bot.

``ConversationPaused`` stops Rasa from predicting; the web channel then routes the shopper's
messages to the agent console until an agent hands back. Outside the support team's hours
(:mod:`handoff.hours`) nobody would answer, so the shopper hears when the team is back and may leave
a message instead (``leave_message_form``): agents answer it from the console, in the chat and by
e-mail, and the bot keeps talking meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ShopAction, ShopFormValidation, latest_intent, latest_text, signed_in_customer
from actions.orders import has_proof
from actions.typed_details import find_email
from core.log_masking import conversation_ref
from handoff.hours import team_is_away
from handoff.store import MAX_MESSAGE_CHARS
from handoff.tickets import TooManyTickets, client_of_events, create_ticket, leave_message

logger = logging.getLogger(__name__)

MESSAGE_SLOT = "left_message"
EMAIL_SLOT = "contact_email"
NO_EMAIL = "none"  # the shopper wants the answer in the chat only
DECLINES = frozenset({"deny", "stop"})


# "no I don't want a person, just tell me how": the words name a person, the classifier may read a request for one.
_NO_PERSON_RE = re.compile(
    r"\b(?:don'?t|do not|dont|no need for|without|not)\b([^.?!,]{0,25})\b(?:person|human|agent|someone|somebody|"
    r"anyone|people|staff|real one)\b",
    re.I,
)
_MACHINE_RE = re.compile(r"\b(?:bot|robot|machine|chatbot|ai|computer)\b", re.I)  # "not a bot, a person"


def declines_a_person(text: str) -> bool:
    """Whether the shopper's words turn a person down rather than ask for one."""
    return any(not _MACHINE_RE.search(found.group(1)) for found in _NO_PERSON_RE.finditer(text or ""))


class ActionHandoffToHuman(Action):
    """Queue the conversation for a human agent and pause the bot; outside opening hours, offer a message."""

    def name(self) -> Text:
        return "action_handoff_to_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if declines_a_person(latest_text(tracker)):  # never queue someone who just said no to a person
            from actions.common import ActionDeclineHuman

            return await ActionDeclineHuman().run(dispatcher, tracker, domain)
        away = team_is_away()
        if away is not None:
            logger.info("hand-off asked outside opening hours: a message is offered")
            response = "utter_handoff_team_away" if away["back"] else "utter_handoff_no_live_support"
            dispatcher.utter_message(response=response, back=away["back"], hours=away["hours"])
            return [SlotSet(MESSAGE_SLOT, None), SlotSet(EMAIL_SLOT, None), FollowupAction("leave_message_form")]
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


def answer_reaches_email(tracker: Tracker) -> bool:
    """Whether the team already has an address for the answer: a signed-in customer or a verified order."""
    return bool(signed_in_customer(tracker)) or has_proof(tracker)


class ValidateLeaveMessageForm(ShopFormValidation):
    """The message, then (for a guest) where the answer may be e-mailed; "no" keeps it to the chat."""

    def name(self) -> Text:
        return "validate_leave_message_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if answer_reaches_email(tracker):
            return [slot for slot in domain_slots if slot != EMAIL_SLOT]
        return domain_slots

    def validate_left_message(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        words = str(value or "").strip()[:MAX_MESSAGE_CHARS]
        if words.startswith("/") or len(words) < 2:
            dispatcher.utter_message(response="utter_left_message_empty")
            return {MESSAGE_SLOT: None}
        return {MESSAGE_SLOT: words}

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return contact_email_answer(value, dispatcher, tracker)


def contact_email_answer(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, invalid: str = "utter_contact_email_invalid"
) -> Dict[Text, Any]:
    """The ``contact_email`` slot from an answer: an address, ``NO_EMAIL`` for "no", or asked again (``invalid``)."""
    email = find_email(value)
    if email:
        return {EMAIL_SLOT: email}
    if latest_intent(tracker) in DECLINES or str(value or "").strip().lower() in ("no", "no thanks", "nope", "n"):
        return {EMAIL_SLOT: NO_EMAIL}
    dispatcher.utter_message(response=invalid)
    return {EMAIL_SLOT: None}


class ActionLeaveMessage(ShopAction):
    """Pass the filled ``leave_message_form`` on to the team as a follow-up ticket."""

    def name(self) -> Text:
        return "action_leave_message"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        words = str(tracker.get_slot(MESSAGE_SLOT) or "").strip()
        email = tracker.get_slot(EMAIL_SLOT)
        reset: List[EventType] = [SlotSet(MESSAGE_SLOT, None), SlotSet(EMAIL_SLOT, None)]
        if not words:
            dispatcher.utter_message(response="utter_left_message_empty")
            return reset
        events = list(tracker.events)
        try:
            ticket, _ = leave_message(
                tracker.sender_id,
                events,
                words,
                contact_email=email if email and email != NO_EMAIL else None,
                customer_id=signed_in_customer(tracker),
                client=client_of_events(events),
            )
        except TooManyTickets:
            logger.warning("message refused: too many tickets from the client of this conversation")
            dispatcher.utter_message(response="utter_handoff_limit")
            return reset
        except Exception as error:  # database down or locked: say so, the bot keeps answering
            logger.error("could not store the left message (%s)", type(error).__name__)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return reset
        logger.info("message ticket %s left for conversation %s", ticket.id, conversation_ref(tracker.sender_id))
        away = team_is_away() or {"back": "", "hours": ""}
        by_email = (email and email != NO_EMAIL) or answer_reaches_email(tracker)
        response = "utter_message_left_email" if by_email else "utter_message_left_chat"
        dispatcher.utter_message(response=response, ticket=ticket.id, back=away["back"] or "soon")
        return reset
