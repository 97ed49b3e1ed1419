"""The support team's state as Prometheus gauges, read from the shared database when Prometheus
scrapes: the hand-off queue, the longest wait, tickets with an agent, agents online, and the
shoppers' ratings of the last 24 hours.

Read at scrape time, not counted in memory, because several Rasa servers share one queue: each
reports the same database-wide values (dashboards take the max), and a restarted server reports
the truth at once. Each scrape costs four small indexed queries.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from core.clock import utcnow
from handoff.store import PRESENCE_TIMEOUT, HandoffStore
from shopdb.models import Agent, AgentPresence, HandoffTicket, TicketKind, TicketStatus
from shopdb.models.ratings import ConversationRating

logger = logging.getLogger(__name__)
RATINGS_WINDOW = dt.timedelta(hours=24)


class HandoffCollector(Collector):
    """Scrape-time gauges of one hand-off store."""

    def __init__(self, store: HandoffStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        try:
            with self.store.session() as session:
                open_handoffs = (
                    select(HandoffTicket.status, func.count(), func.min(HandoffTicket.created_at))
                    .where(HandoffTicket.kind == TicketKind.HANDOFF, HandoffTicket.status.in_(TicketStatus.OPEN))
                    .group_by(HandoffTicket.status)
                )
                by_status = {status: (count, oldest) for status, count, oldest in session.execute(open_handoffs)}
                online = session.execute(
                    select(func.count())
                    .select_from(Agent)
                    .where(
                        Agent.is_active.is_(True),
                        Agent.presence == AgentPresence.ONLINE,
                        Agent.seen_at >= now - PRESENCE_TIMEOUT,
                    )
                ).scalar_one()
                ratings, average = session.execute(
                    select(func.count(), func.avg(ConversationRating.rating)).where(
                        ConversationRating.updated_at >= now - RATINGS_WINDOW
                    )
                ).one()
        except Exception as error:  # the database is away: no gauges this scrape, the server keeps serving
            logger.warning("hand-off metrics unavailable (%s)", type(error).__name__)
            return
        waiting, oldest = by_status.get(TicketStatus.WAITING, (0, None))
        yield GaugeMetricFamily("shop_handoff_queue_length", "Shoppers waiting for an agent", value=waiting)
        yield GaugeMetricFamily(
            "shop_handoff_oldest_wait_seconds",
            "How long the longest-waiting shopper has waited (0 with an empty queue)",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        yield GaugeMetricFamily(
            "shop_handoff_with_agent",
            "Conversations an agent is handling now",
            value=by_status.get(TicketStatus.ASSIGNED, (0, None))[0],
        )
        yield GaugeMetricFamily("shop_agents_online", "Agents online (console open, presence online)", value=online)
        yield GaugeMetricFamily(
            "shop_csat_ratings_24h", "Conversation ratings given in the last 24 hours", value=ratings or 0
        )
        yield GaugeMetricFamily(
            "shop_csat_average_24h",
            "Mean rating (1-5) of the last 24 hours' ratings (NaN without any)",
            value=float(average) if average is not None else float("nan"),
        )


__all__ = ["HandoffCollector", "RATINGS_WINDOW"]
