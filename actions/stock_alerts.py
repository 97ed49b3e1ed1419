"""Stock alerts: "tell me when it's back" for a product that is out of stock.

The product is the one the shopper points at (a card's button, "the second one", the one in focus), or the
only out-of-stock one of the last list. A signed-in customer is told in the chat and at their account's
address; a guest is asked for an address (``stock_alert_form``; "no" means the chat only). The alert is
kept in the shop database (:mod:`shopdb.stock_alerts`); the Rasa server says it in the conversation and
sends the e-mail once the product has stock again (:mod:`web.stock_alerts`).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ShopAction, ShopFormValidation, first_entity, latest_text, signed_in_customer
from actions.delivery import asks_about_the_order_in_view
from actions.handoff import EMAIL_SLOT, NO_EMAIL, contact_email_answer
from actions.policies import say_passage
from actions.products import WHICH_PRODUCT, answer_without_a_product, resolve_product, shown_products
from actions.render import intent_payload
from actions.shop import shop_orders, shop_search
from core.log_masking import conversation_ref
from shopdb.stock_alerts import add_stock_alert

logger = logging.getLogger(__name__)

PRODUCT_SLOT = "stock_alert_product"


OUT_OF_STOCK_PASSAGE = "orders/out-of-stock-items-and-pre-orders"
_RESTOCK_WORDS = re.compile(
    r"\b(?:re-?stock\w*|in stock|out of stock|sold out|available|availability|notify|alert)\b"
    r"|\b(?:comes?|coming|be|it's|its|they're|theyre|is|are) back\b",
    re.I,
)


def product_to_watch(tracker: Tracker) -> Tuple[Optional[Any], Optional[Dict[str, Any]]]:
    """(product, None), or (None, the message that asks which one)."""
    pointed = any(first_entity(tracker, e) for e in ("product_id", "ordinal"))
    if not (pointed or tracker.get_slot("current_product") or tracker.get_slot("page_product")):
        missing = [p for p in shown_products(tracker) if not p.in_stock]
        if len(missing) == 1:
            return missing[0], None
        if len(missing) > 1:
            buttons = [{"title": p.title, "payload": intent_payload("stock_alert", product_id=p.id)} for p in missing]
            return None, {"response": "utter_ask_which_stock_alert", "buttons": buttons}
    return resolve_product(tracker, default_first=False)


class ActionStockAlert(ShopAction):
    """Which product, whether it is really out of stock, then keep the alert (or ask a guest for an address)."""

    def name(self) -> Text:
        return "action_stock_alert"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        product, problem = product_to_watch(tracker)
        if product is None and (problem is None or problem.get("response") == WHICH_PRODUCT["response"]):
            return self._no_product(dispatcher, tracker)
        if product is None:
            dispatcher.utter_message(**(problem or WHICH_PRODUCT))
            return []
        if product.in_stock:
            dispatcher.utter_message(response="utter_stock_alert_in_stock", title=product.title)
            return [SlotSet("current_product", str(product.id))]
        events: List[EventType] = [SlotSet("current_product", str(product.id)), SlotSet(PRODUCT_SLOT, str(product.id))]
        if signed_in_customer(tracker):
            return events + keep_alert(dispatcher, tracker, product, email=None)
        return events + [SlotSet(EMAIL_SLOT, None), FollowupAction("stock_alert_form")]

    @staticmethod
    def _no_product(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """No product in the chat at all. A restock question gets the shop's out-of-stock text and "which
        product?"; anything else read as a restock ("when will I hear back?") is answered from the shop's
        texts when they can, since the classifier leans on "when ... back" for this intent; "when do I get
        it?" right after an order's status is about that order."""
        restock = bool(_RESTOCK_WORDS.search(latest_text(tracker)))
        if asks_about_the_order_in_view(tracker) and not restock:
            return [FollowupAction("action_order_status")]  # "so when do I actually get it?" after its status
        if restock:
            passage = shop_search().policy_passage(OUT_OF_STOCK_PASSAGE)
            events = say_passage(dispatcher, passage) if passage is not None else []
            dispatcher.utter_message(**WHICH_PRODUCT)
            return events
        return answer_without_a_product(dispatcher, tracker, WHICH_PRODUCT)


class ValidateStockAlertForm(ShopFormValidation):
    """A guest's address for the alert; "no" keeps it to the chat."""

    def name(self) -> Text:
        return "validate_stock_alert_form"

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return contact_email_answer(value, dispatcher, tracker, invalid="utter_stock_alert_email_invalid")


class ActionSaveStockAlert(ShopAction):
    """Keep the alert ``stock_alert_form`` filled in."""

    def name(self) -> Text:
        return "action_save_stock_alert"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        product_id = tracker.get_slot(PRODUCT_SLOT)
        reset: List[EventType] = [SlotSet(PRODUCT_SLOT, None), SlotSet(EMAIL_SLOT, None)]
        if not product_id:
            dispatcher.utter_message(response="utter_ask_which_product")
            return reset
        product = shop_search().get_product(product_id)
        if product is None:
            dispatcher.utter_message(response="utter_product_gone")
            return reset
        email = tracker.get_slot(EMAIL_SLOT)
        return keep_alert(dispatcher, tracker, product, email=email if email != NO_EMAIL else None)


def keep_alert(
    dispatcher: CollectingDispatcher, tracker: Tracker, product: Any, *, email: Optional[str]
) -> List[EventType]:
    """Store the alert for ``product`` and say how the shopper will hear of it."""
    reset: List[EventType] = [SlotSet(PRODUCT_SLOT, None), SlotSet(EMAIL_SLOT, None)]
    customer_id = signed_in_customer(tracker)
    try:
        is_new = add_stock_alert(
            shop_orders().sessions, int(product.id), tracker.sender_id, customer_id=customer_id, email=email
        )
    except Exception as error:  # database down or locked: say so, keep the bot answering
        logger.error("could not store a stock alert (%s)", type(error).__name__)
        dispatcher.utter_message(response="utter_stock_alert_failed")
        return reset
    logger.info("stock alert for product %s kept for conversation %s", product.id, conversation_ref(tracker.sender_id))
    by_email = bool(email or customer_id)
    if not is_new:
        response = "utter_stock_alert_already_email" if by_email else "utter_stock_alert_already"
    else:
        response = "utter_stock_alert_saved_email" if by_email else "utter_stock_alert_saved_chat"
    dispatcher.utter_message(response=response, title=product.title)
    return reset


__all__ = ["ActionSaveStockAlert", "ActionStockAlert", "ValidateStockAlertForm", "product_to_watch"]
