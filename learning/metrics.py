"""The review queue as a Prometheus gauge, read from the shared database at scrape time (like
``handoff.metrics``): how many messages wait for a reviewer, how many were labelled."""

from __future__ import annotations

import logging
from typing import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from shopdb.models import ReviewItem, ReviewStatus

logger = logging.getLogger(__name__)


class ReviewQueueCollector(Collector):
    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        try:
            with self.sessions() as session:
                counts = dict(
                    session.execute(select(ReviewItem.status, func.count()).group_by(ReviewItem.status)).all()
                )
        except Exception as error:  # the database is away: no gauge this scrape
            logger.warning("review queue metrics unavailable (%s)", type(error).__name__)
            return
        gauge = GaugeMetricFamily(
            "shop_review_queue_items", "Messages in the review queue by status", labels=["status"]
        )
        for status in ReviewStatus.ALL:
            gauge.add_metric([status], int(counts.get(status, 0)))
        yield gauge


__all__ = ["ReviewQueueCollector"]
