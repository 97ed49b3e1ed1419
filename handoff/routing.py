"""Agent routing: each hand-off goes to the least busy online agent with the skill it needs.

A ticket's skill (orders, returns, products, general) comes from the intents the bot detected in
the conversation (:func:`skill_for`): the specialised request the shopper made most often, the
latest on a tie. :func:`route_waiting` gives waiting tickets, longest waiting first, to agents who
are online (presence online, console open), have the skill and have room under their capacity;
of those, the one with the fewest conversations, then the one idle longest. A skill nobody in the
team has goes to agents with the general skill. A ticket nobody can take yet waits in its skill's
queue and the shopper is told its position there.

Several Rasa servers route at once against one database: each assignment is one transaction
that first writes the agent's ``routed_at`` (a row lock in PostgreSQL, SQLite's write lock), then
counts the agent's conversations, then moves the ticket only if it is still waiting. So two
servers never give one ticket twice nor an agent more than their capacity.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import func, select, update

from core.clock import utcnow
from handoff.store import HandoffStore, TicketInfo, is_online, ticket_info
from monitoring import metrics
from shopdb.models import Agent, HandoffTicket, Skill, TicketKind, TicketStatus

logger = logging.getLogger(__name__)

# The bot's intents (bot/domain.yml) that need a specialist; every other intent is general.
SKILL_OF_INTENT: Dict[str, str] = {
    "order_status": Skill.ORDERS,
    "cancel_order": Skill.ORDERS,
    "change_order": Skill.ORDERS,
    "change_address": Skill.ORDERS,
    "ask_cancellation_fee": Skill.ORDERS,
    "invoice": Skill.ORDERS,
    "payment_issue": Skill.ORDERS,
    "place_order": Skill.ORDERS,
    "request_return": Skill.RETURNS,
    "return_eligibility": Skill.RETURNS,
    "get_refund": Skill.RETURNS,
    "refund_status": Skill.RETURNS,
    "ask_refund_policy": Skill.RETURNS,
    "report_problem": Skill.RETURNS,
    "search_products": Skill.PRODUCTS,
    "product_question": Skill.PRODUCTS,
    "check_availability": Skill.PRODUCTS,
    "compare_products": Skill.PRODUCTS,
    "stock_alert": Skill.PRODUCTS,
    "ask_similar": Skill.PRODUCTS,
    "ask_goes_with": Skill.PRODUCTS,
    "select_product": Skill.PRODUCTS,
    "refine_search": Skill.PRODUCTS,
    "add_to_cart": Skill.PRODUCTS,
}


def skill_for(intents: Sequence[Dict[str, Any]], reason: str = "") -> str:
    """The skill a conversation needs, from its detected intents (``[{"name", "count"}]``, first seen
    first, as ``handoff.transcript.detected_intents`` gives them) and the hand-off's reason."""
    best: Optional[Tuple[int, int, str]] = None
    for order, intent in enumerate(intents):
        skill = SKILL_OF_INTENT.get(str(intent.get("name")))
        if skill is not None:
            key = (int(intent.get("count") or 1), order, skill)
            best = key if best is None or key > best else best
    if best is not None:
        return best[2]
    return SKILL_OF_INTENT.get(reason, Skill.GENERAL)


def skills_of(raw: Any) -> List[str]:
    """An agent's skills as stored (a JSON list), cleaned: known skills only."""
    return [skill for skill in (raw or []) if skill in Skill.ALL]


def _online(agent: Agent, now: dt.datetime) -> bool:
    return bool(agent.is_active) and is_online(agent, now)


def _loads(session: Any) -> Dict[int, int]:
    """Open hand-offs per agent."""
    rows = session.execute(
        select(HandoffTicket.agent_id, func.count())
        .where(HandoffTicket.status == TicketStatus.ASSIGNED, HandoffTicket.kind == TicketKind.HANDOFF)
        .group_by(HandoffTicket.agent_id)
    )
    return {agent_id: int(count) for agent_id, count in rows if agent_id is not None}


def candidates(session: Any, skill: str, now: dt.datetime) -> List[int]:
    """Agents who may get a ticket of ``skill`` now, best first (fewest conversations, longest idle)."""
    agents = session.execute(select(Agent).where(Agent.is_active.is_(True))).scalars().all()
    if not any(skill in skills_of(a.skills) for a in agents):
        skill = Skill.GENERAL  # nobody in the team has it: the generalists answer
    loads = _loads(session)
    eligible = [
        a for a in agents if _online(a, now) and skill in skills_of(a.skills) and loads.get(a.id, 0) < a.capacity
    ]
    eligible.sort(key=lambda a: (loads.get(a.id, 0), a.routed_at or dt.datetime.min, a.id))
    return [a.id for a in eligible]


