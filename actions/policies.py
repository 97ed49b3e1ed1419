"""Shipping, payment, account, warranty and other policy questions, answered from the shop's own texts.

The answer is a policy passage itself, with its title and source, so a shopper can see where it
comes from. An intent that names its topic ("which payment methods do you take?" is
ask_payment_methods) gets that topic's passage (``POLICY_TOPICS``): the classifier already knows
the question, and the passage retrieval can confuse neighbours (payment methods with refunds).
Any other question, and a shop whose texts lack the passage, goes to the retrieval; when
nothing scores high enough the bot says it does not know and offers a person, instead of guessing.
"""

from __future__ import annotations

import logging
import re
from typing import Collection, Dict, List, Optional, Sequence, Set, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ShopAction, in_form, last_turn_events, latest_intent, latest_text, offer_human
from actions.shop import shop_search
from retrieval.results import PolicyHit

logger = logging.getLogger(__name__)

# Intent -> key of the passage that answers it (the policies' file and heading: shopdb/policies.py).
POLICY_TOPICS: Dict[str, str] = {
    "change_order": "orders/changing-an-order",
    "ask_payment_methods": "payment/payment-methods",
    "payment_issue": "payment/payment-declined-or-failed",
    "ask_refund_policy": "refunds/when-you-get-your-money-back",
    "leave_review": "help/reviews",
    "contact_us": "help/contacting-customer-service",
}


# Passage -> the responses that stand for it. An answer from the shop's data (an order's status, the newsletter
# state, the account steps) becomes the conversation's topic like the passage itself: "will I still get e-mails
# about my orders?" after unsubscribing, "what does processing mean?" after a refund's status are read in that
# passage's document (topic_follow_up).
PASSAGE_RESPONSES: Dict[str, Tuple[str, ...]] = {
    "account/creating-an-account": ("utter_account_help_create_account",),
    "account/forgotten-password": ("utter_account_help_recover_password",),
    "account/signing-in-problems": ("utter_account_help_registration_problems",),
    "account/changing-your-e-mail-address-or-details": (
        "utter_account_help_edit_account",
        "utter_account_help_set_up_address",
        "utter_account_help_switch_account",
    ),
    "account/deleting-your-account": (
        "utter_ask_confirm_account_deletion",
        "utter_account_deletion_guest",
        "utter_account_deletion_requested",
        "utter_account_deletion_already_requested",
        "utter_account_deletion_kept",
    ),
    "account/newsletter": (
        "utter_newsletter_guest",
        "utter_newsletter_guest_subscribe",
        "utter_newsletter_guest_unsubscribe",
        "utter_newsletter_state_subscribed",
        "utter_newsletter_state_unsubscribed",
        "utter_newsletter_subscribed",
        "utter_newsletter_unsubscribed",
        "utter_newsletter_already_subscribed",
        "utter_newsletter_already_unsubscribed",
    ),
    "help/complaints": (
        "utter_complaint_recorded",
        "utter_complaint_recorded_guest",
        "utter_complaint_added",
        "utter_complaint_limit",
        "utter_complaint_unavailable",
    ),
    "help/speaking-to-a-person": (
        "utter_handoff_queued",
        "utter_handoff_already_queued",
        "utter_handoff_limit",
        "utter_handoff_unavailable",
    ),
    "orders/order-statuses": (
        "utter_order_status_placed",
        "utter_order_status_paid",
        "utter_order_status_packed",
        "utter_order_status_shipped",
        "utter_order_status_delivered",
        "utter_order_status_cancelled",
        "utter_order_status_other",
    ),
    "shipping/carriers-and-tracking": ("utter_order_tracking_number",),
    "orders/invoices": (
        "utter_invoice_ready",
        "utter_invoice_ready_link",
        "utter_invoice_awaiting_payment",
        "utter_invoice_order_cancelled",
    ),
    "orders/cancelling-an-order": (
        "utter_ask_confirm_cancel",
        "utter_cancel_not_possible",
        "utter_cancel_not_possible_packed",
        "utter_cancel_not_possible_shipped",
        "utter_cancel_not_possible_delivered",
        "utter_cancellation_fee_free",
        "utter_cancellation_fee_general",
        "utter_cancellation_fee_on_its_way",
        "utter_cancellation_fee_delivered",
        "utter_cancellation_fee_already_cancelled",
    ),
    "refunds/refunds-for-cancelled-orders": ("utter_cancel_done", "utter_cancel_done_refund"),
    "shipping/changing-the-delivery-address": (
        "utter_address_not_changeable",
        "utter_address_not_changeable_shipped",
        "utter_address_not_changeable_redirect",
    ),
    "refunds/checking-refund-status": ("utter_refund_status", "utter_no_refund"),
    "warranty/faulty-item-after-the-return-window": ("utter_return_window_closed",),
    "returns/return-window": (
        "utter_return_eligible",
        "utter_return_eligible_ask",
        "utter_return_not_delivered",
        "utter_return_not_delivered_cancellable",
        "utter_return_nothing_returnable",
        "utter_return_order_cancelled",
    ),
    "returns/how-to-start-a-return": ("utter_return_created", "utter_return_created_replacement"),
}
RESPONSE_TOPICS: Dict[str, str] = {response: key for key, names in PASSAGE_RESPONSES.items() for response in names}


