"""A shopper's hand-off records for their data rights: export and erase their tickets and hand-off messages.

Called by ``insights.data_rights`` (``POST /insights/privacy/export`` and ``/delete``, ``shop insights
export|delete``) with its own database session, so one request covers profiles, analytics facts,
Rasa's events and the hand-off tickets in a single transaction.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from shopdb.models import HandoffMessage, HandoffTicket


def _tickets(session: Session, sender_ids: Sequence[str], customer_id: Optional[str]) -> List[HandoffTicket]:
    conditions = []
    if sender_ids:
        conditions.append(HandoffTicket.sender_id.in_(list(sender_ids)))
    if customer_id:
        conditions.append(HandoffTicket.customer_id == customer_id)
    if not conditions:
        return []
    return list(session.execute(select(HandoffTicket).where(or_(*conditions)).order_by(HandoffTicket.id)).scalars())


def export_shopper(session: Session, sender_ids: Sequence[str], customer_id: Optional[str]) -> Dict[str, Any]:
    """Every ticket of the shopper with its transcript, summary, context and messages."""
    tickets = _tickets(session, sender_ids, customer_id)
    return {
        "tickets": [
            {
                "id": t.id,
                "sender_id": t.sender_id,
                "kind": t.kind,
                "status": t.status,
                "customer_id": t.customer_id,
                "summary": t.summary,
                "intents": t.intents,
                "transcript": t.transcript,
                "context": t.context,
                "created_at": t.created_at.isoformat(),
                "resolved_at": t.resolved_at.isoformat() if t.resolved_at else None,
                "messages": [
                    {"author": m.author, "text": m.text, "created_at": m.created_at.isoformat()} for m in t.messages
                ],
            }
            for t in tickets
        ]
    }


def erase_shopper(session: Session, sender_ids: Sequence[str], customer_id: Optional[str]) -> int:
    """Delete the shopper's tickets and their messages; returns how many tickets went."""
    ids = [t.id for t in _tickets(session, sender_ids, customer_id)]
    if not ids:
        return 0
    session.execute(
        delete(HandoffMessage).where(HandoffMessage.ticket_id.in_(ids)).execution_options(synchronize_session=False)
    )
    session.execute(delete(HandoffTicket).where(HandoffTicket.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)


__all__ = ["erase_shopper", "export_shopper"]
