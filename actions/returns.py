"""Returns and refunds: eligibility from the policy and the order's dates, the return form, refund status."""
from __future__ import annotations

import asyncio
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import ShopAction
from actions.orders import YES_NO, answered, match_order_item, not_verified, proof, verified_order
from actions.shop import shop_orders
from actions.vocabulary import parse_quantity

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]+")


def eligibility_text(eligibility: Any) -> str:
    lines = [eligibility.message]
    if len(eligibility.items) > 1 or (eligibility.items and not eligibility.eligible):
        for item in eligibility.items:
            lines.append(f"- {item.title}: {'can be returned' if item.eligible else item.reason}")
    return "\n".join(lines)


class ActionCheckReturnEligibility(ShopAction):
    """Which items of the order can still go back; starts the return or offers to."""

    def name(self) -> Text:
        return "action_check_return_eligibility"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number = tracker.get_slot("order_number")
        if not number:
            return not_verified(dispatcher)
        eligibility = shop_orders().return_eligibility(number, **proof(tracker))
        if eligibility.code == "not_found":
            return not_verified(dispatcher)
        events: List[EventType] = answered(eligibility.eligible) + [SlotSet("return_reason", None)]
        if not eligibility.eligible:
            dispatcher.utter_message(text=eligibility_text(eligibility))
            return events + [SlotSet("order_item", None)]
        eligible = [i for i in eligibility.items if i.eligible]
        events.append(SlotSet("order_item", str(eligible[0].item_id) if len(eligible) == 1 else None))
        if tracker.get_slot("order_task") == "return_eligibility":
            dispatcher.utter_message(text=eligibility_text(eligibility) + "\nWould you like to start a return?",
                                     buttons=YES_NO)
        else:
            dispatcher.utter_message(text=eligibility_text(eligibility))
        return events


class ValidateReturnForm(FormValidationAction):
    """The item must be one of the order's returnable lines; the reason is free text, kept short."""

    def name(self) -> Text:
        return "validate_return_form"

    async def validate_order_item(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        number = tracker.get_slot("order_number")
        eligibility = await asyncio.to_thread(shop_orders().return_eligibility, number, **proof(tracker))
        item = match_order_item(eligibility.items, value, tracker)
        if item is None:
            dispatcher.utter_message(text="Sorry, I couldn't tell which item you mean.")
            return {"order_item": None}
        if not item.eligible:
            dispatcher.utter_message(text=f"The {item.title} can't be returned: {item.reason}.")
            return {"order_item": None}
        return {"order_item": str(item.item_id)}

    async def validate_return_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> Dict[Text, Any]:
        reason = _CONTROL_RE.sub(" ", str(value or "")).strip()
        reason = re.sub(r"\s+", " ", reason)[:300]
        if len(reason) < 2:
            dispatcher.utter_message(text="Could you tell me briefly why you're returning it?")
            return {"return_reason": None}
        return {"return_reason": reason}


class ActionCreateReturn(ShopAction):
    def name(self) -> Text:
        return "action_create_return"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        order = verified_order(tracker)
        if order is None:
            return not_verified(dispatcher)
        item = next((i for i in order.items if str(i.item_id) == str(tracker.get_slot("order_item"))), None)
        quantity = 1
        for event in reversed(tracker.events):  # "I want to return 2 pairs": the quantity asked for, if any
            if event.get("event") == "user" and (event.get("parse_data") or {}).get("intent", {}).get("name") \
                    == "request_return":
                values = [e.get("value") for e in event["parse_data"].get("entities") or []
                          if e.get("entity") == "quantity"]
                quantity = (parse_quantity(values[0]) or 1) if values else 1
                break
        if item is not None:
            quantity = min(quantity, item.quantity)
        result = shop_orders().create_return(
            order.order_number, item.sku if item else None, tracker.get_slot("return_reason") or "",
            quantity, **proof(tracker))
        dispatcher.utter_message(text=result.message)
        return [SlotSet("order_item", None), SlotSet("return_reason", None)]


class ActionRefundStatus(ShopAction):
    def name(self) -> Text:
        return "action_refund_status"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number = tracker.get_slot("order_number")
        if not number:
            return not_verified(dispatcher)
        result = shop_orders().refund_status(number, **proof(tracker))
        if not result.found:
            return not_verified(dispatcher)
        dispatcher.utter_message(text=result.message)
        return answered()
