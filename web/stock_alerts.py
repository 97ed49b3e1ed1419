"""Tell waiting shoppers that a product is back in stock: in their conversation, and by e-mail.

The Rasa server runs :meth:`StockAlertNotifier.run_forever` beside the shop channel: every
``SHOP_STOCK_ALERT_SECONDS`` it looks for alerts whose product has stock again (however the stock
changed: an import, the shop's own system writing the database), claims each (so with several Rasa
servers each alert is said once), adds the line to the conversation and shows it in any open tab, then
e-mails the address the shopper gave (or the signed-in customer's). A line that could not be stored gives
its claim back and is tried again on the next round.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Optional

from sqlalchemy.orm import sessionmaker

from core.log_masking import conversation_ref
from core.money import money
from core.settings import get_settings
from handoff.mail import MailNotConfigured, configured_server
from shopdb.stock_alerts import DueAlert, claim_stock_alert, due_stock_alerts, record_delivery
from web.live_handoff import HandoffService

logger = logging.getLogger(__name__)

BACK_IN_STOCK = "utter_stock_alert_back"
MAIL_SUBJECT = "utter_stock_alert_email_subject"
MAIL_BODY = "utter_stock_alert_email_body"


class StockAlertNotifier:
    """Delivers due stock alerts through the hand-off service's conversation and mail paths."""

    def __init__(self, service: HandoffService, sessions: sessionmaker) -> None:
        self.service = service
        self.sessions = sessions

    async def run_once(self) -> int:
        """Deliver every due alert; returns how many were said."""
        said = 0
        for alert in await self.service.db(due_stock_alerts, self.sessions):
            if not await self.service.db(claim_stock_alert, self.sessions, alert.id):
                continue  # another server has it
            try:
                await self._say(alert)
            except Exception as error:  # the tracker store is away: the next round tries again
                logger.error("could not say stock alert %s (%s)", alert.id, type(error).__name__)
                await self.service.db(record_delivery, self.sessions, alert.id, None)
                continue
            delivery = await self._mail(alert)
            await self.service.db(record_delivery, self.sessions, alert.id, delivery)
            logger.info("stock alert %s said to %s: %s", alert.id, conversation_ref(alert.sender_id), delivery)
            said += 1
        return said

    async def run_forever(self, interval: Optional[float] = None) -> None:
        """:meth:`run_once` every ``interval`` seconds (``SHOP_STOCK_ALERT_SECONDS``) until cancelled."""
        interval = interval or get_settings().stock_alert_seconds
        while True:
            try:
                await self.run_once()
            except Exception as error:  # (cancelling the task is a BaseException: it ends the loop)  # the database is away: try again next round
                logger.warning("stock alerts could not be checked (%s)", type(error).__name__)
            await asyncio.sleep(interval)

    async def _say(self, alert: DueAlert) -> None:
        text = self.service.text(BACK_IN_STOCK, title=alert.title, price=money(alert.price, alert.currency))
        await self.service.say_in_conversation(alert.sender_id, text, {"stock_alert": alert.id})

    async def _mail(self, alert: DueAlert) -> str:
        if not alert.email:
            return "chat"
        try:
            server = configured_server()
        except MailNotConfigured:
            return "chat (no mail server)"
        shop = get_settings().seller_name
        values = {"title": alert.title, "price": money(alert.price, alert.currency), "shop": shop}
        subject = self.service.text(MAIL_SUBJECT, **values)
        body = self.service.text(MAIL_BODY, **values)
        try:
            await self.service.send_mail(server, alert.email, subject, body)
        except Exception as error:  # the chat has the alert already
            logger.error("could not e-mail stock alert %s (%s)", alert.id, type(error).__name__)
            return "chat (e-mail failed)"
        return "chat and e-mail"


__all__ = ["StockAlertNotifier"]
