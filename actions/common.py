"""Pieces every flow uses: the action base class, entity helpers, privacy, fallback and stop actions.

Why a base class: every action talks to the shop (SQLite/PostgreSQL + FAISS),
which blocks; :class:`ShopAction` runs the flow's synchronous ``respond`` in a
worker thread so the action server keeps serving other shoppers, and turns an
unexpected error into a polite answer instead of a silent conversation.

Words: every sentence the assistant says is a response in the Rasa domain (``bot/domain.yml``);
actions send ``utter_message(response="utter_...", <values>)`` and Rasa's NLG fills the
``{placeholders}``. Words an action arranges itself (list entries, button titles, phrases such
as "under €80.00") come from ``utter_label_*`` responses through :func:`label`.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction, ValidationAction
from rasa_sdk.interfaces import ACTION_LISTEN_NAME
from rasa_sdk.types import DomainDict

from actions.pending import (
    FINISHING_ACTIONS,
    first_request_text,
    may_resume_after,
    pending_from_message,
    resume_pending,
)
from core.log_masking import conversation_ref
from core.settings import get_settings
from core.signing import CustomerProofs, OrderProofs, resolve_secret_key
from rasa_addons.bot_domain import bot_domain

logger = logging.getLogger(__name__)

WIDGET_CHANNELS = frozenset({"shop", "socketio"})  # channels that render cards and buttons
# Channels that put a customer id into metadata only from a verified signed token (web/channel.py).
IDENTITY_CHANNELS = frozenset({"shop"})
FORM_SLOTS = ("order_item", "return_reason", "problem_type", "new_address", "stock_alert_product")

# --------------------------------------------------------------------------- signatures


def proven_customer_id(tracker: Tracker) -> Optional[str]:
    """The customer id the latest message proves (normalised), or None.

    Only the shop channel puts a customer id into metadata, from a verified signed token, with
    ``customer_proof`` binding it to this conversation; another channel's metadata is whatever its
    caller sent, and a tracker that merely claims an id proves nothing.
    """
    from shopdb.orders import normalise_customer_id

    if tracker.get_latest_input_channel() not in IDENTITY_CHANNELS:
        return None
    metadata = message_metadata(tracker)
    claimed = metadata.get("customer_id")
    customer_id = normalise_customer_id(claimed)
    if not customer_id:
        return None
    if not customer_proofs().valid(metadata.get("customer_proof"), tracker.sender_id, claimed):
        logger.warning("customer id without a valid proof in conversation %s", conversation_ref(tracker.sender_id))
        return None
    return customer_id


def shop_url() -> str:
    """The shop's own website (``SHOP_STOREFRONT_URL``): links to account pages start with it."""
    return get_settings().storefront_url.rstrip("/")


def public_url() -> str:
    """The Rasa server's address as shoppers reach it (``SHOP_PUBLIC_URL``): links the bot sends start with it."""
    return get_settings().public_url.rstrip("/")


