"""The hand-off store: agents, tickets and hand-off messages in the shop database.

One class, plain dataclasses out, so the action server (creates tickets), the
Rasa server's channel (routes messages, serves the console) and the CLI share
the same rules: one open ticket per conversation (also a partial unique index),
only the agent holding a ticket may write in it or resolve it, and state
changes are conditional UPDATEs so two agents clicking "take" at once cannot
both win.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, ContextManager, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import utcnow
from handoff.passwords import hash_password, needs_rehash, verify_password
from handoff.transcript import peak_frustration
from monitoring import metrics
from shopdb.db import create_db_engine, session_factory, session_scope
from shopdb.models import (
    Agent,
    AgentPresence,
    AgentRole,
    Author,
    HandoffMessage,
    HandoffTicket,
    Skill,
    TicketKind,
    TicketStatus,
)

MAX_MESSAGE_CHARS = 4000
# An agent counts as online while their console called within this time (it polls every 15 s).
PRESENCE_TIMEOUT = dt.timedelta(seconds=60)
# A complaint or left message that no agent has answered or closed yet.
_UNANSWERED_FOLLOWUP = HandoffTicket.kind.in_(TicketKind.FOLLOW_UPS) & (HandoffTicket.status == TicketStatus.RECORDED)
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class StoreError(Exception):
    """Base of the store's refusals; ``str(error)`` is safe to show to the caller."""


class TicketNotFound(StoreError):
    pass


class TicketConflict(StoreError):
    """The ticket is not in a state (or not held by the agent) that allows this."""


class AgentExists(StoreError):
    pass


class InvalidInput(StoreError):
    pass


class DatabaseBusy(StoreError):
    """A database call did not finish within ``SHOP_DB_TIMEOUT``; the caller gets a clear answer now."""


@dataclass(frozen=True)
class AgentInfo:
    id: int
    username: str
    display_name: str
    role: str = AgentRole.AGENT
    skills: Tuple[str, ...] = Skill.ALL
    capacity: int = 3
    can_review: bool = False  # labels the learning loop's review queue (admins may too)

    @property
    def is_admin(self) -> bool:
        return self.role == AgentRole.ADMIN

    @property
    def sees_every_queue(self) -> bool:
        """Supervisors and admins see every skill's queue and every agent's load."""
        return self.role in AgentRole.SEES_EVERY_QUEUE


@dataclass(frozen=True)
class MessageInfo:
    id: int
    ticket_id: int
    author: str
    text: str
    created_at: dt.datetime
    agent_name: Optional[str] = None
    meta: Dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> Dict[str, Any]:
        data = asdict(self)
        data["created_at"] = _iso(self.created_at)
        return data


@dataclass(frozen=True)
class TicketInfo:
    id: int
    sender_id: str
    status: str
    created_at: dt.datetime
    kind: str = TicketKind.HANDOFF
    skill: str = Skill.GENERAL
    summary: str = ""
    reason: str = ""
    customer_id: Optional[str] = None
    agent_id: Optional[int] = None
    agent_name: Optional[str] = None
    intents: List[Dict[str, Any]] = field(default_factory=list)
    transcript: List[Dict[str, Any]] = field(default_factory=list)
    context: Dict[str, Any] = field(default_factory=dict)
    assigned_at: Optional[dt.datetime] = None
    resolved_at: Optional[dt.datetime] = None

    @property
    def is_open(self) -> bool:
        return self.status in TicketStatus.OPEN

    def as_json(self, *, full: bool = True) -> Dict[str, Any]:
        data = asdict(self)
        for key in ("created_at", "assigned_at", "resolved_at"):
            data[key] = _iso(getattr(self, key))
        data["waiting_seconds"] = max(0, int((utcnow() - self.created_at).total_seconds()))
        data["peak_frustration"] = peak_frustration(self.transcript)  # for the queue, which has no transcript
        if not full:
            data.pop("transcript")
        return data


def _iso(value: Optional[dt.datetime]) -> Optional[str]:
    return value.replace(tzinfo=dt.timezone.utc).isoformat() if value else None


