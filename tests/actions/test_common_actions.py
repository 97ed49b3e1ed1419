"""Shared actions and helpers: metadata slots, fallback, stop, privacy, vocabulary, address parsing, domain."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from actions import vocabulary
from actions.addresses import parse_address
from actions.common import (
    ActionDefaultAskAffirmation,
    ActionDefaultFallback,
    ActionFallbackAnswer,
    ActionStopForm,
    ValidateSlotMappings,
)
from core.settings import PROJECT_ROOT

BOT = PROJECT_ROOT / "bot"


def test_customer_id_comes_only_from_well_formed_metadata(tracker, run, domain, slots_of):
    from actions.common import customer_proofs

    shop = {"channel": "shop"}  # the widget's channel, which verified the signed customer token

    def signed(customer_id):
        """What the channel sends: the verified id and its proof for this conversation."""
        return {"customer_id": customer_id, "customer_proof": customer_proofs().issue("test-conversation", customer_id)}

    _, events = run(ValidateSlotMappings(), tracker("hi", "greet", metadata=signed("C0000001"), **shop), domain)
    assert slots_of(events)["customer_id"] == "C0000001"
    for bad in ("C1", "'; drop table", 42, None):
        _, events = run(ValidateSlotMappings(), tracker("hi", "greet", metadata={"customer_id": bad}, **shop), domain)
        assert "customer_id" not in slots_of(events)
    # a tracker that merely claims a customer id (a forged call to the action server): no proof, no id
    for claim in (
        {"customer_id": "C0000001"},
        {"customer_id": "C0000001", "customer_proof": customer_proofs().issue("other-chat", "C0000001")},
        {"customer_id": "C0000002", "customer_proof": signed("C0000001")["customer_proof"]},
    ):
        _, events = run(ValidateSlotMappings(), tracker("hi", "greet", metadata=claim, **shop), domain)
        assert "customer_id" not in slots_of(events), claim
    # another channel's metadata is whatever its caller sent (Rasa's REST channel): never trusted
    _, events = run(ValidateSlotMappings(), tracker("hi", "greet", metadata=signed("C0000001")), domain)
    assert "customer_id" not in slots_of(events)
    # typed text never sets it
    _, events = run(ValidateSlotMappings(), tracker("my customer id is C0000002", "inform"), domain)
    assert "customer_id" not in slots_of(events)


def test_page_product_becomes_the_product_in_focus(tracker, run, domain, slots_of):
    t = tracker("is it waterproof?", "product_question", metadata={"page": {"product_id": "42"}})
    _, events = run(ValidateSlotMappings(), t, domain)
    assert slots_of(events) == {"page_product": "42", "current_product": "42"}
    same = tracker(
        "and the price?",
        "product_question",
        metadata={"page": {"product_id": "42"}},
        slots={"page_product": "42", "current_product": "7"},
    )
    _, events = run(ValidateSlotMappings(), same, domain)
    assert "current_product" not in slots_of(events)  # unchanged page: the product picked in chat stays


def test_fallback_after_the_two_stage_fallback_hands_off(tracker, run, domain, slots_of):
    messages, events = run(ActionDefaultFallback(), tracker("zorp blat", "nlu_fallback"), domain)
    assert slots_of(events) == {"handoff_reason": "repeated_failure"}
    assert {"event": "followup", "name": "action_handoff_to_human"} in [
        {k: e[k] for k in ("event", "name") if k in e} for e in events
    ]
    messages, events = run(ActionDefaultFallback(), tracker("hello", "greet"), domain)
    assert messages[0]["response"] == "utter_default"
    assert events[0]["event"] == "rewind"


@pytest.mark.parametrize(
    "second, offered",
    [(0.2, ["/order_status", "/refund_status", "/deny"]), (0.1, ["/order_status", "/deny"])],
)
def test_ask_affirmation_uses_plain_words_and_only_likely_guesses(tracker, run, domain, second, offered):
    """An unlikely second guess ("see what goes with it?" for an invoice request) is not offered."""
    t = tracker("wher is mi ordr", "nlu_fallback")
    t.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "order_status", "confidence": 0.4},
        {"name": "refund_status", "confidence": second},
    ]
    messages, _ = run(ActionDefaultAskAffirmation(), t, domain)
    assert messages[0]["text"] == "Sorry, just to be sure: do you want to check where your order is?"
    assert [b["payload"] for b in messages[0]["buttons"]] == offered


@pytest.mark.parametrize("intent, response", [("thank", "utter_you_are_welcome"), ("goodbye", "utter_goodbye")])
def test_small_talk_the_classifier_half_believes_is_answered_not_asked_about(tracker, run, domain, intent, response):
    t = tracker("thanks, bye", "nlu_fallback")
    t.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": intent, "confidence": 0.4},
        {"name": "order_status", "confidence": 0.2},
    ]
    messages, _ = run(ActionDefaultAskAffirmation(), t, domain)
    assert [m["response"] for m in messages] == [response]


def test_ask_affirmation_with_no_likely_guess_asks_to_rephrase(tracker, run, domain):
    t = tracker("blorp", "nlu_fallback")
    t.latest_message["intent_ranking"] = [{"name": "order_status", "confidence": 0.1}]
    messages, _ = run(ActionDefaultAskAffirmation(), t, domain)
    assert messages[0]["response"] == "utter_ask_rephrase"


def test_stop_form_forgets_half_filled_answers(tracker, run, domain, slots_of):
    messages, events = run(ActionStopForm(), tracker("stop", "stop", active_loop="return_form"), domain)
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert slots_of(events)["order_item"] is None and slots_of(events)["return_reason"] is None
    # ... and says what was not done; a form without words of its own gets the general ones
    assert [m["response"] for m in messages] == ["utter_form_stopped_return_form"]
    assert "no return" in messages[0]["text"].lower()
    messages, _ = run(ActionStopForm(), tracker("stop", "stop", active_loop="order_form"), domain)
    assert [m["response"] for m in messages] == ["utter_form_stopped"]


def test_conversations_are_named_in_logs_by_a_hash_only():
    from core.log_masking import conversation_ref

    issued = "0f8c2b1e4d5a6b7c8d9e0f1a2b3c4d5e-AbCdEfGhIjKlMnOpQrStUv"
    assert issued not in conversation_ref(issued) and issued[:8] not in conversation_ref(issued)
    assert conversation_ref(issued) == conversation_ref(issued) != conversation_ref(issued + "x")


def test_lookup_tables_are_generated_from_the_taxonomy():
    assert vocabulary.main(["--check"]) == 0, "run: python -m actions.vocabulary"


def test_vocabulary_normalises_entity_values():
    assert vocabulary.category_for("trainers") == "Shoes/Running shoes"
    assert vocabulary.category_for("Jackets") == "Clothing/Jackets"
    assert vocabulary.category_for("shoes") == "Shoes"
    assert vocabulary.normalise_colour("Gray") == "grey"
    assert vocabulary.normalise_size("medium") == "M"
    assert vocabulary.normalise_size("EU 42") == "42"
    assert str(vocabulary.parse_price("$79.99")) == "79.99"
    assert vocabulary.ordinal_position("2nd") == 2 and vocabulary.ordinal_position("last") == -1
    assert vocabulary.problem_kind("Broken") == "damaged" and vocabulary.problem_kind("wrong size") == "wrong_item"


def test_addresses_typed_on_one_line():
    assert parse_address("Alex Morgan, Canal Street 12, 1012 AB Amsterdam, NL") == {
        "name": "Alex Morgan",
        "line1": "Canal Street 12",
        "line2": None,
        "city": "Amsterdam",
        "postcode": "1012 AB",
        "country": "NL",
    }
    assert parse_address("send it to Main Street 5, Dublin D02 X285, Ireland", "Sam", "DE")["country"] == "IE"
    assert parse_address("Kastanienallee 7, Apt 3, 10115 Berlin", "Sam Lee", "DE") == {
        "name": "Sam Lee",
        "line1": "Kastanienallee 7",
        "line2": "Apt 3",
        "city": "Berlin",
        "postcode": "10115",
        "country": "DE",
    }
    assert parse_address("somewhere nice") is None
    assert parse_address("Main Street, Dublin") is None


def test_every_domain_action_is_served_and_every_used_action_is_declared(domain):
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    declared = set(domain["actions"])
    assert declared == set(executor.actions)
    used = set()
    for path in list((BOT / "data").rglob("*.yml")) + list((PROJECT_ROOT / "tests" / "stories").glob("*.yml")):
        used |= set(re.findall(r"- action: (\w+)", Path(path).read_text()))
    forms = set(domain["forms"])
    builtin = {"action_listen", "action_deactivate_loop", "action_two_stage_fallback"}
    responses = set(domain["responses"])
    assert used - declared - forms - builtin - responses == set()


def test_there_are_at_least_sixty_test_stories_with_real_text():
    stories = []
    for path in (PROJECT_ROOT / "tests" / "stories").glob("*.yml"):
        stories += yaml.safe_load(path.read_text())["stories"]
    assert len(stories) >= 60
    for story in stories:
        users = [s for s in story["steps"] if "user" in s]
        assert users and all("intent" in s for s in users), story["story"]


def test_a_question_the_classifier_could_not_place_gets_the_shops_own_answer(kb, tracker, run, domain, slots_of):
    """Before "didn't get that", "did you mean" or "which product?", the shop's policy texts are asked."""
    from actions.products import ActionProductQuestion

    follow_up = tracker(
        "and the tags have to still be on when i send it back?", "nlu_fallback", slots={"policy_topic": "returns/x"}
    )
    messages, events = run(ActionFallbackAnswer(), follow_up, domain)
    assert messages[0]["response"] == "utter_policy_answer" and "return" in messages[0]["text"].lower()
    assert slots_of(events)["policy_topic"].startswith("returns/")
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}  # no "did you mean"
    # nothing in the shop's texts or catalogue: the two-stage fallback asks "did you mean ...?"
    messages, events = run(ActionFallbackAnswer(), tracker("flibber jabber wonk", "nlu_fallback"), domain)
    assert messages == [] and events == []  # the rule goes on with the two-stage fallback
    messages, events = run(ActionDefaultFallback(), follow_up, domain)
    assert messages[0]["response"] == "utter_policy_answer"
    # ... and the turn ends with the answer: no hand-off for "giving up" after the two-stage fallback
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}

    # no product in the conversation: a policy question is answered, not met with "which product?"
    question = tracker("how long does delivery to spain take", "product_question")
    messages, _ = run(ActionProductQuestion(), question, domain)
    assert messages[0]["response"] == "utter_policy_answer" and "business days" in messages[0]["text"]

    # chatter the texts do not answer still gets the usual words
    messages, _ = run(ActionDefaultFallback(), tracker("awkward, ok then bye", "greet"), domain)
    assert messages[0]["response"] == "utter_default"
    messages, _ = run(ActionProductQuestion(), tracker("is it nice", "product_question"), domain)
    assert messages[0]["response"] != "utter_policy_answer"