def visible_events(tracker: Tracker) -> List[Dict[str, Any]]:
    """The conversation's events as the shopper lived it: a message the two-stage fallback rewound (to read it
    again as a rephrase) appears once, not twice, and its first reading's turn is gone; a restart or a new
    session starts over. Unlike Rasa's ``applied_events`` a form's turns stay apart: the bot's last turn is
    what it said since the shopper's previous message, even while a form runs."""
    visible: List[Dict[str, Any]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind in ("restart", "session_started"):
            visible = []
        elif kind == "undo":
            _drop_back_to(visible, "action")
        elif kind == "rewind":
            _drop_back_to(visible, "user")
            _drop_back_to(visible, "action")
        else:
            visible.append(event)
    return visible


def _drop_back_to(events: List[Dict[str, Any]], kind: str) -> None:
    """Removes the last event of ``kind`` and everything after it (Rasa's ``_undo_till_previous``)."""
    while events:
        if events.pop().get("event") == kind:
            return


def events_before_latest_message(tracker: Tracker) -> List[Dict[str, Any]]:
    """The visible events before the shopper's latest message (none when there is no message)."""
    events = visible_events(tracker)
    users = [n for n, e in enumerate(events) if e.get("event") == "user"]
    return events[: users[-1]] if users else []


def last_bot_action(tracker: Tracker) -> Optional[str]:
    """The bot's last action before the shopper's latest message (None when there was none)."""
    before = [e.get("name") for e in events_before_latest_message(tracker) if e.get("event") == "action"]
    asked = [name for name in before if name != "action_listen"]
    return asked[-1] if asked else None


def last_turn_events(tracker: Tracker) -> List[Dict[str, Any]]:
    """The events between the shopper's previous message and the latest one: the bot's last turn."""
    before = events_before_latest_message(tracker)
    users = [n for n, e in enumerate(before) if e.get("event") == "user"]
    return before[users[-1] + 1 :] if users else []


def answers_question_of(tracker: Tracker, action: str) -> bool:
    """True when the bot's last action before the shopper's latest message was ``action``: the "yes" or "no"
    answers the question that action asked (a confirmation), not another one or one from before a digression."""
    return last_bot_action(tracker) == action


def signed_in_customer(tracker: Tracker) -> Optional[str]:
    """The ``customer_id`` slot when this very message proves it; None for a guest, an unproven
    claim, or a shopper who has signed out since the slot was filled."""
    customer_id = tracker.get_slot("customer_id")
    if customer_id and proven_customer_id(tracker) == customer_id:
        return str(customer_id)
    return None


@lru_cache(maxsize=1)
def order_proofs() -> OrderProofs:
    """Signs and checks "this conversation verified this order" (core.signing)."""
    return OrderProofs(resolve_secret_key())


@lru_cache(maxsize=1)
def customer_proofs() -> CustomerProofs:
    """Checks the channel's proof that a customer id belongs to this conversation."""
    return CustomerProofs(resolve_secret_key())


# --------------------------------------------------------------------------- words from the domain

_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def domain_responses(domain: Optional[DomainDict]) -> Dict[str, Any]:
    """The domain's responses; a call that came without the domain reads the bot folder's."""
    responses = (domain or {}).get("responses")
    return responses if isinstance(responses, dict) and responses else bot_domain().get("responses") or {}


def label(domain: Optional[DomainDict], name: str, default: Optional[str] = None, **values: Any) -> str:
    """The words of the domain response ``name`` (``utter_label_...``), ``{placeholders}`` filled from ``values``.

    For the words an action arranges itself: a list entry's state, a button title among generated
    ones, a phrase in a value of another response. Takes the response's first plain-text variation;
    a response missing from the domain gives ``default`` (or ``name``) and a warning.
    """
    variations = domain_responses(domain).get(name) or []
    text = next(
        (
            v["text"]
            for v in variations
            if isinstance(v, dict) and isinstance(v.get("text"), str) and not v.get("channel")
        ),
        None,
    )
    if text is None:
        logger.warning("response %s is missing from the domain", name)
        return default if default is not None else name
    return _PLACEHOLDER_RE.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


# --------------------------------------------------------------------------- tracker helpers


def latest_text(tracker: Tracker) -> str:
    """The shopper's words for the request handled now ("" for a button payload such as ``/order_status``):
    of a message with two requests, only the words of the one acted on first."""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    if text.startswith("/"):
        return ""
    return (first_request_text(message) or text).strip()


def latest_intent(tracker: Tracker) -> Optional[str]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def entity_values(tracker: Tracker, entity: str) -> List[str]:
    """Values of ``entity`` in the latest message, in order of appearance, without repeats."""
    found = [e for e in (tracker.latest_message or {}).get("entities") or [] if e.get("entity") == entity]
    found.sort(key=lambda e: e.get("start") or 0)
    values: List[str] = []
    for item in found:
        value = item.get("value")
        if value is not None and str(value) not in values:
            values.append(str(value))
    return values


def words_before_entity(tracker: Tracker, entity: str, width: int = 20) -> str:
    """Up to ``width`` characters of the latest message before the first ``entity`` ("under " for a price)."""
    found = [e for e in (tracker.latest_message or {}).get("entities") or [] if e.get("entity") == entity]
    starts = [e["start"] for e in found if isinstance(e.get("start"), int)]
    if not starts:
        return ""
    start = min(starts)
    return str((tracker.latest_message or {}).get("text") or "")[max(0, start - width) : start]


def first_entity(tracker: Tracker, entity: str) -> Optional[str]:
    values = entity_values(tracker, entity)
    return values[0] if values else None


def message_metadata(tracker: Tracker) -> Dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def rich_channel(tracker: Tracker) -> bool:
    """True when the shopper's channel renders cards, so the text can stay short."""
    return tracker.get_latest_input_channel() in WIDGET_CHANNELS


def client_can(tracker: Tracker, capability: str) -> bool:
    """The shopper's chat client announced ``capability`` (``cart``, ``cards``, ``speakers``: core/capabilities.py)
    with its latest message; clients that announce nothing (Rasa's stock widgets, REST callers) can do none."""
    capabilities = message_metadata(tracker).get("capabilities")
    return isinstance(capabilities, list) and capability in capabilities


def in_form(tracker: Tracker) -> bool:
    return bool((tracker.active_loop or {}).get("name"))


# --------------------------------------------------------------------------- base class


class ShopAction(Action, ABC):
    """An action whose work (``respond``) is synchronous and may touch the shop's stores."""

    @abstractmethod
    def name(self) -> Text:
        """The action's name in the domain."""

    @abstractmethod
    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """The action's work; runs in a worker thread."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            events = await asyncio.to_thread(self.respond, dispatcher, tracker, domain)
        except Exception:
            logger.exception("%s failed for conversation %s", self.name(), conversation_ref(tracker.sender_id))
            dispatcher.utter_message(response="utter_something_went_wrong")
            return []
        try:  # context for the next turn; the answer stands without it
            if not self.name().startswith("action_ask_"):  # a form asking again for its detail is no repetition
                events += await asyncio.to_thread(self._not_again, dispatcher, tracker)
            events += self._topic(dispatcher, events)
        except Exception:
            logger.exception(
                "%s: no follow-up context for conversation %s", self.name(), conversation_ref(tracker.sender_id)
            )
        if self.name() in FINISHING_ACTIONS and may_resume_after(events):
            events = [*events, *resume_pending(tracker, dispatcher)]  # the other half of a two-part message
        return events

    @staticmethod
    def _topic(dispatcher: CollectingDispatcher, events: List[EventType]) -> List[EventType]:
        """The passage an answer from the shop's data stands for, as the conversation's topic (unless the
        action set one): a follow-up is then read in it (actions.policies.PASSAGE_RESPONSES)."""
        from actions.policies import topic_of_responses

        if any(e.get("event") == "slot" and e.get("name") == "policy_topic" for e in events):
            return []
        key = topic_of_responses([m.get("response") for m in dispatcher.messages])
        return [SlotSet("policy_topic", key)] if key else []

    @staticmethod
    def _not_again(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """A new question whose answer would repeat the last turn word for word gets the shop's passage for
        it instead (actions.repetition). Imported when called: actions.repetition builds on this module."""
        from actions.policies import say_passage
        from actions.repetition import answer_instead_of_repeating, repeats_last_answer

        if not repeats_last_answer(tracker, dispatcher.messages):
            return []
        passage = answer_instead_of_repeating(tracker)
        if passage is None:
            return []
        dispatcher.messages.clear()
        return say_passage(dispatcher, passage)


# --------------------------------------------------------------------------- common actions


class ShopFormValidation(FormValidationAction, ABC):
    """A form's validation that checks only what the shopper gave, not slots an action cleared.

    An action that resets a form's slots (``SlotSet("new_address", None)``) right before the form
    starts leaves them among the slots set since the shopper's message, and rasa-sdk would call
    ``validate_new_address(None)``: the shopper would hear "I couldn't read that as an address"
    about an answer nobody gave. The validators see a tracker without those cleared slots.
    """

    @abstractmethod
    def name(self) -> Text:
        """validate_<form name> (abstract: rasa-sdk registers every concrete action class)."""

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        given = {name: value for name, value in tracker.slots_to_validate().items() if value is not None}
        view = copy.copy(tracker)  # shares the slots, so the validators' updates stay visible
        view.slots_to_validate = lambda: dict(given)
        return await super().get_validation_events(dispatcher, view, domain)


class ValidateSlotMappings(ValidationAction):
    """Slots filled from the widget's message metadata on every turn.

    ``customer_id`` is only ever read from the shop channel's metadata (the channel
    puts it there from a signed token, with ``customer_proof`` binding it to this
    conversation), never from what the shopper types, nor from another channel's
    metadata (Rasa's REST channel passes whatever its caller sends). The proof is
    checked here too: a tracker that merely claims a customer id opens nothing.
    ``page_product`` follows the product page the shopper has open, and becomes the
    product in focus when it changes.
    """

    def extract_customer_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        customer_id = proven_customer_id(tracker)
        if not customer_id or customer_id == tracker.get_slot("customer_id"):
            return {}
        return {"customer_id": customer_id}

    def extract_page_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        page = message_metadata(tracker).get("page")
        product_id = page.get("product_id") if isinstance(page, dict) else None
        if product_id is None:
            return {}
        product_id = str(product_id).strip()[:40]
        if not product_id.isdigit() or product_id == tracker.get_slot("page_product"):
            return {}
        return {"page_product": product_id, "current_product": product_id}

    def extract_pending_request(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The second request of a two-part message (announced now), or a frustrated shopper's request."""
        message = tracker.latest_message or {}
        pending = pending_from_message(message)
        if pending is None:
            return {}
        requests = message.get("requests") or []
        if requests:
            first = str(requests[0].get("intent") or "")
            dispatcher.utter_message(
                response="utter_two_requests",
                first_label=label(domain, INTENT_LABEL + first, default=first.replace("_", " ")),
                second_text=pending["text"],
            )
        return {"pending_request": pending}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Slots filled by mappings this turn need no further checks here (forms validate theirs), except the
        order form's task: the answer to its question does not change what the form is for."""
        filled = tracker.slots_to_validate()
        if "order_task" in filled and answers_the_order_form(tracker):
            filled["order_task"] = task_before(tracker)
        return [SlotSet(name, value) for name, value in filled.items()]


def answers_the_order_form(tracker: Tracker) -> bool:
    """Whether the latest message answers the order form's question for the number or e-mail ("10000005 is the
    order") and reads only as a plain status request: the classifier's ``order_status`` would otherwise turn a
    refund or invoice check into a status check."""
    if (tracker.active_loop or {}).get("name") != "order_form" or latest_intent(tracker) != "order_status":
        return False
    asked = tracker.get_slot("requested_slot")
    return asked in ("order_number", "email") and bool(first_entity(tracker, asked)) and bool(task_before(tracker))


def task_before(tracker: Tracker) -> Optional[str]:
    """The order form's task before the latest message."""
    before = events_before_latest_message(tracker)
    tasks = [e.get("value") for e in before if e.get("event") == "slot" and e.get("name") == "order_task"]
    return str(tasks[-1]) if tasks and tasks[-1] else None


class ActionFallbackAnswer(Action):
    """The first answer to a message the classifier could not place: the shop's texts, or the products it names
    in the catalogue's words, and the turn ends (a follow-up ``action_listen``); only when neither fits does the
    rule go on to the two-stage fallback ("did you mean ...?").

    Answered before the fallback's loop starts, not inside it: a message the shopper types next is a rephrase
    to that loop, and Rasa then drops the loop's first turn with every slot it set ("gold ones only" after a
    list shown there would find no list)."""

    def name(self) -> Text:
        return "action_fallback_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        answered = await answer_from_the_shop(dispatcher, tracker, domain)  # no guessing when the shop answers
        if answered is None:
            return []  # the rule goes on with the two-stage fallback
        return answered + [FollowupAction(ACTION_LISTEN_NAME)]


class ActionOutOfScope(Action):
    """A message the classifier reads as outside the shop, read in the conversation first: a short question
    right after a policy answer ("what about bitcoin?" after the payment methods) gets that topic's passage,
    and products named while choosing ("he loves cooking" after a list of presents) are searched. Otherwise
    the shopper hears what the assistant can help with."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from actions.policies import say_passage, topic_follow_up

        passage = await asyncio.to_thread(topic_follow_up, tracker)
        if passage is not None:
            return say_passage(dispatcher, passage)
        if tracker.get_slot("last_search"):
            shown = await answer_with_products(dispatcher, tracker, domain)
            if shown is not None:
                return shown
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionDefaultFallback(Action):
    """Fallback when nothing fits. After the two-stage fallback gave up it hands off (repeated failure)."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        # A question the shop's texts answer (a policy follow-up) gets that answer instead of "didn't get
        # that", or instead of a person after repeated misunderstandings.
        answered = await answer_from_the_shop(dispatcher, tracker, domain)
        if answered is not None:
            # Answered: wait for the shopper. When the two-stage fallback ends here, its rule would hand off
            # next ("gave up"), under an answer the shopper may be happy with.
            return answered + [FollowupAction(ACTION_LISTEN_NAME)]
        gave_up = latest_intent(tracker) == "nlu_fallback"
        if gave_up:
            dispatcher.utter_message(response="utter_fallback_handoff")
            return [SlotSet("handoff_reason", "repeated_failure"), FollowupAction("action_handoff_to_human")]
        dispatcher.utter_message(response="utter_default")
        return [UserUtteranceReverted()]


SENTENCE_WORDS = 3  # a message of at least this many words is something said, not a typo or noise


class ActionFormFallback(Action):
    """A message the classifier could not place while a form waits for an answer.

    "I checked the statement, nothing from Larkspur", "ok good to know", "I can't find the confirmation
    e-mail": the shopper said something, not nonsense, so "Sorry, I didn't get that" (Rasa's default) reads
    as not listening. The shop's texts answer it when they can; otherwise the bot acknowledges it and says
    how to leave the form. The form's rule then asks its question again; no slot is touched, so nothing
    typed here is reused as an answer. What the form reads itself (``form_answer``) is left to it."""

    def name(self) -> Text:
        return "action_form_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if form_answer(tracker, domain):
            return []  # the form reads it next, and asks its next question (or this one again)
        answered = await answer_from_policies(dispatcher, tracker, domain)
        if answered is not None:
            return [event for event in answered if not _fills_a_form_slot(event, tracker)]
        words = re.findall(r"[^\W\d_]+", latest_text(tracker))
        response = "utter_form_go_on" if len(words) >= SENTENCE_WORDS else "utter_default"
        dispatcher.utter_message(response=response)
        return []


def form_answer(tracker: Tracker, domain: DomainDict) -> bool:
    """Whether the form reads the latest message itself, so it is not looked up in the shop's texts: it carries
    an entity ("the first one": an ordinal), or the slot asked for takes any text ("it broke" as a return
    reason; the form's validation says what it could not tell)."""
    if (tracker.latest_message or {}).get("entities"):
        return True
    slot = (domain.get("slots") or {}).get(str(tracker.get_slot("requested_slot")), {})
    return any(
        mapping.get("type") == "from_text"
        and not mapping.get("intent")
        and "nlu_fallback" not in (mapping.get("not_intent") or [])
        for mapping in slot.get("mappings") or []
    )


def _fills_a_form_slot(event: EventType, tracker: Tracker) -> bool:
    """Whether ``event`` would set the slot the form is asking for (a passage only sets ``policy_topic``, but
    the delivery answer sets ``country``, which a form may ask for)."""
    return event.get("event") == "slot" and event.get("name") == tracker.get_slot("requested_slot")


async def answer_from_policies(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> Optional[List[EventType]]:
    """The shop's passage for a message the classifier could not place, said; None when none fits. A country
    named right after a delivery answer ("what about Norway?") gets the delivery options for it instead
    (answered here, not by a follow-up action: inside the two-stage fallback this is one step of its loop).

    Imported when called: actions.policies and actions.delivery build on this module.
    """
    from actions.delivery import ActionDelivery, asks_delivery_to_another_country
    from actions.policies import policy_follow_up, say_passage

    if asks_delivery_to_another_country(tracker):
        return await asyncio.to_thread(ActionDelivery().respond, dispatcher, tracker, domain)
    passage = await asyncio.to_thread(policy_follow_up, tracker)
    return say_passage(dispatcher, passage) if passage is not None else None


async def answer_from_the_shop(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> Optional[List[EventType]]:
    """A message the classifier could not place, answered by the shop's texts, else by the products it names;
    None when neither fits."""
    answered = await answer_from_policies(dispatcher, tracker, domain)
    return answered if answered is not None else await answer_with_products(dispatcher, tracker, domain)


async def answer_with_products(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> Optional[List[EventType]]:
    """The products a message the classifier could not place names in the catalogue's words, shown (a list
    refined or a new search: ``actions.products.product_follow_up``); None when it names none. Run here, not
    as a follow-up action: inside the two-stage fallback this is one step of its loop."""
    from actions.products import ActionRefineSearch, ActionSearchProducts, ActionShowProduct, product_follow_up

    search = await asyncio.to_thread(product_follow_up, tracker)
    if search is None:
        return None
    actions = {"action_refine_search": ActionRefineSearch, "action_show_product": ActionShowProduct}
    action = actions.get(search, ActionSearchProducts)()
    return await asyncio.to_thread(action.respond, dispatcher, tracker, domain)


INTENT_LABEL = "utter_label_intent_"  # + intent name: how the shopper would say it ("check where your order is")
MIN_GUESS_CONFIDENCE = 0.15  # below it an intent is not offered in "did you mean ...?"
# Small talk whose answer costs nothing when it is a misreading: said, not offered as "did you mean ...?".
SMALL_TALK_ANSWERS = {"thank": "utter_you_are_welcome", "goodbye": "utter_goodbye", "greet": "utter_greet"}


class ActionDefaultAskAffirmation(Action):
    """'Did you mean ...?' in words a shopper understands, with the top two guesses as buttons.

    Only intents with a ``utter_label_intent_<name>`` response in the domain and a confidence of
    at least ``MIN_GUESS_CONFIDENCE`` are offered; with none, the shopper is asked to rephrase.
    """

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        best_guess: Dict[str, Any] = next((r for r in ranking if r.get("name") != "nlu_fallback"), {})
        small_talk = SMALL_TALK_ANSWERS.get(str(best_guess.get("name")))
        if small_talk and float(best_guess.get("confidence") or 0.0) >= MIN_GUESS_CONFIDENCE:
            dispatcher.utter_message(response=small_talk)  # "thanks, bye": no "did you mean to say thanks?"
            return []
        labelled = domain_responses(domain)
        guesses = [
            (str(r["name"]), float(r.get("confidence") or 0.0))
            for r in (tracker.latest_message or {}).get("intent_ranking") or []
            if r.get("name") and INTENT_LABEL + str(r["name"]) in labelled
        ]
        # Only guesses the classifier half-believes: an unrelated second option confuses more than it helps.
        ranking = [name for name, confidence in guesses[:2] if confidence >= MIN_GUESS_CONFIDENCE]
        if not ranking:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        best = ranking[0]
        best_label = label(domain, INTENT_LABEL + best)
        if len(ranking) > 1:
            second = ranking[1]
            dispatcher.utter_message(
                response="utter_ask_affirmation",
                intent=best,
                intent_label=best_label,
                other_intent=second,
                other_intent_label=label(domain, INTENT_LABEL + second),
            )
        else:
            dispatcher.utter_message(response="utter_ask_affirmation_one_guess", intent=best, intent_label=best_label)
        return []


class ActionStopForm(Action):
    """The shopper cancelled a form: leave it and forget its half-filled answers."""

    def name(self) -> Text:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        form = (tracker.active_loop or {}).get("name")
        own = f"utter_form_stopped_{form}"  # "no return has been started": what was not done
        dispatcher.utter_message(response=own if own in domain_responses(domain) else "utter_form_stopped")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + [SlotSet(s, None) for s in FORM_SLOTS]


class ActionDeclineHuman(Action):
    """The shopper said no to a person: carry on with the bot."""

    def name(self) -> Text:
        return "action_decline_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        declined: List[EventType] = [SlotSet("human_offered", None), SlotSet("handoff_reason", None)]
        if tracker.get_slot("pending_request"):  # a frustrated shopper's own request: carry on with it
            dispatcher.utter_message(response="utter_decline_human_carry_on")
            return declined + resume_pending(tracker, dispatcher)
        dispatcher.utter_message(response="utter_decline_human")
        return declined


def offer_human(reason: str) -> List[EventType]:
    """Events that make the rules follow up with ``utter_offer_human``."""
    return [SlotSet("human_offered", True), SlotSet("handoff_reason", reason)]
