"""Tables of the hand-off: support agents, tickets and the messages written during one.

They live on :data:`shopdb.models.Base` so one alembic chain
(``shopdb/migrations``) creates the whole shop database. A ticket keeps a
frozen copy of the bot conversation (``transcript``) taken when the shopper
asked for a human; what shopper and agent write afterwards goes to
``handoff_messages`` (and, as events, to Rasa's tracker store), so nothing is
lost when a browser or a server restarts.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import relationship

from core.clock import utcnow
from shopdb.models.base import Base


class TicketStatus:
    """Life cycle: waiting -> assigned (an agent took it) -> handed_back | closed.

    ``release`` moves an assigned ticket back to waiting. While a ticket is
    open the shopper's messages go to agents, not to the bot. A complaint is
    ``recorded`` until an agent closes it: never open, so the bot keeps talking.
    """

    WAITING = "waiting"
    ASSIGNED = "assigned"
    HANDED_BACK = "handed_back"
    CLOSED = "closed"
    RECORDED = "recorded"

    OPEN = (WAITING, ASSIGNED)
    RESOLVED = (HANDED_BACK, CLOSED)


class TicketKind:
    """A hand-off (the shopper waits for a person in the chat), or a follow-up the team answers later:
    a complaint, or a message left while the support team was away (``handoff.hours``)."""

    HANDOFF = "handoff"
    COMPLAINT = "complaint"
    MESSAGE = "message"

    FOLLOW_UPS = (COMPLAINT, MESSAGE)


class AgentRole:
    """Agents answer the conversations routed to their skills; supervisors see every queue and every
    agent's load; admins are supervisors who may also open the analytics and data-rights endpoints."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    ALL = (AGENT, SUPERVISOR, ADMIN)
    SEES_EVERY_QUEUE = (SUPERVISOR, ADMIN)


class Skill:
    """What a conversation is about, and what an agent can answer (``handoff.routing`` picks the
    ticket's from the intents the bot detected)."""

    ORDERS = "orders"
    RETURNS = "returns"
    PRODUCTS = "products"
    GENERAL = "general"

    ALL = (ORDERS, RETURNS, PRODUCTS, GENERAL)


class Author:
    SHOPPER = "shopper"
    AGENT = "agent"
    SYSTEM = "system"


_OPEN_STATUSES_SQL = "status IN ('waiting', 'assigned')"


class AgentPresence:
    """What an agent says about themself in the console; transfers go to agents online only."""

    ONLINE = "online"
    AWAY = "away"
    ALL = (ONLINE, AWAY)


class Agent(Base):
    """A support agent who may log into the console (password stored as an argon2 hash)."""

    __tablename__ = "agents"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(100), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(20), nullable=False, default=AgentRole.AGENT, server_default=AgentRole.AGENT)
    is_active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime, nullable=True)
    # "online" or "away", as the agent set it; online counts only while the console is open (seen_at).
    presence = Column(String(10), nullable=False, default=AgentPresence.ONLINE, server_default=AgentPresence.ONLINE)
    seen_at = Column(DateTime, nullable=True)  # the console's last call (it polls the queue every 15 s)
    # Routing (handoff.routing): the skills the agent answers, and how many conversations at once.
    skills = Column(JSON, nullable=False, default=lambda: list(Skill.ALL))
    capacity = Column(Integer, nullable=False, default=3, server_default="3")
    routed_at = Column(DateTime, nullable=True)  # the last conversation routed to them: ties go to the longest idle
    # Reviews the learning loop's queue (learning.review): labels shoppers' messages for training.
    can_review = Column(Boolean, nullable=False, default=False, server_default=false())


class HandoffTicket(Base):
    """A conversation handed to humans, with what the agent needs to pick it up."""

    __tablename__ = "handoff_tickets"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, index=True)  # Rasa conversation id
    status = Column(String(20), nullable=False, default=TicketStatus.WAITING, index=True)
    kind = Column(String(20), nullable=False, default=TicketKind.HANDOFF, server_default=TicketKind.HANDOFF)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=True)
    customer_id = Column(String(64), nullable=True)  # verified shopper id, when logged in
    reason = Column(String(100), nullable=False, default="")  # intent that triggered the hand-off
    skill = Column(String(20), nullable=False, default=Skill.GENERAL, server_default=Skill.GENERAL)  # its queue
    summary = Column(Text, nullable=False, default="")
    intents = Column(JSON, nullable=False, default=list)  # [{"name", "count", "confidence"}]
    transcript = Column(JSON, nullable=False, default=list)  # [{"role", "text", "at", ...}]
    context = Column(JSON, nullable=False, default=dict)  # page, product viewed, cart
    created_at = Column(DateTime, nullable=False, default=utcnow)
    assigned_at = Column(DateTime, nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    agent = relationship("Agent", lazy="joined")
    messages = relationship(
        "HandoffMessage",
        back_populates="ticket",
        cascade="all, delete-orphan",
        order_by="HandoffMessage.id",
    )

    __table_args__ = (
        # At most one open ticket per conversation, enforced by the database itself.
        Index(
            "uq_handoff_tickets_open_sender",
            "sender_id",
            unique=True,
            sqlite_where=text(_OPEN_STATUSES_SQL),
            postgresql_where=text(_OPEN_STATUSES_SQL),
        ),
        Index("ix_handoff_tickets_skill_status", "skill", "status"),  # one skill's queue
    )


class HandoffMessage(Base):
    """One line written while a ticket is open, by the shopper, an agent or the system."""

    __tablename__ = "handoff_messages"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(10), nullable=False)  # Author.*
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=True)
    text = Column(Text, nullable=False)
    meta = Column(JSON, nullable=False, default=dict)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    ticket = relationship("HandoffTicket", back_populates="messages")
    agent = relationship("Agent", lazy="joined")


__all__ = [
    "Agent",
    "AgentRole",
    "Author",
    "HandoffMessage",
    "HandoffTicket",
    "Skill",
    "TicketKind",
    "TicketStatus",
]