def assign(store: HandoffStore, ticket_id: int, skill: str, now: Optional[dt.datetime] = None) -> Optional[TicketInfo]:
    """Give one waiting ticket to the best agent with room; None when nobody can take it (or it was
    taken meanwhile)."""
    now = now or utcnow()
    with store.session() as session:
        ranked = candidates(session, skill, now)
    for agent_id in ranked:
        with store.session() as session:
            # The write first: it locks the agent's row (the database's write lock in SQLite), so the
            # count below sees every assignment to them that committed before.
            session.execute(update(Agent).where(Agent.id == agent_id).values(routed_at=now))
            agent = session.get(Agent, agent_id)
            load = _loads(session).get(agent_id, 0)
            if agent is None or load >= agent.capacity or not _online(agent, now):
                session.rollback()
                continue
            moved = session.execute(
                update(HandoffTicket)
                .where(HandoffTicket.id == ticket_id, HandoffTicket.status == TicketStatus.WAITING)
                .values(status=TicketStatus.ASSIGNED, agent_id=agent_id, assigned_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:
                session.rollback()
                return None  # another server routed it, or an agent took it
            ticket = session.get(HandoffTicket, ticket_id)
            session.refresh(ticket)
            info = ticket_info(ticket)
        metrics.HANDOFF_WAIT_SECONDS.observe(max(0.0, (now - info.created_at).total_seconds()))
        logger.info("hand-off %d (%s) routed to agent %d (%d open before)", ticket_id, skill, agent_id, load)
        return info
    return None


def waiting(store: HandoffStore, limit: int = 100) -> List[Tuple[int, str]]:
    """(id, skill) of waiting hand-offs, longest waiting first."""
    with store.session() as session:
        rows = session.execute(
            select(HandoffTicket.id, HandoffTicket.skill)
            .where(HandoffTicket.kind == TicketKind.HANDOFF, HandoffTicket.status == TicketStatus.WAITING)
            .order_by(HandoffTicket.created_at, HandoffTicket.id)
            .limit(limit)
        ).all()
    return [(int(ticket_id), str(skill)) for ticket_id, skill in rows]


def route_waiting(store: HandoffStore, now: Optional[dt.datetime] = None) -> List[TicketInfo]:
    """Route every waiting hand-off that an agent can take now; returns the tickets assigned."""
    assigned: List[TicketInfo] = []
    full: set[str] = set()  # skills with nobody left to take one: skip their later tickets
    for ticket_id, skill in waiting(store):
        if skill in full:
            continue
        info = assign(store, ticket_id, skill, now)
        if info is None:
            full.add(skill)
        else:
            assigned.append(info)
    return assigned


def queue_overview(store: HandoffStore, now: Optional[dt.datetime] = None) -> Dict[str, Any]:
    """What a supervisor sees: per skill, the tickets waiting, the agents online who take conversations
    (capacity above 0) and their free places; and every agent's load."""
    now = now or utcnow()
    with store.session() as session:
        agents = session.execute(select(Agent).where(Agent.is_active.is_(True))).scalars().all()
        loads = _loads(session)
        waiting_by_skill = dict(
            session.execute(
                select(HandoffTicket.skill, func.count())
                .where(HandoffTicket.kind == TicketKind.HANDOFF, HandoffTicket.status == TicketStatus.WAITING)
                .group_by(HandoffTicket.skill)
            ).all()
        )
    skills = []
    for skill in Skill.ALL:
        online = [a for a in agents if _online(a, now) and a.capacity > 0 and skill in skills_of(a.skills)]
        skills.append(
            {
                "skill": skill,
                "waiting": int(waiting_by_skill.get(skill, 0)),
                "agents_online": len(online),
                "free_places": sum(max(0, a.capacity - loads.get(a.id, 0)) for a in online),
            }
        )
    return {"skills": skills, "loads": {a.id: loads.get(a.id, 0) for a in agents}}


def visible_to(tickets: Iterable[TicketInfo], agent_id: int, skills: Sequence[str], sees_all: bool) -> List[TicketInfo]:
    """The open hand-offs an agent's console lists: all for a supervisor; for an agent their own
    and those waiting in their skills' queues."""
    if sees_all:
        return list(tickets)
    return [
        t
        for t in tickets
        if t.agent_id == agent_id or (t.status == TicketStatus.WAITING and (t.skill in skills or not skills))
    ]


__all__ = [
    "SKILL_OF_INTENT",
    "assign",
    "candidates",
    "queue_overview",
    "route_waiting",
    "skill_for",
    "skills_of",
    "visible_to",
    "waiting",
]
