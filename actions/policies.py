"""Shipping, payment, account, warranty and other policy questions, answered from the shop's own texts.

The answer is the best-matching policy passage itself, with its title and source,
so a shopper can see where it comes from. When nothing scores high enough the bot
says it does not know and offers a person, instead of guessing.
"""

from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ShopAction, in_form, latest_text, offer_human
from actions.shop import shop_search

logger = logging.getLogger(__name__)


def source_url(source: str) -> str:
    """``shopdb/data/policies/returns.md#return-window`` -> ``returns#return-window`` (shown to shoppers)."""
    return source.rsplit("/", 1)[-1].replace(".md", "")


class ActionAnswerPolicy(ShopAction):
    def name(self) -> Text:
        return "action_answer_policy"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        question = latest_text(tracker)
        if not question:
            dispatcher.utter_message(response="utter_ask_policy_question")
            return []
        hits = shop_search().answer_policy_question(question, k=2)
        if hits:
            best = hits[0]  # the shop's own passage, its title and where it comes from
            dispatcher.utter_message(
                response="utter_policy_answer", title=best.title, passage=best.text, source=source_url(best.source)
            )
            return [SlotSet("human_offered", None)]
        logger.info("no policy passage above the threshold")
        if in_form(tracker):  # carry on with the form; a person is one request away
            dispatcher.utter_message(response="utter_policy_unknown_in_form")
            return [SlotSet("human_offered", None)]
        dispatcher.utter_message(response="utter_policy_unknown")
        return offer_human("policy_unknown")
