"""Returns and refunds: eligibility from the policy and the order's dates, the return form, refund status.

The words are domain responses picked by the outcome's ``code`` (and an item's ``reason``:
eligible, final_sale, already_returned, window_closed); :mod:`shopdb.orders` gives codes and data only.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ShopAction, ShopFormValidation, answers_question_of, label, latest_intent
from actions.orders import answered, match_order_item, not_verified, proof, status_label, verified_order
from actions.render import money
from actions.return_questions import answer_returns_in_general, asks_about_returns_in_general
from actions.shop import shop_orders
from actions.vocabulary import parse_quantity
from shopdb.models import ReturnResolution

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]+")


ITEM_STATE_LABELS = {  # what the item list says about each item, by ItemEligibility.reason
    "eligible": "utter_label_return_eligible",
    "final_sale": "utter_label_return_final_sale",
    "already_returned": "utter_label_return_already_returned",
    "window_closed": "utter_label_return_window_closed",
}
NOT_RETURNABLE_RESPONSES = {  # "The {item_title} can't be returned: ...", by ItemEligibility.reason
    "final_sale": "utter_item_not_returnable_final_sale",
    "already_returned": "utter_item_not_returnable_already_returned",
    "window_closed": "utter_item_not_returnable_window_closed",
}


def item_list(domain: DomainDict, eligibility: Any) -> str:
    """``{item_list}``: each item and whether it can go back, when that says more than the sentence before it."""
    if not (len(eligibility.items) > 1 or (eligibility.items and not eligibility.eligible)):
        return ""
    return "".join(f"\n- {item.title}: {label(domain, ITEM_STATE_LABELS[item.reason])}" for item in eligibility.items)


def say_eligibility(
    dispatcher: CollectingDispatcher, domain: DomainDict, eligibility: Any, ask_to_start: bool = False
) -> None:
    """Whether (and until when) the order's items can be returned; for an eligible order optionally
    "Would you like to start a return?" with yes/no buttons."""
    values = {
        "order_number": eligibility.order_number or "",
        "deadline": eligibility.deadline or "",
        "days_left": eligibility.days_left,
        "return_days": eligibility.window_days,
        "item_list": item_list(domain, eligibility),
    }
    if eligibility.code == "eligible":
        dispatcher.utter_message(
            response="utter_return_eligible_ask" if ask_to_start else "utter_return_eligible", **values
        )
    elif eligibility.code == "window_closed":
        dispatcher.utter_message(response="utter_return_window_closed", **values)
    elif eligibility.code == "nothing_returnable":
        dispatcher.utter_message(response="utter_return_nothing_returnable", **values)
    elif eligibility.order_status == "cancelled":
        dispatcher.utter_message(response="utter_return_order_cancelled", **values)
    elif eligibility.cancellable:
        dispatcher.utter_message(
            response="utter_return_not_delivered_cancellable",
            order_status=status_label(domain, eligibility.order_status),
            **values,
        )
    else:  # not_delivered
        dispatcher.utter_message(
            response="utter_return_not_delivered", order_status=status_label(domain, eligibility.order_status), **values
        )


def say_not_returnable(dispatcher: CollectingDispatcher, item: Any) -> None:
    """Why this item can't go back (final sale, already returned, window closed)."""
    dispatcher.utter_message(
        response=NOT_RETURNABLE_RESPONSES.get(item.reason, "utter_item_not_returnable_window_closed"),
        item_title=item.title,
    )


class ActionCheckReturnEligibility(ShopAction):
    """Which items of the order can still go back; starts the return or offers to."""

    def name(self) -> Text:
        return "action_check_return_eligibility"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number = tracker.get_slot("order_number")
        if not number and asks_about_returns_in_general(tracker):
            return answer_returns_in_general(dispatcher, tracker)
        if not number:
            return not_verified(dispatcher)
        eligibility = shop_orders().return_eligibility(number, **proof(tracker))
        if eligibility.code == "not_found":
            return not_verified(dispatcher)
        events: List[EventType] = answered(eligibility.eligible) + [SlotSet("return_reason", None)]
        if not eligibility.eligible:
            say_eligibility(dispatcher, domain, eligibility)
            return events + [SlotSet("order_item", None)]
        eligible = [i for i in eligibility.items if i.eligible]
        events.append(SlotSet("order_item", str(eligible[0].item_id) if len(eligible) == 1 else None))
        say_eligibility(
            dispatcher, domain, eligibility, ask_to_start=tracker.get_slot("order_task") == "return_eligibility"
        )
        return events


