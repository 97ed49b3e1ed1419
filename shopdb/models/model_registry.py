"""The model registry: every model trained for the shop's assistant, how it did at the promotion
gate, and which one is in service (``learning.registry`` keeps the rules; every Rasa server follows
the rows with ``learning.serving``).

One row per trained archive. At most one row is ``serving``; at most one other is in an A/B test
(``ab_share`` > 0: that share of conversations, sticky per sender, is answered by it).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Index, Integer, String, Text, text

from core.clock import utcnow
from shopdb.models.base import Base


class ModelStatus:
    TRAINING = "training"  # a candidate is being trained (a run in progress)
    CANDIDATE = "candidate"  # trained and evaluated; may be promoted when its gate passed
    SERVING = "serving"  # the model every Rasa server answers with
    RETIRED = "retired"  # served before (rollback goes back to the newest of these)
    FAILED = "failed"  # the training or the evaluation did not finish

    ALL = (TRAINING, CANDIDATE, SERVING, RETIRED, FAILED)


class ModelVersion(Base):
    """One trained model archive and its record."""

    __tablename__ = "model_versions"
    __table_args__ = (  # at most one model serves, whatever two servers or admins do at the same moment
        Index(
            "uq_model_versions_one_serving",
            "status",
            unique=True,
            sqlite_where=text("status = 'serving'"),
            postgresql_where=text("status = 'serving'"),
        ),
    )

    id = Column(Integer, primary_key=True)  # the version number shown everywhere
    path = Column(Text, nullable=True)  # the archive, readable by every Rasa server (None while training)
    model_id = Column(String(64), nullable=True, index=True)  # Rasa's id of the archive (stamped on every event)
    data_hash = Column(String(64), nullable=True)  # the training data and configuration it was trained on
    status = Column(String(20), nullable=False, default=ModelStatus.CANDIDATE, index=True)
    metrics = Column(JSON, nullable=False, default=dict)  # {set: {"accuracy", "examples"}} of this model
    gate = Column(JSON, nullable=False, default=dict)  # {"passed", "reasons", "against": version, "serving": {...}}
    ab_share = Column(Float, nullable=True)  # > 0: in an A/B test against the serving model
    ab_started_at = Column(DateTime, nullable=True)
    trained_by = Column(String(64), nullable=True)
    trained_at = Column(DateTime, nullable=False, default=utcnow)
    promoted_by = Column(String(64), nullable=True)
    promoted_at = Column(DateTime, nullable=True)
    note = Column(Text, nullable=True)  # why it failed, or what the run did
