"""Policy answers come from the shop's own passages, with their source; unknown questions offer a person."""

from __future__ import annotations

import pytest

from actions.delivery import ActionDelivery
from actions.policies import ActionAnswerPolicy

pytestmark = pytest.mark.slow


def test_known_question_is_answered_with_the_passage_and_its_source(kb, tracker, run, domain, slots_of):
    question = "who pays for return shipping?"
    best = kb.answer_policy_question(question, k=1)[0]
    messages, events = run(ActionAnswerPolicy(), tracker(question, "ask_policy"), domain)
    text = messages[0]["text"]
    assert text.startswith(f"{best.title}: {best.text}")
    assert "(Source: returns#" in text or f"(Source: {best.topic}#" in text
    assert slots_of(events) == {"human_offered": None, "policy_topic": best.key}


@pytest.mark.parametrize(
    "question, intent, key",
    [
        ("checking ur accepted payment modalities", "ask_payment_methods", "payment/payment-methods"),
        ("where to demand reimbursements of my money?", "ask_refund_policy", "refunds/when-you-get-your-money-back"),
        ("I want help leaving a reviw", "leave_review", "help/reviews"),
    ],
)
def test_an_intent_that_names_its_topic_gets_that_passage(kb, tracker, run, domain, slots_of, question, intent, key):
    """The retrieval alone confuses neighbours (payment methods with refunds); the intent does not."""
    passage = kb.policy_passage(key)
    assert passage is not None
    messages, events = run(ActionAnswerPolicy(), tracker(question, intent), domain)
    assert messages[0]["text"].startswith(f"{passage.title}: {passage.text}")
    assert slots_of(events)["policy_topic"] == key


@pytest.mark.parametrize(
    "question, intent, key",
    [
        ("is my card data safe with you", "ask_payment_methods", "payment/payment-security"),
        ("can i use a gift voucher", "ask_payment_methods", "payment/discount-codes-and-gift-cards"),
    ],
)
def test_a_detail_of_the_topic_gets_the_passage_that_answers_it(
    kb, tracker, run, domain, slots_of, question, intent, key
):
    """The topic's own passage (payment methods) does not answer a question about card safety."""
    messages, events = run(ActionAnswerPolicy(), tracker(question, intent), domain)
    assert messages[0]["text"].startswith(f"{kb.policy_passage(key).title}: ")
    assert slots_of(events)["policy_topic"] == key


def test_a_topic_the_shop_lacks_falls_back_to_the_retrieval(kb, tracker, run, domain, slots_of, monkeypatch):
    from actions import policies

    monkeypatch.setitem(policies.POLICY_TOPICS, "ask_payment_methods", "payment/no-such-passage")
    question = "what payment methods do you accept?"
    best = kb.answer_policy_question(question, k=1)[0]
    messages, events = run(ActionAnswerPolicy(), tracker(question, "ask_payment_methods"), domain)
    assert messages[0]["text"].startswith(f"{best.title}: {best.text}")
    assert slots_of(events)["policy_topic"] == best.key


def test_unknown_question_says_so_and_offers_a_person(kb, tracker, run, domain, slots_of):
    question = "do you offer a corporate bulk discount program?"
    assert kb.answer_policy_question(question) == []
    messages, events = run(ActionAnswerPolicy(), tracker(question, "ask_policy"), domain)
    assert messages[0]["response"] == "utter_policy_unknown"
    assert messages[0]["text"] == "I'm sorry, I don't know the answer to that, and I'd rather not guess."
    assert slots_of(events) == {"human_offered": True, "handoff_reason": "policy_unknown"}


def test_unknown_question_inside_a_form_does_not_derail_it(kb, tracker, run, domain, slots_of):
    question = "do you have a store in Tokyo?"
    assert kb.answer_policy_question(question) == []
    messages, events = run(ActionAnswerPolicy(), tracker(question, "ask_policy", active_loop="order_form"), domain)
    assert "ask for a person at any time" in messages[0]["text"]
    # No hand-off offer and no change to the form: only the "human offered" marker is cleared.
    assert slots_of(events) == {"human_offered": None}
    assert not [e for e in events if e.get("event") == "active_loop"]