def test_a_rephrased_message_sees_the_turn_before_the_fallback_not_itself():
    """The two-stage fallback rewinds a message it could not place and reads it again: the bot's last turn
    is then the one before that message (its policy topic), not the fallback's own question."""
    from rasa_sdk import Tracker

    from actions.common import last_bot_action, last_turn_events, visible_events

    def user(text):
        return {"event": "user", "text": text, "parse_data": {"intent": {"name": "x"}}}

    events = [
        {"event": "action", "name": "action_listen"},
        user("what time is customer service open on saturday"),
        {"event": "action", "name": "action_answer_policy"},
        {"event": "slot", "name": "policy_topic", "value": "help/contacting-customer-service"},
        {"event": "action", "name": "action_listen"},
        user("and on weekdays till when"),
        {"event": "action", "name": "action_two_stage_fallback"},
        {"event": "rewind"},
        {"event": "action", "name": "action_listen"},
        user("and on weekdays till when"),
    ]
    t = Tracker("c", {}, events[-1], events, False, None, {}, "action_listen")
    assert [e.get("text") for e in visible_events(t) if e["event"] == "user"] == [
        "what time is customer service open on saturday",
        "and on weekdays till when",
    ]
    assert last_bot_action(t) == "action_answer_policy"
    assert {"event": "slot", "name": "policy_topic", "value": "help/contacting-customer-service"} in last_turn_events(t)
    restarted = Tracker("c", {}, events[-1], events[:5] + [{"event": "restart"}] + events[-2:], False, None, {}, "")
    assert last_turn_events(restarted) == [] and last_bot_action(restarted) is None
    # a form's turns stay apart (Rasa's applied events would merge them): the last turn asked for the e-mail
    asked = {"event": "bot", "text": "And which e-mail address?", "metadata": {"utter_action": "utter_ask_email"}}
    form = [
        {"event": "action", "name": "action_listen"},
        user("can i still return order 10000001"),
        {"event": "action", "name": "order_form"},
        {"event": "active_loop", "name": "order_form"},
        {"event": "action", "name": "action_listen"},
        user("10000001"),
        {"event": "action", "name": "order_form"},
        asked,
        {"event": "action", "name": "action_listen"},
        user("alex@example.com"),
    ]
    t = Tracker("c", {}, form[-1], form, False, None, {"name": "order_form"}, "action_listen")
    assert [e for e in last_turn_events(t) if e["event"] == "bot"] == [asked]


