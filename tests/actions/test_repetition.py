"""A new question is not answered with the last answer again (actions/repetition.py)."""

from __future__ import annotations

from typing import Any, Dict, List

from actions.repetition import answer_instead_of_repeating, answer_signatures, repeats_last_answer

STATUS = {"order_number": "10000005", "refunds": "RMA-000005001: return received, refund processing"}


def _status_turn(request: str) -> List[Dict[str, Any]]:
    """A turn the bot answered with a refund status (as Rasa stores it: the values in the metadata)."""
    return [
        {"event": "user", "text": request, "parse_data": {"intent": {"name": "refund_status"}}},
        {"event": "action", "name": "action_refund_status"},
        {
            "event": "bot",
            "text": "Refunds on order 10000005: ...",
            "metadata": {"utter_action": "utter_refund_status", "model_id": "m", **STATUS},
        },
        {"event": "action", "name": "action_listen"},
    ]


def _the_same_again() -> List[Dict[str, Any]]:
    """The dispatcher's messages of an action that would say the same (an empty value Rasa would drop)."""
    return [{"text": None, "buttons": [], "response": "utter_refund_status", "carrier": "", **STATUS}]


def test_an_answer_that_says_the_last_turn_again_is_a_repetition(tracker) -> None:
    history = _status_turn("wheres my refund for 10000005")
    latest = tracker("how long till the money is back on my card", "refund_status", history=history)
    assert repeats_last_answer(latest, _the_same_again())
    other = [{**_the_same_again()[0], "refunds": "RMA-000005001: refunded"}]
    assert not repeats_last_answer(latest, other)
    assert answer_signatures([{"text": "hi", "response": None}]) == [(None, (("text", "hi"),))]


def test_a_new_question_gets_the_passage_and_the_same_question_the_same_answer(kb, tracker) -> None:
    history = _status_turn("wheres my refund for 10000005")
    new = tracker("how long till the money is back on my card", "refund_status", history=history)
    hit = answer_instead_of_repeating(new)
    assert hit is not None and hit.key == "refunds/when-you-get-your-money-back"
    for again in ("where's my refund for 10000005?", "and my refund, where is it?"):
        assert answer_instead_of_repeating(tracker(again, "refund_status", history=history)) is None, again
    not_a_question = tracker("ok thanks for checking", "thank", history=history)
    assert answer_instead_of_repeating(not_a_question) is None


def test_a_question_on_a_worry_the_status_did_not_answer_gets_the_passage(kb, tracker) -> None:
    """The first message was a status request with a worry in it; the rule is a new question."""
    history = _status_turn("tracking for 10000005 hasnt moved in days, is it lost??")
    follow_up = tracker("when does a late parcel count as lost", "order_status", history=history)
    hit = answer_instead_of_repeating(follow_up)
    assert hit is not None and hit.key == "shipping/delayed-or-lost-parcels"


def test_an_answer_from_the_shops_data_makes_its_passage_the_topic_of_a_follow_up(kb, tracker) -> None:
    """After a refund's status (topic: checking refund status), "so when do I actually get it?" is read in
    refunds, and not answered with the passage on checking the status the shopper just did."""
    from actions.common import ShopAction
    from actions.policies import topic_follow_up, topic_of_responses

    assert topic_of_responses(["utter_refund_status"]) == "refunds/checking-refund-status"
    assert topic_of_responses(["utter_greet", "utter_return_window_closed"]) == (
        "warranty/faulty-item-after-the-return-window"
    )
    assert topic_of_responses(["utter_greet"]) is None
    dispatcher = type("D", (), {"messages": [{"response": "utter_refund_status"}]})()
    assert ShopAction._topic(dispatcher, []) == [
        {"event": "slot", "timestamp": None, "name": "policy_topic", "value": "refunds/checking-refund-status"}
    ]
    history = _status_turn("wheres my refund for 10000005")
    history.insert(-1, {"event": "slot", "name": "policy_topic", "value": "refunds/checking-refund-status"})
    hit = topic_follow_up(tracker("so when do i actually get it", "refund_status", history=history))
    assert hit is not None and hit.key == "refunds/when-you-get-your-money-back"
    # ... unless the question names what that passage explains
    hit = topic_follow_up(tracker("what does processing mean exactly", "refund_status", history=history))
    assert hit is not None and hit.key == "refunds/checking-refund-status"


def test_after_an_answer_from_data_its_own_passage_is_a_new_answer(kb, tracker) -> None:
    """The newsletter steps for a guest, asked again how quick the link works: the passage says it."""
    turn = [
        {"event": "user", "text": "i'd like your newsletter", "parse_data": {"intent": {"name": "newsletter"}}},
        {"event": "action", "name": "action_newsletter"},
        {"event": "bot", "text": "You can subscribe ...", "metadata": {"utter_action": "utter_newsletter_guest"}},
        {"event": "slot", "name": "policy_topic", "value": "account/newsletter"},
        {"event": "action", "name": "action_listen"},
    ]
    hit = answer_instead_of_repeating(tracker("how quick does the unsubscribe link work", "newsletter", history=turn))
    assert hit is not None and hit.key == "account/newsletter"
    # after the passage itself, the same passage is no new answer
    said = [{**e, "metadata": {"utter_action": "utter_policy_answer"}} if e["event"] == "bot" else e for e in turn]
    assert (
        answer_instead_of_repeating(tracker("how quick does the unsubscribe link work", "newsletter", history=said))
        is None
    )
