"""Promotion, rollback and an A/B test in a running assistant: the Rasa server follows the model
registry and swaps models while shoppers talk, without a failed or empty turn.

The second model is the test model's archive under a new model id (what a retraining run gives):
the swap loads it as a model of its own, and Rasa stamps every event with the id that answered."""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional
from urllib.parse import urlparse

import pytest

from assistant.launcher import AssistantProcesses
from learning import registry
from learning.answers import answer_questions
from perf.model_swap import relabelled_copy
from shopdb.db import create_db_engine, session_factory

MESSAGES = ["hi", "do you ship to austria?", "show me running shoes", "what is your return policy?"]


def post(base: str, sender: str, text: str) -> tuple[int, list]:
    url = urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        body = json.dumps({"sender": sender, "message": text})
        connection.request("POST", "/webhooks/rest/webhook", body, {"Content-Type": "application/json"})
        reply = connection.getresponse()
        data = reply.read()
    finally:
        connection.close()
    return reply.status, json.loads(data or b"null") or []


@dataclass
class Traffic:
    """Shoppers talking without pause, each on their own thread; every turn's outcome is kept."""

    base: str
    shoppers: int = 2
    think: float = 0.5  # seconds between a shopper's turns
    turns: int = 0
    failures: List[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: List[threading.Thread] = field(default_factory=list)

    def _talk(self, number: int) -> None:
        turn = 0
        while not self._stop.is_set():
            sender = f"swap-{number}-{turn // len(MESSAGES)}"
            try:
                status, messages = post(self.base, sender, MESSAGES[turn % len(MESSAGES)])
                if status != 200 or not any(m.get("text") for m in messages):
                    self.failures.append(f"{sender}: {status} {messages}")
            except Exception as error:  # a refused or dropped connection is a failed turn too
                self.failures.append(f"{sender}: {error!r}")
            self.turns += 1
            turn += 1
            self._stop.wait(self.think)

    def __enter__(self) -> "Traffic":
        self._threads = [threading.Thread(target=self._talk, args=(n,), daemon=True) for n in range(self.shoppers)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def model_ids_by_sender(tracker_db: Path, prefix: str, after_id: int = 0) -> Dict[str, List[str]]:
    """The model id Rasa stamped on each of a sender's messages (the tracker store's own rows)."""
    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute(
            "SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id LIKE ? AND id > ? ORDER BY id",
            (f"{prefix}%", after_id),
        ).fetchall()
    found: Dict[str, List[str]] = {}
    for sender, data in rows:
        found.setdefault(sender, []).append((json.loads(data).get("metadata") or {}).get("model_id"))
    return found


def last_event_id(tracker_db: Path) -> int:
    with sqlite3.connect(tracker_db) as connection:
        return int(connection.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0])


def wait_for(check: Callable[[], Optional[object]], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def serving_shop(assistant_on_a_copy) -> Iterator[AssistantProcesses]:
    with assistant_on_a_copy(SHOP_MODEL_POLL_SECONDS="1") as processes:
        yield processes


def test_promotion_rollback_and_ab_test_swap_models_while_shoppers_talk(
    serving_shop: AssistantProcesses, trained_model: Path, tmp_path: Path
) -> None:
    candidate = relabelled_copy(trained_model, tmp_path / "candidate.tar.gz")
    processes = serving_shop
    base, tracker_db = processes.config.rasa_url, processes.config.tracker_db
    sessions = session_factory(create_db_engine(f"sqlite:///{tracker_db.with_name('shop.db')}"))

    def serving_row() -> Optional[registry.ServedModel]:
        with sessions() as session:
            return registry.serving_plan(session).primary

    first = wait_for(serving_row, 30, "the started model adopted as version 1")
    assert isinstance(first, registry.ServedModel) and first.model_id
    with sessions.begin() as session:
        row = registry.register(session, candidate, by="test", gate={"passed": True, "reasons": []})
        second = registry.ServedModel(row.id, str(candidate), row.model_id)
    assert second.model_id and second.model_id != first.model_id

    def answered_by(model_id: str, since: int) -> bool:
        stamped = model_ids_by_sender(tracker_db, "swap-", since)
        return any(ids and ids[-1] == model_id for ids in stamped.values())

    with Traffic(base) as traffic:
        time.sleep(2)
        mark = last_event_id(tracker_db)
        with sessions.begin() as session:
            registry.promote(session, second.version, "test")
        # The new model loads beside the old one while the old one answers: 40 s on an idle 2-core
        # machine, minutes when shoppers keep its cores busy.
        wait_for(lambda: answered_by(second.model_id, mark), 480, "turns answered by the promoted model")
        time.sleep(2)
        mark = last_event_id(tracker_db)
        with sessions.begin() as session:
            assert registry.rollback(session, "test").id == first.version
        # The model swapped out stayed loaded: a rollback is immediate.
        wait_for(lambda: answered_by(first.model_id, mark), 15, "turns answered by the model rolled back to")
        time.sleep(2)  # a turn that began on the old model has finished
        settled = last_event_id(tracker_db)
        time.sleep(3)
    assert traffic.turns >= 20 and traffic.failures == [], traffic.failures[:5]
    after_rollback = model_ids_by_sender(tracker_db, "swap-", settled)
    assert after_rollback and all(set(ids) == {first.model_id} for ids in after_rollback.values())

    # A/B: half the senders on the candidate, each sender on one model in every turn.
    with sessions.begin() as session:  # the model rolled back from is a candidate again
        registry.start_ab(session, second.version, 0.5, "test")
    probes = iter(range(1000))

    def challenger_answers() -> bool:
        sender = f"probe-{next(probes)}"
        post(base, sender, "hi")
        return model_ids_by_sender(tracker_db, sender)[sender][-1] == second.model_id

    wait_for(challenger_answers, 90, "the A/B challenger loaded")
    for number in range(16):
        for text in MESSAGES[:2]:
            status, messages = post(base, f"ab-{number}", text)
            assert status == 200 and messages
    split = model_ids_by_sender(tracker_db, "ab-")
    assert len(split) == 16 and all(len(set(ids)) == 1 for ids in split.values())
    arms = {ids[0] for ids in split.values()}
    assert arms == {first.model_id, second.model_id}


GIFT_WRAP = "Every order can be gift wrapped for 3.50 euros: tick 'gift wrap' at checkout and add a card message."


def test_a_group_of_unanswered_questions_answered_by_a_reviewer_is_answerable_at_once(
    serving_shop: AssistantProcesses,
) -> None:
    base, tracker_db = serving_shop.config.rasa_url, serving_shop.config.tracker_db
    sessions = session_factory(create_db_engine(f"sqlite:///{tracker_db.with_name('shop.db')}"))
    question = "do you offer gift wrapping?"
    status, before = post(base, "gift-1", question)
    assert status == 200 and GIFT_WRAP not in json.dumps(before)
    with sessions.begin() as session:
        answer_questions(session, [], "Gift wrapping", GIFT_WRAP, "rene", topic="orders")
    status, after = post(base, "gift-2", question)
    assert status == 200 and any(GIFT_WRAP in (m.get("text") or "") for m in after), after
