"""The shopper's account: the steps and the link on the shop's site, and deleting the account.

Accounts live on the shop's own site; the assistant never sees a password. What it can do is
start the deletion of a *signed-in* customer's account: after a yes to its question it records a
request (:mod:`insights.erasure_requests`) that the operator's erase carries out within the policy's
30 days. Who is asking is proven by the channel's signed customer proof on the very message that
asks and on the one that confirms (:func:`signed_in_customer`); a slot alone deletes nothing.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ShopAction, answers_question_of, latest_intent, shop_url, signed_in_customer
from core.log_masking import conversation_ref

logger = logging.getLogger(__name__)

PENDING_SLOT = "account_deletion_pending"  # the customer was asked to confirm the deletion

# intent -> its steps and link (utter_account_help_*: {shop_url} is SHOP_STOREFRONT_URL)
HELP_RESPONSES = {
    "create_account": "utter_account_help_create_account",
    "edit_account": "utter_account_help_edit_account",
    "recover_password": "utter_account_help_recover_password",
    "registration_problems": "utter_account_help_registration_problems",
    "switch_account": "utter_account_help_switch_account",
    "set_up_address": "utter_account_help_set_up_address",
}


def nice_day(value: Any) -> str:
    return f"{value:%-d %B %Y}"


class ActionDeleteAccount(ShopAction):
    """Delete-account requests: steps for a guest; ask, then record, for a signed-in customer."""

    def name(self) -> Text:
        return "action_delete_account"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from insights.erasure_requests import default_sessions, pending_request, request_erasure

        reset = [SlotSet(PENDING_SLOT, None)]
        customer_id = signed_in_customer(tracker)
        if customer_id is None:
            dispatcher.utter_message(response="utter_account_deletion_guest", shop_url=shop_url())
            return reset
        confirming = bool(tracker.get_slot(PENDING_SLOT)) and answers_question_of(tracker, "action_delete_account")
        intent = latest_intent(tracker)
        if confirming and intent == "deny":
            dispatcher.utter_message(response="utter_account_deletion_kept")
            return reset
        if confirming and intent == "affirm":
            request, is_new = request_erasure(default_sessions(), customer_id=customer_id, sender_id=tracker.sender_id)
            logger.info(
                "account deletion request %s recorded in conversation %s",
                request.id,
                conversation_ref(tracker.sender_id),
            )
            dispatcher.utter_message(
                response="utter_account_deletion_requested" if is_new else "utter_account_deletion_already_requested",
                request=request.id,
                due_date=nice_day(request.due_at),
            )
            return reset
        existing = pending_request(default_sessions(), customer_id)
        if existing is not None:
            dispatcher.utter_message(
                response="utter_account_deletion_already_requested",
                request=existing.id,
                due_date=nice_day(existing.due_at),
            )
            return reset
        dispatcher.utter_message(response="utter_ask_confirm_account_deletion")
        return [SlotSet(PENDING_SLOT, True)]


class ActionAccountHelp(Action):
    """Account functions that live on the shop's site: the exact steps, the link, a person on offer."""

    def name(self) -> Text:
        return "action_account_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        response = HELP_RESPONSES.get(latest_intent(tracker) or "", "utter_account_help_edit_account")
        dispatcher.utter_message(response=response, shop_url=shop_url())
        return []
