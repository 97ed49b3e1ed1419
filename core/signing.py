"""The secret key and everything signed with it: conversation ids, customer proofs, order proofs,
invoice links, the action server's token.

Why signatures rather than server-side state: the Rasa server, the action server and (in
the scale-out mode) several copies of each must agree on who a shopper is without a
shared session table. Each purpose gets its own key, derived from ``SHOP_SECRET_KEY``
(HMAC-SHA256 with the purpose as message), so a signature made for one purpose is
worthless for another.

* **Conversation ids** the shop channel hands out are self-authenticating
  (``<32 random hex>-<MAC>``): the history endpoint and the socket rooms accept only ids
  this server issued, so a guessable sender id of Rasa's REST channel ("shopper-1")
  never unlocks a transcript.
* **Customer proofs** bind a verified customer id to one conversation; the action server
  re-checks them, so a forged ``customer_id`` in a tracker is worthless.
* **Order proofs** are issued by the order form when number and e-mail (or the signed-in
  customer) matched; every action that shows or changes an order re-checks the proof
  against the conversation and the order number.
* **Invoice links** carry a verified order's number and their issue time: the download
  route takes nothing else, since a browser follows the link outside the conversation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import uuid
from pathlib import Path
from typing import Any, Dict, Optional

from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.settings import Settings, get_settings

logger = logging.getLogger(__name__)

CONVERSATION_MAC_CHARS = 22


class SecretKeyMissing(RuntimeError):
    """Raised outside the embedded mode when ``SHOP_SECRET_KEY`` is not set."""


def resolve_secret_key(settings: Optional[Settings] = None) -> str:
    """The signing secret: ``SHOP_SECRET_KEY``, else a development key (embedded mode only).

    Embedded mode means the default SQLite database under ``var/``. There a random key is
    created once in ``var/secret_key`` (mode 0600), so sessions survive restarts without a
    well-known default; every process of the embedded mode reads the same file. With an
    explicit ``SHOP_DATABASE_URL`` (a shared deployment) a missing key is an error.
    """
    settings = settings or get_settings()
    if settings.secret_key:
        return settings.secret_key
    if settings.database_url:
        raise SecretKeyMissing(
            "SHOP_SECRET_KEY must be set when SHOP_DATABASE_URL is (scale-out mode); "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    key_file = Path(settings.var_dir) / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of the assistant created it a moment ago
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
            logger.warning("SHOP_SECRET_KEY not set: created a development key in %s", key_file)
    return key_file.read_text().strip()


def derived_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, derived from the secret key."""
    return hmac.new(secret.encode(), f"shop-assistant/{purpose}".encode(), hashlib.sha256).digest()


