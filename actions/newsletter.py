"""The newsletter: a signed-in customer subscribes or unsubscribes here; a guest learns where to do it.

Only the signed-in customer's own subscription changes, and only when this very message carries the
shop channel's proof for the customer id (a tracker that merely claims one changes nothing): a
guest's e-mail address can't be confirmed as theirs in a chat. The wish comes from the buttons
(``newsletter_choice``) or the words; a question the shop's texts answer ("will I still get e-mails
about my orders?") gets that passage; another question or an unclear wish gets the current state and the
two buttons. Changes are recorded with their time (:mod:`shopdb.newsletter`); logs name no customer.
"""

from __future__ import annotations

import logging
import re
from typing import Iterator, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ShopAction, first_entity, latest_text, signed_in_customer
from actions.policies import policy_follow_up, say_passage, word_stems
from actions.repetition import NEW_ANSWER_SCORE, asks_something_new
from actions.shop import shop_orders, shop_search
from core.log_masking import conversation_ref
from retrieval.results import PolicyHit
from shopdb.newsletter import newsletter_state, set_newsletter

logger = logging.getLogger(__name__)

SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"
_UNSUBSCRIBE_RE = re.compile(
    r"\b(?:unsubscribe|unsub|opt(?:ed)?[\s-]?out|stop (?:sending|e-?mailing|mailing)|no more (?:e-?mails|newsletters?|"
    r"mails|spam)|make it stop|cancel (?:my |the )?(?:newsletter|subscription)|remove me|take me off|"
    r"(?:don'?t|do not) send)",
    re.I,
)
_SUBSCRIBE_RE = re.compile(
    r"\b(?:subscribe|sign me up|sign up|opt[\s-]?in|add me|join (?:the |your )?(?:newsletter|mailing list)|"
    r"i want (?:the newsletter|news)|keep me posted)",
    re.I,
)
# "how do I unsubscribe?" asks the way, it doesn't ask for the change: show the state and the buttons.
_HOW_RE = re.compile(r"^\s*(?:how|where|can i|could i|is it possible|what)\b", re.I)

# "am I signed up?", "am I still subscribed?": the customer's own state, not the shop's texts.
_STATE_RE = re.compile(r"\b(?:am i|are you (?:still )?sending|status|subscribed\??\s*$)", re.I)

GUEST_RESPONSES = {
    SUBSCRIBE: "utter_newsletter_guest_subscribe",
    UNSUBSCRIBE: "utter_newsletter_guest_unsubscribe",
}
DONE_RESPONSES = {SUBSCRIBE: "utter_newsletter_subscribed", UNSUBSCRIBE: "utter_newsletter_unsubscribed"}
UNCHANGED_RESPONSES = {
    SUBSCRIBE: "utter_newsletter_already_subscribed",
    UNSUBSCRIBE: "utter_newsletter_already_unsubscribed",
}


def wish(tracker: Tracker) -> Optional[str]:
    """``subscribe``, ``unsubscribe`` or None (unclear, or a question about how)."""
    choice = str(first_entity(tracker, "newsletter_choice") or "").strip().lower()
    if choice in (SUBSCRIBE, UNSUBSCRIBE):
        return choice
    text = latest_text(tracker)
    if not text or _HOW_RE.search(text):
        return None
    if _UNSUBSCRIBE_RE.search(text):  # first: "unsubscribe" contains "subscribe"
        return UNSUBSCRIBE
    return SUBSCRIBE if _SUBSCRIBE_RE.search(text) else None


NEWSLETTER_PASSAGE = "account/newsletter"
NEWSLETTER_WORDS = word_stems("newsletter newsletters subscribe unsubscribe subscription subscribed")


def shop_texts_answer(tracker: Tracker) -> Optional[PolicyHit]:
    """The shop's passage for a question about the newsletter that its state does not answer, or None.

    "Will I still get e-mails about my orders?", "do you share my e-mail?": another passage, or the newsletter
    passage when the question names something it says beyond (un)subscribing. "Do you have a newsletter?",
    "am I signed up?" and "how do I unsubscribe?" are answered with the state and the buttons (a guest: where
    to do it)."""
    question = latest_text(tracker)
    about_a_change = _UNSUBSCRIBE_RE.search(question) or _SUBSCRIBE_RE.search(question)
    if not asks_something_new(question) or about_a_change or _STATE_RE.search(question):
        return None

    def readings() -> Iterator[Optional[PolicyHit]]:
        """First as the newsletter question it was classified as ("will I still get e-mails?"), then, only
        when that gives no answer, as it stands."""
        yield from shop_search().answer_policy_question(f"Newsletter: {question}", k=1)
        yield policy_follow_up(tracker)

    for passage in readings():
        if passage is None or passage.score < NEW_ANSWER_SCORE:
            continue
        if passage.key != NEWSLETTER_PASSAGE or (word_stems(question) - NEWSLETTER_WORDS) & word_stems(passage.text):
            return passage
    return None


class ActionNewsletter(ShopAction):
    def name(self) -> Text:
        return "action_newsletter"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        wanted = wish(tracker)
        events: List[EventType] = [SlotSet("newsletter_choice", None)] if tracker.get_slot("newsletter_choice") else []
        passage = shop_texts_answer(tracker) if wanted is None else None
        if passage is not None:
            return events + say_passage(dispatcher, passage)
        customer_id = signed_in_customer(tracker)
        sessions = shop_orders().sessions
        state = newsletter_state(sessions, customer_id) if customer_id else None
        if state is None:  # a guest, or an id the shop doesn't know: nothing to change here
            dispatcher.utter_message(response=GUEST_RESPONSES.get(wanted or "", "utter_newsletter_guest"))
            return events
        if wanted is None:
            dispatcher.utter_message(
                response="utter_newsletter_state_subscribed"
                if state.subscribed
                else "utter_newsletter_state_unsubscribed"
            )
            return events
        change = set_newsletter(sessions, customer_id, wanted == SUBSCRIBE)
        if change is None or not change.changed:
            dispatcher.utter_message(response=UNCHANGED_RESPONSES[wanted])
        else:
            logger.info("newsletter: %s in conversation %s", wanted, conversation_ref(tracker.sender_id))
            dispatcher.utter_message(response=DONE_RESPONSES[wanted])
        return events
