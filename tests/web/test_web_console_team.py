"""The console's team: presence, passing a conversation to a colleague, and hand-offs that expire.

Real migrated database (``store``), the channel's hand-off service with Rasa's in-memory tracker
store for the expiry (``channel_app``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Coroutine

import pytest
from rasa.shared.core.events import BotUttered, ConversationResumed
from sqlalchemy import update

from handoff.store import PRESENCE_TIMEOUT, InvalidInput, TicketConflict, default_store
from handoff.tickets import create_ticket
from shopdb.models import Agent, HandoffTicket

PASSWORD = "a long enough test password"


def test_presence_counts_only_while_the_console_is_open(web_settings, store) -> None:
    robin = store.create_agent("robin", PASSWORD, "Robin")
    sam = store.create_agent("sam", PASSWORD, "Sam")
    assert [m["online"] for m in store.team()] == [False, False]  # never seen
    store.touch(robin.id)
    store.touch(sam.id)
    assert {m["display_name"]: m["online"] for m in store.team()} == {"Robin": True, "Sam": True}
    store.set_presence(sam.id, "away")
    assert {m["display_name"]: (m["presence"], m["online"]) for m in store.team()} == {
        "Robin": ("online", True),
        "Sam": ("away", False),
    }
    later = dt.datetime.utcnow() + PRESENCE_TIMEOUT + dt.timedelta(seconds=5)
    assert not any(m["online"] for m in store.team(now=later))  # the console closed: nobody is online
    with pytest.raises(InvalidInput):
        store.set_presence(robin.id, "invisible")


def test_a_conversation_passes_only_from_its_holder_to_a_colleague_online(web_settings, store) -> None:
    robin = store.create_agent("robin", PASSWORD, "Robin")
    sam = store.create_agent("sam", PASSWORD, "Sam")
    ticket, _, _ = create_ticket("conversation-transfer", [])
    store.take(ticket.id, robin.id)
    with pytest.raises(TicketConflict):
        store.transfer(ticket.id, robin.id, sam.id)  # Sam's console is not open
    store.touch(sam.id)
    with pytest.raises(TicketConflict):
        store.transfer(ticket.id, sam.id, robin.id)  # only the holder passes it on
    with pytest.raises(InvalidInput):
        store.transfer(ticket.id, robin.id, robin.id)
    moved = store.transfer(ticket.id, robin.id, sam.id)
    assert (moved.status, moved.agent_id, moved.agent_name) == ("assigned", sam.id, "Sam")


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run`` in a thread of its own (Playwright, when browser tests ran first, holds this thread's loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _age(store, ticket_id: int, minutes: float) -> None:
    with store.session() as session:
        session.execute(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id)
            .values(updated_at=dt.datetime.utcnow() - dt.timedelta(minutes=minutes))
        )


def test_hand_offs_of_conversations_that_ended_close_and_the_bot_listens_again(web_settings, channel_app) -> None:
    app, channel = channel_app("expiry_test")
    store = default_store()
    robin = store.create_agent("robin", PASSWORD, "Robin")
    idle, _, _ = create_ticket("conversation-idle", [])
    taken, _, _ = create_ticket("conversation-taken-idle", [])
    store.take(taken.id, robin.id)
    active, _, _ = create_ticket("conversation-active", [])
    _age(store, idle.id, 241)
    _age(store, taken.id, 300)
    _age(store, active.id, 10)

    closed = _run(channel.service.expire_idle())
    assert closed == 2
    assert [store.get_ticket(t.id).status for t in (idle, taken, active)] == ["closed", "closed", "waiting"]
    assert _run(channel.service.expire_idle()) == 0  # once only

    tracker = _run(app.ctx.agent.tracker_store.retrieve("conversation-idle"))
    assert any(isinstance(e, ConversationResumed) for e in tracker.events)
    [notice] = [e for e in tracker.events if isinstance(e, BotUttered)]
    assert notice.text.startswith("This conversation with our support team was closed after 240 minutes")
    with store.session() as session:
        assert session.get(Agent, robin.id).presence == "online"
