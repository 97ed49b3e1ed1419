"""Delivery options per destination, cancellation fees by order status, newsletter changes, from the shop's data.

A small generated shop (shopdb.loader, no search index) per module; every test gets its own copy of
the database file. Demo data (shopdb/demo_data.py): delivery options in the 14 countries of the
shipping policy; orders 10000001 delivered, 10000002 shipped, 10000003 paid, 10000006 packed,
10000007 cancelled (alex.morgan@example.com, C0000001, subscribed); Sam Lee C0000002, not subscribed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from sqlalchemy import select, update

from actions import shop
from actions.cancellation_fee import ActionCancellationFee
from actions.delivery import ActionDelivery
from actions.newsletter import ActionNewsletter, wish
from shopdb import models as m
from shopdb.db import create_db_engine, migrate
from shopdb.loader import load_generated
from shopdb.orders import Orders

ALEX = "alex.morgan@example.com"
SHOP_CHANNEL = "shop"


@pytest.fixture(scope="module")
def small_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shop") / "shop.db"
    url = f"sqlite:///{path}"
    migrate(url)
    engine = create_db_engine(url)
    load_generated(engine, 60, today=dt.date.today(), n_customers=20, n_orders=10, progress=False)
    engine.dispose()
    return path


@pytest.fixture
def orders(small_shop: Path, tmp_path: Path, kb: Any) -> Iterator[Orders]:
    """The actions use a private copy of the small shop (and the session's policy texts)."""
    copy = tmp_path / "shop.db"
    shutil.copyfile(small_shop, copy)
    orders = Orders(create_db_engine(f"sqlite:///{copy}"))
    shop.use_shop(search=kb, orders=orders)
    yield orders
    shop.use_shop()
    orders.engine.dispose()


def _execute(orders: Orders, statement: Any) -> None:
    with orders.engine.begin() as conn:
        conn.execute(statement)


def _newsletter(orders: Orders) -> Dict[str, Any]:
    with orders.engine.connect() as conn:
        rows = conn.execute(select(m.Customer.customer_id, m.Customer.newsletter, m.Customer.newsletter_changed_at))
        return {cid: (subscribed, changed_at) for cid, subscribed, changed_at in rows}


# --------------------------------------------------------------------------- delivery options


def test_a_served_country_gets_its_options_from_the_database(orders, tracker, run, domain, say, slots_of):
    t = tracker("do you ship to Spain?", "ask_delivery_options", entities=[{"entity": "country", "value": "Spain"}])
    messages, events = run(ActionDelivery(), t, domain)
    text = say(messages)
    assert text.startswith("We deliver to Spain:")
    assert "- Standard delivery: 3-5 business days, €4.95, free on orders of €50.00 or more" in text
    assert "- Express delivery: 1-2 business days, €9.95" in text
    assert slots_of(events) == {"country": "ES", "policy_topic": "shipping/shipping-costs"}
    # the answer is the database's: a changed row changes it
    _execute(
        orders,
        update(m.DeliveryOption)
        .where(m.DeliveryOption.country == "ES", m.DeliveryOption.method == "standard")
        .values(price=Decimal("5.95"), max_days=6),
    )
    messages, _ = run(ActionDelivery(), t, domain)
    assert "- Standard delivery: 3-6 business days, €5.95, free on orders of €50.00 or more" in say(messages)


def test_a_country_the_lookup_missed_is_read_from_the_words(orders, tracker, run, domain, say, slots_of):
    t = tracker("how many days to deliver to holland", "ask_delivery_period")
    messages, events = run(ActionDelivery(), t, domain)
    text = say(messages)
    assert text.startswith("Delivery times to the Netherlands, counted from dispatch:")
    assert "- Standard delivery: 3-5 business days" in text and "- Express delivery: 1-2 business days" in text
    assert "€" not in text and "before 14:00 CET on a business day" in text
    assert slots_of(events) == {"country": "NL", "policy_topic": "shipping/delivery-options-and-times"}
    # a follow-up without a country keeps the destination of the chat
    follow_up = tracker("and how much is it?", "ask_delivery_options", slots={"country": "NL"})
    messages, events = run(ActionDelivery(), follow_up, domain)
    assert say(messages).startswith("We deliver to the Netherlands:") and slots_of(events) == {
        "policy_topic": "shipping/shipping-costs"
    }


@pytest.mark.parametrize(
    "text, entities, name",
    [
        ("do you deliver to Canada?", [{"entity": "country", "value": "Canada"}], "Canada"),
        ("can you ship to the UK", [{"entity": "country", "value": "UK"}], "the United Kingdom"),
        ("do you deliver to switzerland?", [], "Switzerland"),
    ],
)
def test_a_country_not_served_is_named_with_the_list_of_those_served(
    orders, tracker, run, domain, say, text, entities, name
):
    messages, _ = run(ActionDelivery(), tracker(text, "ask_delivery_options", entities=entities), domain)
    said = say(messages)
    assert said.startswith(f"Sorry, we don't deliver to {name}. We deliver to: Austria, Belgium, Denmark,")
    assert "Luxembourg, the Netherlands, Poland, Portugal, Spain, Sweden." in said
    assert "Standard delivery" not in said


def test_without_a_destination_every_method_is_summed_up_and_the_country_asked(orders, tracker, run, domain, say):
    messages, _ = run(ActionDelivery(), tracker("how much does delivery cost?", "ask_delivery_options"), domain)
    text = say(messages)
    assert text.startswith("Our delivery options:\n- Standard delivery: 3-5 business days, €4.95, free on orders")
    assert "\n- Express delivery: 1-2 business days, €9.95\n" in text
    assert "We deliver to: Austria," in text and "Which country is your order going to?" in text
    messages, _ = run(ActionDelivery(), tracker("how fast do you ship", "ask_delivery_period"), domain)
    text = say(messages)
    assert "- Standard delivery: 3-5 business days\n- Express delivery: 1-2 business days" in text
    assert "before 14:00 CET" in text and "€" not in text
    # prices that differ between countries: "from" the lowest, free "in some countries"
    _execute(orders, update(m.DeliveryOption).where(m.DeliveryOption.country == "PT").values(free_from=None))
    _execute(orders, update(m.DeliveryOption).where(m.DeliveryOption.country == "SE").values(price=Decimal("12.00")))
    messages, _ = run(ActionDelivery(), tracker("how much does delivery cost?", "ask_delivery_options"), domain)
    assert "- Standard delivery: 3-5 business days, from €4.95, free on orders of €50.00 or more in some countries" in (
        say(messages)
    )


def test_a_shop_without_delivery_options_says_it_cannot_look_them_up(orders, tracker, run, domain, say):
    from sqlalchemy import delete

    _execute(orders, delete(m.DeliveryOption))
    messages, _ = run(ActionDelivery(), tracker("do you ship to spain", "ask_delivery_options"), domain)
    assert [msg["response"] for msg in messages] == ["utter_delivery_options_unknown"]


# --------------------------------------------------------------------------- cancellation fees


@pytest.mark.parametrize(
    "number, status, said, button",
    [
        ("10000003", "placed", "Order 10000003 is placed: cancelling it is free", "/cancel_order"),
        ("10000003", "paid", "Order 10000003 is paid: cancelling it is free", "/cancel_order"),
        ("10000006", "packed", "Order 10000006 is packed, so it can't be cancelled any more.", None),
        ("10000002", "shipped", "Order 10000002 is shipped, so it can't be cancelled any more.", None),
        (
            "10000001",
            "delivered",
            "Order 10000001 has been delivered, so there's nothing left to cancel",
            "/request_return",
        ),
        ("10000007", "cancelled", "Order 10000007 is already cancelled, at no cost to you.", None),
    ],
)
def test_a_verified_order_gets_the_answer_of_its_status(
    orders, tracker, run, domain, say, proven, number, status, said, button
):
    _execute(orders, update(m.Order).where(m.Order.order_number == number).values(status=status))
    t = tracker(
        "is there a fee to cancel?", "ask_cancellation_fee", slots=proven({"order_number": number, "email": ALEX})
    )
    messages, _ = run(ActionCancellationFee(), t, domain)
    text = say(messages)
    assert text.startswith(said)
    if status in ("packed", "shipped", "delivered"):
        assert "return it within 30 days of delivery (return shipping is free: we e-mail you a prepaid label)" in text
    assert [b["payload"] for b in messages[0].get("buttons", [])] == ([button] if button else [])


def test_without_proof_the_general_answer_names_no_order(orders, tracker, run, domain, say):
    from actions.common import order_proofs

    order = orders.get_order("10000003", email=ALEX)
    assert order is not None
    other_chat = order_proofs().issue("another-conversation", "10000003", email=ALEX)
    for slots in (
        {},
        {"order_number": "10000003", "email": ALEX},  # typed, never checked
        {"order_number": "10000003", "email": ALEX, "order_proof": other_chat},
        {"order_number": "10000003", "email": ALEX, "order_proof": "forged"},
    ):
        messages, _ = run(
            ActionCancellationFee(), tracker("cancellation fee?", "ask_cancellation_fee", slots=slots), domain
        )
        text = say(messages)
        assert [msg["response"] for msg in messages] == ["utter_cancellation_fee_general"], slots
        assert text.startswith("Cancelling an order is free while it is placed or paid")
        assert "within 30 days of delivery (return shipping is free" in text
        assert "10000003" not in text and all(item.title not in text for item in order.items)
        assert "paid:" not in text and [b["payload"] for b in messages[0]["buttons"]] == ["/order_status"]


def test_the_return_terms_are_the_return_policy_s_figures(orders, tracker, run, domain, say, monkeypatch):
    from shopdb import policies

    monkeypatch.setattr(policies, "RETURN_WINDOW_DAYS", 14)
    monkeypatch.setattr(policies, "RETURN_SHIPPING_COST", Decimal("3.50"))
    messages, _ = run(ActionCancellationFee(), tracker("cancellation fee?", "ask_cancellation_fee"), domain)
    assert "return it within 14 days of delivery (return shipping costs €3.50)" in say(messages)


# --------------------------------------------------------------------------- newsletter


def _signed_in(tracker, text, customer_id, *, entities=None, channel=SHOP_CHANNEL, proof_for="test-conversation"):
    """A message of a signed-in customer as the shop channel passes it: the id and its proof in the metadata."""
    from actions.common import customer_proofs

    metadata = {"customer_id": customer_id, "customer_proof": customer_proofs().issue(proof_for, customer_id)}
    return tracker(
        text, "newsletter", entities=entities, slots={"customer_id": customer_id}, metadata=metadata, channel=channel
    )


def test_a_signed_in_customer_subscribes_and_unsubscribes(orders, tracker, run, domain, say):
    before = _newsletter(orders)
    assert before["C0000002"] == (False, None)
    messages, _ = run(ActionNewsletter(), _signed_in(tracker, "sign me up for the newsletter", "C0000002"), domain)
    assert say(messages).startswith("Done: you're subscribed to our newsletter.")
    subscribed, since = _newsletter(orders)["C0000002"]
    assert subscribed and since is not None and abs(dt.datetime.utcnow() - since) < dt.timedelta(minutes=1)
    messages, _ = run(ActionNewsletter(), _signed_in(tracker, "stop sending me marketing emails", "C0000002"), domain)
    assert say(messages).startswith("Done: you're unsubscribed from our newsletter")
    assert _newsletter(orders)["C0000002"][0] is False
    after = _newsletter(orders)
    assert {cid: v for cid, v in after.items() if cid != "C0000002"} == {
        cid: v for cid, v in before.items() if cid != "C0000002"
    }


def test_the_buttons_choice_is_stored_and_forgotten(orders, tracker, run, domain, say, slots_of):
    t = _signed_in(
        tracker,
        '/newsletter{"newsletter_choice": "unsubscribe"}',
        "C0000001",
        entities=[{"entity": "newsletter_choice", "value": "unsubscribe"}],
    )
    t.slots["newsletter_choice"] = "unsubscribe"
    messages, events = run(ActionNewsletter(), t, domain)
    assert [msg["response"] for msg in messages] == ["utter_newsletter_unsubscribed"]
    assert _newsletter(orders)["C0000001"][0] is False and slots_of(events) == {
        "newsletter_choice": None,
        "policy_topic": "account/newsletter",
    }


def test_an_unclear_wish_shows_the_state_and_both_choices(orders, tracker, run, domain, say):
    before = _newsletter(orders)
    for text in ("do you have a newsletter", "how do I unsubscribe from the newsletter"):
        messages, _ = run(ActionNewsletter(), _signed_in(tracker, text, "C0000001"), domain)
        assert say(messages).startswith("You're subscribed to our newsletter.")
        assert [b["payload"] for b in messages[0]["buttons"]] == [
            '/newsletter{"newsletter_choice": "unsubscribe"}',
            '/newsletter{"newsletter_choice": "subscribe"}',
        ]
    messages, _ = run(ActionNewsletter(), _signed_in(tracker, "subscribe", "C0000001"), domain)
    assert say(messages) == "You're already subscribed to our newsletter."
    assert _newsletter(orders) == before  # asking, and asking for what already is, change nothing


@pytest.mark.parametrize(
    "case",
    ["guest", "no proof", "proof of another chat", "proof of another customer", "another channel"],
)
def test_guests_and_unproven_customer_ids_change_nothing(orders, tracker, run, domain, say, case):
    from actions.common import customer_proofs

    text = "unsubscribe me"
    if case == "guest":
        t = tracker(text, "newsletter", channel=SHOP_CHANNEL)
    elif case == "no proof":
        metadata = {"customer_id": "C0000001"}
        t = tracker(text, "newsletter", slots={"customer_id": "C0000001"}, metadata=metadata, channel=SHOP_CHANNEL)
    elif case == "proof of another chat":
        t = _signed_in(tracker, text, "C0000001", proof_for="another-conversation")
    elif case == "proof of another customer":
        metadata = {
            "customer_id": "C0000001",
            "customer_proof": customer_proofs().issue("test-conversation", "C0000002"),
        }
        t = tracker(text, "newsletter", slots={"customer_id": "C0000001"}, metadata=metadata, channel=SHOP_CHANNEL)
    else:
        t = _signed_in(tracker, text, "C0000001", channel="rest")
    before = _newsletter(orders)
    messages, _ = run(ActionNewsletter(), t, domain)
    assert [msg["response"] for msg in messages] == ["utter_newsletter_guest_unsubscribe"]
    assert "unsubscribe link at the bottom of any newsletter" in say(messages)
    assert _newsletter(orders) == before


def test_a_guest_who_wants_it_is_told_where_to_sign_up(orders, tracker, run, domain, say):
    messages, _ = run(ActionNewsletter(), tracker("add me to the mailing list", "newsletter"), domain)
    assert "at checkout" in say(messages) and "Account settings" in say(messages)
    messages, _ = run(ActionNewsletter(), tracker("do you have a newsletter", "newsletter"), domain)
    assert [msg["response"] for msg in messages] == ["utter_newsletter_guest"]


def test_the_wish_in_the_words(tracker):
    cases = {
        "unsubscribe me": "unsubscribe",
        "i keep getting promo emails, make it stop": "unsubscribe",
        "opt out of newsletters": "unsubscribe",
        "cancel my newsletter subscription": "unsubscribe",
        "no more emails please": "unsubscribe",
        "sign me up for the newsletter": "subscribe",
        "i want to subscribe to your emails": "subscribe",
        "add me to the mailing list": "subscribe",
        "do you have a newsletter": None,
        "how do I unsubscribe from the newsletter": None,
        '/newsletter{"newsletter_choice": "subscribe"}': None,
    }
    assert {text: wish(tracker(text, "newsletter")) for text in cases} == cases
    button = tracker("/newsletter", "newsletter", entities=[{"entity": "newsletter_choice", "value": "subscribe"}])
    assert wish(button) == "subscribe"


def test_a_country_alone_after_a_delivery_answer_asks_the_same_for_it(orders, tracker, run, domain, say):
    """ "what about Norway?" after the delivery options: the options for Norway, however the NLU read it."""
    from actions.common import ActionDefaultFallback
    from actions.orders import ActionDetailsOutsideForm

    answered = [{"event": "action", "name": "action_delivery_options"}]
    read_as_detail = tracker(
        "what about Norway?", "inform", [{"entity": "country", "value": "Norway"}], history=answered
    )
    _, events = run(ActionDetailsOutsideForm(), read_as_detail, domain)
    assert {"event": "followup", "name": "action_delivery_options"} in [
        {k: e[k] for k in ("event", "name") if k in e} for e in events
    ]
    not_placed = tracker("hmm what about norway then", "nlu_fallback", history=answered)
    messages, _ = run(ActionDefaultFallback(), not_placed, domain)
    assert "Norway" in say(messages) and messages[0]["response"].startswith("utter_delivery_")
    # after anything else a country alone is not a delivery question
    elsewhere = tracker("what about Norway?", "inform", history=[{"event": "action", "name": "action_order_status"}])
    messages, events = run(ActionDetailsOutsideForm(), elsewhere, domain)
    assert messages[0]["response"] == "utter_what_to_do_with_details"


@pytest.mark.parametrize(
    "question, key",
    [
        ("who delivers your parcels", "shipping/carriers-and-tracking"),
        ("what if nobody is home to sign for it", "shipping/missed-deliveries"),
        ("do you ship to italy", None),  # the options themselves, from the database
    ],
)
def test_a_delivery_question_about_something_else_gets_its_passage(orders, tracker, run, domain, question, key):
    messages, _ = run(ActionDelivery(), tracker(question, "ask_delivery_options"), domain)
    if key is None:
        assert messages[0]["response"].startswith("utter_delivery_options")
    else:
        assert messages[0]["response"] == "utter_policy_answer"
        assert messages[0]["text"].endswith(f"(Source: {key.replace('/', '#')})")


@pytest.mark.parametrize(
    "question, key",
    [
        ("can it go to a parcel locker in poland", "shipping/delivery-countries"),
        ("will i pay customs in ireland", "shipping/shipping-costs"),
        ("which courier do you use for germany", "shipping/carriers-and-tracking"),
    ],
)
def test_a_detail_the_table_leaves_out_gets_the_passage_that_names_it(
    orders, tracker, run, domain, slots_of, question, key
):
    """The country in the words draws the embedding to the country list; the detail word decides."""
    messages, events = run(ActionDelivery(), tracker(question, "ask_delivery_options"), domain)
    assert messages[-1]["response"] == "utter_policy_answer"
    assert messages[-1]["text"].endswith(f"(Source: {key.replace('/', '#')})")
    assert slots_of(events)["policy_topic"] == key


def test_a_country_not_served_makes_the_country_list_the_topic(orders, tracker, run, domain, slots_of):
    _, events = run(ActionDelivery(), tracker("do you ship to norway", "ask_delivery_options"), domain)
    assert slots_of(events)["policy_topic"] == "shipping/delivery-countries"


@pytest.mark.parametrize(
    "question, intent, topic",
    [
        ("do you ship to spain", "ask_delivery_options", "shipping/shipping-costs"),
        ("how long does it take to spain", "ask_delivery_period", "shipping/delivery-options-and-times"),
        ("how much is shipping", "ask_delivery_options", "shipping/shipping-costs"),
    ],
)
def test_the_options_answer_sets_the_topic_a_follow_up_is_read_in(
    orders, tracker, run, domain, slots_of, question, intent, topic
):
    from actions.policies import ActionAnswerPolicy

    messages, events = run(ActionDelivery(), tracker(question, intent), domain)
    assert messages[0]["response"].startswith("utter_delivery_")
    assert slots_of(events)["policy_topic"] == topic
    answered = [
        {"event": "user", "text": question, "parse_data": {"intent": {"name": intent}}},
        {"event": "action", "name": "action_delivery_options"},
        *[{"event": "slot", "name": "policy_topic", "value": topic}],
        {"event": "action", "name": "action_listen"},
    ]
    messages, _ = run(ActionAnswerPolicy(), tracker("when is it free?", "ask_policy", history=answered), domain)
    assert "€50" in messages[0]["text"], messages[0]["text"][:120]


def test_a_question_the_state_does_not_answer_gets_the_shops_texts(orders, tracker, run, domain, say):
    """ "Will I still get e-mails about my orders?" is not answered with "you're subscribed"; "do you have a
    newsletter?" still is (the state and the buttons)."""
    before = _newsletter(orders)
    for text in ("will i still get emails about my orders?", "what e-mails will i get from you anyway"):
        messages, _ = run(ActionNewsletter(), _signed_in(tracker, text, "C0000001"), domain)
        assert [m["response"] for m in messages] == ["utter_policy_answer"], text
        assert "e-mails about your orders" in say(messages)
    messages, _ = run(ActionNewsletter(), tracker("will i still get emails about my orders?", "newsletter"), domain)
    assert [m["response"] for m in messages] == ["utter_policy_answer"]  # a guest too
    messages, _ = run(ActionNewsletter(), _signed_in(tracker, "am i signed up for the newsletter?", "C0000001"), domain)
    assert say(messages).startswith("You're subscribed to our newsletter.")
    assert _newsletter(orders) == before