class ValidateReturnForm(ShopFormValidation):
    """The item must be one of the order's returnable lines; the reason is free text, kept short."""

    def name(self) -> Text:
        return "validate_return_form"

    async def validate_order_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = tracker.get_slot("order_number")
        eligibility = await asyncio.to_thread(shop_orders().return_eligibility, number, **proof(tracker))
        item = match_order_item(eligibility.items, value, tracker)
        if item is None:
            dispatcher.utter_message(response="utter_item_unclear")
            return {"order_item": None}
        if not item.eligible:
            say_not_returnable(dispatcher, item)
            return {"order_item": None}
        return {"order_item": str(item.item_id)}

    async def validate_return_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        reason = _CONTROL_RE.sub(" ", str(value or "")).strip()
        reason = re.sub(r"\s+", " ", reason)[:300]
        if len(reason) < 2:
            dispatcher.utter_message(response="utter_ask_return_reason_again")
            return {"return_reason": None}
        return {"return_reason": reason}


RETURN_PENDING = "return_pending"
_REPLACEMENT_RE = re.compile(
    r"\b(?:replace(?:ment)?|replace it|exchange|swap(?: it)?|(?:a |another )new one|send (?:me )?(?:a )?new)\b", re.I
)
_NO_REPLACEMENT_RE = re.compile(
    r"\b(?:no|not|don'?t want|rather than|instead of)\s+(?:a\s+|an\s+)?(?:replacement|exchange|new one)\b", re.I
)


def return_request(tracker: Tracker) -> Tuple[int, str]:
    """The quantity the return request asked for ("I want to return 2 pairs", else 1), and what the shopper
    wants for it: ``refund``, or ``replacement`` when any message since the request says so ("a
    replacement, not a refund"; "a refund, not a replacement" stays a refund)."""
    quantity, texts = 1, []
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        texts.append(str(event.get("text") or ""))
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") == "request_return":
            values = [e.get("value") for e in parse.get("entities") or [] if e.get("entity") == "quantity"]
            quantity = (parse_quantity(values[0]) or 1) if values else 1
            break
    words = " ".join(texts)
    wants_replacement = bool(_REPLACEMENT_RE.search(words)) and not _NO_REPLACEMENT_RE.search(words)
    return quantity, ReturnResolution.REPLACEMENT if wants_replacement else ReturnResolution.REFUND


class ActionCreateReturn(ShopAction):
    """Shows what the return will be (item, quantity, the refund or a replacement) and asks; opens the return
    only on a "yes" to that question (``return_pending`` carries it, like an address change)."""

    def name(self) -> Text:
        return "action_create_return"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        cleared: List[EventType] = [
            SlotSet("order_item", None),
            SlotSet("return_reason", None),
            SlotSet(RETURN_PENDING, None),
        ]
        order = verified_order(tracker)
        if order is None:
            return not_verified(dispatcher) + cleared
        item = next((i for i in order.items if str(i.item_id) == str(tracker.get_slot("order_item"))), None)
        quantity, resolution = return_request(tracker)
        if item is not None:
            quantity = min(quantity, item.quantity)
        if not tracker.get_slot(RETURN_PENDING):
            if item is None:
                dispatcher.utter_message(response="utter_ask_which_item_to_return")
                return cleared
            values = {
                "order_number": order.order_number,
                "quantity": quantity,
                "item_title": item.title,
                "return_reason": tracker.get_slot("return_reason") or "",
                "refund_amount": money(item.unit_price * quantity, order.currency),
            }
            response = (
                "utter_confirm_return_replacement"
                if resolution == ReturnResolution.REPLACEMENT
                else "utter_confirm_return"
            )
            dispatcher.utter_message(response=response, **values)
            return [SlotSet(RETURN_PENDING, True)]
        if latest_intent(tracker) != "affirm" or not answers_question_of(tracker, self.name()):
            dispatcher.utter_message(response="utter_return_not_started", order_number=order.order_number)
            return cleared
        result = shop_orders().create_return(
            order.order_number,
            item.sku if item else None,
            tracker.get_slot("return_reason") or "",
            quantity,
            resolution=resolution,
            **proof(tracker),
        )
        if result.code == "not_found":
            return not_verified(dispatcher) + cleared
        say_return_result(dispatcher, domain, result)
        return cleared


