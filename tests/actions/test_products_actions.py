"""Product actions against the generated shop: search, follow-ups, questions, availability, recommendations."""

from __future__ import annotations

import statistics

import pytest

from actions.products import (
    ActionAddToCart,
    ActionCheckAvailability,
    ActionCompareProducts,
    ActionGoesWellWith,
    ActionProductQuestion,
    ActionRefineSearch,
    ActionSearchProducts,
    ActionShowProduct,
    ActionSimilarProducts,
    answer_about,
)

pytestmark = pytest.mark.slow  # builds the shop once per session


def _attachment(messages):
    return next(m["attachment"] for m in messages if m.get("attachment"))


def test_search_uses_entities_as_filters_and_remembers_the_results(kb, tracker, run, domain, slots_of):
    t = tracker(
        "show me black backpacks",
        "search_products",
        [{"entity": "colour", "value": "black"}, {"entity": "category", "value": "backpacks"}],
    )
    messages, events = run(ActionSearchProducts(), t, domain)
    slots = slots_of(events)
    ids = slots["last_results"]
    assert 1 <= len(ids) <= 5
    products = [kb.get_product(i) for i in ids]
    assert all(p.category.endswith("Backpacks") for p in products)
    assert slots["last_search"]["filters"]["category"] == "Bags & accessories/Backpacks"
    # text channel: numbered list in the same order as last_results; cards for the widget
    assert f"1. {products[0].title}" in messages[0]["text"]
    cards = _attachment(messages)["payload"]["elements"]
    assert [c["product"]["id"] for c in cards] == ids
    assert cards[0]["buttons"][0]["payload"] == f'/select_product{{"product_id": "{ids[0]}"}}'


def test_search_on_the_widget_keeps_the_text_short(kb, tracker, run, domain, texts_of):
    t = tracker("headphones", "search_products", [{"entity": "category", "value": "headphones"}], channel="shop")
    messages, _ = run(ActionSearchProducts(), t, domain)
    said = texts_of("utter_search_showing", search="audio", read_as="", product_list="")
    assert messages[0]["text"] in said  # "Here's what I found for audio:"
    assert "\n" not in messages[0]["text"]
    assert _attachment(messages)["payload"]["elements"]


def test_search_says_what_it_understood_and_read(kb, tracker, run, domain, slots_of):
    """The issue's example: typos read as the catalogue's words, said back, cheapest first."""
    t = tracker("yo got any cheap sneakrs in whte size 42??", "search_products")
    messages, events = run(ActionSearchProducts(), t, domain)
    assert messages[0]["text"].startswith(
        'Here\'s what I found for white sneakers in size 42 (I read "sneakrs" as sneakers, "whte" as white), '
        "cheapest first:"
    )
    slots = slots_of(events)
    products = [kb.get_product(i) for i in slots["last_results"]]
    assert products and all(p.attributes["colour"] == "white" and "42" in p.attributes["size"] for p in products)
    assert [p.price for p in products] == sorted(p.price for p in products)
    assert slots["last_search"]["filters"] == {"category": "Shoes/Sneakers", "colour": "white", "size": "42"}


def test_nothing_understood_is_a_plain_list_and_a_miss_names_what_was_asked(kb, tracker, run, domain, texts_of):
    messages, _ = run(ActionSearchProducts(), tracker("something nice", "search_products"), domain)
    assert messages[0]["text"].split("\n")[0] in texts_of("utter_search_results", read_as="", product_list="")
    messages, _ = run(ActionSearchProducts(), tracker("sneakers in size 47", "search_products"), domain)
    assert messages[0]["text"].startswith("I couldn't find sneakers in size 47 exactly; these come closest:")