def is_online(agent: Agent, now: dt.datetime) -> bool:
    """Online: the agent says so, and their console called within :data:`PRESENCE_TIMEOUT`."""
    return (
        agent.presence == AgentPresence.ONLINE and agent.seen_at is not None and agent.seen_at >= now - PRESENCE_TIMEOUT
    )


def _agent_info(agent: Agent) -> AgentInfo:
    return AgentInfo(
        id=agent.id,
        username=agent.username,
        display_name=agent.display_name,
        role=agent.role,
        skills=tuple(skill for skill in (agent.skills or Skill.ALL) if skill in Skill.ALL),
        capacity=agent.capacity if agent.capacity is not None else 3,
        can_review=bool(agent.can_review),
    )


def _check_capacity(capacity: int) -> None:
    if not 0 <= capacity <= 50:
        raise InvalidInput("capacity is 0 (never routed to) to 50 conversations at once")


def clean_skills(skills: Sequence[str]) -> List[str]:
    """Known skills, each once; :class:`InvalidInput` for an unknown one or none."""
    cleaned = list(dict.fromkeys(str(skill).strip().lower() for skill in skills if str(skill).strip()))
    unknown = [skill for skill in cleaned if skill not in Skill.ALL]
    if unknown or not cleaned:
        raise InvalidInput(f"skills are one or more of {', '.join(Skill.ALL)}")
    return cleaned


def ticket_info(ticket: HandoffTicket) -> TicketInfo:
    return TicketInfo(
        id=ticket.id,
        sender_id=ticket.sender_id,
        status=ticket.status,
        created_at=ticket.created_at,
        kind=ticket.kind or TicketKind.HANDOFF,
        skill=ticket.skill or Skill.GENERAL,
        summary=ticket.summary or "",
        reason=ticket.reason or "",
        customer_id=ticket.customer_id,
        agent_id=ticket.agent_id,
        agent_name=ticket.agent.display_name if ticket.agent else None,
        intents=list(ticket.intents or []),
        transcript=list(ticket.transcript or []),
        context=dict(ticket.context or {}),
        assigned_at=ticket.assigned_at,
        resolved_at=ticket.resolved_at,
    )


def _message_info(message: HandoffMessage) -> MessageInfo:
    return MessageInfo(
        id=message.id,
        ticket_id=message.ticket_id,
        author=message.author,
        text=message.text,
        created_at=message.created_at,
        agent_name=message.agent.display_name if message.agent else None,
        meta=dict(message.meta or {}),
    )


