"""Stock alerts from the chat: which product, a guest's address (or the chat only), a signed-in customer's
account address, an item in stock needs none, and asking twice keeps one alert."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import customer_proofs
from actions.stock_alerts import ActionSaveStockAlert, ActionStockAlert, ValidateStockAlertForm
from shopdb import models as m

SHOP_CHANNEL = "shop"


def _products(kb, *, in_stock: bool, count: int):
    with kb.engine.connect() as conn:
        ids = conn.execute(
            select(m.Product.id).where((m.Product.stock > 0) if in_stock else (m.Product.stock == 0)).limit(count)
        ).scalars()
        return [kb.get_product(i) for i in ids]


def _alerts(orders_kb):
    with orders_kb.sessions() as s:
        return [(a.product_id, a.sender_id, a.customer_id, a.email) for a in s.execute(select(m.StockAlert)).scalars()]


def test_a_guest_is_asked_where_to_write_then_the_alert_is_kept_once(kb, orders_kb, tracker, run, domain, slots_of):
    [product] = _products(kb, in_stock=False, count=1)
    asked = tracker("can you tell me when it's back?", "stock_alert", slots={"current_product": str(product.id)})
    messages, events = run(ActionStockAlert(), asked, domain)
    assert messages == []  # the form asks for the address
    assert slots_of(events)["stock_alert_product"] == str(product.id)
    assert {"event": "followup", "name": "stock_alert_form"} in [
        {k: e[k] for k in ("event", "name") if k in e} for e in events
    ]
    filled = tracker(
        "sam@example.org", "inform", slots={"stock_alert_product": str(product.id), "contact_email": "sam@example.org"}
    )
    messages, events = run(ActionSaveStockAlert(), filled, domain)
    assert messages[0]["response"] == "utter_stock_alert_saved_email" and product.title in messages[0]["text"]
    assert slots_of(events) == {"stock_alert_product": None, "contact_email": None}
    assert _alerts(orders_kb) == [(product.id, "test-conversation", None, "sam@example.org")]

    messages, _ = run(ActionSaveStockAlert(), filled, domain)
    assert messages[0]["response"] == "utter_stock_alert_already_email"
    assert len(_alerts(orders_kb)) == 1


def test_no_address_means_the_chat_only(kb, orders_kb, tracker, run, domain):
    [product] = _products(kb, in_stock=False, count=1)
    form = ValidateStockAlertForm()
    dispatcher = CollectingDispatcher()
    assert form.validate_contact_email("at home", dispatcher, tracker("at home", "inform"), domain) == {
        "contact_email": None
    }
    assert dispatcher.messages[0]["response"] == "utter_stock_alert_email_invalid"
    no = tracker("no", "deny")
    assert form.validate_contact_email("no", CollectingDispatcher(), no, domain) == {"contact_email": "none"}
    filled = tracker("no", "deny", slots={"stock_alert_product": str(product.id), "contact_email": "none"})
    messages, _ = run(ActionSaveStockAlert(), filled, domain)
    assert messages[0]["response"] == "utter_stock_alert_saved_chat"
    assert _alerts(orders_kb) == [(product.id, "test-conversation", None, None)]


def test_a_signed_in_customer_is_on_the_list_at_once(kb, orders_kb, tracker, run, domain, slots_of):
    [product] = _products(kb, in_stock=False, count=1)
    metadata = {"customer_id": "C0000002", "customer_proof": customer_proofs().issue("test-conversation", "C0000002")}
    card = tracker(
        f'/stock_alert{{"product_id": "{product.id}"}}',
        "stock_alert",
        [{"entity": "product_id", "value": str(product.id)}],
        slots={"customer_id": "C0000002"},
        metadata=metadata,
        channel=SHOP_CHANNEL,
    )
    messages, events = run(ActionStockAlert(), card, domain)
    assert messages[0]["response"] == "utter_stock_alert_saved_email"
    assert "followup" not in [e["event"] for e in events]
    assert _alerts(orders_kb) == [(product.id, "test-conversation", "C0000002", None)]


def test_an_item_in_stock_needs_no_alert_and_several_missing_ones_are_asked_about(kb, orders_kb, tracker, run, domain):
    [available] = _products(kb, in_stock=True, count=1)
    messages, _ = run(
        ActionStockAlert(),
        tracker("tell me when it's back", "stock_alert", slots={"current_product": str(available.id)}),
        domain,
    )
    assert messages[0]["response"] == "utter_stock_alert_in_stock"
    missing = _products(kb, in_stock=False, count=2)
    listed = tracker(
        "notify me when they're back",
        "stock_alert",
        slots={"last_results": [str(available.id)] + [str(p.id) for p in missing]},
    )
    messages, events = run(ActionStockAlert(), listed, domain)
    assert messages[0]["response"] == "utter_ask_which_stock_alert" and events == []
    assert [b["title"] for b in messages[0]["buttons"]] == [p.title for p in missing]
    assert _alerts(orders_kb) == []
    # only one of the list is missing: that is the one
    one = tracker(
        "notify me when it's back", "stock_alert", slots={"last_results": [str(available.id), str(missing[0].id)]}
    )
    _, events = run(ActionStockAlert(), one, domain)
    assert any(e.get("name") == "stock_alert_product" and e.get("value") == str(missing[0].id) for e in events)


def test_with_no_product_in_the_chat_the_shops_texts_answer_first(kb, orders_kb, tracker, run, domain):
    """ "How will I know when it's back?" with nothing shown: the out-of-stock passage, not "which product?";
    a message the texts do not answer still gets the question."""
    messages, _ = run(ActionStockAlert(), tracker("how would i find out when something is back", "stock_alert"), domain)
    assert messages[0]["response"] == "utter_policy_answer" and "Out-of-stock" in messages[0]["text"]
    assert messages[1]["response"] == "utter_ask_which_product"
    # read as a restock, asked about something else: the shop's texts, when they answer it
    messages, _ = run(ActionStockAlert(), tracker("who is the carrier that delivers parcels", "stock_alert"), domain)
    assert messages[0]["response"] == "utter_policy_answer" and "Carriers" in messages[0]["text"]
    messages, _ = run(ActionStockAlert(), tracker("ping me", "stock_alert"), domain)
    assert [m["response"] for m in messages] == ["utter_ask_which_product"]
    assert _alerts(orders_kb) == []


def test_an_out_of_stock_answer_and_card_offer_the_alert(kb, tracker, run, domain):
    from actions.products import ActionProductQuestion

    [product] = _products(kb, in_stock=False, count=1)
    t = tracker("is it in stock?", "product_question", slots={"current_product": str(product.id)})
    messages, _ = run(ActionProductQuestion(), t, domain)
    assert messages[0]["response"] == "utter_product_out_of_stock"
    assert messages[0]["buttons"][0]["payload"] == f'/stock_alert{{"product_id": "{product.id}"}}'


def test_when_do_i_get_it_after_an_orders_status_is_about_that_order(kb, proven, tracker, run, domain):
    slots = proven({"order_number": "10000002", "email": "alex.morgan@example.com"})
    after_status = [{"event": "action", "name": "action_order_status"}]
    _, events = run(
        ActionStockAlert(), tracker("so when do i get it", "stock_alert", slots=slots, history=after_status), domain
    )
    assert {"event": "followup", "name": "action_order_status"} in [
        {k: e[k] for k in ("event", "name") if k in e} for e in events
    ]