def test_search_relaxes_filters_that_match_nothing_and_says_so(kb, tracker, run, domain, slots_of):
    t = tracker(
        "red running shoes under 20",
        "search_products",
        [
            {"entity": "colour", "value": "red"},
            {"entity": "category", "value": "running shoes"},
            {"entity": "price_max", "value": "20"},
        ],
    )
    messages, events = run(ActionSearchProducts(), t, domain)
    assert "couldn't find red running shoes under €20.00 exactly" in messages[0]["text"]
    assert all(kb.get_product(i).category == "Shoes/Running shoes" for i in slots_of(events)["last_results"])


@pytest.mark.parametrize("bound, strict", [("under", True), ("up to", False)])
def test_under_a_price_leaves_out_that_price_up_to_keeps_it(kb, tracker, run, domain, slots_of, bound, strict):
    priced = kb.search_products("headphones", {"category": "Electronics/Audio"}, k=20)
    budget = sorted(p.price for p in priced)[len(priced) // 2]
    text = f"headphones {bound} {budget:.2f}"
    price = {"entity": "price_max", "value": f"{budget:.2f}", "start": text.index(f"{budget:.2f}")}
    t = tracker(text, "search_products", [{"entity": "category", "value": "headphones"}, price])
    messages, events = run(ActionSearchProducts(), t, domain)
    assert f"audio {bound} €{budget:.2f}:" in messages[0]["text"]  # the category, and the bound as said
    prices = [kb.get_product(i).price for i in slots_of(events)["last_results"]]
    assert prices and all(p < budget if strict else p <= budget for p in prices)
    assert slots_of(events)["last_search"]["filters"]["max_exclusive"] is strict


def test_button_without_words_asks_what_to_look_for(kb, tracker, run, domain):
    messages, events = run(ActionSearchProducts(), tracker("/search_products", "search_products"), domain)
    assert [m["response"] for m in messages] == ["utter_ask_what_product"]
    assert events == []


def _search(kb, tracker, run, domain, slots_of, text, category):
    _, events = run(
        ActionSearchProducts(), tracker(text, "search_products", [{"entity": "category", "value": category}]), domain
    )
    return slots_of(events)


def test_cheaper_ones_are_all_cheaper_than_everything_shown(kb, tracker, run, domain, slots_of):
    first = _search(kb, tracker, run, domain, slots_of, "headphones", "headphones")
    shown = [kb.get_product(i).price for i in first["last_results"]]
    t = tracker("cheaper ones", "refine_search", slots=first)
    messages, events = run(ActionRefineSearch(), t, domain)
    new = slots_of(events)
    prices = [kb.get_product(i).price for i in new.get("last_results", [])]
    assert prices, messages
    # cheaper than everything shown, or (when nothing is) than the middle of what was shown
    assert max(prices) < statistics.median(shown)
    assert all(kb.get_product(i).category == "Electronics/Audio" for i in new["last_results"])


def test_another_colour_keeps_the_shoppers_budget(kb, tracker, run, domain, slots_of):
    """ "in blue?" after "red dresses under 50" with nothing blue: the budget stays 50, never the cheapest shown."""
    first = _search(kb, tracker, run, domain, slots_of, "headphones", "headphones")
    first["last_search"]["filters"].update(colour="red", max_price=50.0, max_exclusive=True)
    t = tracker("in purple?", "refine_search", [{"entity": "colour", "value": "purple"}], slots=first)
    messages, events = run(ActionRefineSearch(), t, domain)
    assert slots_of(events)["last_search"]["filters"]["max_price"] == 50.0
    assert "under €50.00" in messages[0]["text"]


def test_a_follow_up_in_other_words_refines_and_says_what_it_read(kb, tracker, run, domain, slots_of):
    first = _search(kb, tracker, run, domain, slots_of, "sneakers", "sneakers")
    messages, events = run(ActionRefineSearch(), tracker("any in blak?", "refine_search", slots=first), domain)
    assert messages[0]["text"].startswith('Here are black sneakers (I read "blak" as black):')
    refined = slots_of(events)
    assert refined["last_search"]["filters"]["colour"] == "black"
    assert all(kb.get_product(i).attributes["colour"] == "black" for i in refined["last_results"])


def test_show_me_more_excludes_what_was_shown(kb, tracker, run, domain, slots_of):
    first = _search(kb, tracker, run, domain, slots_of, "headphones", "headphones")
    _, events = run(ActionRefineSearch(), tracker("show me more", "refine_search", slots=first), domain)
    more = slots_of(events)["last_results"]
    assert more and not set(more) & set(first["last_results"])


def test_refine_without_a_previous_search_asks_what_to_look_for(kb, tracker, run, domain):
    messages, _ = run(ActionRefineSearch(), tracker("cheaper ones", "refine_search"), domain)
    assert messages[0]["response"] == "utter_ask_what_product"


def test_the_second_one_refers_to_the_last_list(kb, tracker, run, domain, slots_of):
    first = _search(kb, tracker, run, domain, slots_of, "backpacks", "backpacks")
    t = tracker("the second one", "select_product", [{"entity": "ordinal", "value": "second"}], slots=first)
    messages, events = run(ActionShowProduct(), t, domain)
    second = kb.get_product(first["last_results"][1])
    assert slots_of(events)["current_product"] == str(second.id)
    assert messages[0]["text"].startswith(second.title)
    assert {b["payload"] for b in messages[0]["buttons"]} >= {"/ask_similar", "/ask_goes_with"}


def test_an_ordinal_beyond_the_list_is_explained(kb, tracker, run, domain, slots_of):
    first = _search(kb, tracker, run, domain, slots_of, "backpacks", "backpacks")
    n = len(first["last_results"])
    t = tracker("number 9", "select_product", [{"entity": "ordinal", "value": "9"}], slots=first)
    messages, events = run(ActionShowProduct(), t, domain)
    assert messages[0]["text"] == f"I only showed you {n} products."
    assert events == []


def test_card_button_selects_by_product_id(kb, tracker, run, domain, slots_of):
    product = kb.search_products("yoga mat", k=1)[0]
    t = tracker(
        f'/select_product{{"product_id": "{product.id}"}}',
        "select_product",
        [{"entity": "product_id", "value": str(product.id)}],
    )
    _, events = run(ActionShowProduct(), t, domain)
    assert slots_of(events)["current_product"] == str(product.id)


def test_product_answers_come_from_the_product_data(kb, render):
    product = kb.search_products("running shoes", {"category": "Shoes/Running shoes"}, k=1)[0]

    def answer(question):
        return render(answer_about(product, question))["text"]

    material = product.attributes["material"]
    assert material in answer("what is it made of?")
    assert f"{product.price:.2f}" in answer("how much does it cost?")
    feature = product.attributes["features"][0]
    assert answer(f"is it {feature}?").startswith(f"Yes, the {product.title} is")
    unknown = answer("does it glow in the dark?")
    assert "don't mention that" in unknown and not unknown.startswith("Yes")


def test_product_question_answers_then_recommends_complements(kb, tracker, run, domain, slots_of):
    product = kb.search_products("running shoes", {"category": "Shoes/Running shoes"}, k=1)[0]
    t = tracker("what is it made of?", "product_question", slots={"current_product": str(product.id)})
    messages, events = run(ActionProductQuestion(), t, domain)
    assert product.attributes["material"] in messages[0]["text"]
    complements = {p.title for p in kb.goes_well_with(product.id, k=3)}
    assert complements and any(title in messages[1]["text"] for title in complements)
    assert slots_of(events)["current_product"] == str(product.id)


def test_size_availability_yes_and_no(kb, tracker, run, domain):
    product = next(
        p
        for p in kb.search_products("running shoes", {"category": "Shoes/Running shoes"}, k=10)
        if isinstance(p.attributes.get("size"), list)
    )
    sizes = product.attributes["size"]
    yes = tracker(
        f"do you have it in size {sizes[0]}?",
        "check_availability",
        [{"entity": "size", "value": sizes[0]}],
        slots={"current_product": str(product.id)},
    )
    messages, _ = run(ActionCheckAvailability(), yes, domain)
    assert messages[0]["text"].startswith(f"Yes, the {product.title} comes in size {sizes[0]}")
    missing = next(s for s in map(str, range(36, 47)) if s not in sizes) if len(sizes) < 11 else None
    if missing:
        no = tracker(
            f"size {missing}?",
            "check_availability",
            [{"entity": "size", "value": missing}],
            slots={"current_product": str(product.id)},
        )
        messages, _ = run(ActionCheckAvailability(), no, domain)
        assert messages[0]["text"].startswith("Sorry, it comes in")


def test_colour_availability_offers_the_colour_elsewhere(kb, tracker, run, domain, slots_of):
    product = kb.search_products("backpack", {"category": "Bags & accessories/Backpacks"}, k=1)[0]
    other = "black" if product.attributes.get("colour") != "black" else "green"
    t = tracker(
        f"does it come in {other}?",
        "check_availability",
        [{"entity": "colour", "value": other}],
        slots={"current_product": str(product.id)},
    )
    messages, events = run(ActionCheckAvailability(), t, domain)
    assert messages[0]["text"].startswith(f"Sorry, it's only available in {product.attributes['colour']}")
    for pid in slots_of(events).get("last_results", []):
        assert kb.get_product(pid).attributes["colour"] == other


def test_compare_two_products_names_the_cheaper_one(kb, tracker, run, domain, slots_of):
    first = _search(kb, tracker, run, domain, slots_of, "headphones", "headphones")
    t = tracker(
        "compare the first and the third",
        "compare_products",
        [{"entity": "ordinal", "value": "first"}, {"entity": "ordinal", "value": "third"}],
        slots=first,
    )
    messages, _ = run(ActionCompareProducts(), t, domain)
    a, c = kb.get_product(first["last_results"][0]), kb.get_product(first["last_results"][2])
    text = messages[0]["text"]
    assert f"1. {a.title}" in text and f"3. {c.title}" in text
    assert f"The {min((a, c), key=lambda p: p.price).title} is the cheapest." in text


def test_goes_well_with_becomes_the_new_list(kb, tracker, run, domain, slots_of):
    product = kb.search_products("running shoes", {"category": "Shoes/Running shoes"}, k=1)[0]
    t = tracker("what goes with this?", "ask_goes_with", slots={"current_product": str(product.id)})
    _, events = run(ActionGoesWellWith(), t, domain)
    assert slots_of(events)["last_results"] == [str(p.id) for p in kb.goes_well_with(product.id, k=4)]


def test_similar_but_cheaper_is_cheaper(kb, tracker, run, domain, slots_of):
    product = max(kb.search_products("headphones", {"category": "Electronics/Audio"}, k=10), key=lambda p: p.price)
    t = tracker("something similar but cheaper", "ask_similar", slots={"current_product": str(product.id)})
    messages, events = run(ActionSimilarProducts(), t, domain)
    similar = [kb.get_product(i) for i in slots_of(events)["last_results"]]
    assert similar and all(p.price < product.price for p in similar)
    assert str(product.id) not in slots_of(events)["last_results"]


def test_add_to_cart_button_confirms_in_a_client_with_a_cart(kb, tracker, run, domain):
    product = kb.search_products("yoga mat", k=1)[0]
    t = tracker(
        f'/add_to_cart{{"product_id": "{product.id}"}}',
        "add_to_cart",
        [{"entity": "product_id", "value": str(product.id)}],
        metadata={"capabilities": ["cards", "cart", "speakers"]},
    )
    messages, _ = run(ActionAddToCart(), t, domain)
    assert messages[0]["text"].startswith(f"Added to your cart: {product.title}")


def test_add_to_cart_in_a_client_without_a_cart_offers_the_products_page(kb, tracker, run, domain, monkeypatch):
    """A stock Rasa widget has no cart: saying "Added to your cart" would be false; the product's page can add it."""
    from core.settings import get_settings

    monkeypatch.setenv("SHOP_PUBLIC_URL", "https://chat.shop.example/")
    get_settings.cache_clear()
    try:
        product = kb.search_products("yoga mat", k=1)[0]
        t = tracker(
            f'/add_to_cart{{"product_id": "{product.id}"}}',
            "add_to_cart",
            [{"entity": "product_id", "value": str(product.id)}],
            metadata={"capabilities": ["cards"]},
        )
        messages, _ = run(ActionAddToCart(), t, domain)
    finally:
        get_settings.cache_clear()
    [message] = messages
    assert "Added" not in message["text"] and product.title in message["text"]
    assert f"https://chat.shop.example/webhooks/shop/demo?product={product.id}" in message["text"]


def test_question_without_any_product_in_view_asks_which(kb, tracker, run, domain):
    messages, events = run(ActionProductQuestion(), tracker("is it waterproof?", "product_question"), domain)
    assert "Which product do you mean?" in messages[0]["text"]
    assert events == []


def test_a_question_about_the_checked_order_gets_its_status_not_which_product(orders_kb, tracker, run, domain, proven):
    """ "What's in that order again?" after an order was checked: the classifier reads a product question."""
    from actions.products import ActionCheckAvailability, ActionProductQuestion

    slots = proven({"order_number": "10000003", "customer_id": "C0000001"})
    for action, intent in [
        (ActionProductQuestion(), "product_question"),
        (ActionCheckAvailability(), "check_availability"),
    ]:
        _, events = run(action, tracker("whats in that order again", intent, slots=slots), domain)
        assert [e.get("name") for e in events if e.get("event") == "followup"] == ["action_order_status"]
    # no order checked: there is nothing to look up, so the question is asked back
    messages, events = run(ActionProductQuestion(), tracker("whats in that order again", "product_question"), domain)
    assert not [e for e in events if e.get("event") == "followup"] and messages


def test_products_named_in_a_message_the_classifier_could_not_place_are_searched(kb, tracker, run, domain, slots_of):
    """ "navy one?" after a list refines it; a kind of product (or a brand named in full) with no list is
    searched; a part of a brand name, an order number or plain chatter is not a search."""
    from actions.common import ActionFallbackAnswer
    from actions.products import product_follow_up

    listed = {"last_search": {"query": "backpacks", "filters": {"category": "Bags & accessories/Backpacks"}}}
    assert product_follow_up(tracker("black one?", "nlu_fallback", slots=listed)) == "action_refine_search"
    assert product_follow_up(tracker("now some sneakers pls", "nlu_fallback", slots=listed)) == "action_search_products"
    assert product_follow_up(tracker("yo need fresh kicks, white, 43", "inform")) == "action_search_products"
    brand = kb.understand("what have you got from fjellgear").filters.brand
    assert brand == "Fjellgear"
    assert product_follow_up(tracker("what have you got from fjellgear", "nlu_fallback")) == "action_search_products"
    for chatter in ("i checked the statement, nothing from larkspur", "ok good to know", "where is 10000003 in black"):
        assert product_follow_up(tracker(chatter, "nlu_fallback", slots=listed)) is None, chatter
    first = tracker("show me the first one again", "nlu_fallback", [{"entity": "ordinal", "value": "first"}])
    assert product_follow_up(first) is None  # no list
    assert kb.understand("how much is the first one").filters.category is None
    shown = tracker(
        "show me the first one again",
        "nlu_fallback",
        [{"entity": "ordinal", "value": "first"}],
        slots={**listed, "last_results": ["1", "2"]},
    )
    assert product_follow_up(shown) == "action_show_product"

    # a message the classifier could not place shows them instead of "did you mean ...?"
    messages, events = run(ActionFallbackAnswer(), tracker("fresh kicks, white, 43", "nlu_fallback"), domain)
    products = [kb.get_product(i) for i in slots_of(events)["last_results"]]
    assert products and all(p.category == "Shoes/Sneakers" and p.attributes["colour"] == "white" for p in products)
