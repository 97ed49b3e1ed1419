"""`shop learn retrain`'s one step for real: `rasa train` of a candidate, both models read the same
held-out sets with Rasa's own Agent, the gate decides, the registry keeps it all, and a refused
candidate cannot be promoted. The candidate is deliberately weak (word counts, no TED): the gate
must refuse it against the test model."""

from __future__ import annotations

from pathlib import Path

import pytest

from learning import registry
from learning.evaluate import STORIES
from learning.retrain import retrain
from shopdb.db import create_db_engine, migrate, session_factory
from shopdb.models import ModelStatus

pytestmark = pytest.mark.slow

CHEAP = Path(__file__).parent / "data" / "config.cheap.yml"


def test_a_worse_candidate_is_trained_evaluated_recorded_and_refused(trained_model: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    migrate(url, "heads")
    sessions = session_factory(create_db_engine(url))
    with sessions.begin() as session:
        registry.adopt(session, trained_model, by="test")

    result = retrain(
        sessions, "rene", config=CHEAP, out_dir=tmp_path / "candidates", export_reviewed=False, promote=True
    )

    assert result.model.is_file() and result.version == 2
    assert {"nlu_test", "shoppers", STORIES} <= set(result.metrics) and set(result.metrics) == set(result.serving)
    assert not result.passed and not result.promoted and result.reasons
    worse = [
        name for name in result.metrics if result.metrics[name]["accuracy"] < result.serving[name]["accuracy"] - 0.01
    ]
    assert sorted(reason.split(":")[0] for reason in result.reasons) == sorted(worse)
    with sessions() as session:
        row = registry.get(session, result.version)
        assert row.status == ModelStatus.CANDIDATE and row.trained_by == "rene"
        assert row.model_id == registry.archive_model_id(result.model) and len(row.data_hash or "") == 16
        assert row.gate["passed"] is False and row.gate["against"] == 1
        assert row.metrics["nlu_test"]["accuracy"] == result.metrics["nlu_test"]["accuracy"]
        assert registry.serving(session).id == 1  # the model in service stays
    with sessions.begin() as session, pytest.raises(registry.RegistryRefused, match="did not pass the promotion gate"):
        registry.promote(session, result.version, "admin")