def test_a_form_meets_what_it_cannot_place_with_an_answer_not_didnt_get_that(kb, tracker, run, domain):
    """While a form waits: a question the shop's texts answer gets the passage; a remark is acknowledged
    with the way out of the form; an answer the form reads itself (an ordinal) is left to the form."""
    from actions.common import ActionFormFallback

    form = {"active_loop": "order_form", "slots": {"requested_slot": "order_number"}}
    messages, events = run(
        ActionFormFallback(), tracker("how long is the return window", "nlu_fallback", **form), domain
    )
    assert messages[0]["response"] == "utter_policy_answer" and "30 days" in messages[0]["text"]
    assert not any(e.get("name") == "order_number" for e in events)
    messages, events = run(ActionFormFallback(), tracker("ok good to know", "nlu_fallback", **form), domain)
    assert [m["response"] for m in messages] == ["utter_form_go_on"] and events == []
    messages, _ = run(ActionFormFallback(), tracker("asdf", "nlu_fallback", **form), domain)
    assert [m["response"] for m in messages] == ["utter_default"]
    ordinal = tracker("the first one", "nlu_fallback", [{"entity": "ordinal", "value": "first"}], **form)
    assert run(ActionFormFallback(), ordinal, domain) == ([], [])
    # a slot that takes any text (a return reason): the form's own validation judges "it broke"
    reason = tracker("it broke", "nlu_fallback", active_loop="return_form", slots={"requested_slot": "return_reason"})
    assert run(ActionFormFallback(), reason, domain) == ([], [])


