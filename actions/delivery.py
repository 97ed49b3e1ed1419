"""Delivery options and times per destination country, from the shop's ``delivery_options`` table.

The destination is the ``country`` entity of this message (the NLU lookup), else a country named in
its words (a form the lookup leaves out, "turkey"), else the ``country`` slot (named earlier in the
chat: "and how long does express take?"); all go through one name table (:mod:`shopdb.countries`).
A destination the shop serves gets its options; one it does not serve gets the list of those it
does; no destination gets every method's range and a question for the country. A question about
time (``ask_delivery_period``) gets the days first and the dispatch cut-off of the shipping policy.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Callable, List, Optional, Sequence, Text, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ShopAction, entity_values, label, last_bot_action, latest_intent, latest_text
from actions.policies import closer_passage, say_passage, topic_follow_up, word_stems
from actions.render import money
from actions.shop import shop_orders, shop_search
from retrieval.results import PolicyHit
from shopdb.countries import country_code, country_name, find_country, sorted_by_name
from shopdb.delivery import MethodSummary, delivery_options, summarise_methods
from shopdb.demo_data import DeliveryOptionRecord
from shopdb.policies import DISPATCH_CUTOFF

logger = logging.getLogger(__name__)

PERIOD_INTENT = "ask_delivery_period"
# What this action answers from the shop's delivery options; another shipping passage ("Carriers and
# tracking", "Missed deliveries") answers a question about something else (actions.policies.closer_passage).
COUNTRIES_PASSAGE = "shipping/delivery-countries"
TIMES_PASSAGE = "shipping/delivery-options-and-times"
COSTS_PASSAGE = "shipping/shipping-costs"
OPTIONS_PASSAGES = frozenset({COUNTRIES_PASSAGE, TIMES_PASSAGE, COSTS_PASSAGE})
# Words the options table itself answers, and words that ask nothing: any other word of the question
# (actions.policies.word_stems) found in a shipping passage ("lockers", "customs", "couriers") asks a detail
# that only the passage's text answers.
TABLE_WORDS = frozenset(
    "deliver delivers delivery delivered ship ships shipping shipped express standard costs price prices "
    "free days business long takes there where which about would could should their these those thanks "
    "order orders please extra".split()
)


def destination(tracker: Tracker) -> Optional[str]:
    """The ISO code of the country the shopper asks about, or None."""
    for value in entity_values(tracker, "country"):
        code = country_code(value)
        if code is not None:
            return code
    return find_country(latest_text(tracker)) or country_code(tracker.get_slot("country"))


def names_a_country(tracker: Tracker) -> bool:
    """Whether the latest message names a country (the NLU's entity or the words)."""
    return any(country_code(v) for v in entity_values(tracker, "country")) or bool(find_country(latest_text(tracker)))


def asks_delivery_to_another_country(tracker: Tracker) -> bool:
    """A country named right after a delivery answer ("what about Norway?"): the same question for it."""
    if not names_a_country(tracker):
        return False
    last, topic = last_bot_action(tracker), str(tracker.get_slot("policy_topic") or "")
    return last == "action_delivery_options" or (last == "action_answer_policy" and topic.startswith("shipping/"))


def detail_passage(question: str) -> Optional[PolicyHit]:
    """The closest shipping passage whose text has one of the question's detail words (by their first five
    letters: "locker" finds "lockers"), or None: "can it go to a parcel locker there", "will I pay customs
    in Ireland", "which courier do you use". The embedding alone ranks these by the country they name."""
    countries = {word for word in question.lower().replace("?", " ").replace(",", " ").split() if find_country(word)}
    stems = word_stems(question, skip=TABLE_WORDS | countries)
    if not stems:
        return None
    for hit in shop_search().answer_policy_question(f"shipping: {question}", k=5):
        if hit.key.startswith("shipping/") and stems & word_stems(hit.text):
            return hit
    return None


def asks_about_the_order_in_view(tracker: Tracker) -> bool:
    """ "When will it arrive?" right after a verified order's status means that order, not delivery times."""
    from actions.orders import has_proof  # imported when called: actions.orders builds on this module

    return not names_a_country(tracker) and last_bot_action(tracker) == "action_order_status" and has_proof(tracker)


def method_label(domain: DomainDict, method: str) -> str:
    """A method in words (``utter_label_delivery_method_<method>``); an imported method without one, as stored."""
    return label(domain, f"utter_label_delivery_method_{method}", default=method.replace("_", " ").capitalize())


def days_text(domain: DomainDict, low: int, high: int) -> str:
    if low != high:
        return label(domain, "utter_label_delivery_days", min_days=low, max_days=high)
    if high == 1:
        return label(domain, "utter_label_delivery_one_day")
    return label(domain, "utter_label_delivery_days_exact", days=high)


def price_text(domain: DomainDict, price: Decimal, currency: str) -> str:
    return label(domain, "utter_label_delivery_free") if price == 0 else money(float(price), currency)


def option_cost(domain: DomainDict, option: DeliveryOptionRecord) -> str:
    """Its price, and the order value from which it is free."""
    price = price_text(domain, option.price, option.currency)
    if option.free_from is None or option.price == 0:
        return price
    return label(
        domain, "utter_label_delivery_free_from", price=price, free_from=money(float(option.free_from), option.currency)
    )


def summary_cost(domain: DomainDict, summary: MethodSummary) -> str:
    """A method's price over all countries ("from €4.95" when it varies), and where it is free."""
    price = price_text(domain, summary.min_price, summary.currency)
    if summary.max_price != summary.min_price:
        price = label(domain, "utter_label_delivery_price_from", price=price)
    if summary.free_from is None:
        return price
    free_from = money(float(summary.free_from), summary.currency)
    if summary.free_everywhere:
        return label(domain, "utter_label_delivery_free_from", price=price, free_from=free_from)
    return label(domain, "utter_label_delivery_free_from_some", price=price, free_from=free_from)


def line(domain: DomainDict, method: str, days: str, cost: Optional[str]) -> str:
    """One entry of ``{option_list}``: with its cost, or (a question about time) without."""
    if cost is None:
        return label(domain, "utter_label_delivery_time", method=method_label(domain, method), days=days)
    return label(domain, "utter_label_delivery_option", method=method_label(domain, method), days=days, cost=cost)


Row = TypeVar("Row", DeliveryOptionRecord, MethodSummary)


def option_list(domain: DomainDict, rows: Sequence[Row], cost: Optional[Callable[[DomainDict, Row], str]]) -> str:
    """The ``{option_list}`` of a reply: one line per option or method, with ``cost`` unless None."""
    lines = [
        line(domain, row.method, days_text(domain, row.min_days, row.max_days), cost(domain, row) if cost else None)
        for row in rows
    ]
    return "".join("\n" + entry for entry in lines)


def countries_text(options: Sequence[DeliveryOptionRecord]) -> str:
    return ", ".join(country_name(code) for code in sorted_by_name(o.country for o in options))


class ActionDelivery(ShopAction):
    """Delivery options, times and costs to a destination, or an overview and a question for the country."""

    def name(self) -> Text:
        return "action_delivery_options"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        period = latest_intent(tracker) == PERIOD_INTENT
        if period and asks_about_the_order_in_view(tracker):
            return [FollowupAction("action_order_status")]  # "and when will it arrive?" after its status
        question = latest_text(tracker)
        earlier = topic_follow_up(tracker) if not names_a_country(tracker) else None
        if earlier is not None and earlier.key not in OPTIONS_PASSAGES:  # "how long is it locked for"
            return say_passage(dispatcher, earlier)
        specific = closer_passage(question, OPTIONS_PASSAGES) if question else None
        detail = detail_passage(question) if question and specific is None else None
        if detail is not None and detail.key not in OPTIONS_PASSAGES:
            specific = detail  # "which courier do you use for germany"
        if specific is not None:  # "what if I'm not home"
            return say_passage(dispatcher, specific)
        options = delivery_options(shop_orders().sessions)
        if not options:
            logger.warning("the shop has no delivery options (import them: shopdb/importer.py)")
            dispatcher.utter_message(response="utter_delivery_options_unknown")
            return []
        code = destination(tracker)
        events: List[EventType] = [SlotSet("country", code)] if code and code != tracker.get_slot("country") else []
        # The passage the answer stands for becomes the conversation's topic: "when is it free?" and "can it
        # go to a parcel locker there?" right after it are read in shipping (actions.policies.topic_follow_up).
        topic = TIMES_PASSAGE if period else COSTS_PASSAGE
        served = [o for o in options if o.country == code]
        if code is None:
            self._overview(dispatcher, domain, options, period)
        elif not served:
            topic = COUNTRIES_PASSAGE
            dispatcher.utter_message(
                response="utter_delivery_not_served", countries=countries_text(options), country_name=country_name(code)
            )
        else:
            self._country(dispatcher, domain, served, country_name(code), period)
        if detail is not None:  # a detail the table leaves out: "... and will I pay customs?"
            return events + say_passage(dispatcher, detail)
        return events + [SlotSet("policy_topic", topic)]

    @staticmethod
    def _country(
        dispatcher: CollectingDispatcher,
        domain: DomainDict,
        served: Sequence[DeliveryOptionRecord],
        name: str,
        period: bool,
    ) -> None:
        if period:
            dispatcher.utter_message(
                response="utter_delivery_period_country",
                option_list=option_list(domain, served, None),
                dispatch_cutoff=DISPATCH_CUTOFF,
                country_name=name,
            )
        else:
            dispatcher.utter_message(
                response="utter_delivery_options_country",
                option_list=option_list(domain, served, option_cost),
                country_name=name,
            )

    @staticmethod
    def _overview(
        dispatcher: CollectingDispatcher, domain: DomainDict, options: Sequence[DeliveryOptionRecord], period: bool
    ) -> None:
        summaries = summarise_methods(options)
        if period:
            dispatcher.utter_message(
                response="utter_delivery_period_summary",
                option_list=option_list(domain, summaries, None),
                dispatch_cutoff=DISPATCH_CUTOFF,
            )
            return
        dispatcher.utter_message(
            response="utter_delivery_options_summary",
            option_list=option_list(domain, summaries, summary_cost),
            countries=countries_text(options),
        )
