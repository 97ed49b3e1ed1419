"""One run of the loop's last step: train a candidate, evaluate it beside the model in service,
gate it, record it in the registry, and promote it when asked and the gate passed.

``shop learn retrain [--promote]`` and the console's "Train a candidate" button run
:func:`retrain`; so does the schedule (``SHOP_RETRAIN_SCHEDULE``, :mod:`learning.schedule`).
The candidate learns from the bot's data plus the reviewed examples (exported first), with Rasa's
own ``rasa train``; the archive goes to ``<var>/models/candidates`` (``shop start`` never picks it
up by accident: the registry says what serves).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from core.clock import utcnow
from core.settings import PROJECT_ROOT, get_settings
from learning import registry
from learning.evaluate import evaluate, evaluation_sets, gate
from learning.export import REVIEWED_FILE, export
from shopdb.models import ModelStatus, ModelVersion

logger = logging.getLogger(__name__)

BOT_DIR = PROJECT_ROOT / "bot"
TRAINING_TIMEOUT = dt.timedelta(hours=6)  # a "training" row older than this is a run that died


class RetrainRefused(RuntimeError):
    """Another run is training, or the training itself failed (the message says which)."""


@dataclass
class RetrainResult:
    version: int
    model: Path
    passed: bool
    reasons: List[str] = field(default_factory=list)
    promoted: bool = False
    metrics: Dict[str, Any] = field(default_factory=dict)
    serving: Dict[str, Any] = field(default_factory=dict)


def data_hash(config: Path, domain: Path, data: Path) -> str:
    """What a model was trained on: the configuration, the domain and every data file, hashed."""
    digest = hashlib.sha256()
    named = [(config.name, config), (domain.name, domain)]
    named += [(str(p.relative_to(data)), p) for p in sorted(data.rglob("*")) if p.is_file()]
    for name, path in named:
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def train_candidate(config: Path, domain: Path, data: Path, out_dir: Path, name: str) -> Path:
    """``rasa train`` of the bot into ``out_dir/name.tar.gz`` (Rasa's cache makes a retrain that only
    changed the NLU data skip the dialogue policies)."""
    rasa = Path(sys.executable).with_name("rasa")
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(rasa) if rasa.exists() else "rasa",
        "train",
        "--config",
        str(config),
        "--domain",
        str(domain),
        "--data",
        str(data),
        "--out",
        str(out_dir),
        "--fixed-model-name",
        name,
    ]
    done = subprocess.run(command, cwd=BOT_DIR, capture_output=True, text=True)
    archive = out_dir / f"{name}.tar.gz"
    if done.returncode != 0 or not archive.is_file():
        tail = (done.stderr or done.stdout or "").strip().splitlines()[-3:]
        raise RetrainRefused(f"rasa train failed (exit {done.returncode}): {' | '.join(tail)}")
    return archive


def _claim(sessions: sessionmaker, by: str) -> int:
    """A "training" row for this run; refused while another run trains."""
    with sessions.begin() as session:
        running = session.execute(
            select(ModelVersion).where(ModelVersion.status == ModelStatus.TRAINING).with_for_update()
        ).scalars()
        for row in running:
            if utcnow() - row.trained_at < TRAINING_TIMEOUT:
                raise RetrainRefused(f"version {row.id} is being trained (started by {row.trained_by})")
            row.status, row.note = ModelStatus.FAILED, "the training run did not finish"
        row = ModelVersion(status=ModelStatus.TRAINING, trained_by=by, metrics={}, gate={})
        session.add(row)
        session.flush()
        return int(row.id)


def _compact(results: Dict[str, Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    return {
        name: {k: v for k, v in r.items() if k != "wrong"} | {"wrong": r.get("wrong", [])[:5]}
        for name, r in results.items()
    }


def retrain(
    sessions: sessionmaker,
    by: str,
    *,
    config: Path = BOT_DIR / "config.yml",
    domain: Path = BOT_DIR / "domain.yml",
    data: Path = BOT_DIR / "data",
    out_dir: Optional[Path] = None,
    promote: bool = False,
    against: Optional[Path] = None,
    export_reviewed: bool = True,
    limit: Optional[int] = None,
) -> RetrainResult:
    """Train, evaluate, gate and record a candidate (``against``: the model to compare with when the
    registry has none in service; ``limit``: examples per held-out set and stories, for a quick look);
    promote it when ``promote`` and the gate passed."""
    version = _claim(sessions, by)
    try:
        if export_reviewed:
            with sessions() as session:
                export(session, REVIEWED_FILE)
        out = out_dir or get_settings().var_dir / "models" / "candidates"
        name = f"candidate-{version}-{utcnow().strftime('%Y%m%d-%H%M%S')}"
        trained_on = data_hash(config, domain, data)
        archive = train_candidate(config, domain, data, out, name)
        with sessions() as session:
            in_service = registry.serving(session)
            serving_path = Path(in_service.path) if in_service and in_service.path else against
            serving_version = in_service.id if in_service else None
        sets = evaluation_sets(limit)
        ours = evaluate(archive, sets, max_stories=limit)
        theirs = evaluate(serving_path, sets, max_stories=limit) if serving_path is not None else {}
        decision = gate(ours, theirs)
    except Exception as error:
        with sessions.begin() as session:
            row = registry.get(session, version)
            row.status, row.note = ModelStatus.FAILED, str(error)[:2000]
        raise
    with sessions.begin() as session:
        row = registry.get(session, version, lock=True)
        row.path, row.model_id, row.data_hash = str(archive), registry.archive_model_id(archive), trained_on
        row.metrics = _compact(ours)
        row.gate = {
            "passed": decision.passed,
            "reasons": decision.reasons,
            "notes": decision.notes,
            "against": serving_version,
            "serving": _compact(theirs),
        }
        row.status = ModelStatus.CANDIDATE
        row.note = "passed the gate" if decision.passed else "refused by the gate"
    promoted = False
    if promote and decision.passed:
        with sessions.begin() as session:
            registry.promote(session, version, by)
            promoted = True
    return RetrainResult(
        version=version,
        model=archive,
        passed=decision.passed,
        reasons=decision.reasons,
        promoted=promoted,
        metrics=ours,
        serving=theirs,
    )


__all__ = ["RetrainRefused", "RetrainResult", "data_hash", "retrain", "train_candidate"]
