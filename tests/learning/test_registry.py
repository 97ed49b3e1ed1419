"""The model registry's rules on a migrated shop database, the A/B test's sticky split and its
statistics, and the retraining schedule's cron line."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any, Dict, List

import pytest

from insights.experiments import compare, two_proportion_p
from learning import registry
from learning.schedule import next_run
from rasa_addons.patches.model_serving import bucket
from shopdb.db import create_db_engine, migrate, session_factory
from shopdb.models import ConversationRating, FactKind, InsightFact, ModelStatus


@pytest.fixture
def sessions(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    migrate(url, "heads")
    return session_factory(create_db_engine(url))


def _archive(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.tar.gz"
    path.write_bytes(b"not read by these rules")
    return path


def _candidate(session: Any, path: Path, passed: bool = True) -> int:
    row = registry.register(session, path, by="rene", gate={"passed": passed, "reasons": [] if passed else ["worse"]})
    return int(row.id)


def test_the_first_model_is_adopted_and_only_a_gated_candidate_is_promoted(sessions, tmp_path: Path) -> None:
    with sessions.begin() as session:
        first = registry.adopt(session, _archive(tmp_path, "start"))
        assert first is not None and first.status == ModelStatus.SERVING
        assert registry.adopt(session, _archive(tmp_path, "again")) is None  # only an empty registry adopts
        refused = _candidate(session, _archive(tmp_path, "worse"), passed=False)
        good = _candidate(session, _archive(tmp_path, "better"))
    with (
        sessions.begin() as session,
        pytest.raises(registry.RegistryRefused, match="did not pass the promotion gate: worse"),
    ):
        registry.promote(session, refused, "admin")
    with sessions.begin() as session:
        registry.promote(session, good, "admin")
    with sessions() as session:
        plan = registry.serving_plan(session)
        assert plan.primary is not None and plan.primary.version == good and plan.challenger is None
        assert registry.get(session, first.id).status == ModelStatus.RETIRED
        assert registry.get(session, good).promoted_by == "admin"
    missing = _archive(tmp_path, "gone")
    with sessions.begin() as session:
        gone = _candidate(session, missing)
    missing.unlink()
    with sessions.begin() as session, pytest.raises(registry.RegistryRefused, match="archive is missing"):
        registry.promote(session, gone, "admin")


def test_rollback_goes_one_step_back_each_time(sessions, tmp_path: Path) -> None:
    with sessions.begin() as session:
        v1 = registry.adopt(session, _archive(tmp_path, "v1")).id
        v2 = _candidate(session, _archive(tmp_path, "v2"))
        v3 = _candidate(session, _archive(tmp_path, "v3"))
    for version in (v2, v3):
        with sessions.begin() as session:
            registry.promote(session, version, "admin")
    with sessions.begin() as session:
        assert registry.rollback(session, "admin").id == v2
    with sessions.begin() as session:
        assert registry.rollback(session, "admin").id == v1  # further back, not forth to v3
        assert registry.get(session, v3).status == ModelStatus.CANDIDATE
    with sessions.begin() as session, pytest.raises(registry.RegistryRefused, match="no earlier model"):
        registry.rollback(session, "admin")


def test_an_ab_test_serves_a_passed_candidate_and_ends_with_a_promotion(sessions, tmp_path: Path) -> None:
    with sessions.begin() as session:
        registry.adopt(session, _archive(tmp_path, "v1"))
        refused = _candidate(session, _archive(tmp_path, "v2"), passed=False)
        good = _candidate(session, _archive(tmp_path, "v3"))
    with sessions.begin() as session, pytest.raises(registry.RegistryRefused, match="not a candidate that passed"):
        registry.start_ab(session, refused, 0.2, "admin")
    with sessions.begin() as session, pytest.raises(registry.RegistryRefused, match="fraction"):
        registry.start_ab(session, good, 1.5, "admin")
    with sessions.begin() as session:
        registry.start_ab(session, good, 0.2, "admin")
    with sessions() as session:
        plan = registry.serving_plan(session)
        assert plan.challenger is not None and plan.challenger.version == good and plan.share == 0.2
    with sessions.begin() as session:
        registry.promote(session, good, "admin")
    with sessions() as session:
        plan = registry.serving_plan(session)
        assert plan.primary.version == good and plan.challenger is None


def test_the_split_is_sticky_per_sender_and_near_the_share() -> None:
    senders = [f"shopper-{i}" for i in range(4000)]
    inside = [s for s in senders if bucket(s, "7") < 0.2]
    assert abs(len(inside) / len(senders) - 0.2) < 0.03
    assert all(bucket(s, "7") < 0.2 for s in inside)  # the same answer every turn
    assert {s for s in senders if bucket(s, "8") < 0.2} != set(inside)  # a new test draws anew


def test_the_two_proportion_test_matches_its_closed_form() -> None:
    # 60/100 against 40/100: pooled 0.5, z = 0.2 / sqrt(0.5 * 0.5 * 0.02) = 2.828..., p = 0.00468
    assert two_proportion_p(60, 100, 40, 100) == pytest.approx(0.004678, abs=1e-5)
    assert two_proportion_p(50, 100, 50, 100) == pytest.approx(1.0)
    assert two_proportion_p(0, 0, 3, 10) is None
    assert math.isclose(two_proportion_p(7, 20, 3, 20) or 0, two_proportion_p(3, 20, 7, 20) or 1)


def _conversation(sender: str, model_id: str, handed: bool, fallbacks: int, at: dt.datetime) -> List[InsightFact]:
    facts = [InsightFact(at=at, sender_id=sender, kind=FactKind.TURN, name="greet", data={"model_id": model_id})]
    facts += [
        InsightFact(at=at, sender_id=sender, kind=FactKind.FALLBACK, name="nlu_fallback") for _ in range(fallbacks)
    ]
    facts += [InsightFact(at=at, sender_id=sender, kind=FactKind.TURN, name="inform", data={"model_id": model_id})]
    if handed:
        facts.append(InsightFact(at=at, sender_id=sender, kind=FactKind.HANDOFF, name="action_handoff_to_human"))
    return facts


def _traffic(sessions: Any, per_arm: int, handed_a: int, handed_b: int) -> None:
    at = dt.datetime(2026, 12, 1, 12)
    with sessions.begin() as session:
        for arm, handed in (("model-a", handed_a), ("model-b", handed_b)):
            for i in range(per_arm):
                sender = f"{arm}-{i}"
                session.add_all(_conversation(sender, arm, i < handed, 1 if i % 5 == 0 else 0, at))
                session.add(ConversationRating(sender_id=sender, rating=5 if i % 2 else 3))


def test_a_winner_is_called_only_past_the_sample_size_and_significance(sessions) -> None:
    _traffic(sessions, per_arm=120, handed_a=40, handed_b=15)
    early = compare(sessions, [(1, "model-a"), (2, "model-b")], min_conversations=200)
    assert early.winner is None and "not enough conversations" in early.verdict
    figures: Dict[str, Any] = {arm.version: arm for arm in early.arms}
    assert figures[1].conversations == 120 and figures[1].rates["containment"].numerator == 80
    assert figures[2].rates["handoff_rate"].numerator == 15
    assert figures[1].rates["fallback_rate"].denominator == 240 and figures[1].rates["fallback_rate"].numerator == 24
    assert figures[1].rates["csat_satisfied"].rate == 0.5
    decided = compare(sessions, [(1, "model-a"), (2, "model-b")], min_conversations=100)
    assert decided.winner == 2 and decided.p_values["containment"] < 0.05
    assert decided.p_values["fallback_rate"] == pytest.approx(1.0)


def test_no_winner_without_a_significant_difference(sessions) -> None:
    _traffic(sessions, per_arm=150, handed_a=30, handed_b=27)
    result = compare(sessions, [(1, "model-a"), (2, "model-b")], min_conversations=100)
    assert result.winner is None and "no significant difference" in result.verdict


def test_the_schedule_reads_a_cron_line() -> None:
    sunday_3am = next_run("0 3 * * 0", dt.datetime(2026, 12, 4, 13, 0))
    assert sunday_3am == dt.datetime(2026, 12, 6, 3, 0)
    assert next_run("*/15 * * * *", dt.datetime(2026, 12, 4, 13, 1)) == dt.datetime(2026, 12, 4, 13, 15)
    with pytest.raises(ValueError):
        next_run("every sunday", dt.datetime(2026, 12, 4))


def test_cron_weekdays_count_from_sunday() -> None:
    assert next_run("30 9 * * 1-5", dt.datetime(2026, 12, 5, 10, 0)) == dt.datetime(2026, 12, 7, 9, 30)  # Sat -> Mon
    assert next_run("0 3 * * 7", dt.datetime(2026, 12, 4, 13, 0)) == dt.datetime(2026, 12, 6, 3, 0)


def test_only_one_model_can_be_serving(sessions, tmp_path: Path) -> None:
    """Two servers adopting their model at the same moment: the database keeps one serving row."""
    from sqlalchemy.exc import IntegrityError

    from shopdb.models import ModelVersion

    with sessions.begin() as session:
        registry.adopt(session, _archive(tmp_path, "first"))
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(ModelVersion(status=ModelStatus.SERVING, path="other.tar.gz", metrics={}, gate={}))
    with sessions() as session:
        assert registry.serving_plan(session).primary.path.endswith("first.tar.gz")
