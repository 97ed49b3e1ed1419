"""The invoice of a verified order: its amounts in the chat, and a link to the PDF.

The order form verifies the order first; without its proof nothing about the order is said, as
in every order flow. The link is signed (:class:`core.signing.InvoiceLinks`) and expires: the
shop channel serves the PDF to whoever holds it, so it goes only into this conversation. The widget
gets it as a card's button (its text is not made clickable); other channels get the address in the text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ShopAction, label, rich_channel
from actions.orders import answered, nice_date, not_verified, verified_order
from actions.render import money
from actions.shop import shop_orders
from core.settings import get_settings
from core.signing import InvoiceLinks, resolve_secret_key
from shopdb.invoices import Invoice, InvoiceState, load_invoice, vat_percent


@lru_cache(maxsize=1)
def invoice_links() -> InvoiceLinks:
    return InvoiceLinks(resolve_secret_key())


def invoice_values(invoice: Invoice) -> Dict[str, Any]:
    """What the invoice responses are filled with: numbers, date and the amounts with the VAT rate."""
    return {
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "invoice_date": nice_date(invoice.date.isoformat()),
        "invoice_net": money(float(invoice.net), invoice.currency),
        "invoice_vat": money(float(invoice.vat), invoice.currency),
        "vat_rate": vat_percent(invoice.vat_rate),
        "invoice_total": money(float(invoice.total), invoice.currency),
    }


def invoice_card(domain: DomainDict, invoice: Invoice, url: str) -> Dict[str, Any]:
    """The widget's card: the invoice number, its total and a "Download PDF" link button."""
    element = {
        "title": label(domain, "utter_label_invoice_card", invoice_number=invoice.number),
        "subtitle": money(float(invoice.total), invoice.currency),
        "buttons": [{"type": "web_url", "title": label(domain, "utter_label_download_invoice"), "url": url}],
    }
    return {"type": "template", "payload": {"template_type": "generic", "elements": [element]}}


class ActionShowInvoice(ShopAction):
    """After the order form: the invoice's amounts and its link, or why the order has no invoice."""

    def name(self) -> Text:
        return "action_show_invoice"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        order = verified_order(tracker)
        if order is None:
            return not_verified(dispatcher)
        settings = get_settings()
        with shop_orders().sessions() as session:
            invoice = load_invoice(session, order.order_number, settings)
        if invoice is None:
            return not_verified(dispatcher)
        if invoice.state == InvoiceState.CANCELLED:
            dispatcher.utter_message(response="utter_invoice_order_cancelled", order_number=invoice.order_number)
        elif invoice.state == InvoiceState.AWAITING_PAYMENT:
            dispatcher.utter_message(response="utter_invoice_awaiting_payment", order_number=invoice.order_number)
        else:
            links = invoice_links()
            url = links.url(invoice.order_number, settings.public_url)
            hours = links.max_age // 3600
            if rich_channel(tracker):
                dispatcher.utter_message(response="utter_invoice_ready", link_hours=hours, **invoice_values(invoice))
                dispatcher.utter_message(attachment=invoice_card(domain, invoice, url))
            else:
                dispatcher.utter_message(
                    response="utter_invoice_ready_link", link_hours=hours, invoice_url=url, **invoice_values(invoice)
                )
        return answered()


__all__ = ["ActionShowInvoice", "invoice_card", "invoice_values"]
