"""The review queue on real stores: conversations saved by Rasa's own SQL tracker store, the shop
database migrated by alembic; collected, labelled and exported as training data Rasa reads back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy import select

from insights.data_rights import delete_data
from learning.collect import TrackerEvents, collect, queue_counts
from learning.export import BOT_NLU, export
from learning.review import ReviewRefused, Vocabulary, decide, decide_many, pending
from rasa_addons.bot_domain import bot_domain
from shopdb.db import create_db_engine, migrate, session_factory
from shopdb.models import ReviewItem, ReviewSource, ReviewStatus
from shopdb.ratings import record_rating


def _user(text: str, intent: str, confidence: float) -> UserUttered:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "inform", "confidence": 1 - confidence}]
    return UserUttered(text, intent={"name": intent, "confidence": confidence}, parse_data={"intent_ranking": ranking})


CONVERSATIONS: Dict[str, List[Any]] = {
    "c-fallback": [
        SessionStarted(),
        _user("hi", "greet", 0.99),
        _user("wat abt the thingy for my nan", "nlu_fallback", 0.21),
        ActionExecuted("utter_default"),
    ],
    "c-handoff": [
        SessionStarted(),
        _user("where is my order 87654321 bob.smith@gmail.com", "order_status", 0.45),
        _user("it says delivered but nothing came", "report_problem", 0.9),
        _user("human pls", "request_human", 0.95),  # the confident request for a person: not queued
        ActionExecuted("action_handoff_to_human"),
    ],
    "c-rated": [
        SessionStarted(),
        _user('/rate_conversation{"rating": "1"}', "rate_conversation", 1.0),  # a button: not shopper's words
        _user("useless bot honestly", "express_frustration", 0.93),
    ],
    "c-fine": [SessionStarted(), _user("do you ship to austria", "ask_delivery_options", 0.97)],
}


@pytest.fixture
def stores(tmp_path: Path) -> Dict[str, Any]:
    tracker = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"))

    async def save() -> None:
        for sender, events in CONVERSATIONS.items():
            await tracker.save(DialogueStateTracker.from_events(sender, events))

    asyncio.run(save())
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    migrate(url, "heads")
    sessions = session_factory(create_db_engine(url))
    with sessions.begin() as session:
        record_rating(session, "c-rated", 1)
    return {"sessions": sessions, "events": TrackerEvents.from_url(f"sqlite:///{tmp_path / 'tracker.db'}")}


def _confirm_with_order_number(session: Any, order: ReviewItem, vocabulary: Vocabulary) -> int:
    """Rita confirms the order question with its order number marked; returns where the number starts."""
    start = order.text.index("10000000")
    entities = [{"start": start, "end": start + 8, "entity": "order_number"}]
    decide(session, order.id, "rita", "confirm", vocabulary, entities=entities)
    return start


def _items(sessions: Any) -> Dict[str, ReviewItem]:
    with sessions() as session:
        return {item.text: item for item in session.query(ReviewItem).all()}


def test_misread_handed_off_and_badly_rated_messages_join_the_queue_scrubbed(stores) -> None:
    sessions = stores["sessions"]
    result = collect(sessions, stores["events"], threshold=0.6)
    items = _items(sessions)
    scrubbed = "where is my order 10000000 jane.doe@example.com"  # no shopper's number or address is kept
    assert set(items) == {
        "wat abt the thingy for my nan",
        scrubbed,
        "it says delivered but nothing came",
        "useless bot honestly",
    }
    assert items["wat abt the thingy for my nan"].sources == [ReviewSource.FALLBACK]
    assert items[scrubbed].sources == [ReviewSource.LOW_CONFIDENCE, ReviewSource.HANDOFF]
    assert items[scrubbed].predicted_intent == "order_status" and items[scrubbed].ranking[0]["confidence"] == 0.45
    assert items["it says delivered but nothing came"].sources == [ReviewSource.HANDOFF]
    assert items["useless bot honestly"].sources == [ReviewSource.LOW_RATING]
    assert result.added == 4 and queue_counts(sessions) == {ReviewStatus.PENDING: 4}

    again = collect(sessions, stores["events"], threshold=0.6)  # the cursors: nothing read twice
    assert (again.added, again.updated) == (0, 0)


def test_decisions_are_checked_against_the_domain_and_kept_with_their_reviewer(stores) -> None:
    sessions = stores["sessions"]
    collect(sessions, stores["events"], threshold=0.6)
    vocabulary = Vocabulary.of_domain(bot_domain())
    items = _items(sessions)
    order = items["where is my order 10000000 jane.doe@example.com"]
    with sessions.begin() as session:
        with pytest.raises(ReviewRefused):
            decide(session, order.id, "rita", "relabel", vocabulary, intent="where_is_stuff")
        with pytest.raises(ReviewRefused):
            decide(
                session, order.id, "rita", "confirm", vocabulary, entities=[{"start": 0, "end": 99, "entity": "email"}]
            )
        start = _confirm_with_order_number(session, order, vocabulary)
        decide(
            session, items["wat abt the thingy for my nan"].id, "rita", "new_request", vocabulary, intent="gift_advice"
        )
        decide_many(
            session,
            [items["it says delivered but nothing came"].id, items["useless bot honestly"].id],
            "sam",
            "relabel",
            vocabulary,
            "request_human",
        )
        assert pending(session) == []
    decided = _items(sessions)
    assert decided[order.text].status == ReviewStatus.CONFIRMED and decided[order.text].reviewer == "rita"
    assert decided[order.text].entities == [
        {"start": start, "end": start + 8, "entity": "order_number", "value": "10000000"}
    ]
    assert decided["useless bot honestly"].intent == "request_human" and decided["useless bot honestly"].reviewed_at


def test_labelled_messages_become_training_data_rasa_reads(stores, tmp_path: Path) -> None:
    sessions = stores["sessions"]
    collect(sessions, stores["events"], threshold=0.6)
    vocabulary = Vocabulary.of_domain(bot_domain())
    items = _items(sessions)
    bot_text, bot_intent = next(
        (m.get("text"), m.get("intent"))
        for m in RasaYAMLReader().read(str(next(BOT_NLU.rglob("*.yml")))).intent_examples
        if m.get("intent") != "request_human"
    )
    with sessions.begin() as session:
        _confirm_with_order_number(session, items["where is my order 10000000 jane.doe@example.com"], vocabulary)
        decide(
            session,
            items["it says delivered but nothing came"].id,
            "rita",
            "relabel",
            vocabulary,
            intent="report_problem",
        )
        decide(session, items["useless bot honestly"].id, "rita", "discard", vocabulary)
        # a message the bot's own data gives another intent: a conflict, not an example
        item = session.get(ReviewItem, items["wat abt the thingy for my nan"].id)
        item.text = bot_text
        decide(session, item.id, "rita", "relabel", vocabulary, intent="request_human")
    out = tmp_path / "reviewed.yml"
    with sessions() as session:
        result = export(session, out)
    assert result.examples == 2 and result.conflicts == [(bot_text, "request_human", bot_intent)]
    data = RasaYAMLReader().read(str(out))
    examples = {m.get("text"): m for m in data.intent_examples}
    assert set(examples) == {"where is my order 10000000 jane.doe@example.com", "it says delivered but nothing came"}
    order_example = examples["where is my order 10000000 jane.doe@example.com"]
    assert order_example.get("intent") == "order_status"
    assert [(e["entity"], e["value"]) for e in order_example.get("entities")] == [("order_number", "10000000")]
    provenance = order_example.get("metadata")["example"]
    assert provenance["reviewed_by"] == "rita" and provenance["conversation"].startswith("c:")
    assert "c-handoff" not in out.read_text()  # the conversation only as a hash


def test_a_shoppers_erasure_takes_their_queued_messages(stores) -> None:
    sessions = stores["sessions"]
    collect(sessions, stores["events"], threshold=0.6)
    counts = delete_data(sender_id="c-handoff", sessions=sessions)
    assert counts["review_queue"] == 2
    assert "it says delivered but nothing came" not in _items(sessions)


def test_unanswered_questions_are_grouped_by_meaning(tmp_path: Path) -> None:
    """Real sentence embeddings (the shop's MiniLM): two questions about gift wrapping and two about
    a loyalty card form two groups; a lone question stays out."""
    from core.settings import Settings
    from learning.clusters import clusters, unanswered
    from retrieval.embeddings import embedder_for

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    migrate(url, "heads")
    sessions = session_factory(create_db_engine(url))
    texts = [
        "can you gift wrap my order",
        "do you offer gift wrapping for presents",
        "is there a loyalty card with points",
        "do you have a loyalty programme where i collect points",
        "what is the meaning of life",
    ]
    with sessions.begin() as session:
        for i, text in enumerate(texts):
            session.add(ReviewItem(sender_id=f"c-{i}", event_id=i, text=text, sources=[ReviewSource.FALLBACK]))
        session.add(ReviewItem(sender_id="c-x", event_id=99, text="gift wrap please", sources=[ReviewSource.HANDOFF]))
    encoder = embedder_for(Settings(var_dir=tmp_path))
    with sessions() as session:
        found = clusters(unanswered(session), encoder.encode)
    groups = sorted(sorted(cluster.texts) for cluster in found)
    assert groups == [sorted(texts[:2]), sorted(texts[2:4])]  # the handed-off message is not a fallback


def test_the_same_words_from_many_conversations_are_listed_once(stores) -> None:
    from learning.review import pending_distinct, same_text

    sessions = stores["sessions"]
    collect(sessions, stores["events"], threshold=0.6)
    with sessions.begin() as session:
        first = session.query(ReviewItem).filter(ReviewItem.text == "useless bot honestly").one()
        session.add(ReviewItem(sender_id="c-other", event_id=1, text=first.text, sources=[ReviewSource.FALLBACK]))
    with sessions() as session:
        listed = {item.text: n for item, n in pending_distinct(session)}
        assert listed["useless bot honestly"] == 2 and sum(listed.values()) == 5
        first = session.query(ReviewItem).filter(ReviewItem.sender_id == "c-rated").one()
        assert len(same_text(session, first)) == 1


def test_a_reviewers_answer_becomes_a_passage_and_closes_the_questions(stores) -> None:
    from learning.answers import AnswerRefused, answer_questions
    from shopdb.models import PolicyPassage

    sessions = stores["sessions"]
    collect(sessions, stores["events"])
    fallback = _items(sessions)["wat abt the thingy for my nan"]
    with sessions.begin() as session:
        passage = answer_questions(session, [fallback.id], "Gifts for family", "We gift wrap any order.", "rene")
        assert passage.key == "faq/gifts-for-family"
    with sessions() as session:
        item = session.get(ReviewItem, fallback.id)
        assert item.status == ReviewStatus.ANSWERED and item.reviewer == "rene"
        stored = session.execute(select(PolicyPassage).where(PolicyPassage.key == "faq/gifts-for-family")).scalar_one()
        assert stored.text == "We gift wrap any order." and stored.source == "faq#gifts-for-family"
    with sessions.begin() as session, pytest.raises(AnswerRefused, match="already has a passage"):
        answer_questions(session, [], "Gifts  for family", "Another text.", "rene")
    with sessions.begin() as session, pytest.raises(AnswerRefused, match="an answer of"):
        answer_questions(session, [], "Empty", "   ", "rene")
