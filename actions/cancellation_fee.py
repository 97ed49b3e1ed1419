"""What cancelling costs: the order policy, and for a verified order what its status allows.

Cancelling is free while an order can still be cancelled (``OrderStatus.CANCELLABLE``: placed or
paid); later it can only be returned, within the return window and at the return shipping cost
of the return policy (``shopdb.policies``). An order is named only when this conversation holds
its proof (``verified_order``); anything else gets the general answer and a button to check one.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ShopAction, label
from actions.orders import order_values, verified_order
from actions.render import money
from shopdb import policies
from shopdb.models import OrderStatus

# status of a verified order that can no longer be cancelled -> the answer
AFTER_CANCELLATION = {
    OrderStatus.CANCELLED: "utter_cancellation_fee_already_cancelled",
    OrderStatus.DELIVERED: "utter_cancellation_fee_delivered",
}


def return_terms(domain: DomainDict) -> Dict[str, Any]:
    """The return window and the return shipping cost, from the return policy's figures."""
    if policies.RETURN_SHIPPING_COST == 0:
        shipping = label(domain, "utter_label_return_shipping_free")
    else:
        shipping = label(
            domain, "utter_label_return_shipping_cost", return_cost=money(float(policies.RETURN_SHIPPING_COST))
        )
    return {"return_days": policies.RETURN_WINDOW_DAYS, "return_shipping": shipping}


class ActionCancellationFee(ShopAction):
    def name(self) -> Text:
        return "action_cancellation_fee"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        order = verified_order(tracker)
        if order is None:
            dispatcher.utter_message(response="utter_cancellation_fee_general", **return_terms(domain))
        elif order.status in OrderStatus.CANCELLABLE:
            dispatcher.utter_message(response="utter_cancellation_fee_free", **order_values(order, domain))
        else:
            dispatcher.utter_message(
                response=AFTER_CANCELLATION.get(order.status, "utter_cancellation_fee_on_its_way"),
                **order_values(order, domain),
                **return_terms(domain),
            )
        return []