def say_return_result(dispatcher: CollectingDispatcher, domain: DomainDict, result: Any) -> None:
    """What came of a return request: the RMA and refund, or why not."""
    from shopdb.order_types import ItemEligibility, ReturnEligibility

    details = result.details
    order_number = result.order.order_number if result.order else ""
    if result.code == "return_created":
        opened = {
            "rma_number": result.reference,
            "quantity": details["quantity"],
            "item_title": details["item"]["title"],
            "deadline": details["deadline"],
        }
        if details.get("resolution") == ReturnResolution.REPLACEMENT:
            dispatcher.utter_message(response="utter_return_created_replacement", **opened)
        else:
            low, high = details["refund_days"]
            refund = money(details["refund_amount"], details["currency"])
            dispatcher.utter_message(
                response="utter_return_created",
                refund_days_min=low,
                refund_days_max=high,
                refund_amount=refund,
                **opened,
            )
    elif "eligibility" in details:  # not_delivered, window_closed, nothing_returnable
        eligibility = dict(details["eligibility"])
        eligibility["items"] = [ItemEligibility(**i) for i in eligibility.get("items") or []]
        say_eligibility(dispatcher, domain, ReturnEligibility(**eligibility))
    elif result.code == "item_not_returnable":
        say_not_returnable(dispatcher, ItemEligibility(**details["item"]))
    elif result.code == "item_not_in_order":
        dispatcher.utter_message(
            response="utter_item_not_in_order", order_number=order_number, sku=details.get("sku", "")
        )
    elif result.code == "which_item":
        dispatcher.utter_message(response="utter_ask_which_item_to_return")
    elif result.code == "invalid_quantity":
        dispatcher.utter_message(
            response="utter_return_invalid_quantity",
            max_quantity=details["max_quantity"],
            item_title=details["item"]["title"],
        )
    else:
        dispatcher.utter_message(response="utter_something_went_wrong")


def say_refunds(dispatcher: CollectingDispatcher, domain: DomainDict, result: Any) -> None:
    """The refunds of an order: each return's and the cancellation's, or that there is none."""
    lines = [
        label(
            domain,
            "utter_label_refund_replacement"
            if r.resolution == ReturnResolution.REPLACEMENT
            else "utter_label_refund_return",
            rma_number=r.rma_number,
            item_title=r.title,
            return_status=label(domain, f"utter_label_return_status_{r.status}", default=r.status),
            refund_status=label(
                domain, f"utter_label_refund_status_{r.refund_status}", default=r.refund_status.replace("_", " ")
            ),
        )
        for r in result.returns
    ]
    if result.order_refund:
        refund = result.order_refund
        lines.append(
            label(
                domain,
                "utter_label_refund_cancellation",
                refund_amount=money(refund["amount"], refund["currency"]),
                refund_status=label(domain, f"utter_label_refund_status_{refund['status']}", default=refund["status"]),
            )
        )
    if lines:
        dispatcher.utter_message(
            response="utter_refund_status", order_number=result.order_number, refunds="; ".join(lines)
        )
    else:
        dispatcher.utter_message(response="utter_no_refund", order_number=result.order_number)


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
        say_refunds(dispatcher, domain, result)
        return answered()