def topic_of_responses(responses: Sequence[Optional[str]]) -> Optional[str]:
    """The passage key the first of ``responses`` with a topic stands for (``PASSAGE_RESPONSES``), or None."""
    return next((RESPONSE_TOPICS[r] for r in responses if r in RESPONSE_TOPICS), None)


def source_url(source: str) -> str:
    """``shopdb/data/policies/returns.md#return-window`` -> ``returns#return-window`` (shown to shoppers)."""
    return source.rsplit("/", 1)[-1].replace(".md", "")


POLICY_ANSWER = "utter_policy_answer"  # the response that says a passage


def say_passage(dispatcher: CollectingDispatcher, best: PolicyHit) -> List[EventType]:
    """The passage as the answer, with its title and source; its key is the conversation's policy topic."""
    dispatcher.utter_message(
        response=POLICY_ANSWER, title=best.title, passage=best.text, source=source_url(best.source)
    )
    return [SlotSet("human_offered", None), SlotSet("policy_topic", best.key)]


SPECIFIC_MARGIN = 0.1  # how much closer (cosine) a passage must be than the topic's own to replace it


def closer_passage(question: str, topic_keys: Collection[str], skip: Collection[str] = ()) -> Optional[PolicyHit]:
    """Another passage of the topic's document that answers ``question`` clearly better than the topic's
    own passages (``topic_keys``), or None.

    An intent names a topic ("payment methods"), but the question may ask a detail the shop's texts
    answer elsewhere in the same document: "is it safe to pay by card?" (payment security), "which
    courier brings it?" (carriers). Passages of one document score close together, so only a clear
    lead (``SPECIFIC_MARGIN``) replaces the topic's answer; ``skip`` lists passages never to say here.
    """
    document = next(iter(topic_keys)).split("/")[0]
    hits = [
        hit
        for hit in shop_search().answer_policy_question(f"{document}: {question}", k=5)
        if hit.key.split("/")[0] == document and hit.key not in skip
    ]
    bar = max((hit.score for hit in hits if hit.key in topic_keys), default=0.0)
    best = hits[0] if hits else None
    if best is None or best.key in topic_keys or best.score < bar + SPECIFIC_MARGIN:
        return None
    return best


MIN_FOLLOW_UP_WORDS = 3  # "ok", "awkward", "merci": nothing to look up
# A follow-up of the last answer: at most this many words ("and on sundays?", "how long is it locked for"),
TOPIC_FOLLOW_UP_WORDS = 12
# read with that answer's title or document it finds a passage of the same document at least this close
# (cosine) ...
TOPIC_FOLLOW_UP_SCORE = 0.45
# ... and this much closer than the question read alone finds anything ...
TOPIC_FOLLOW_UP_LEAD = 0.1
# ... unless, read alone, it clearly asks about another document's passage: "and is delivery to Amsterdam
# free?" after payment methods (0.52 for shipping costs alone) is a question of its own. Set by hand on
# policy follow-ups of tests/conversations ("how long till it shows up" after reviews: 0.66 in the topic,
# 0.42 alone; "do you deliver to Norway?" after the return window: 0.59 alone), so that suite's figure
# is not a held-out measurement of them.
STANDS_ALONE_SCORE = 0.45
# A follow-up is asked: a question mark, or the words a follow-up question opens with ("and on sundays",
# "how long is it locked for"); "meh ok" and "thanks" are not looked up in the last topic.
FOLLOW_UP_OPENERS = frozenset(
    "and so but also how what whats what's when where which who why can could do does did is are was will "
    "would should any".split()
)