def _mac(key: bytes, *parts: str, chars: int = 43) -> str:
    digest = hmac.new(key, "\x1f".join(parts).encode("utf-8", "replace"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:chars]


def action_server_token(settings: Optional[Settings] = None) -> str:
    """The bearer token the Rasa server sends to the action server: ``SHOP_ACTION_TOKEN``,
    else one derived from the secret key (the same in every process of one deployment)."""
    settings = settings or get_settings()
    if settings.action_token:
        return settings.action_token
    return derived_key(resolve_secret_key(settings), "action-server-token").hex()


class ConversationIds:
    """Conversation ids the shop channel issues: ``<32 random hex>-<MAC of them>``."""

    def __init__(self, secret: str) -> None:
        self._key = derived_key(secret, "conversation-id")

    def new(self) -> str:
        random_part = uuid.uuid4().hex
        return f"{random_part}-{_mac(self._key, random_part, chars=CONVERSATION_MAC_CHARS)}"

    def valid(self, value: Any) -> bool:
        """True only for ids this deployment issued."""
        if not isinstance(value, str) or len(value) != 33 + CONVERSATION_MAC_CHARS:
            return False
        random_part, _, mac = value.partition("-")
        if len(random_part) != 32 or not all(c in "0123456789abcdef" for c in random_part):
            return False
        return hmac.compare_digest(mac, _mac(self._key, random_part, chars=CONVERSATION_MAC_CHARS))


class CustomerTokens:
    """Signs a logged-in shopper's customer id for the widget's metadata.

    The shop's own back end signs the id (``python -m web sign-customer``, or the demo
    page's development log-in); the channel accepts a customer id only from a valid token.
    """

    def __init__(self, secret_key: str, max_age: int = 24 * 3600) -> None:
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(secret_key, salt="shop-customer")

    def sign(self, customer_id: str) -> str:
        return self._serializer.dumps(customer_id)

    def verify(self, token: object) -> Optional[str]:
        if not isinstance(token, str) or not token or len(token) > 500:
            return None
        try:
            value = self._serializer.loads(token, max_age=self.max_age)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


class CustomerProofs:
    """A verified customer id bound to one conversation (what the channel passes to the actions)."""

    def __init__(self, secret: str) -> None:
        self._key = derived_key(secret, "customer-proof")

    def issue(self, sender_id: str, customer_id: str) -> str:
        return _mac(self._key, sender_id, customer_id)

    def valid(self, proof: Any, sender_id: str, customer_id: Any) -> bool:
        if not isinstance(proof, str) or not isinstance(customer_id, str) or not customer_id:
            return False
        return hmac.compare_digest(proof, self.issue(sender_id, customer_id))


class OrderProofs:
    """Proof that this conversation verified this order, and how (e-mail or customer id)."""

    def __init__(self, secret: str, max_age: int = 24 * 3600) -> None:
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(secret, salt="shop-order-proof")

    def issue(
        self, sender_id: str, order_number: str, *, email: Optional[str] = None, customer_id: Optional[str] = None
    ) -> str:
        return self._serializer.dumps({"s": sender_id, "o": order_number, "e": email, "c": customer_id})

    def verify(self, proof: Any, sender_id: str, order_number: Any) -> Optional[Dict[str, Optional[str]]]:
        """``{"email": ..., "customer_id": ...}`` when ``proof`` was issued for this conversation and order."""
        if not isinstance(proof, str) or not proof or len(proof) > 1000 or not order_number:
            return None
        try:
            data = self._serializer.loads(proof, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("s") != sender_id or data.get("o") != str(order_number):
            return None
        return {"email": data.get("e"), "customer_id": data.get("c")}


INVOICE_LINK_PATH = "/webhooks/shop/invoices/"  # the shop channel's route (web.invoices)


class InvoiceLinkExpired(Exception):
    """An invoice link signed here, older than its age: the shopper asks the assistant for a new one."""


class InvoiceLinks:
    """Download links of invoices: ``<INVOICE_LINK_PATH><token>.pdf``, the token valid ``max_age`` seconds.

    Only the action that shows a verified order's invoice issues one, so holding a link is the proof;
    it expires because a link outlives the chat (forwarded, in a browser's history).
    """

    def __init__(self, secret: str, max_age: int = 24 * 3600) -> None:
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(secret, salt="shop-invoice-link")

    def url(self, order_number: str, public_url: str = "") -> str:
        """The link, below ``public_url`` (``SHOP_PUBLIC_URL``; empty: a path on the Rasa server)."""
        return f"{public_url.rstrip('/')}{INVOICE_LINK_PATH}{self._serializer.dumps({'o': order_number})}.pdf"

    def verify(self, token: Any) -> Optional[str]:
        """The order number of a token signed here; None for anything else.

        Raises :class:`InvoiceLinkExpired` for a genuine token past ``max_age`` (itsdangerous checks
        the signature before the age, so a forged token is never reported as expired).
        """
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            raise InvoiceLinkExpired() from None
        except BadData:
            return None
        number = data.get("o") if isinstance(data, dict) else None
        return number if isinstance(number, str) else None


__all__ = [
    "INVOICE_LINK_PATH",
    "ConversationIds",
    "CustomerProofs",
    "CustomerTokens",
    "InvoiceLinkExpired",
    "InvoiceLinks",
    "OrderProofs",
    "SecretKeyMissing",
    "action_server_token",
    "derived_key",
    "resolve_secret_key",
]