def test_the_answer_to_the_order_forms_question_keeps_the_forms_task(tracker, run, domain, slots_of):
    """ "10000005 is the order" answers "what's your order number?" of a refund check: read as a status request
    by the classifier, it must not turn the refund check into a status check. A new request does change it."""
    history = [
        {"event": "user", "text": "refund status pls", "parse_data": {"intent": {"name": "refund_status"}}},
        {"event": "slot", "name": "order_task", "value": "refund"},
        {"event": "action", "name": "order_form"},
        {"event": "action", "name": "action_listen"},
    ]
    form = {"active_loop": "order_form", "slots": {"requested_slot": "order_number"}, "history": history}
    answer = tracker(
        "10000005 is the order",
        "order_status",
        [{"entity": "order_number", "value": "10000005"}],
        slot_events={"order_task": "status"},
        **form,
    )
    _, events = run(ValidateSlotMappings(), answer, domain)
    assert slots_of(events)["order_task"] == "refund"
    request = tracker("where is my order actually", "order_status", slot_events={"order_task": "status"}, **form)
    _, events = run(ValidateSlotMappings(), request, domain)
    assert slots_of(events)["order_task"] == "status"


def test_out_of_scope_is_read_in_the_conversation_first(kb, tracker, run, domain, slots_of):
    """ "what about bitcoin?" right after the payment methods gets the payment methods; "he loves cooking"
    while choosing a present searches the kitchen; the weather is still outside the shop."""
    from actions.common import ActionOutOfScope

    said = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_policy_answer"}}
    history = [
        {"event": "user", "text": "can i pay with paypal", "parse_data": {"intent": {"name": "ask_payment_methods"}}},
        {"event": "action", "name": "action_answer_policy"},
        said,
        {"event": "slot", "name": "policy_topic", "value": "payment/payment-methods"},
        {"event": "action", "name": "action_listen"},
    ]
    messages, _ = run(ActionOutOfScope(), tracker("what about bitcoin", "out_of_scope", history=history), domain)
    assert messages[0]["response"] == "utter_policy_answer" and "PayPal" in messages[0]["text"]
    presents = {"last_search": {"query": "something for my dads birthday", "filters": {}}}
    messages, events = run(ActionOutOfScope(), tracker("he loves cooking", "out_of_scope", slots=presents), domain)
    products = [kb.get_product(i) for i in slots_of(events)["last_results"]]
    assert products and all(p.category.startswith("Kitchen") for p in products), [p.category for p in products]
    messages, _ = run(ActionOutOfScope(), tracker("whats the weather in venlo today", "out_of_scope"), domain)
    assert [m["response"] for m in messages] == ["utter_out_of_scope"]
