"""Passwords, console session tokens, CSRF and the signing secret."""
from __future__ import annotations

import os
import stat
import time

import pytest

from assistant.settings import Settings
from web.auth import (
    CustomerTokens,
    SecretKeyMissing,
    SessionTokens,
    csrf_matches,
    hash_password,
    resolve_secret_key,
    verify_password,
)


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


def test_customer_tokens_prove_the_customer_id() -> None:
    tokens = CustomerTokens("secret")
    token = tokens.sign("C0000001")
    assert tokens.verify(token) == "C0000001"
    assert CustomerTokens("other").verify(token) is None
    assert tokens.verify("C0000001") is None
    assert tokens.verify({"customer_id": "C0000001"}) is None
    assert tokens.verify("x" * 1000) is None


def test_secret_key_from_environment_wins(tmp_path) -> None:
    settings = Settings(var_dir=tmp_path, secret_key="from-env", database_url="postgresql://db/shop")
    assert resolve_secret_key(settings) == "from-env"


def test_scale_out_mode_refuses_to_start_without_a_secret(tmp_path) -> None:
    with pytest.raises(SecretKeyMissing):
        resolve_secret_key(Settings(var_dir=tmp_path, secret_key=None, database_url="postgresql://db/shop"))


def test_embedded_mode_creates_one_private_dev_key(tmp_path) -> None:
    settings = Settings(var_dir=tmp_path, secret_key=None, database_url=None)
    key = resolve_secret_key(settings)
    assert len(key) >= 32 and resolve_secret_key(settings) == key
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600
    other = Settings(var_dir=tmp_path / "other", secret_key=None, database_url=None)
    assert resolve_secret_key(other) != key  # no well-known default
