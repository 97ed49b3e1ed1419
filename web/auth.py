"""Agent passwords, console sessions and signed shopper ids.

Why these pieces: passwords are argon2 hashes (argon2-cffi, the OWASP
recommendation); console sessions are stateless tokens signed with
itsdangerous, carrying an expiry and a per-session CSRF token that the console
must echo in a header on every state-changing request. The same secret signs
the ``customer_token`` a shop page hands the widget, so a shopper cannot claim
another customer's id by editing message metadata.
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from assistant.settings import Settings, get_settings

logger = logging.getLogger(__name__)

SESSION_COOKIE = "shop_agent_session"
CSRF_HEADER = "X-CSRF-Token"
DEFAULT_SESSION_MAX_AGE = 8 * 3600  # one working shift
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verified against when a username does not exist, so a wrong username costs
# as much time as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class SecretKeyMissing(RuntimeError):
    """Raised outside the embedded mode when ``SHOP_SECRET_KEY`` is not set."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: Optional[str], password: str) -> bool:
    """True when ``password`` matches; never raises on a malformed hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's defaults."""
    return _hasher.check_needs_rehash(password_hash)


def resolve_secret_key(settings: Optional[Settings] = None) -> str:
    """The signing secret: ``SHOP_SECRET_KEY``, else a dev key (embedded mode only).

    Embedded mode means the default SQLite database under ``var/``. There a
    random key is created once in ``var/secret_key`` (mode 0600), so sessions
    survive restarts without a well-known default. With an explicit
    ``SHOP_DATABASE_URL`` (a shared deployment) a missing key is an error.
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
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
        logger.warning("SHOP_SECRET_KEY not set: created a development key in %s", key_file)
    return key_file.read_text().strip()


@dataclass(frozen=True)
class AgentSession:
    agent_id: int
    csrf: str


class SessionTokens:
    """Signed, expiring console session tokens (stored in an HttpOnly cookie)."""

    def __init__(self, secret_key: str, max_age: int = DEFAULT_SESSION_MAX_AGE) -> None:
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(secret_key, salt="shop-agent-session")
        # Logged-out tokens until they would expire anyway: token digest -> monotonic deadline.
        # In memory, per process (like the login throttle): see docs/security.md.
        self._revoked: Dict[str, float] = {}

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def revoke(self, token: Optional[str]) -> None:
        """Make ``token`` unusable (logout), even though its signature stays valid until it expires."""
        if not token:
            return
        now = time.monotonic()
        self._revoked = {k: v for k, v in self._revoked.items() if v > now}
        self._revoked[self._digest(token)] = now + self.max_age

    def issue(self, agent_id: int) -> tuple[str, str]:
        """A new token and the CSRF token bound to it."""
        csrf = secrets.token_urlsafe(24)
        return self._serializer.dumps({"a": agent_id, "c": csrf}), csrf

    def load(self, token: Optional[str]) -> Optional[AgentSession]:
        """The session in ``token``, or None when missing, forged or expired."""
        if not token or self._digest(token) in self._revoked:
            return None
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            return None
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("a"), int) or not data.get("c"):
            return None
        return AgentSession(agent_id=data["a"], csrf=str(data["c"]))


class CustomerTokens:
    """Signs a logged-in shopper's customer id for the widget's metadata.

    The shop's own back end (here: the demo page) signs the id; the channel
    accepts ``customer_id`` only from a valid token, never as plain metadata.
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


def csrf_matches(expected: str, given: Optional[str]) -> bool:
    return bool(given) and secrets.compare_digest(expected.encode(), str(given).encode())


__all__ = [
    "AgentSession",
    "CSRF_HEADER",
    "CustomerTokens",
    "SESSION_COOKIE",
    "SecretKeyMissing",
    "SessionTokens",
    "csrf_matches",
    "hash_password",
    "needs_rehash",
    "resolve_secret_key",
    "verify_password",
]