def _after_answer(key: str) -> list:
    """The events of a turn the bot answered with the passage ``key``."""
    return [
        {"event": "user", "text": "a question", "parse_data": {"intent": {"name": "ask_policy"}}},
        {"event": "action", "name": "action_answer_policy"},
        {"event": "slot", "name": "policy_topic", "value": key},
        {"event": "action", "name": "action_listen"},
    ]


@pytest.mark.parametrize(
    "topic, question, intent, action",
    [
        # read alone: delivery times; after the signing-in answer: the lock's duration
        ("account/signing-in-problems", "how long is it locked for", "ask_delivery_period", ActionDelivery),
        ("help/contacting-customer-service", "and sunday?", "ask_delivery_options", ActionDelivery),
        (
            "shipping/missed-deliveries",
            "how long do they keep it",  # "pickup point" alone would find the passage by its words
            "ask_delivery_period",
            ActionDelivery,
        ),
        ("payment/payment-methods", "and with ideal?", "ask_policy", ActionAnswerPolicy),
    ],
)
def test_a_short_follow_up_is_read_in_the_topic_just_answered(
    kb, tracker, run, domain, topic, question, intent, action
):
    messages, _ = run(action(), tracker(question, intent, history=_after_answer(topic)), domain)
    expected = kb.policy_passage(topic)
    assert messages[0]["text"].startswith(f"{expected.title}: "), messages[0]["text"][:120]
    # the same words with no answer before them are not read in that topic
    messages, _ = run(action(), tracker(question, intent), domain)
    assert not messages[0]["text"].startswith(f"{expected.title}: ")


@pytest.mark.parametrize(
    "topic, question",
    [
        ("payment/payment-methods", "and is delivery to amsterdam free?"),  # a question of its own
        ("returns/return-window", "do you deliver to norway"),
        ("refunds/when-you-get-your-money-back", "meh ok"),  # not a question
    ],
)
def test_a_question_of_its_own_is_not_read_in_the_last_topic(kb, tracker, topic, question):
    from actions.policies import topic_follow_up

    assert topic_follow_up(tracker(question, "ask_delivery_options", history=_after_answer(topic))) is None


def test_after_an_answer_that_stands_for_a_passage_the_passage_answers_what_the_answer_left_out(kb, tracker):
    """The steps to delete an account stand for the deletion passage; "how long does it take" after them is
    answered by that passage ("within 30 days"), not by delivery times, which the words alone would find."""
    from actions.policies import topic_follow_up

    history = [
        {"event": "user", "text": "delete my account", "parse_data": {"intent": {"name": "delete_account"}}},
        {"event": "action", "name": "action_delete_account"},
        {
            "event": "bot",
            "text": "To delete your account: ...",
            "metadata": {"utter_action": "utter_account_deletion_guest"},
        },
        {"event": "slot", "name": "policy_topic", "value": "account/deleting-your-account"},
        {"event": "action", "name": "action_listen"},
    ]
    hit = topic_follow_up(tracker("how long does it take", "ask_delivery_period", history=history))
    assert hit is not None and hit.key == "account/deleting-your-account"
    assert "30 days" in hit.text


@pytest.mark.parametrize(
    "topic, question, key",
    [
        ("payment/payment-declined-or-failed", "is it safe to pay by card on your site", "payment/payment-security"),
    ],
)
def test_a_follow_up_another_passage_of_the_topic_answers_gets_that_passage_not_the_last_again(
    kb, tracker, topic, question, key
):
    """Read with the last passage's title, a question leans to that passage; when the passage was just said,
    another passage of the same topic that the question finds alone is the answer."""
    from actions.policies import topic_follow_up

    said = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_policy_answer"}}
    history = _after_answer(topic)
    hit = topic_follow_up(tracker(question, "ask_policy", history=history[:-1] + [said, history[-1]]))
    assert hit is not None and hit.key == key
