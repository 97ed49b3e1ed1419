"""The two lookups of the model registry every layer needs: the model in service and the A/B
challenger (``learning.registry`` keeps the rules; ``insights.experiments`` compares the two)."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopdb.models import ModelStatus, ModelVersion


def serving(session: Session, lock: bool = False) -> Optional[ModelVersion]:
    query = select(ModelVersion).where(ModelVersion.status == ModelStatus.SERVING)
    return session.execute(query.with_for_update() if lock else query).scalars().first()


def challenger(session: Session) -> Optional[ModelVersion]:
    query = select(ModelVersion).where(ModelVersion.ab_share > 0, ModelVersion.status == ModelStatus.CANDIDATE)
    return session.execute(query).scalars().first()


__all__ = ["challenger", "serving"]
