"""E-mail to shoppers through the shop's own mail server (``SHOP_SMTP_URL``), with the standard library.

``smtplib`` and ``email.message`` are what a kept library would wrap here: one message to one
address, no templates of our own (the words come from the domain, :mod:`web.live_handoff`).
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Optional
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

SCHEMES = {"smtp": (False, False), "smtp+starttls": (False, True), "smtps": (True, False)}


class MailNotConfigured(Exception):
    """No ``SHOP_SMTP_URL``: answers reach the chat only."""


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    user: Optional[str] = None
    password: Optional[str] = None
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str) -> "MailServer":
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError("SHOP_SMTP_URL must look like smtp://host:25, smtp+starttls://... or smtps://...")
        tls, starttls = SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 587 if starttls else 25),
            tls=tls,
            starttls=starttls,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def send(self, sender: str, to: str, subject: str, body: str) -> str:
        """Send one plain-text message; returns its Message-ID. Raises ``smtplib.SMTPException``/``OSError``."""
        # Headers up to RFC 5322's line limit stay on one line: Python folds a long subject onto a line of
        # its own ("Subject:\n Back in stock..."), which some readers show with a leading space.
        message = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
        message["From"], message["To"], message["Subject"] = sender, to, subject
        message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
        message.set_content(body)
        client_class = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        with client_class(self.host, self.port, timeout=self.timeout) as client:
            if self.starttls:
                client.starttls()
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(message)
        return str(message["Message-ID"])


def configured_server() -> MailServer:
    """The mail server of ``SHOP_SMTP_URL``; :class:`MailNotConfigured` when unset."""
    from core.settings import get_settings

    url = get_settings().smtp_url
    if not url:
        raise MailNotConfigured("SHOP_SMTP_URL is not set")
    return MailServer.from_url(url)


__all__ = ["MailNotConfigured", "MailServer", "configured_server"]
