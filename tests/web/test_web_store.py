"""The hand-off store on a real, migrated SQLite database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from handoff.store import (
    MAX_MESSAGE_CHARS,
    AgentExists,
    InvalidInput,
    TicketConflict,
    TicketNotFound,
    clean_text,
)
from shopdb.models import Author, TicketStatus


def test_migration_creates_the_web_tables(store) -> None:
    with store.engine.connect() as conn:
        tables = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert {"agents", "handoff_tickets", "handoff_messages"} <= tables


def test_agents_are_stored_with_argon2_hashes_and_authenticate(store) -> None:
    agent = store.create_agent("anna", "correct horse", "Anna K.")
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM agents WHERE id = :id"), {"id": agent.id}).scalar()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert store.authenticate("anna", "correct horse") == agent
    assert store.authenticate("anna", "correct horsE") is None
    assert store.authenticate("nobody", "correct horse") is None
    assert store.authenticate("anna", None) is None
    assert store.authenticate(["anna"], "correct horse") is None


def test_agent_names_and_passwords_are_validated(store) -> None:
    store.create_agent("anna", "long enough")
    with pytest.raises(AgentExists):
        store.create_agent("anna", "another password")
    with pytest.raises(InvalidInput):
        store.create_agent("bad name!", "long enough")
    with pytest.raises(InvalidInput):
        store.create_agent("bob", "short")
    store.set_password("anna", "a new password")
    assert store.authenticate("anna", "a new password") is not None
    assert store.authenticate("anna", "long enough") is None


def test_one_open_ticket_per_conversation(store) -> None:
    first = store.open_ticket("s" * 20, summary="wants a refund", transcript=[{"role": "user", "text": "hi"}])
    again = store.open_ticket("s" * 20, summary="still wants a refund")
    assert again.id == first.id and again.summary == "still wants a refund"
    assert store.active_ticket("s" * 20).id == first.id
    # The database itself refuses a second open ticket, whatever the code path.
    with pytest.raises(IntegrityError):
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO handoff_tickets (sender_id, status, reason, summary, intents, transcript, context,"
                    " created_at, updated_at) VALUES (:s, 'waiting', '', '', '[]', '[]', '{}', '2025-01-01', '2025-01-01')"
                ),
                {"s": "s" * 20},
            )


def test_ticket_life_cycle_and_who_may_do_what(store) -> None:
    anna = store.create_agent("anna", "password-1")
    bob = store.create_agent("bob", "password-2")
    ticket = store.open_ticket("conversation-0001")
    assert ticket.status == TicketStatus.WAITING

    with pytest.raises(TicketConflict):
        store.add_message(ticket.id, Author.AGENT, "hello", agent_id=anna.id)  # not taken yet
    taken = store.take(ticket.id, anna.id)
    assert (taken.status, taken.agent_name) == (TicketStatus.ASSIGNED, "anna")
    assert store.take(ticket.id, anna.id).status == TicketStatus.ASSIGNED  # idempotent for the holder
    with pytest.raises(TicketConflict):
        store.take(ticket.id, bob.id)
    with pytest.raises(TicketConflict):
        store.add_message(ticket.id, Author.AGENT, "I'll take over", agent_id=bob.id)
    with pytest.raises(TicketConflict):
        store.resolve(ticket.id, bob.id, TicketStatus.CLOSED)

    store.add_message(ticket.id, Author.SHOPPER, "where is my parcel?")
    store.add_message(ticket.id, Author.AGENT, "Let me check.", agent_id=anna.id)
    released = store.release(ticket.id, anna.id)
    assert (released.status, released.agent_id) == (TicketStatus.WAITING, None)
    store.take(ticket.id, bob.id)
    resolved = store.resolve(ticket.id, bob.id, TicketStatus.HANDED_BACK)
    assert resolved.status == TicketStatus.HANDED_BACK and resolved.resolved_at is not None
    assert store.active_ticket("conversation-0001") is None
    with pytest.raises(TicketConflict):
        store.add_message(ticket.id, Author.SHOPPER, "hello?")

    lines = [(m.author, m.text, m.agent_name) for m in store.messages(ticket.id)]
    assert lines == [("shopper", "where is my parcel?", None), ("agent", "Let me check.", "anna")]
    # A resolved conversation may ask again: a new ticket, the old one kept.
    assert store.open_ticket("conversation-0001").id != ticket.id
    with pytest.raises(TicketNotFound):
        store.take(99999, anna.id)
    with pytest.raises(InvalidInput):
        store.resolve(ticket.id, bob.id, "deleted")


def test_only_one_of_two_racing_agents_gets_the_ticket(store) -> None:
    agents = [store.create_agent(f"agent{i}", "password-x") for i in range(2)]
    ticket = store.open_ticket("conversation-race")
    outcomes = []
    barrier = threading.Barrier(2)

    def grab(agent_id: int) -> None:
        barrier.wait()
        try:
            store.take(ticket.id, agent_id)
            outcomes.append("won")
        except TicketConflict:
            outcomes.append("lost")

    threads = [threading.Thread(target=grab, args=(a.id,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "won"]


def test_queue_order_and_position(store) -> None:
    a = store.open_ticket("conversation-a")
    b = store.open_ticket("conversation-b")
    c = store.open_ticket("conversation-c")
    agent = store.create_agent("anna", "password-1")
    assert [t.id for t in store.queue()] == [a.id, b.id, c.id]
    assert [store.queue_position(t.id) for t in (a, b, c)] == [1, 2, 3]
    store.take(a.id, agent.id)
    assert [store.queue_position(t.id) for t in (a, b, c)] == [0, 1, 2]
    store.resolve(a.id, agent.id, TicketStatus.CLOSED)
    assert [t.id for t in store.queue()] == [b.id, c.id]
    assert [t.id for t in store.recent_resolved()] == [a.id]
    assert "transcript" not in store.queue()[0].as_json(full=False)


def test_context_updates_merge_into_open_tickets(store) -> None:
    ticket = store.open_ticket("conversation-ctx", context={"page": {"product_id": "1"}, "customer_id": "C1"})
    store.update_context(ticket.id, {"page": {"product_id": "2", "cart": []}})
    assert store.get_ticket(ticket.id).context == {"page": {"product_id": "2", "cart": []}, "customer_id": "C1"}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  hello  ", "hello"),
        ("ünïcødé 日本語 مرحبا 👋🏽", "ünïcødé 日本語 مرحبا 👋🏽"),
        ("line one\nline two", "line one\nline two"),
        ("bell\x07 and null\x00 removed", "bell and null removed"),
    ],
)
def test_clean_text_keeps_every_script_and_drops_control_characters(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01", None, 42, ["hi"], "x" * (MAX_MESSAGE_CHARS + 1)])
def test_clean_text_refuses_empty_long_and_non_text(raw) -> None:
    with pytest.raises(InvalidInput):
        clean_text(raw)


def test_a_refused_message_stores_nothing(store) -> None:
    ticket = store.open_ticket("conversation-empty")
    with pytest.raises(InvalidInput):
        store.add_message(ticket.id, Author.SHOPPER, "   ")
    assert store.messages(ticket.id) == []


def test_privacy_export_and_erase_of_handoff_data(store) -> None:
    from shopdb.handoff_records import erase_shopper, export_shopper

    mine = store.open_ticket("conversation-mine", customer_id="C0000009", summary="refund")
    store.add_message(mine.id, Author.SHOPPER, "my e-mail is a@b.example")
    other = store.open_ticket("conversation-other")
    with store.session() as session:
        exported = export_shopper(session, ["conversation-mine"], None)
        assert [t["id"] for t in exported["tickets"]] == [mine.id]
        assert exported["tickets"][0]["messages"][0]["text"] == "my e-mail is a@b.example"
        assert [t["id"] for t in export_shopper(session, [], "C0000009")["tickets"]] == [mine.id]
        assert export_shopper(session, [], None) == {"tickets": []}
    with store.session() as session:
        assert erase_shopper(session, [], "C0000009") == 1
    with pytest.raises(TicketNotFound):
        store.get_ticket(mine.id)
    assert store.messages(mine.id) == []
    assert store.get_ticket(other.id).sender_id == "conversation-other"


def test_admin_role(store) -> None:
    assert not store.create_agent("anna", "password-1").is_admin
    assert store.create_agent("root", "password-1", role="admin").is_admin
    with pytest.raises(InvalidInput):
        store.create_agent("eve", "password-1", role="owner")