def clean_text(text: object, *, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Validated message text: a non-empty string of at most ``limit`` characters.

    Control characters other than newline and tab are dropped (they break
    rendering and logs); anything else, emoji and every script included, stays.
    """
    if not isinstance(text, str):
        raise InvalidInput("the message must be a string")
    cleaned = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()
    if not cleaned:
        raise InvalidInput("the message is empty")
    if len(cleaned) > limit:
        raise InvalidInput(f"the message is longer than {limit} characters")
    return cleaned


class HandoffStore:
    """Every read and write of agents, tickets and hand-off messages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    @classmethod
    def from_url(cls, url: str, timeout: Optional[float] = None) -> "HandoffStore":
        """A store on ``url``; servers pass ``timeout`` (``SHOP_DB_TIMEOUT``) to bound every statement."""
        return cls(create_db_engine(url, timeout=timeout))

    def session(self) -> ContextManager[Session]:
        """A transaction: committed on success, rolled back on error."""
        return session_scope(self._sessions)

    # -- agents -------------------------------------------------------------------
    def create_agent(
        self,
        username: str,
        password: str,
        display_name: Optional[str] = None,
        role: str = AgentRole.AGENT,
        skills: Sequence[str] = Skill.ALL,
        capacity: int = 3,
        can_review: bool = False,
    ) -> AgentInfo:
        if not USERNAME_PATTERN.match(username or ""):
            raise InvalidInput("a username is 1-64 letters, digits, '.', '_' or '-'")
        if role not in AgentRole.ALL:
            raise InvalidInput(f"role must be one of {', '.join(AgentRole.ALL)}")
        skills = clean_skills(skills)
        _check_capacity(capacity)
        try:
            password_hash = hash_password(password)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        try:
            with self.session() as session:
                agent = Agent(
                    username=username,
                    display_name=(display_name or username).strip()[:100] or username,
                    password_hash=password_hash,
                    role=role,
                    skills=skills,
                    capacity=capacity,
                    can_review=can_review,
                )
                session.add(agent)
                session.flush()
                return _agent_info(agent)
        except IntegrityError:
            raise AgentExists(f"an agent named {username!r} already exists") from None

    def set_routing(
        self, username: str, skills: Optional[Sequence[str]] = None, capacity: Optional[int] = None
    ) -> AgentInfo:
        """Change what an agent answers and how many conversations at once."""
        if capacity is not None:
            _check_capacity(capacity)
        with self.session() as session:
            agent = session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
            if agent is None:
                raise InvalidInput(f"no agent named {username!r}")
            if skills is not None:
                agent.skills = clean_skills(skills)
            if capacity is not None:
                agent.capacity = capacity
            session.flush()
            return _agent_info(agent)

    def set_password(self, username: str, password: str) -> None:
        try:
            password_hash = hash_password(password)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        with self.session() as session:
            agent = session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
            if agent is None:
                raise InvalidInput(f"no agent named {username!r}")
            agent.password_hash = password_hash

    def authenticate(self, username: object, password: object) -> Optional[AgentInfo]:
        """The agent when the password is right; None for any wrong or malformed input."""
        if not isinstance(username, str) or not isinstance(password, str) or len(password) > 1024:
            verify_password(None, "x")  # same cost as a real check
            return None
        with self.session() as session:
            agent = session.execute(
                select(Agent).where(Agent.username == username[:64], Agent.is_active.is_(True))
            ).scalar_one_or_none()
            if not verify_password(agent.password_hash if agent else None, password) or agent is None:
                return None
            if needs_rehash(agent.password_hash):
                agent.password_hash = hash_password(password)
            agent.last_login_at = utcnow()
            return _agent_info(agent)

    def get_agent(self, agent_id: int) -> Optional[AgentInfo]:
        with self.session() as session:
            agent = session.get(Agent, agent_id)
            return _agent_info(agent) if agent is not None and agent.is_active else None

    def list_agents(self) -> List[AgentInfo]:
        with self.session() as session:
            return [_agent_info(a) for a in session.execute(select(Agent).order_by(Agent.id)).scalars()]

    # -- presence -----------------------------------------------------------------
    def set_presence(self, agent_id: int, presence: str) -> None:
        """The agent says they are online or away (the console's switch)."""
        if presence not in AgentPresence.ALL:
            raise InvalidInput(f"presence must be one of {', '.join(AgentPresence.ALL)}")
        with self.session() as session:
            session.execute(update(Agent).where(Agent.id == agent_id).values(presence=presence, seen_at=utcnow()))

    def touch(self, agent_id: int) -> None:
        """The agent's console is open (it polls the queue): keeps an online agent online."""
        with self.session() as session:
            session.execute(update(Agent).where(Agent.id == agent_id).values(seen_at=utcnow()))

    def team(self, now: Optional[dt.datetime] = None) -> List[Dict[str, Any]]:
        """Every active agent with their presence; ``online`` only while their console is open."""
        now = now or utcnow()
        with self.session() as session:
            agents = session.execute(
                select(Agent).where(Agent.is_active.is_(True)).order_by(Agent.display_name)
            ).scalars()
            return [
                {
                    "id": a.id,
                    "display_name": a.display_name,
                    "presence": a.presence,
                    "online": is_online(a, now),
                    "role": a.role,
                    "skills": list(a.skills or Skill.ALL),
                    "capacity": a.capacity,
                }
                for a in agents
            ]

    # -- tickets ------------------------------------------------------------------
    def open_ticket(
        self,
        sender_id: str,
        *,
        summary: str = "",
        reason: str = "",
        intents: Sequence[Dict[str, Any]] = (),
        transcript: Sequence[Dict[str, Any]] = (),
        context: Optional[Dict[str, Any]] = None,
        customer_id: Optional[str] = None,
        skill: str = Skill.GENERAL,
    ) -> TicketInfo:
        """A new waiting ticket, or the conversation's open one (refreshed) if it has one."""
        if not sender_id or len(sender_id) > 128:
            raise InvalidInput("a conversation id is 1-128 characters")
        if skill not in Skill.ALL:
            raise InvalidInput(f"skill must be one of {', '.join(Skill.ALL)}")
        values = dict(
            skill=skill,
            summary=summary,
            reason=reason[:100],
            intents=list(intents),
            transcript=list(transcript),
            context=dict(context or {}),
            customer_id=customer_id,
        )
        for attempt in range(2):
            try:
                with self.session() as session:
                    ticket = self._open_for(session, sender_id)
                    if ticket is None:
                        ticket = HandoffTicket(sender_id=sender_id, status=TicketStatus.WAITING, **values)
                        session.add(ticket)
                        metrics.HANDOFFS.inc()
                    else:  # asked again while queued: keep the place, refresh what the agent sees
                        for key, value in values.items():
                            setattr(ticket, key, value)
                    session.flush()
                    return ticket_info(ticket)
            except IntegrityError:
                if attempt:  # lost a race twice: something else is wrong
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _open_for(session: Session, sender_id: str) -> Optional[HandoffTicket]:
        return session.execute(
            select(HandoffTicket).where(
                HandoffTicket.sender_id == sender_id, HandoffTicket.status.in_(TicketStatus.OPEN)
            )
        ).scalar_one_or_none()

    def active_ticket(self, sender_id: str) -> Optional[TicketInfo]:
        """The conversation's open ticket: while there is one, the bot stays silent."""
        with self.session() as session:
            ticket = self._open_for(session, sender_id)
            return ticket_info(ticket) if ticket else None

    def get_ticket(self, ticket_id: int) -> TicketInfo:
        with self.session() as session:
            ticket = session.get(HandoffTicket, ticket_id)
            if ticket is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            return ticket_info(ticket)

    def queue(self) -> List[TicketInfo]:
        """Open tickets, longest waiting first."""
        with self.session() as session:
            rows = session.execute(
                select(HandoffTicket)
                .where(HandoffTicket.status.in_(TicketStatus.OPEN))
                .order_by(HandoffTicket.created_at, HandoffTicket.id)
            ).scalars()
            return [ticket_info(t) for t in rows]

    def queue_position(self, ticket_id: int) -> int:
        """1 for the longest-waiting ticket of its skill's queue; 0 when the ticket is no longer waiting."""
        with self.session() as session:
            ticket = session.get(HandoffTicket, ticket_id)
            if ticket is None or ticket.status != TicketStatus.WAITING:
                return 0
            ahead = session.execute(
                select(func.count())
                .select_from(HandoffTicket)
                .where(
                    HandoffTicket.status == TicketStatus.WAITING,
                    HandoffTicket.skill == ticket.skill,
                    (HandoffTicket.created_at < ticket.created_at)
                    | ((HandoffTicket.created_at == ticket.created_at) & (HandoffTicket.id < ticket.id)),
                )
            ).scalar_one()
            return int(ahead) + 1

    def typical_wait_seconds(self, sample: int = 50) -> Optional[float]:
        """Median seconds from queueing to an agent taking over, over the latest ``sample`` hand-offs."""
        with self.session() as session:
            rows = session.execute(
                select(HandoffTicket.created_at, HandoffTicket.assigned_at)
                .where(HandoffTicket.kind == TicketKind.HANDOFF, HandoffTicket.assigned_at.is_not(None))
                .order_by(HandoffTicket.assigned_at.desc())
                .limit(sample)
            ).all()
        waits = sorted(max(0.0, (assigned - created).total_seconds()) for created, assigned in rows)
        return statistics.median(waits) if waits else None

    def recent_resolved(self, limit: int = 20) -> List[TicketInfo]:
        with self.session() as session:
            rows = session.execute(
                select(HandoffTicket)
                .where(HandoffTicket.status.in_(TicketStatus.RESOLVED))
                .order_by(HandoffTicket.resolved_at.desc(), HandoffTicket.id.desc())
                .limit(limit)
            ).scalars()
            return [ticket_info(t) for t in rows]

    def update_context(self, ticket_id: int, context: Dict[str, Any]) -> None:
        """Merge the shopper's latest page context (product viewed, cart) into the ticket."""
        with self.session() as session:
            ticket = session.get(HandoffTicket, ticket_id)
            if ticket is not None and ticket.status in TicketStatus.OPEN:
                ticket.context = {**(ticket.context or {}), **context}

    def _transition(self, ticket_id: int, condition, **values: Any) -> TicketInfo:
        with self.session() as session:
            return ticket_info(self._transition_in(session, ticket_id, condition, **values))

    @staticmethod
    def _transition_in(session: Session, ticket_id: int, condition, **values: Any) -> HandoffTicket:
        """A conditional UPDATE in ``session``: the ticket moves only from the state ``condition`` names, so
        of two agents acting at once one wins and the other gets :class:`TicketConflict`."""
        result = session.execute(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket_id, condition)
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        ticket = session.get(HandoffTicket, ticket_id)
        if ticket is None:
            raise TicketNotFound(f"no ticket {ticket_id}")
        if result.rowcount != 1:
            holder = f" (held by {ticket.agent.display_name})" if ticket.agent else ""
            raise TicketConflict(f"ticket {ticket_id} is {ticket.status}{holder}")
        session.refresh(ticket)
        return ticket

    def take(self, ticket_id: int, agent_id: int) -> TicketInfo:
        """Assign a waiting ticket to the agent (idempotent for the holder)."""
        with self.session() as session:
            was_waiting = session.execute(
                select(HandoffTicket.status == TicketStatus.WAITING).where(HandoffTicket.id == ticket_id)
            ).scalar()
            ticket = ticket_info(
                self._transition_in(
                    session,
                    ticket_id,
                    (HandoffTicket.status == TicketStatus.WAITING)
                    | ((HandoffTicket.status == TicketStatus.ASSIGNED) & (HandoffTicket.agent_id == agent_id)),
                    status=TicketStatus.ASSIGNED,
                    agent_id=agent_id,
                    assigned_at=func.coalesce(HandoffTicket.assigned_at, utcnow()),
                )
            )
        if was_waiting and ticket.kind == TicketKind.HANDOFF and ticket.created_at:
            metrics.HANDOFF_WAIT_SECONDS.observe(max(0.0, (utcnow() - ticket.created_at).total_seconds()))
        return ticket

    def transfer(self, ticket_id: int, agent_id: int, to_agent_id: int) -> TicketInfo:
        """Pass the agent's ticket to another agent who is online (the console's transfer)."""
        if to_agent_id == agent_id:
            raise InvalidInput("the conversation is already yours")
        with self.session() as session:
            colleague = session.get(Agent, to_agent_id)
            if colleague is None or not colleague.is_active or not is_online(colleague, utcnow()):
                raise TicketConflict("that agent is not online: pick someone who is, or release the conversation")
        return self._transition(
            ticket_id,
            (HandoffTicket.status == TicketStatus.ASSIGNED) & (HandoffTicket.agent_id == agent_id),
            agent_id=to_agent_id,
            assigned_at=utcnow(),
        )

    def release(self, ticket_id: int, agent_id: int) -> TicketInfo:
        """Put the agent's ticket back in the queue for someone else."""
        return self._transition(
            ticket_id,
            (HandoffTicket.status == TicketStatus.ASSIGNED) & (HandoffTicket.agent_id == agent_id),
            status=TicketStatus.WAITING,
            agent_id=None,
            assigned_at=None,
        )

    def resolve(self, ticket_id: int, agent_id: int, outcome: str) -> TicketInfo:
        """Hand the conversation back to the bot or close it; only the holder may."""
        if outcome not in TicketStatus.RESOLVED:
            raise InvalidInput(f"outcome must be one of {', '.join(TicketStatus.RESOLVED)}")
        return self._transition(
            ticket_id,
            (HandoffTicket.status == TicketStatus.ASSIGNED) & (HandoffTicket.agent_id == agent_id),
            status=outcome,
            resolved_at=utcnow(),
        )

    def expire_idle(self, idle: dt.timedelta, now: Optional[dt.datetime] = None) -> List[TicketInfo]:
        """Close the open tickets of conversations that ended: no line from either side for ``idle``.

        Each moves with the same conditional update as an agent's action (still open, still idle), so
        several servers expiring at once close each ticket once; returns those this call closed.
        """
        now = now or utcnow()
        cutoff = now - idle
        closed: List[TicketInfo] = []
        with self.session() as session:
            idle_ids = session.scalars(
                select(HandoffTicket.id).where(
                    HandoffTicket.status.in_(TicketStatus.OPEN), HandoffTicket.updated_at < cutoff
                )
            ).all()
        for ticket_id in idle_ids:
            try:
                closed.append(
                    self._transition(
                        ticket_id,
                        HandoffTicket.status.in_(TicketStatus.OPEN) & (HandoffTicket.updated_at < cutoff),
                        status=TicketStatus.CLOSED,
                        resolved_at=now,
                    )
                )
            except TicketConflict:  # someone answered meanwhile, or another server closed it
                continue
        return closed

    # -- follow-ups: complaints and messages left outside opening hours --------------------
    def record_followup(
        self,
        sender_id: str,
        words: object,
        *,
        kind: str = TicketKind.COMPLAINT,
        summary: str = "",
        intents: Sequence[Dict[str, Any]] = (),
        transcript: Sequence[Dict[str, Any]] = (),
        context: Optional[Dict[str, Any]] = None,
        customer_id: Optional[str] = None,
    ) -> Tuple[TicketInfo, bool]:
        """Store the shopper's words for the team to answer later; returns (ticket, was it new).

        The conversation's follow-up of this kind that no agent has dealt with yet gets the words as
        one more message (transcript and intents refreshed, context merged; its summary stays the
        first one's), so one conversation files one complaint (one message) at a time. A follow-up is
        never open: the bot keeps answering while agents see it in the console.
        """
        if kind not in TicketKind.FOLLOW_UPS:
            raise InvalidInput(f"kind must be one of {', '.join(TicketKind.FOLLOW_UPS)}")
        if not sender_id or len(sender_id) > 128:
            raise InvalidInput("a conversation id is 1-128 characters")
        text = clean_text(words)
        with self.session() as session:
            ticket = self._recorded_for(session, sender_id, kind)
            is_new = ticket is None
            if ticket is None:
                ticket = HandoffTicket(
                    sender_id=sender_id,
                    kind=kind,
                    status=TicketStatus.RECORDED,
                    reason=kind,
                    summary=summary,
                    intents=list(intents),
                    transcript=list(transcript),
                    context=dict(context or {}),
                    customer_id=customer_id,
                )
                session.add(ticket)
            else:
                ticket.transcript, ticket.intents = list(transcript), list(intents)
                ticket.context = {**(ticket.context or {}), **(context or {})}
                ticket.customer_id = customer_id or ticket.customer_id
                ticket.updated_at = utcnow()
            session.flush()
            session.add(HandoffMessage(ticket_id=ticket.id, author=Author.SHOPPER, text=text, meta={}))
            session.flush()
            return ticket_info(ticket), is_new

    @staticmethod
    def _recorded_for(session: Session, sender_id: str, kind: str) -> Optional[HandoffTicket]:
        return session.execute(
            select(HandoffTicket)
            .where(
                HandoffTicket.sender_id == sender_id,
                HandoffTicket.kind == kind,
                HandoffTicket.status == TicketStatus.RECORDED,
            )
            .order_by(HandoffTicket.id.desc())
            .limit(1)
        ).scalar_one_or_none()

    def recorded_followup(self, sender_id: str, kind: str = TicketKind.COMPLAINT) -> Optional[TicketInfo]:
        """The conversation's follow-up of this kind that no agent has dealt with yet."""
        with self.session() as session:
            ticket = self._recorded_for(session, sender_id, kind)
            return ticket_info(ticket) if ticket else None

    def followups(self) -> List[TicketInfo]:
        """Complaints and left messages no agent has dealt with yet, oldest first."""
        with self.session() as session:
            rows = session.execute(
                select(HandoffTicket).where(_UNANSWERED_FOLLOWUP).order_by(HandoffTicket.created_at, HandoffTicket.id)
            ).scalars()
            return [ticket_info(t) for t in rows]

    def close_followup(self, ticket_id: int, agent_id: int) -> TicketInfo:
        """The agent has dealt with it (by e-mail, by phone): it leaves the list, signed by them."""
        return self._transition(
            ticket_id, _UNANSWERED_FOLLOWUP, status=TicketStatus.CLOSED, agent_id=agent_id, resolved_at=utcnow()
        )

    def answer_followup(self, ticket_id: int, agent_id: int, text: object) -> Tuple[TicketInfo, MessageInfo]:
        """The agent's answer to a follow-up: stored, and the follow-up closed, in one transaction.

        Only a follow-up nobody has dealt with yet can be answered, so two agents answering at once
        cannot both send their answer to the shopper.
        """
        cleaned = clean_text(text)
        with self.session() as session:
            ticket = self._transition_in(
                session,
                ticket_id,
                _UNANSWERED_FOLLOWUP,
                status=TicketStatus.CLOSED,
                agent_id=agent_id,
                resolved_at=utcnow(),
            )
            message = HandoffMessage(ticket_id=ticket_id, author=Author.AGENT, text=cleaned, agent_id=agent_id, meta={})
            session.add(message)
            session.flush()
            session.refresh(message)
            return ticket_info(ticket), _message_info(message)

    # -- messages -----------------------------------------------------------------
    def add_message(
        self,
        ticket_id: int,
        author: str,
        text: object,
        *,
        agent_id: Optional[int] = None,
        meta: Optional[Dict[str, Any]] = None,
    ) -> MessageInfo:
        """Store one line of the hand-off; agents may only write in tickets they hold."""
        cleaned = clean_text(text)
        if author not in (Author.SHOPPER, Author.AGENT, Author.SYSTEM):
            raise InvalidInput(f"unknown author {author!r}")
        with self.session() as session:
            ticket = session.get(HandoffTicket, ticket_id)
            if ticket is None:
                raise TicketNotFound(f"no ticket {ticket_id}")
            if ticket.status not in TicketStatus.OPEN:
                raise TicketConflict(f"ticket {ticket_id} is {ticket.status}")
            if author == Author.AGENT and (ticket.status != TicketStatus.ASSIGNED or ticket.agent_id != agent_id):
                raise TicketConflict(f"take ticket {ticket_id} before replying")
            message = HandoffMessage(
                ticket_id=ticket_id,
                author=author,
                text=cleaned,
                agent_id=agent_id if author == Author.AGENT else None,
                meta=dict(meta or {}),
            )
            session.add(message)
            ticket.updated_at = utcnow()
            session.flush()
            session.refresh(message)
            return _message_info(message)

    def messages(self, ticket_id: int) -> List[MessageInfo]:
        with self.session() as session:
            rows = session.execute(
                select(HandoffMessage).where(HandoffMessage.ticket_id == ticket_id).order_by(HandoffMessage.id)
            ).scalars()
            return [_message_info(m) for m in rows]


@lru_cache(maxsize=1)
def default_store() -> HandoffStore:
    """The process-wide store on ``core.settings``' database, every statement bounded by ``SHOP_DB_TIMEOUT``."""
    from core.settings import get_settings

    settings = get_settings()
    return HandoffStore.from_url(settings.resolved_database_url, timeout=settings.db_timeout)


__all__ = [
    "AgentExists",
    "AgentInfo",
    "HandoffStore",
    "InvalidInput",
    "MAX_MESSAGE_CHARS",
    "MessageInfo",
    "StoreError",
    "TicketConflict",
    "TicketInfo",
    "TicketNotFound",
    "clean_skills",
    "clean_text",
    "default_store",
    "is_online",
    "ticket_info",
]
