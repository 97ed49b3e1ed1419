"""Console sessions and CSRF (agents' passwords: :mod:`handoff.passwords`).

Console sessions are stateless tokens signed with
itsdangerous, carrying an expiry and a per-session CSRF token that the console
must echo in a header on every state-changing request. Shopper-side signatures
(conversation ids, customer tokens) live in :mod:`core.signing`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

if TYPE_CHECKING:  # pragma: no cover
    from shopdb.counters import SharedLimiter

logger = logging.getLogger(__name__)

SESSION_COOKIE = "shop_agent_session"
CSRF_HEADER = "X-CSRF-Token"
DEFAULT_SESSION_MAX_AGE = 8 * 3600  # one working shift


@dataclass(frozen=True)
class AgentSession:
    agent_id: int
    csrf: str


class SessionTokens:
    """Signed, expiring console session tokens (stored in an HttpOnly cookie).

    Logged-out tokens are remembered in the shared counters (:mod:`shopdb.counters`:
    the shop database, or Redis in the scale-out mode) until they would expire anyway, so a
    copied cookie stays dead on every server and after a restart.
    """

    def __init__(
        self, secret_key: str, max_age: int = DEFAULT_SESSION_MAX_AGE, revocations: Optional["SharedLimiter"] = None
    ) -> None:
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(secret_key, salt="shop-agent-session")
        self._revocations = revocations

    def revoke(self, token: Optional[str]) -> None:
        """Make ``token`` unusable (logout), even though its signature stays valid until it expires."""
        if token and self._revocations is not None:
            self._revocations.revoke(token, self.max_age)

    def issue(self, agent_id: int) -> tuple[str, str]:
        """A new token and the CSRF token bound to it."""
        csrf = secrets.token_urlsafe(24)
        return self._serializer.dumps({"a": agent_id, "c": csrf}), csrf

    def load(self, token: Optional[str]) -> Optional[AgentSession]:
        """The session in ``token``, or None when missing, forged, expired or logged out."""
        if not token:
            return None
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except (SignatureExpired, BadSignature):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("a"), int) or not data.get("c"):
            return None
        if self._revocations is not None and self._revocations.is_revoked(token):
            return None
        return AgentSession(agent_id=data["a"], csrf=str(data["c"]))


def csrf_matches(expected: str, given: Optional[str]) -> bool:
    return bool(given) and secrets.compare_digest(expected.encode(), str(given).encode())


__all__ = [
    "AgentSession",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SessionTokens",
    "csrf_matches",
]