# A question clause anywhere in a message: "can I", "is that", "when do", "how long does", "what if".
QUESTION_CLAUSE_RE = re.compile(
    r"\b(?:(?:can|could|do|does|will|should|would|is|are|am) (?:i|we|you|it|they|he|she|that|this|there)"
    r"|(?:when|how(?: long| much| many| soon)?|what|why|where) (?:do|does|will|can|is|are|should|would)|what if)\b",
    re.I,
)


def topic_of_last_answer(tracker: Tracker) -> Optional[str]:
    """The passage key the bot answered with right before the shopper's latest message, or None.

    Only the last bot turn counts: a topic from three questions ago is not what "and on sundays?" means.
    """
    for event in reversed(last_turn_events(tracker)):
        if event.get("event") == "slot" and event.get("name") == "policy_topic":
            return str(event.get("value") or "") or None
    return None


# Words of a question's grammar that say nothing of what it asks about (word_stems keeps words of 5+ letters).
QUESTION_GRAMMAR = frozenset("about could would should there their where which whats what's still really".split())
STEM_LETTERS = 5  # words compared by their first letters: "locker" finds "lockers", "processing" "process"


def word_stems(text: str, skip: Collection[str] = ()) -> Set[str]:
    """The first ``STEM_LETTERS`` letters of the words of ``text`` that have at least that many, less ``skip``.

    Short words are mostly the question's grammar ("what", "does", "it"); the longer ones name what is
    asked about, which a passage that answers it names too."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return {word[:STEM_LETTERS] for word in words if len(word) >= STEM_LETTERS and word not in skip}


def last_turn_responses(tracker: Tracker) -> List[Optional[str]]:
    """The responses of the bot's last turn (before the shopper's latest message), by name."""
    return [(e.get("metadata") or {}).get("utter_action") for e in last_turn_events(tracker) if e.get("event") == "bot"]


def topic_follow_up(tracker: Tracker) -> Optional[PolicyHit]:
    """The passage that answers a short question about the answer just given, or None.

    "How long is it locked for?" after the signing-in passage, "and on weekdays till when?" after customer
    service's hours, "how long till it shows up?" after reviews: alone, these words read as delivery
    times or a product question; a person reads them in the topic just talked about. The question is read
    with the last answer's title and with its document's name; a passage of that document must score
    ``TOPIC_FOLLOW_UP_SCORE`` and lead the question read alone by ``TOPIC_FOLLOW_UP_LEAD``, and the words
    alone must not clearly ask about another document (``STANDS_ALONE_SCORE``).
    """
    key = topic_of_last_answer(tracker)
    question = latest_text(tracker).strip()
    words = question.lower().split()
    if key is None or not words or len(words) > TOPIC_FOLLOW_UP_WORDS:
        return None
    if not question.endswith("?") and words[0].strip(",.!") not in FOLLOW_UP_OPENERS:
        return None
    search = shop_search()
    document = key.split("/")[0]
    last = search.policy_passage(key)
    readings = [f"{document}: {question}"] + ([f"{last.title}: {question}"] if last is not None else [])
    # After an answer from the shop's data that stands for a passage (PASSAGE_RESPONSES: a refund's status), that
    # passage says what the shopper just heard in general words ("Checking refund status"): unless the question
    # names something it explains ("what does processing mean?"), another passage of the document that answers
    # it comes first. It is still the answer when none does: "how long does it take?" after the steps to delete
    # an account is answered by the deletion passage ("within 30 days"), which the steps did not say.
    heard = topic_of_responses(last_turn_responses(tracker)) == key and last is not None
    if heard and last is not None and word_stems(question) & word_stems(last.text):
        heard = False
    in_topic = [
        hit
        for reading in readings
        for hit in search.answer_policy_question(reading, k=5)
        if hit.key.startswith(f"{document}/")
    ]
    alone = search.answer_policy_question(question, k=1)
    bar = alone[0].score if alone else 0.0
    # Read with the last passage's title, a question leans to that very passage: "is it safe to pay by card?"
    # right after the payment-failed passage finds it again. When the passage itself was just said, and the
    # question read alone clearly finds another passage of the same document, that one answers it. (After an
    # answer from data that stands for a passage, "what does processing mean?" may well ask about that one.)
    shown = POLICY_ANSWER in last_turn_responses(tracker)
    if shown and alone and alone[0].key.startswith(f"{document}/") and alone[0].key != key:
        if bar >= STANDS_ALONE_SCORE:
            logger.info("follow-up in the topic %s stands alone: %s (%.3f)", key, alone[0].key, bar)
            return alone[0]
    # Read alone, the words clearly ask about another document when they find its passage and name something
    # it names: "and is delivery to Amsterdam free?" after payment methods. "How long does it take" names
    # nothing: it finds delivery times alone only because it is what shoppers ask most.
    if (
        alone
        and not alone[0].key.startswith(f"{document}/")
        and bar >= STANDS_ALONE_SCORE
        and word_stems(question, skip=QUESTION_GRAMMAR) & word_stems(f"{alone[0].title} {alone[0].text}")
    ):
        return None
    clearing = [h for h in in_topic if h.score >= TOPIC_FOLLOW_UP_SCORE and h.score >= bar + TOPIC_FOLLOW_UP_LEAD]
    others = [h for h in clearing if h.key != key] if heard else []
    if not clearing:
        return None
    best = max(others or clearing, key=lambda hit: hit.score)
    logger.info("follow-up read in the topic %s: %s (%.3f, alone %.3f)", key, best.key, best.score, bar)
    return best


def policy_follow_up(tracker: Tracker) -> Optional[PolicyHit]:
    """The shop's passage that answers a question the dialogue could not place ("and the tags have to still
    be on?", "is it free from france"), or None.

    Asked when the bot would otherwise say it did not understand, or ask "which product?" with no product
    in the conversation. The retrieval's own threshold keeps chatter out; the conversation's last policy
    topic ("returns/...") is added for a follow-up that names no topic of its own.
    """
    in_topic = topic_follow_up(tracker)
    if in_topic is not None:
        return in_topic
    question = latest_text(tracker)
    if len(question.split()) < MIN_FOLLOW_UP_WORDS:
        return None
    hits = shop_search().answer_policy_question(question, k=1)
    topic = str(tracker.get_slot("policy_topic") or "").split("/")[0]
    if not hits and topic:
        hits = shop_search().answer_policy_question(f"{topic}: {question}", k=1)
    return hits[0] if hits else None


class ActionAnswerPolicy(ShopAction):
    def name(self) -> Text:
        return "action_answer_policy"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        question = latest_text(tracker)
        topic = POLICY_TOPICS.get(latest_intent(tracker) or "")
        best: Optional[PolicyHit] = topic_follow_up(tracker)
        if best is None and topic:
            best = (closer_passage(question, {topic}) if question else None) or shop_search().policy_passage(topic)
        if best is None and not question:
            dispatcher.utter_message(response="utter_ask_policy_question")
            return []
        if best is None:
            hits = shop_search().answer_policy_question(question, k=2)
            best = hits[0] if hits else None
        if best is not None:  # the shop's own passage, its title and where it comes from
            return say_passage(dispatcher, best)
        logger.info("no policy passage above the threshold")
        if in_form(tracker):  # carry on with the form; a person is one request away
            dispatcher.utter_message(response="utter_policy_unknown_in_form")
            return [SlotSet("human_offered", None)]
        dispatcher.utter_message(response="utter_policy_unknown")
        return offer_human("policy_unknown")
