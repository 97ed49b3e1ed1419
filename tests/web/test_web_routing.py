"""Agent routing on the real migrated database: the ticket's skill from the conversation's intents,
the least busy online agent with that skill and room, capacity held under concurrent routers, a skill
nobody has going to the generalists, and the queue position within a skill's queue."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Dict, List

import pytest

from handoff.routing import queue_overview, route_waiting, skill_for, visible_to
from handoff.store import HandoffStore, InvalidInput
from shopdb.models import AgentRole, Skill

PASSWORD = "a long enough test password"


def _intents(*names: str) -> List[Dict[str, Any]]:
    return [{"name": name, "count": 1, "confidence": 0.9} for name in names]


@pytest.mark.parametrize(
    ("intents", "reason", "skill"),
    [
        (_intents("greet", "order_status", "request_human"), "requested", Skill.ORDERS),
        (_intents("greet", "request_return"), "requested", Skill.RETURNS),
        (_intents("search_products", "refine_search"), "frustration", Skill.PRODUCTS),
        (_intents("greet", "request_human"), "requested", Skill.GENERAL),
        ([], "cancel_order", Skill.ORDERS),  # no intents kept: the reason's intent decides
        # the specialised request made most often wins; on a tie the latest
        (
            [{"name": "order_status", "count": 3}, {"name": "request_return", "count": 1}],
            "",
            Skill.ORDERS,
        ),
        (_intents("order_status", "request_return"), "", Skill.RETURNS),
    ],
)
def test_a_conversation_needs_the_skill_of_what_the_shopper_asked(intents, reason, skill) -> None:
    assert skill_for(intents, reason) == skill


def _agent(store: HandoffStore, name: str, skills: List[str], capacity: int = 2, online: bool = True, **kw: Any):
    agent = store.create_agent(name, PASSWORD, name.title(), skills=skills, capacity=capacity, **kw)
    if online:
        store.touch(agent.id)
    return agent


def _ticket(store: HandoffStore, sender: str, skill: str):
    return store.open_ticket(sender, summary=f"about {skill}", skill=skill)


def test_each_ticket_goes_to_the_least_busy_online_agent_with_its_skill(web_settings, store) -> None:
    orders_a = _agent(store, "olga", [Skill.ORDERS], capacity=2)
    orders_b = _agent(store, "oscar", [Skill.ORDERS, Skill.GENERAL], capacity=2)
    returns = _agent(store, "rita", [Skill.RETURNS], capacity=1)
    _agent(store, "rob", [Skill.RETURNS], capacity=5, online=False)  # away: never routed to
    tickets = [_ticket(store, f"conversation-{i}", Skill.ORDERS) for i in range(3)]
    tickets += [_ticket(store, f"conversation-r{i}", Skill.RETURNS) for i in range(2)]

    routed = {t.id: t.agent_id for t in route_waiting(store)}
    orders_agents = [routed[t.id] for t in tickets[:3]]
    # least busy first: one each, then the longest idle of the two
    assert sorted(orders_agents[:2]) == sorted([orders_a.id, orders_b.id])
    assert orders_agents[2] in (orders_a.id, orders_b.id)
    assert routed[tickets[3].id] == returns.id
    assert tickets[4].id not in routed  # Rita is full (capacity 1), Rob is away: it waits
    assert store.queue_position(tickets[4].id) == 1  # first in the returns queue
    overview = {row["skill"]: row for row in queue_overview(store)["skills"]}
    assert overview[Skill.RETURNS]["waiting"] == 1 and overview[Skill.RETURNS]["free_places"] == 0
    assert overview[Skill.ORDERS]["free_places"] == 1

    store.resolve(tickets[3].id, returns.id, "closed")  # Rita has room again
    assert [(t.id, t.agent_id) for t in route_waiting(store)] == [(tickets[4].id, returns.id)]


def test_a_skill_nobody_has_goes_to_the_generalists(web_settings, store) -> None:
    general = _agent(store, "gina", [Skill.GENERAL])
    _agent(store, "olga", [Skill.ORDERS])
    ticket = _ticket(store, "conversation-products", Skill.PRODUCTS)
    assert [(t.id, t.agent_id) for t in route_waiting(store)] == [(ticket.id, general.id)]


def test_positions_count_within_the_skill_queue(web_settings, store) -> None:
    first_orders = _ticket(store, "c-1", Skill.ORDERS)
    first_returns = _ticket(store, "c-2", Skill.RETURNS)
    second_orders = _ticket(store, "c-3", Skill.ORDERS)
    assert [store.queue_position(t.id) for t in (first_orders, first_returns, second_orders)] == [1, 1, 2]


def test_concurrent_routers_never_exceed_an_agents_capacity(web_settings, store, db_url) -> None:
    """Two Rasa servers route at once (two stores, two threads): one agent with one place gets one."""
    agent = _agent(store, "solo", list(Skill.ALL), capacity=1)
    for i in range(6):
        _ticket(store, f"race-{i}", Skill.GENERAL)
    other = HandoffStore.from_url(db_url)
    barrier = threading.Barrier(2)
    results: List[Any] = []

    def router(which: HandoffStore) -> None:
        barrier.wait()
        results.extend(route_waiting(which))

    threads = [threading.Thread(target=router, args=(s,)) for s in (store, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 1 and results[0].agent_id == agent.id
    assert sum(1 for t in store.queue() if t.status == "assigned") == 1


def test_an_agent_sees_their_own_and_their_skills_queue_a_supervisor_every_queue(web_settings, store) -> None:
    olga = _agent(store, "olga", [Skill.ORDERS], capacity=0)  # capacity 0: never routed to
    boss = _agent(store, "boss", list(Skill.ALL), capacity=0, role=AgentRole.SUPERVISOR)
    orders = _ticket(store, "o-1", Skill.ORDERS)
    returns = _ticket(store, "r-1", Skill.RETURNS)
    assert route_waiting(store) == []
    tickets = store.queue()
    assert [t.id for t in visible_to(tickets, olga.id, olga.skills, olga.sees_every_queue)] == [orders.id]
    assert {t.id for t in visible_to(tickets, boss.id, boss.skills, boss.sees_every_queue)} == {orders.id, returns.id}
    with pytest.raises(InvalidInput):
        store.create_agent("nobody", PASSWORD, skills=["shoes"])
    changed = store.set_routing("olga", [Skill.ORDERS, Skill.RETURNS], 2)
    assert changed.skills == (Skill.ORDERS, Skill.RETURNS) and changed.capacity == 2


def test_an_agent_whose_console_closed_gets_nothing(web_settings, store) -> None:
    agent = _agent(store, "late", list(Skill.ALL))
    _ticket(store, "c-late", Skill.GENERAL)
    later = dt.datetime.utcnow() + dt.timedelta(minutes=5)
    assert route_waiting(store, now=later) == []
    assert [t.agent_id for t in route_waiting(store)] == [agent.id]


@pytest.mark.services
def test_three_servers_routing_at_once_on_postgresql_keep_every_capacity() -> None:
    """The scale-out case: three Rasa servers' routers (three engines, three threads) on one PostgreSQL
    database give every ticket at most once and no agent more than their capacity."""
    import uuid

    from sqlalchemy import create_engine, text

    from perf.scaleout_stack import BackingServices
    from shopdb.db import migrate

    services = BackingServices()
    reason = services.unreachable()
    if reason:
        pytest.skip(f"PostgreSQL unavailable: {reason}")
    name = f"shop_routing_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(services.postgres_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = services.postgres_url(name)
        migrate(url, "heads")
        stores = [HandoffStore.from_url(url) for _ in range(3)]
        agents = [_agent(stores[0], f"agent{i}", list(Skill.ALL), capacity=2) for i in range(3)]
        for i in range(20):
            _ticket(stores[0], f"pg-race-{i}", Skill.GENERAL)
        barrier = threading.Barrier(len(stores))
        results: List[Any] = []

        def router(which: HandoffStore) -> None:
            barrier.wait()
            for _ in range(3):
                results.extend(route_waiting(which))

        threads = [threading.Thread(target=router, args=(s,)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == len({t.id for t in results}) == 6  # three agents, two places each
        assigned = [t for t in stores[0].queue() if t.status == "assigned"]
        assert sorted(t.agent_id for t in assigned) == sorted([a.id for a in agents] * 2)
        for store in stores:
            store.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
