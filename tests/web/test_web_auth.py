"""Passwords, console session tokens (and their revocation) and CSRF."""

from __future__ import annotations

import time

import pytest

from handoff.passwords import hash_password, verify_password
from shopdb.counters import SharedLimiter
from web.auth import SessionTokens, csrf_matches


def test_password_hashes_are_salted_argon2() -> None:
    first, second = hash_password("hunter2-hunter2"), hash_password("hunter2-hunter2")
    assert first != second and first.startswith("$argon2id$")
    assert verify_password(first, "hunter2-hunter2")
    assert not verify_password(first, "hunter2-hunter3")
    assert not verify_password("not a hash", "hunter2-hunter2")
    assert not verify_password(None, "hunter2-hunter2")
    with pytest.raises(ValueError):
        hash_password("short")


def test_session_tokens_round_trip_and_reject_forgeries() -> None:
    tokens = SessionTokens("secret-a", max_age=60)
    token, csrf = tokens.issue(7)
    session = tokens.load(token)
    assert session is not None and session.agent_id == 7 and session.csrf == csrf
    assert SessionTokens("secret-b").load(token) is None  # other secret
    assert tokens.load(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]) is None  # tampered
    assert tokens.load("") is None and tokens.load(None) is None and tokens.load("garbage") is None
    assert tokens.issue(7)[1] != csrf  # a fresh CSRF token per login


def test_session_tokens_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = SessionTokens("secret", max_age=3600)
    token, _ = tokens.issue(1)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3601)
    assert tokens.load(token) is None


def test_csrf_comparison() -> None:
    assert csrf_matches("abc", "abc")
    assert not csrf_matches("abc", "abd")
    assert not csrf_matches("abc", None)
    assert not csrf_matches("abc", "")


def test_a_logged_out_token_stays_dead_for_every_server_sharing_the_counters(tmp_path) -> None:
    """Revocation lives in the shared counters (the shop database here), not in one process."""
    from shopdb.db import create_db_engine, migrate

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    migrate(url)
    first = SessionTokens("secret", revocations=SharedLimiter.from_url(None, create_db_engine(url)))
    token, _ = first.issue(3)
    assert first.load(token) is not None
    first.revoke(token)
    assert first.load(token) is None
    after_restart = SessionTokens("secret", revocations=SharedLimiter.from_url(None, create_db_engine(url)))
    assert after_restart.load(token) is None  # another process, or the same server restarted
    assert after_restart.load(after_restart.issue(3)[0]) is not None  # a new login works
