"""The secret key and what is signed with it: conversation ids, customer tokens and proofs, order proofs."""

from __future__ import annotations

import os
import stat

import pytest

from core.settings import Settings
from core.signing import (
    ConversationIds,
    CustomerProofs,
    CustomerTokens,
    InvoiceLinkExpired,
    InvoiceLinks,
    OrderProofs,
    SecretKeyMissing,
    action_server_token,
    resolve_secret_key,
)


def test_conversation_ids_are_valid_only_where_they_were_issued() -> None:
    ids = ConversationIds("secret")
    issued = ids.new()
    assert ids.valid(issued) and issued != ids.new()
    assert not ConversationIds("other secret").valid(issued)
    tampered = ("0" if issued[0] != "0" else "1") + issued[1:]
    assert not ids.valid(tampered)
    for guess in ("shopper-1", "a" * 55, issued[:-1], issued + "x", None, 42, "0f8c2b1e4d5a6b7c8d9e0f1a2b3c4d5e"):
        assert not ids.valid(guess), guess


def test_customer_tokens_prove_the_customer_id() -> None:
    tokens = CustomerTokens("secret")
    token = tokens.sign("C0000001")
    assert tokens.verify(token) == "C0000001"
    assert CustomerTokens("other").verify(token) is None
    assert tokens.verify("C0000001") is None
    assert tokens.verify({"customer_id": "C0000001"}) is None
    assert tokens.verify("x" * 1000) is None


def test_customer_proofs_bind_the_id_to_one_conversation() -> None:
    proofs = CustomerProofs("secret")
    proof = proofs.issue("chat-1", "C0000001")
    assert proofs.valid(proof, "chat-1", "C0000001")
    assert not proofs.valid(proof, "chat-2", "C0000001")
    assert not proofs.valid(proof, "chat-1", "C0000002")
    assert not CustomerProofs("other").valid(proof, "chat-1", "C0000001")
    assert not proofs.valid(None, "chat-1", "C0000001")


def test_order_proofs_name_the_conversation_the_order_and_how_it_was_verified() -> None:
    proofs = OrderProofs("secret")
    by_email = proofs.issue("chat-1", "10000001", email="alex.morgan@example.com")
    assert proofs.verify(by_email, "chat-1", "10000001") == {"email": "alex.morgan@example.com", "customer_id": None}
    assert proofs.verify(by_email, "chat-2", "10000001") is None
    assert proofs.verify(by_email, "chat-1", "10000003") is None
    assert OrderProofs("other").verify(by_email, "chat-1", "10000001") is None
    by_account = proofs.issue("chat-1", "10000002", customer_id="C0000001")
    assert proofs.verify(by_account, "chat-1", "10000002") == {"email": None, "customer_id": "C0000001"}
    assert proofs.verify("not a proof", "chat-1", "10000001") is None


def test_invoice_links_name_the_order_and_expire(monkeypatch) -> None:
    from itsdangerous.timed import TimestampSigner

    links = InvoiceLinks("secret")
    url = links.url("10000001")
    assert url.startswith("/webhooks/shop/invoices/") and url.endswith(".pdf")
    token = url[len("/webhooks/shop/invoices/") : -len(".pdf")]
    assert links.verify(token) == "10000001"
    public = InvoiceLinks("secret").url("10000001", "https://chat.example.com/")
    assert public.startswith("https://chat.example.com/webhooks/shop/invoices/")
    payload, issued, signature = token.split(".")
    other_order = links.url("10000002")[24:-4].split(".")[0] + f".{issued}.{signature}"
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    tampered = (other_order, f"{payload}.{issued}.{flipped}", InvoiceLinks("other").url("10000001")[24:-4])
    for forged in (*tampered, "10000001", "", None, 42, token * 5):
        assert links.verify(forged) is None, forged
    yesterday = TimestampSigner.get_timestamp(TimestampSigner("x")) - 24 * 3600 - 1
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: yesterday)
        old = links.url("10000001")[24:-4]
        old_forged = InvoiceLinks("other").url("10000001")[24:-4]
    with pytest.raises(InvoiceLinkExpired):
        links.verify(old)
    assert links.verify(old_forged) is None  # a forged link is never reported as merely expired
    assert InvoiceLinks("secret", max_age=2 * 24 * 3600).verify(old) == "10000001"


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


def test_the_action_server_token_is_derived_from_the_secret_unless_set(tmp_path) -> None:
    derived = action_server_token(Settings(var_dir=tmp_path, secret_key="s1"))
    assert derived == action_server_token(Settings(var_dir=tmp_path, secret_key="s1")) and len(derived) == 64
    assert derived != action_server_token(Settings(var_dir=tmp_path, secret_key="s2"))
    assert derived != "s1"
    assert action_server_token(Settings(var_dir=tmp_path, secret_key="s1", action_token="explicit")) == "explicit"
