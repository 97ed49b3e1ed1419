"""The model registry's rules: what may be promoted, what rollback goes back to, what an A/B test
serves (the table: ``shopdb.models.model_registry``).

- Only a candidate whose promotion gate passed is promoted; the model it replaces retires.
- Rollback puts the newest retired model back in service in one step; the model rolled back from
  becomes a candidate again (so a second rollback goes further back, not forth).
- An A/B test serves one passed candidate to a share of conversations beside the serving model;
  promoting either model, or rolling back, ends it.

Every Rasa server reads :func:`serving_plan` (``learning.serving``) and loads what it names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import utcnow
from shopdb.model_versions import challenger, serving
from shopdb.models import ModelStatus, ModelVersion


class RegistryRefused(ValueError):
    """A promotion, rollback or A/B test the registry's rules do not allow (the message says why)."""


@dataclass(frozen=True)
class ServedModel:
    version: int
    path: str
    model_id: Optional[str]


@dataclass(frozen=True)
class ServingPlan:
    """What every Rasa server should answer with: the serving model, and an A/B challenger."""

    primary: Optional[ServedModel]
    challenger: Optional[ServedModel] = None
    share: float = 0.0


def archive_model_id(path: Path) -> Optional[str]:
    """Rasa's id of a model archive (the id Rasa stamps on every event the model's turns produce)."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    try:
        return str(LocalModelStorage.metadata_from_archive(path).model_id)
    except Exception:
        return None


def _served(row: ModelVersion) -> ServedModel:
    return ServedModel(version=row.id, path=str(row.path), model_id=row.model_id)


def get(session: Session, version: int, lock: bool = False) -> ModelVersion:
    query = select(ModelVersion).where(ModelVersion.id == version)
    row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if row is None:
        raise RegistryRefused(f"there is no model version {version}")
    return row


def serving_plan(session: Session) -> ServingPlan:
    primary = serving(session)
    if primary is None:
        return ServingPlan(primary=None)
    other = challenger(session)
    if other is None:
        return ServingPlan(primary=_served(primary))
    return ServingPlan(primary=_served(primary), challenger=_served(other), share=float(other.ab_share or 0))


def register(
    session: Session,
    path: Path,
    *,
    by: str,
    metrics: Optional[Dict[str, Any]] = None,
    gate: Optional[Dict[str, Any]] = None,
    data_hash: Optional[str] = None,
    status: str = ModelStatus.CANDIDATE,
    note: Optional[str] = None,
) -> ModelVersion:
    row = ModelVersion(
        path=str(path),
        model_id=archive_model_id(path),
        data_hash=data_hash,
        status=status,
        metrics=metrics or {},
        gate=gate or {},
        trained_by=by,
        note=note,
    )
    session.add(row)
    session.flush()
    return row


def adopt(session: Session, path: Path, by: str = "startup") -> Optional[ModelVersion]:
    """The model the servers started with becomes version 1, serving, when the registry is empty: the
    baseline later candidates are gated against and rollback can return to."""
    if session.execute(select(ModelVersion.id).limit(1)).first() is not None:
        return None
    try:
        with session.begin_nested():  # another server adopting at the same moment wins (one serving row)
            row = register(
                session, path, by=by, status=ModelStatus.SERVING, note="the model the assistant started with"
            )
            row.promoted_by, row.promoted_at = by, utcnow()
            session.flush()
    except IntegrityError:
        return None
    return row


def _end_ab(session: Session) -> None:
    for row in session.execute(select(ModelVersion).where(ModelVersion.ab_share.isnot(None))).scalars():
        row.ab_share, row.ab_started_at = None, None


def promote(session: Session, version: int, by: str) -> ModelVersion:
    """``version`` serves from now on; the model it replaces retires. Refused unless its gate passed."""
    current = serving(session, lock=True)
    row = get(session, version, lock=True)
    if row.status == ModelStatus.SERVING:
        raise RegistryRefused(f"version {version} is already in service")
    if row.status != ModelStatus.CANDIDATE:
        raise RegistryRefused(f"version {version} is {row.status}: only a gated candidate is promoted")
    if not (row.gate or {}).get("passed"):
        reasons = "; ".join((row.gate or {}).get("reasons") or ["it was not evaluated"])
        raise RegistryRefused(f"version {version} did not pass the promotion gate: {reasons}")
    if not row.path or not Path(row.path).is_file():
        raise RegistryRefused(f"version {version}'s archive is missing: {row.path}")
    _end_ab(session)
    if current is not None:
        current.status = ModelStatus.RETIRED
        session.flush()  # one serving row at every statement (the unique index)
    row.status, row.promoted_by, row.promoted_at = ModelStatus.SERVING, by, utcnow()
    return row


def rollback(session: Session, by: str) -> ModelVersion:
    """One step back: the newest retired model serves again; the one in service becomes a candidate."""
    current = serving(session, lock=True)
    previous = (
        session.execute(
            select(ModelVersion)
            .where(ModelVersion.status == ModelStatus.RETIRED, ModelVersion.promoted_at.isnot(None))
            .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc())
            .limit(1)
            .with_for_update()
        )
        .scalars()
        .first()
    )
    if previous is None:
        raise RegistryRefused("no earlier model to roll back to")
    if not previous.path or not Path(previous.path).is_file():
        raise RegistryRefused(f"version {previous.id}'s archive is missing: {previous.path}")
    _end_ab(session)
    if current is not None:
        current.status = ModelStatus.CANDIDATE
        current.note = f"rolled back by {by} at {utcnow().isoformat(timespec='seconds')}"
        session.flush()  # one serving row at every statement (the unique index)
    previous.status, previous.promoted_by, previous.promoted_at = ModelStatus.SERVING, by, utcnow()
    return previous


def start_ab(session: Session, version: int, share: float, by: str) -> ModelVersion:
    """Serve ``version`` to ``share`` of conversations (sticky per sender) beside the serving model."""
    if not 0 < share < 1:
        raise RegistryRefused("the A/B share is a fraction between 0 and 1")
    if serving(session) is None:
        raise RegistryRefused("no model is in service to compare with")
    row = get(session, version, lock=True)
    if row.status != ModelStatus.CANDIDATE or not (row.gate or {}).get("passed"):
        raise RegistryRefused(f"version {version} is not a candidate that passed the gate")
    if not row.path or not Path(row.path).is_file():
        raise RegistryRefused(f"version {version}'s archive is missing: {row.path}")
    _end_ab(session)
    row.ab_share, row.ab_started_at = share, utcnow()
    row.note = f"A/B test at {share:.0%} started by {by}"
    return row


def stop_ab(session: Session, by: str) -> Optional[ModelVersion]:
    row = challenger(session)
    if row is not None:
        row.note = f"A/B test stopped by {by} at {utcnow().isoformat(timespec='seconds')}"
    _end_ab(session)
    return row


def as_json(row: ModelVersion) -> Dict[str, Any]:
    def when(value: Optional[dt.datetime]) -> Optional[str]:
        return value.isoformat(timespec="seconds") if value else None

    return {
        "version": row.id,
        "status": row.status,
        "model": Path(row.path).name if row.path else None,
        "model_id": row.model_id,
        "data_hash": row.data_hash,
        "metrics": {name: (result or {}).get("accuracy") for name, result in (row.metrics or {}).items()},
        "gate": {"passed": (row.gate or {}).get("passed"), "reasons": (row.gate or {}).get("reasons", [])},
        "ab_share": row.ab_share,
        "ab_started_at": when(row.ab_started_at),
        "trained_by": row.trained_by,
        "trained_at": when(row.trained_at),
        "promoted_by": row.promoted_by,
        "promoted_at": when(row.promoted_at),
        "note": row.note,
    }


def listing(session: Session, limit: int = 20) -> List[Dict[str, Any]]:
    rows = session.execute(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(limit)).scalars()
    return [as_json(row) for row in rows]


__all__ = [
    "RegistryRefused",
    "ServedModel",
    "ServingPlan",
    "adopt",
    "archive_model_id",
    "as_json",
    "challenger",
    "get",
    "listing",
    "promote",
    "register",
    "rollback",
    "serving",
    "serving_plan",
    "start_ab",
    "stop_ab",
]
