"""Order flows: identity check (order_form), status and tracking, cancel, new address, problems.

Nothing about an order is shown or changed before the shopper proved it is
theirs: the order number plus the e-mail on the order, or - for a shopper logged
in on the shop - the customer id the widget channel passes in signed metadata.
Wrong details get the same answer whether the order exists or not. Order numbers
and e-mail addresses never reach the logs unmasked.

What the bot says are domain responses (``bot/domain.yml``), picked by the order's status
or the outcome's ``code`` and filled with the order's data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.addresses import parse_address
from actions.common import (
    ShopAction,
    ShopFormValidation,
    answers_question_of,
    entity_values,
    first_entity,
    label,
    last_bot_action,
    latest_intent,
    latest_text,
    message_metadata,
    offer_human,
    order_proofs,
    shop_url,
)
from actions.delivery import asks_delivery_to_another_country
from actions.policies import QUESTION_CLAUSE_RE, policy_follow_up, say_passage
from actions.render import address_text, intent_payload, money, order_items_text
from actions.return_questions import asks_about_returns_in_general
from actions.shop import shop_orders, shop_search
from actions.typed_details import (
    EMAIL_SHAPES,
    ORDER_NUMBER_SHAPES,
    asks_for_order_number_help,
    email_problem,
    find_email,
    find_order_number,
    order_number_problem,
    said_this_turn,
)
from actions.vocabulary import PROBLEM_KINDS, ordinal_position, problem_kind
from core.log_masking import conversation_ref
from core.settings import get_settings
from retrieval.results import PolicyHit
from shopdb.counters import Limit
from shopdb.countries import country_name, sorted_by_name

logger = logging.getLogger(__name__)

MAX_VERIFICATION_FAILURES = 3
# A miss: the same response for a wrong number and a wrong e-mail, with "Let's try again." while tries are left.
NOT_FOUND = "utter_order_not_found"
TRY_AGAIN = "utter_order_not_found_try_again"
TRY_EMAIL_AGAIN = "utter_order_not_found_check_email"  # the number stays; the e-mail is asked again
NOT_IN_ACCOUNT_ASK_EMAIL = "utter_order_not_in_account_ask_email"
NO_NUMBER_HELP = "utter_where_to_find_order_number"
CONFIRM_ADDRESS = "utter_confirm_address_change"
PENDING_ADDRESS = "address_change_pending"
# A question typed where the form asked for a detail: "wait whats ur return policy", "how long is delivery?"
_QUESTION_RE = re.compile(
    r"\?\s*$|^\W*(?:(?:wait|hang on|hold on|btw|actually|first|but|and|sorry|ok|okay)\W+)*"
    r"(?:what|whats|what's|how|when|where|why|which|do|does|can|could|is|are|will|would|should)\b",
    re.I,
)


WORDS_BEFORE_THE_QUESTION = 2  # "hi, can you cancel it" is one request; "i wore it once, can i ..." is two parts


def asks_a_rule_question_too(text: str) -> bool:
    """Whether a question clause follows other words of the message: "I wore the jacket once, can I still
    return it?", "I cancelled yesterday when do I get my money", "return a sale item, is that allowed". One at
    the start ("can you cancel my order?", "how do I cancel") is the request itself, asked politely."""
    return any(
        len(text[: match.start()].split()) >= WORDS_BEFORE_THE_QUESTION for match in QUESTION_CLAUSE_RE.finditer(text)
    )


# Requests that open the order form and may come with a question about a rule; not order_status, whose
# question ("where is my order?") the order itself answers.
RULE_QUESTION_INTENTS = frozenset(
    {
        "cancel_order",
        "change_address",
        "report_problem",
        "request_return",
        "return_eligibility",
        "refund_status",
        "invoice",
        "ask_cancellation_fee",
    }
)
# Cosine of the closest policy passage. Set on 30 dev messages written for it (perf/data/rule_questions_dev.yml:
# 15 requests with a question about a rule, 15 plain requests; none from tests/conversations): plain requests score as high (0.56-0.76:
# the passages describe the flows), so the clause test above separates them (none of the 15 passes it, 13 of
# the others do). Of those 13, the 9 at 0.5 or more got a passage that answers them (one a neighbour: the
# return window for "how long does the refund take?"), the 3 below a wrong one (0.38-0.50), one none.
RULE_ANSWER_SCORE = 0.5


def rule_answer(tracker: Tracker) -> Optional[PolicyHit]:
    """The shop's passage that answers a question asked with the request that opened the order form, or None.

    Only on the message that opened the form (an order request, not a detail typed into it), with no
    order number in it; the passage must be close (``RULE_ANSWER_SCORE``)."""
    text = latest_text(tracker)
    if latest_intent(tracker) not in RULE_QUESTION_INTENTS or text.startswith("/") or find_order_number(text):
        return None
    if not asks_a_rule_question_too(text):
        return None
    hits = shop_search().answer_policy_question(text, k=1)
    return hits[0] if hits and hits[0].score >= RULE_ANSWER_SCORE else None


def answered_digression(dispatcher: CollectingDispatcher, tracker: Tracker, value: Any) -> Optional[Dict[Text, Any]]:
    """A question where the form asked for a detail, answered from the shop's policy texts when they have
    the answer: the slots to set (the policy topic), and the form asks for the detail again; else None."""
    if not _QUESTION_RE.search(str(value or "")):
        return None
    hit = policy_follow_up(tracker)
    if hit is None:
        return None
    say_passage(dispatcher, hit)
    return {"policy_topic": hit.key}


_WHOLE_PARCEL_RE = re.compile(r"\b(all|whole|entire|everything|both|parcel|package|all of them)\b", re.I)


# --------------------------------------------------------------------------- identity


def client_misses_limit() -> Limit:
    """Verification misses per client across conversations (a new session id must not reset the
    count), counted in the shared counters: every action server, across restarts (docs/security.md)."""
    settings = get_settings()
    return Limit("verify-client", settings.verify_client_limit, settings.verify_client_window)


def proof(tracker: Tracker) -> Dict[str, Any]:
    """Who proved the order in ``order_number`` is theirs, from the conversation's order proof.

    The proof is what the order form issued when number and e-mail (or the signed-in customer)
    matched, bound to this conversation and this order number; slots alone prove nothing, so an
    order number and e-mail set by any other path open nothing (``{"email": None}`` never matches).
    """
    owner = order_proofs().verify(tracker.get_slot("order_proof"), tracker.sender_id, tracker.get_slot("order_number"))
    if owner is None:
        return {"email": None}
    if owner.get("customer_id"):
        return {"customer_id": owner["customer_id"]}
    return {"email": owner.get("email")}


def has_proof(tracker: Tracker) -> bool:
    return proof(tracker) != {"email": None}


def verified_order(tracker: Tracker) -> Optional[Any]:
    """The order in ``order_number`` when this conversation proved ownership; None otherwise."""
    number = tracker.get_slot("order_number")
    if not number or not has_proof(tracker):
        return None
    return shop_orders().get_order(number, **proof(tracker))


def issue_proof(
    tracker: Tracker, number: str, *, email: Optional[str] = None, customer_id: Optional[str] = None
) -> str:
    return order_proofs().issue(tracker.sender_id, number, email=email, customer_id=customer_id)


def answered(allowed: Optional[bool] = None) -> List[EventType]:
    """The two slots the rules branch on after every order step: may it go ahead, is a person offered."""
    return [SlotSet("order_action_allowed", allowed), SlotSet("human_offered", None)]


def not_verified(dispatcher: CollectingDispatcher) -> List[EventType]:
    """No proof of ownership: say nothing about the order, offer a person (the rules ask)."""
    dispatcher.utter_message(response="utter_order_not_verified")
    return [
        SlotSet("order_action_allowed", False),
        SlotSet("verification_failures", 0),
        SlotSet("order_number", None),
        SlotSet("email", None),
        SlotSet("order_proof", None),
    ] + offer_human("verification_failed")


def nice_date(iso: Optional[str]) -> str:
    if not iso:
        return ""
    try:
        return dt.datetime.fromisoformat(iso).strftime("%-d %B %Y")
    except ValueError:
        return iso


def status_label(domain: DomainDict, status: str) -> str:
    """An order status in words (``utter_label_order_status_<status>``)."""
    return label(domain, f"utter_label_order_status_{status}", default=str(status))


def order_values(order: Any, domain: DomainDict) -> Dict[str, Any]:
    """What responses about an order are filled with: number, items, total, dates, status."""
    return {
        "order_number": order.order_number,
        "order_items": order_items_text(order),
        "order_total": money(order.total, order.currency),
        "placed_on": nice_date(order.placed_at),
        "order_status": status_label(domain, order.status),
    }


def client_of(tracker: Tracker) -> Optional[str]:
    """The client tag the Rasa server put into the message metadata (web.hardening.client_tag)."""
    tag = message_metadata(tracker).get("client")
    return str(tag)[:64] if tag else None


# --------------------------------------------------------------------------- the order form


class ValidateOrderForm(ShopFormValidation):
    """Checks order number and e-mail together; three misses end the form (and a person is offered).

    This is the one place where an order becomes verified: a match issues the conversation's
    order proof (``order_proof``), and every check counts against the conversation's three tries
    and the client's limit across conversations, however the number and e-mail arrived (typed,
    in one message, from a button).
    """

    def name(self) -> Text:
        return "validate_order_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if (tracker.get_slot("verification_failures") or 0) >= MAX_VERIFICATION_FAILURES:
            return []
        if asks_about_returns_in_general(tracker):  # "if it doesn't fit can I send it back?": no order to ask for
            return []
        if tracker.get_slot("customer_id") and not (tracker.get_slot("order_number") and not has_proof(tracker)):
            return ["order_number"]  # signed in: the number is enough, unless it is another account's order
        return domain_slots

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Details left from earlier in the chat are not a proof: ask for what is missing again.

        Only an e-mail that is there is cleared: a slot event on a turn that filled nothing would tell Rasa
        the form took the message, and a question typed instead of the e-mail would go unanswered."""
        stale: List[EventType] = []
        being_validated = set(tracker.slots_to_validate())
        if (
            tracker.get_slot("order_number")
            and tracker.get_slot("email")
            and not has_proof(tracker)
            and not being_validated & {"order_number", "email"}
        ):
            slot = "email"  # the number stays: the e-mail proves it (a signed-in shopper's other-account order too)
            tracker.slots[slot] = None  # not an event here: it must not look like a value to validate
            stale = [SlotSet(slot, None)]
        return stale + await super().run(dispatcher, tracker, domain)

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = find_order_number(value)
        if number is None and asks_for_order_number_help(value):  # "I don't have my order number"
            dispatcher.utter_message(response=NO_NUMBER_HELP, shop_url=shop_url())
            return {"order_number": None}
        digression = answered_digression(dispatcher, tracker, value) if number is None else None
        if digression is not None:
            return {"order_number": None, **digression}
        if number is None:  # no order number: say what is wrong with it, before any look-up; not a miss
            problem = order_number_problem(value)
            if problem:
                dispatcher.utter_message(**problem)
            else:
                dispatcher.utter_message(response="utter_invalid_order_number")
            return {"order_number": None}
        orders = shop_orders()
        customer_id = tracker.get_slot("customer_id")
        if customer_id:  # logged in: their own orders match at once
            order = await asyncio.to_thread(orders.get_order, number, customer_id=customer_id)
            if order is not None:
                return {"order_number": number, "order_proof": issue_proof(tracker, number, customer_id=customer_id)}
            # Another account's order (a partner's, a gift): checked like a guest's, by its e-mail.
            dispatcher.utter_message(response=NOT_IN_ACCOUNT_ASK_EMAIL, typed_number=number)
            return {"order_number": number, "email": None, "order_proof": None}
        if await self._client_is_blocked(tracker):
            return self._client_blocked(dispatcher, tracker)
        email = tracker.get_slot("email")
        if email and "email" in tracker.slots_to_validate():
            return {"order_number": number}  # both in one message: validate_email checks the pair
        if email:
            # the e-mail was given in this order check already: check the pair now
            if await asyncio.to_thread(orders.verify_order, number, email) is None:
                return await self._failed_async(dispatcher, tracker)
            return {
                "order_number": number,
                "verification_failures": 0,
                "order_proof": issue_proof(tracker, number, email=email),
            }
        return {"order_number": number, "order_proof": None}

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        email = find_email(value)
        digression = answered_digression(dispatcher, tracker, value) if email is None else None
        if digression is not None:
            return {"email": None, **digression}
        if email is None:  # no e-mail address: say what is wrong with it, before any look-up; not a miss
            problem = email_problem(value)
            if problem:
                dispatcher.utter_message(**problem)
            else:
                dispatcher.utter_message(response="utter_invalid_email")
            return {"email": None}
        number = find_order_number(tracker.get_slot("order_number"))
        if not number:
            return {"email": email}
        if await self._client_is_blocked(tracker):
            return self._client_blocked(dispatcher, tracker)
        if await asyncio.to_thread(shop_orders().verify_order, number, email) is None:
            return await self._failed_async(dispatcher, tracker, keep_number=number)
        return {"email": email, "verification_failures": 0, "order_proof": issue_proof(tracker, number, email=email)}

    @staticmethod
    async def _client_is_blocked(tracker: Tracker) -> bool:
        return not await asyncio.to_thread(shop_orders().limiter.allowed, client_misses_limit(), client_of(tracker))

    async def _failed_async(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, keep_number: Optional[str] = None
    ) -> Dict[Text, Any]:
        """A miss of an anonymous shopper: counted against the client, across conversations."""
        await asyncio.to_thread(shop_orders().limiter.hit, client_misses_limit(), client_of(tracker))
        return self._failed(dispatcher, tracker, keep_number=keep_number)

    @staticmethod
    def _failed(
        dispatcher: CollectingDispatcher, tracker: Tracker, keep_number: Optional[str] = None
    ) -> Dict[Text, Any]:
        """A miss: ``NOT_FOUND`` (no values: nothing about what was tried), its "try again" form while tries are left.

        With ``keep_number`` (the e-mail was the detail just given) the number the shopper typed stays
        and only the e-mail is asked again, saying a wrong number can simply be typed again: the
        shopper's own number is no secret to them, and nothing says which of the two was wrong.
        """
        failures = int(tracker.get_slot("verification_failures") or 0) + 1
        logger.info(
            "order verification failed (%s of %s) in conversation %s",
            failures,
            MAX_VERIFICATION_FAILURES,
            conversation_ref(tracker.sender_id),
        )
        if failures >= MAX_VERIFICATION_FAILURES:
            dispatcher.utter_message(response=NOT_FOUND)
        elif keep_number:
            dispatcher.utter_message(response=TRY_EMAIL_AGAIN, typed_number=keep_number)
            return {"order_number": keep_number, "email": None, "verification_failures": failures, "order_proof": None}
        else:
            dispatcher.utter_message(response=TRY_AGAIN)
        return {"order_number": None, "email": None, "verification_failures": failures, "order_proof": None}

    @staticmethod
    def _client_blocked(dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        """Too many misses from this client: end the check without looking anything up (so a right
        guess gets the same answer as a wrong one), and offer a person like the third miss does."""
        logger.warning(
            "order verification refused: too many misses from the client of conversation %s",
            conversation_ref(tracker.sender_id),
        )
        dispatcher.utter_message(response="utter_too_many_order_checks")
        return {
            "order_number": None,
            "email": None,
            "verification_failures": MAX_VERIFICATION_FAILURES,
            "order_proof": None,
        }


class ActionAskOrderNumber(ShopAction):
    """Asks for the order number; a logged-in shopper picks one of their recent orders instead.

    A number of the wrong shape in the message ("cancel order 370795561790") is explained in the
    question; when the form's validation explained one this turn, its words asked already.
    """

    def name(self) -> Text:
        return "action_ask_order_number"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if said_this_turn(tracker, (*ORDER_NUMBER_SHAPES, NO_NUMBER_HELP, NOT_IN_ACCOUNT_ASK_EMAIL)):
            return []
        if asks_for_order_number_help(latest_text(tracker)):
            dispatcher.utter_message(response=NO_NUMBER_HELP, shop_url=shop_url())
            return []
        rule = rule_answer(tracker) if not said_this_turn(tracker, ("utter_policy_answer",)) else None
        events: List[EventType] = say_passage(dispatcher, rule) if rule is not None else []
        customer_id = tracker.get_slot("customer_id")
        orders = shop_orders().orders_for_customer(customer_id, limit=5) if customer_id else []
        buttons = [
            {
                "title": f"{o.order_number} · {nice_date(o.placed_at)} · {status_label(domain, o.status)} · "
                f"{o.items[0].title if o.items else ''}"[:80],
                "payload": intent_payload("inform", order_number=o.order_number),
            }
            for o in orders
        ]
        problem = order_number_problem(latest_text(tracker))
        if problem:
            dispatcher.utter_message(**problem, buttons=buttons)
        elif orders:
            dispatcher.utter_message(response="utter_ask_which_order", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_order_number")
        return events


class ActionAskEmail(Action):
    """Asks for the order's e-mail address, saying what is wrong with one just typed ("alex@gmail").

    When the form's validation explained a wrong address this turn, its words asked already.
    """

    def name(self) -> Text:
        return "action_ask_email"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if said_this_turn(tracker, (*EMAIL_SHAPES, "utter_invalid_email", TRY_EMAIL_AGAIN, NOT_IN_ACCOUNT_ASK_EMAIL)):
            return []
        problem = email_problem(latest_text(tracker))
        if problem:
            dispatcher.utter_message(**problem)
        else:
            dispatcher.utter_message(response="utter_ask_email")
        return []


# Requests that read an order: an order number typed on its own continues the last of these.
READ_ONLY_TASKS = frozenset({"status", "return_eligibility", "refund", "invoice"})


class ActionDetailsOutsideForm(ShopAction):
    """An order number typed when no form asks for one ("and the other one, 10000006?", "did 10000003 go
    through?"): the conversation's last reading request (status, return, refund, invoice) for that order,
    else its status, through the order form's checks. A changing request (cancel, new address, return)
    never carries over to another order unasked. A colour, size or price alone after a product list refines
    that list, and a kind of product named in the catalogue's words is searched (``product_follow_up``); a
    country alone after a delivery answer ("what about Norway?") asks the same for it. Anything else (an
    e-mail alone) gets the question back.
    """

    def name(self) -> Text:
        return "action_details_outside_form"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from actions.products import product_follow_up

        number = find_order_number(latest_text(tracker)) or find_order_number(first_entity(tracker, "order_number"))
        search = None if number else product_follow_up(tracker)
        if search is not None:
            return [FollowupAction(search)]  # "black one" after a list, "fresh kicks, white, 43"
        if not number and asks_delivery_to_another_country(tracker):
            return [FollowupAction("action_delivery_options")]
        if not number:
            dispatcher.utter_message(response="utter_what_to_do_with_details")
            return []
        task = tracker.get_slot("order_task")
        task = task if task in READ_ONLY_TASKS else "status"
        return [SlotSet("order_task", task), SlotSet("order_number", number), FollowupAction("order_form")]


# --------------------------------------------------------------------------- status and tracking

STATUS_RESPONSES = {
    "placed": "utter_order_status_placed",
    "paid": "utter_order_status_paid",
    "packed": "utter_order_status_packed",
    "shipped": "utter_order_status_shipped",
    "delivered": "utter_order_status_delivered",
    "cancelled": "utter_order_status_cancelled",
}


def say_status(dispatcher: CollectingDispatcher, order: Any, domain: DomainDict) -> None:
    """The order's status; for a parcel on its way the carrier's latest scan; the delivery estimate."""
    dispatcher.utter_message(
        response=STATUS_RESPONSES.get(order.status, "utter_order_status_other"),
        carrier=order.carrier or "",
        tracking_number=order.tracking_number or "",
        delivered_on=nice_date(order.delivered_at),
        cancelled_on=nice_date(order.cancelled_at),
        **order_values(order, domain),
    )
    latest = order.events[-1] if order.events else None
    if order.status == "shipped" and latest is not None:
        update = f"{latest.description} ({latest.location})" if latest.location else latest.description
        dispatcher.utter_message(response="utter_order_latest_update", update=update, update_date=nice_date(latest.at))
    if order.estimated_delivery and order.status in ("placed", "paid", "packed", "shipped"):
        dispatcher.utter_message(
            response="utter_order_estimated_delivery", estimated_delivery=nice_date(order.estimated_delivery)
        )


_TRACKING_RE = re.compile(r"\b(?:tracking|track|parcel|shipment) ?(?:number|no|nr|code|id|link)\b", re.I)
SPECIFIC_QUESTION_WORDS = 15  # a longer message tells a story: it gets the whole status
STATUS_QUESTION_MESSAGES = 4  # the request, the number, the e-mail, and one question in between
_ARRIVAL_RE = re.compile(
    r"\b(?:when|what day|how long|how many days)\b.*\b(?:arrive|come|get here|be here|deliver(?:ed|y)?|get it)\b"
    r"|\b(?:arrival|delivery) date\b|\beta\b",
    re.I,
)


_DISPATCH_RE = re.compile(
    r"\bwhen\b.*\b(?:ship|ships|shipped|dispatch(?:ed)?|sent|send it|leaves?|go out|goes out)\b"
    r"|\b(?:has|did|is) it (?:shipped|been (?:shipped|sent|dispatched))\b|\bship(?:ping)? date\b",
    re.I,
)


def status_question(tracker: Tracker) -> Optional[str]:
    """What the shopper's status request asks for in particular: ``tracking``, ``arrival``, ``dispatch`` or
    None (all of it).

    Read from the request (``order_status``) and what was typed after it (the form's answers, a question
    in between), at most the last few messages: never an older request."""
    users = [e for e in tracker.events if e.get("event") == "user"][-STATUS_QUESTION_MESSAGES:]
    for event in reversed(users):
        text = str(event.get("text") or "")
        short = len(text.split()) <= SPECIFIC_QUESTION_WORDS
        if short and _TRACKING_RE.search(text):
            return "tracking"
        if short and _ARRIVAL_RE.search(text):
            return "arrival"
        if short and _DISPATCH_RE.search(text):
            return "dispatch"
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == "order_status":
            return None  # the request itself
    return None


class ActionOrderStatus(ShopAction):
    """The order's status; a question about the tracking number or the arrival gets that, in one line."""

    def name(self) -> Text:
        return "action_order_status"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        order = verified_order(tracker)
        if order is None:
            return not_verified(dispatcher)
        asked = status_question(tracker)
        on_the_way = order.status in ("placed", "paid", "packed", "shipped")
        if asked == "tracking" and order.status == "shipped" and order.tracking_number:
            dispatcher.utter_message(
                response="utter_order_tracking_number",
                carrier=order.carrier or "",
                tracking_number=order.tracking_number,
                **order_values(order, domain),
            )
        elif asked == "tracking" and order.status in ("placed", "paid", "packed"):
            dispatcher.utter_message(response="utter_order_no_tracking_yet", **order_values(order, domain))
        elif asked == "dispatch" and order.status in ("placed", "paid", "packed"):
            dispatcher.utter_message(response="utter_order_not_shipped_yet", **order_values(order, domain))
            if order.estimated_delivery:
                dispatcher.utter_message(
                    response="utter_order_estimated_delivery", estimated_delivery=nice_date(order.estimated_delivery)
                )
        elif asked == "arrival" and on_the_way and order.estimated_delivery:
            dispatcher.utter_message(
                response="utter_order_arrives_by",
                estimated_delivery=nice_date(order.estimated_delivery),
                **order_values(order, domain),
            )
        else:
            say_status(dispatcher, order, domain)
        return answered()


ORDER_ANSWERS = frozenset(
    {"action_order_status", "action_check_cancellation", "action_check_return_eligibility", "action_refund_status"}
)
OPTIONS_RESPONSES = {
    "placed": "utter_order_options_open",
    "paid": "utter_order_options_open",
    "packed": "utter_order_options_packed",
    "shipped": "utter_order_options_shipped",
    "delivered": "utter_order_options_delivered",
    "cancelled": "utter_order_options_cancelled",
}


class ActionCapabilities(ShopAction):
    """ "What are my options?" right after an answer about a verified order: what can be done with that order
    in its state; otherwise everything the assistant can do (``utter_capabilities``)."""

    def name(self) -> Text:
        return "action_capabilities"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        order = verified_order(tracker) if last_bot_action(tracker) in ORDER_ANSWERS else None
        if order is not None and order.status in OPTIONS_RESPONSES:
            dispatcher.utter_message(response=OPTIONS_RESPONSES[order.status], order_number=order.order_number)
        else:
            dispatcher.utter_message(response="utter_capabilities")
        return []


# --------------------------------------------------------------------------- cancel


class ActionCheckCancellation(ShopAction):
    """Says whether the order can still be cancelled and, if so, asks for confirmation."""

    def name(self) -> Text:
        return "action_check_cancellation"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from shopdb.models import OrderStatus

        order = verified_order(tracker)
        if order is None:
            return not_verified(dispatcher)
        allowed = order.status in OrderStatus.CANCELLABLE
        if allowed:
            dispatcher.utter_message(response="utter_ask_confirm_cancel", **order_values(order, domain))
        elif order.status == OrderStatus.CANCELLED:
            dispatcher.utter_message(response="utter_order_already_cancelled", **order_values(order, domain))
        else:
            say_not_cancellable(dispatcher, order, domain)
        return answered(allowed)


NOT_CANCELLABLE_RESPONSES = {
    "packed": "utter_cancel_not_possible_packed",
    "shipped": "utter_cancel_not_possible_shipped",
    "delivered": "utter_cancel_not_possible_delivered",
}


def say_not_cancellable(dispatcher: CollectingDispatcher, order: Any, domain: DomainDict) -> None:
    """Why the order can't be cancelled any more, and that it can be returned instead."""
    from shopdb.policies import RETURN_WINDOW_DAYS

    dispatcher.utter_message(
        response=NOT_CANCELLABLE_RESPONSES.get(order.status, "utter_cancel_not_possible"),
        return_days=RETURN_WINDOW_DAYS,
        **order_values(order, domain),
    )


class ActionCancelOrder(ShopAction):
    def name(self) -> Text:
        return "action_cancel_order"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number = tracker.get_slot("order_number")
        if not number:
            return not_verified(dispatcher)
        result = shop_orders().cancel_order(number, reason="Cancelled by the shopper in chat", **proof(tracker))
        if result.code == "not_found" or result.order is None:
            return not_verified(dispatcher)
        order = result.order
        if result.code == "cancelled":
            refund = result.details.get("refund_amount") or 0.0
            if refund:
                low, high = result.details["refund_days"]
                dispatcher.utter_message(
                    response="utter_cancel_done_refund",
                    refund_amount=money(refund, order.currency),
                    refund_days_min=low,
                    refund_days_max=high,
                    **order_values(order, domain),
                )
            else:
                dispatcher.utter_message(response="utter_cancel_done", **order_values(order, domain))
        elif result.code == "already_cancelled":
            dispatcher.utter_message(response="utter_order_already_cancelled", **order_values(order, domain))
        else:  # not_cancellable: it moved on since the check
            say_not_cancellable(dispatcher, order, domain)
        return []


# --------------------------------------------------------------------------- delivery address


class ActionCheckAddressChange(ShopAction):
    """Says where the order goes now and whether that can still change (the address form follows)."""

    def name(self) -> Text:
        return "action_check_address_change"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from shopdb.models import OrderStatus

        order = verified_order(tracker)
        if order is None:
            return not_verified(dispatcher)
        allowed = order.status in OrderStatus.ADDRESS_CHANGEABLE
        if allowed:
            dispatcher.utter_message(
                response="utter_order_address_current",
                address=address_text(order.delivery_address),
                **order_values(order, domain),
            )
        else:
            say_address_not_changeable(dispatcher, order, domain)
        return answered(allowed) + [SlotSet("new_address", None)]


def say_address_not_changeable(dispatcher: CollectingDispatcher, order: Any, domain: DomainDict) -> None:
    """Too late for a new address: shipped (the carrier may redirect it) or delivered/cancelled."""
    if order.status == "shipped" and order.carrier:
        dispatcher.utter_message(
            response="utter_address_not_changeable_redirect",
            carrier=order.carrier,
            tracking_number=order.tracking_number or "",
            **order_values(order, domain),
        )
    elif order.status == "shipped":
        dispatcher.utter_message(response="utter_address_not_changeable_shipped", **order_values(order, domain))
    else:
        dispatcher.utter_message(response="utter_address_not_changeable", **order_values(order, domain))


def say_invalid_address(
    dispatcher: CollectingDispatcher, errors: Sequence[Dict[str, Any]], address: Dict[str, Any]
) -> None:
    """What is wrong with a new address (its first problem), from the validation errors' fields and types."""
    from shopdb import policies

    first = errors[0] if errors else {}
    field = str(first.get("field") or "")
    if str(first.get("type", "")).endswith("country_not_served"):
        dispatcher.utter_message(
            response="utter_address_country_not_served",
            country=country_name(str(address.get("country") or "").upper()[:2]),
            countries=", ".join(country_name(code) for code in sorted_by_name(policies.SHIPPING_COUNTRIES)),
        )
    elif field == "name":
        dispatcher.utter_message(response="utter_address_invalid_name")
    elif field == "line1":
        dispatcher.utter_message(response="utter_address_invalid_line1")
    elif field == "city":
        dispatcher.utter_message(response="utter_address_invalid_city")
    elif field == "postcode":
        dispatcher.utter_message(response="utter_address_invalid_postcode")
    elif field == "country":
        dispatcher.utter_message(response="utter_address_invalid_country")
    else:
        dispatcher.utter_message(response="utter_address_invalid")


class ValidateAddressForm(ShopFormValidation):
    """Reads the new address from one line and checks it before anything changes."""

    def name(self) -> Text:
        return "validate_address_form"

    async def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        from pydantic import ValidationError

        from shopdb.orders import DeliveryAddress

        if isinstance(value, dict):
            return {"new_address": value}
        order = await asyncio.to_thread(verified_order, tracker)
        current = order.delivery_address if order else {}
        address = parse_address(str(value), current.get("name") or "", current.get("country") or "")
        if address is None:
            dispatcher.utter_message(response="utter_address_unreadable")
            return {"new_address": None}
        try:
            DeliveryAddress.parse_obj(address)
        except ValidationError as exc:
            errors = [{"field": ".".join(map(str, e["loc"])), "type": e.get("type", "")} for e in exc.errors()]
            say_invalid_address(dispatcher, errors, address)
            return {"new_address": None}
        return {"new_address": address}


class ActionChangeAddress(ShopAction):
    """Shows the order, the old and the new address and asks; changes only on a "yes" to that question.

    ``address_change_pending`` carries the question to the answer (``bot/data/rules/orders.yml``); a
    "yes" to any other question, or after a digression, changes nothing.
    """

    def name(self) -> Text:
        return "action_change_address"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number, address = tracker.get_slot("order_number"), tracker.get_slot("new_address")
        done: List[EventType] = [SlotSet("new_address", None), SlotSet(PENDING_ADDRESS, None)]
        if not number:
            return not_verified(dispatcher) + done
        if not isinstance(address, dict):
            dispatcher.utter_message(response="utter_address_missing")
            return done
        if not tracker.get_slot(PENDING_ADDRESS):
            order = verified_order(tracker)
            if order is None:
                return not_verified(dispatcher) + done
            old = order.delivery_address or {}
            dispatcher.utter_message(
                response=CONFIRM_ADDRESS,
                address_before=address_line(old),
                address_after=address_line(address),
                **order_values(order, domain),
            )
            return [SlotSet(PENDING_ADDRESS, True)]
        if latest_intent(tracker) != "affirm" or not answers_question_of(tracker, self.name()):
            dispatcher.utter_message(response="utter_address_kept", order_number=number)
            return done
        result = shop_orders().change_delivery_address(number, address, **proof(tracker))
        if result.code == "not_found":
            return not_verified(dispatcher) + done
        if result.code == "invalid_address" or result.order is None:
            say_invalid_address(dispatcher, result.details.get("errors") or [], address)
        elif result.code == "address_changed":
            new = result.order.delivery_address
            dispatcher.utter_message(
                response="utter_address_changed",
                address=f"{new.get('line1')}, {new.get('postcode')} {new.get('city')}",
                **order_values(result.order, domain),
            )
        else:  # not_changeable: it shipped since the check
            say_address_not_changeable(dispatcher, result.order, domain)
        return done


def address_line(address: Dict[str, Any]) -> str:
    """ "Keizersgracht 100, 1015 CV Amsterdam, the Netherlands": what a shopper checks before saying yes."""
    return address_text({**address, "name": None, "country": country_name(str(address.get("country") or ""))})


# --------------------------------------------------------------------------- missing / damaged items


def match_order_item(items: Sequence[Any], value: Any, tracker: Tracker) -> Optional[Any]:
    """The order line the shopper means: a button's item id, "the second one", or words of its title."""
    text = str(value or "").strip().lower()
    for item in items:
        if text == str(item.item_id) or text == str(item.sku).lower():
            return item
    ordinal = ordinal_position(first_entity(tracker, "ordinal"))
    if ordinal is not None:
        index = ordinal - 1 if ordinal > 0 else len(items) - 1
        return items[index] if 0 <= index < len(items) else None
    words = set(re.findall(r"[a-z]{3,}", text)) - {"the", "and", "one", "item", "that", "this", "with"}
    singular = {w[:-1] if w.endswith("s") else w for w in words}
    scored = []
    for item in items:
        title_words = {w[:-1] if w.endswith("s") else w for w in re.findall(r"[a-z]{3,}", item.title.lower())}
        scored.append((len(singular & title_words), item))
    scored.sort(key=lambda pair: -pair[0])
    if scored and scored[0][0] > 0 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    return None


class ActionCheckProblemReport(ShopAction):
    """A missing or damaged item can only be reported on an order that has shipped."""

    def name(self) -> Text:
        return "action_check_problem_report"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        order = verified_order(tracker)
        if order is None:
            return not_verified(dispatcher)
        if order.status not in ("shipped", "delivered"):
            dispatcher.utter_message(response="utter_problem_not_shipped", **order_values(order, domain))
            return answered(False)
        item = str(order.items[0].item_id) if len(order.items) == 1 else None
        kind = problem_kind(tracker.get_slot("problem_type"))
        return answered(True) + [SlotSet("order_item", item), SlotSet("problem_type", kind)]


class ActionAskOrderItem(ShopAction):
    """Which item? Buttons with the order's lines (only the returnable ones in a return)."""

    def name(self) -> Text:
        return "action_ask_order_item"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        order = verified_order(tracker)
        if order is None:
            dispatcher.utter_message(response="utter_ask_which_item")
            return []
        returning = (tracker.active_loop or {}).get("name") == "return_form"
        if returning:
            eligibility = shop_orders().return_eligibility(order.order_number, **proof(tracker))
            lines = [(i.item_id, i.title) for i in eligibility.items if i.eligible]
        else:
            lines = [(i.item_id, f"{i.quantity} x {i.title}") for i in order.items]
        buttons = [
            {"title": title[:80], "payload": intent_payload("inform", order_item=item_id)} for item_id, title in lines
        ]
        if returning:
            dispatcher.utter_message(response="utter_ask_which_item_to_return", buttons=buttons)
        else:
            buttons.append(
                {
                    "title": label(domain, "utter_label_whole_parcel"),
                    "payload": intent_payload("inform", order_item="all"),
                }
            )
            dispatcher.utter_message(response="utter_ask_which_item", buttons=buttons)
        return []


class ValidateProblemForm(ShopFormValidation):
    def name(self) -> Text:
        return "validate_problem_form"

    async def validate_problem_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        kind = problem_kind(str(value))
        if kind is None:
            text = str(value).lower()
            kind = next((k for word, k in PROBLEM_KINDS.items() if word in text), None)
        if kind is None:
            dispatcher.utter_message(response="utter_problem_type_unclear")
            return {"problem_type": None}
        return {"problem_type": kind}

    async def validate_order_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if str(value).strip().lower() == "all" or (
            _WHOLE_PARCEL_RE.search(str(value)) and not entity_values(tracker, "ordinal")
        ):
            return {"order_item": "all"}
        order = await asyncio.to_thread(verified_order, tracker)
        item = match_order_item(order.items, value, tracker) if order else None
        if item is None:
            dispatcher.utter_message(response="utter_item_unclear_pick")
            return {"order_item": None}
        return {"order_item": str(item.item_id)}


def request_text(tracker: Tracker, intent: str) -> str:
    """What the shopper wrote when they started this request (kept with the report for the team)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and (event.get("parse_data") or {}).get("intent", {}).get("name") == intent:
            text = event.get("text") or ""
            return "" if text.startswith("/") else text[:500]
    return ""


class ActionReportProblem(ShopAction):
    def name(self) -> Text:
        return "action_report_problem"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        order = verified_order(tracker)
        if order is None:
            return not_verified(dispatcher)
        kind = problem_kind(tracker.get_slot("problem_type")) or "other"
        item_id = tracker.get_slot("order_item")
        item = next((i for i in order.items if str(i.item_id) == str(item_id)), None)
        result = shop_orders().report_order_problem(
            order.order_number,
            kind,
            request_text(tracker, "report_problem"),
            sku=item.sku if item else None,
            **proof(tracker),
        )
        cleared: List[EventType] = [SlotSet("problem_type", None), SlotSet("order_item", None)]
        if result.code == "not_found" or result.order is None:
            return not_verified(dispatcher) + cleared
        values = order_values(result.order, domain)
        if result.code == "issue_recorded":
            dispatcher.utter_message(
                response=PROBLEM_RECORDED_RESPONSES.get(
                    str(result.details.get("kind")), "utter_problem_recorded_other"
                ),
                reference=result.reference,
                **values,
            )
        elif result.code == "not_shipped":
            dispatcher.utter_message(response="utter_problem_not_shipped", **values)
        elif result.code == "item_not_in_order":
            dispatcher.utter_message(response="utter_item_not_in_order", sku=result.details.get("sku", ""), **values)
        else:  # invalid_kind: problem_kind() only gives known kinds
            dispatcher.utter_message(response="utter_something_went_wrong")
        return cleared


PROBLEM_RECORDED_RESPONSES = {
    "missing": "utter_problem_recorded_missing",
    "damaged": "utter_problem_recorded_damaged",
    "wrong_item": "utter_problem_recorded_wrong_item",
    "not_arrived": "utter_problem_recorded_not_arrived",
    "other": "utter_problem_recorded_other",
}
