"""Product flows: search and refine, details and questions, sizes/colours, compare, recommendations.

What the shopper refers to lives in slots: ``last_results`` (ids of the list
shown last, in order: "the second one"), ``last_search`` (query + filters, for
"cheaper ones"), ``current_product`` (the product in focus: "is it waterproof?")
and ``page_product`` (the product page open in the widget).

Every sentence is a domain response; the actions choose it and fill in the product's data
(title, price, sizes, the list of products found).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    ShopAction,
    client_can,
    entity_values,
    first_entity,
    label,
    latest_text,
    public_url,
    rich_channel,
    words_before_entity,
)
from actions.orders import has_proof
from actions.policies import POLICY_ANSWER, last_turn_responses, policy_follow_up, say_passage, topic_follow_up
from actions.render import (
    intent_payload,
    money,
    product_attachment,
    product_details,
    product_line,
    show_products,
    sizes_of,
)
from actions.shop import shop_search
from actions.vocabulary import (
    category_for,
    normalise_colour,
    normalise_size,
    ordinal_position,
    parse_price,
)
from core.capabilities import CART
from core.links import product_url
from retrieval.filters import ProductFilters, colour_matches, is_strict_bound
from retrieval.query_parser import ParsedQuery
from retrieval.results import ProductSearch

PAGE_SIZE = 5
CHEAPER_RE = re.compile(
    r"\b(cheap\w*|less expensive|lower price|budget|afford\w*|too expensive|spend less|"
    r"inexpensive|bargain)\b",
    re.I,
)
PRICIER_RE = re.compile(r"\b(more expensive|pricier|premium|high[- ]end|better quality|higher quality|luxury)\b", re.I)
RATING_RE = re.compile(r"\b(rating|ratings|rated|reviews?|best)\b", re.I)
MORE_RE = re.compile(r"\b(more|else|other|others|another|different|next)\b", re.I)
CHEAPEST_RE = re.compile(r"\bcheapest\b", re.I)
PRICES = ("min_price", "max_price")
REFINABLE = ("colour", "size", "brand", "material", "capacity", *PRICES)  # what a follow-up's words may change

WHICH_PRODUCT = {"response": "utter_ask_which_product"}


# --------------------------------------------------------------------------- helpers


def search_filters(tracker: Tracker, base: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Catalogue filters from the entities of the latest message (over ``base``)."""
    filters = dict(base or {})
    category = first_entity(tracker, "category")
    if category:
        filters["category"] = category_for(category) or category
    colour = normalise_colour(first_entity(tracker, "colour"))
    if colour:
        filters["colour"] = colour
    size = normalise_size(first_entity(tracker, "size"))
    if size:
        filters["size"] = size
    for entity, key, strictness in (
        ("price_max", "max_price", "max_exclusive"),
        ("price_min", "min_price", "min_exclusive"),
    ):
        price = parse_price(first_entity(tracker, entity))
        if price is not None:
            filters[key] = float(price)
            filters[strictness] = is_strict_bound(words_before_entity(tracker, entity))
    if (
        filters.get("min_price") is not None
        and filters.get("max_price") is not None
        and filters["min_price"] > filters["max_price"]
    ):
        filters["min_price"], filters["max_price"] = filters["max_price"], filters["min_price"]
        filters["min_exclusive"], filters["max_exclusive"] = filters.get("max_exclusive"), filters.get("min_exclusive")
    return filters


def describe(domain: DomainDict, filters: Dict[str, Any], query: str = "") -> str:
    """``{"colour": "white", "category": "Shoes/Sneakers", "size": "42"}`` -> ``"white sneakers in size 42"``:
    a response's ``{search}`` (the phrases are the domain's ``utter_label_search_*``). The shopper's own
    words stand in for the kind of product only when nothing was understood from them."""
    parts = [str(filters[name]) for name in ("colour", "material", "capacity") if filters.get(name)]
    category = filters.get("category")
    if category:
        parts.append(str(category).split("/")[-1].lower())
    elif any(value is not None for value in filters.values()) or not query:
        parts.append(label(domain, "utter_label_search_products"))
    else:
        parts.append(query)
    if filters.get("brand"):
        parts.append(label(domain, "utter_label_search_brand", brand=filters["brand"]))
    if filters.get("size"):
        parts.append(label(domain, "utter_label_search_size", size=filters["size"]))
    if filters.get("min_price") is not None and filters.get("max_price") is not None:
        parts.append(
            label(
                domain,
                "utter_label_search_between",
                min_price=money(filters["min_price"]),
                max_price=money(filters["max_price"]),
            )
        )
    elif filters.get("max_price") is not None:
        parts.append(price_limit(domain, filters["max_price"], bool(filters.get("max_exclusive"))))
    elif filters.get("min_price") is not None:
        lower = "utter_label_search_over" if filters.get("min_exclusive") else "utter_label_search_from"
        parts.append(label(domain, lower, min_price=money(filters["min_price"])))
    return " ".join(parts)


def price_limit(domain: DomainDict, max_price: float, exclusive: bool, currency: str = "EUR") -> str:
    """ "under €150.00" for a strict bound, "up to €150.00" for an inclusive one."""
    upper = "utter_label_search_under" if exclusive else "utter_label_search_up_to"
    return label(domain, upper, max_price=money(max_price, currency))


def refinements(understood: Optional[ParsedQuery]) -> Dict[str, Any]:
    """The filters a follow-up's words set ("any in blak?" -> colour black); the kind of product stays.
    A new price bound comes with its own strictness ("under 50" after "up to 80")."""
    if understood is None:
        return {}
    changed = {name: value for name in REFINABLE if (value := getattr(understood.filters, name)) is not None}
    for bound, strictness in (("max_price", "max_exclusive"), ("min_price", "min_exclusive")):
        if bound in changed:
            changed[strictness] = getattr(understood.filters, strictness)
    return changed


def read_as(domain: DomainDict, corrections: Mapping[str, str]) -> str:
    """A response's ``{read_as}``: empty, or the words the search repaired, e.g. ' (I read "whte" as white)'."""
    if not corrections:
        return ""
    words = ", ".join(
        label(domain, "utter_label_search_read_word", typed=typed, meant=meant) for typed, meant in corrections.items()
    )
    return label(domain, "utter_label_search_read_as", corrections=words)


def search_with_relaxation(
    query: str, filters: Dict[str, Any], k: int = PAGE_SIZE, exclude: Sequence[str] = ()
) -> ProductSearch:
    """Search; when nothing matches, drop size and colour, then the price.

    The result's ``filters`` are what was asked (``filters`` and what the words said), ``relaxed``
    when its hits meet less than that.
    """
    search = shop_search()
    attempts = [
        filters,
        {k_: v for k_, v in filters.items() if k_ not in ("size", "colour")},
        {k_: v for k_, v in filters.items() if k_ == "category"},
    ]
    shown = set(exclude)
    asked = search.find_products(query, filters, k=k + len(exclude))
    for n, attempt in enumerate(attempts):
        if n and attempt == attempts[n - 1]:
            continue
        found = asked if n == 0 else search.find_products(query, attempt, k=k + len(exclude))
        hits = [h for h in found.hits if str(h.id) not in shown][:k]
        if hits:
            return replace(asked, hits=hits, relaxed=found.relaxed or n > 0)
    return replace(asked, hits=[])


def results_events(products: Sequence[Any]) -> List[EventType]:
    return [SlotSet("last_results", [str(p.id) for p in products])]


def resolve_product(tracker: Tracker, *, default_first: bool = True) -> Tuple[Optional[Any], Optional[Dict[str, Any]]]:
    """The product the shopper means: a card button, "the second one", the one in focus, or the top result.

    Returns (product, None), or (None, the message that says why not: ``dispatcher.utter_message(**problem)``).
    """
    search = shop_search()
    product_id = first_entity(tracker, "product_id")
    if product_id:
        product = search.get_product(product_id)
        return product, None if product else {"response": "utter_product_gone"}
    results: List[str] = tracker.get_slot("last_results") or []
    ordinal = ordinal_position(first_entity(tracker, "ordinal"))
    if ordinal is not None:
        if not results:
            return None, dict(WHICH_PRODUCT)
        index = ordinal - 1 if ordinal > 0 else len(results) - 1
        if not 0 <= index < len(results):
            if len(results) == 1:
                return None, {"response": "utter_only_showed_one_product"}
            return None, {"response": "utter_only_showed_products", "count": len(results)}
        return search.get_product(results[index]), None
    for slot in ("current_product", "page_product"):
        if tracker.get_slot(slot):
            product = search.get_product(tracker.get_slot(slot))
            if product:
                return product, None
    if results and default_first:
        return search.get_product(results[0]), None
    return None, dict(WHICH_PRODUCT)


def shown_products(tracker: Tracker) -> List[Any]:
    search = shop_search()
    products = [search.get_product(pid) for pid in tracker.get_slot("last_results") or []]
    return [p for p in products if p is not None]


# --------------------------------------------------------------------------- answering questions

_STOPWORDS = set(
    """a an the is it this that these those one ones does do did can could would will be are was
it's its i me my you your for of to in on with and or what which how much many any there have has
first second third last about tell more please product item thing good really very so also just""".split()
)
_SYNONYMS = {
    "waterproof": ("waterproof", "water-resistant", "weatherproof", "waterproofing", "water-friendly"),
    "wireless": ("wireless", "bluetooth", "true wireless"),
    "washable": ("washable", "machine washable", "easy-iron"),
    "vegan": ("vegan", "vegan leather"),
    "light": ("lightweight", "light"),
    "warm": ("warm", "insulated", "thermal", "fleece", "down"),
    "kids": ("kids", "children", "child"),
    "noise": ("noise-cancelling", "noise cancelling"),
}
_EXTRA_KEYS = {
    "battery": "battery_life",
    "screen": "screen",
    "display": "screen",
    "memory": "memory",
    "ram": "memory",
    "storage": "storage",
    "capacity": "capacity",
    "litre": "capacity",
    "liters": "capacity",
    "volume": "volume",
}


def _sentences(text: str) -> List[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text or "") if s.strip()]


EXTRA_RESPONSES = {
    "battery_life": "utter_product_battery_life",
    "screen": "utter_product_screen",
    "memory": "utter_product_memory",
    "storage": "utter_product_storage",
    "capacity": "utter_product_capacity",
    "volume": "utter_product_volume",
}


def answer_about(product: Any, question: str) -> Dict[str, Any]:
    """A short, truthful answer from the product's own data; says so when the data is silent.

    Returns the message: ``{"response": "utter_product_...", <its values>}`` for ``utter_message(**answer)``.
    """
    q = question.lower()
    attrs = product.attributes or {}
    title = product.title
    features = [str(f) for f in attrs.get("features") or []]
    facts = features + [str(attrs.get(k)) for k in ("material", "audience", "colour") if attrs.get(k)]
    named = next((fact for fact in facts if re.search(rf"\b{re.escape(fact.lower())}\b", q)), None)
    if named:  # "is it wide-fit?" names one of its features exactly
        return {"response": "utter_product_is", "title": title, "fact": named}
    if re.search(r"\b(price|cost|costs|how much|expensive)\b", q):
        return {"response": "utter_product_price", "title": title, "price": money(product.price, product.currency)}
    if re.search(r"\b(rating|rated|reviews?|stars?|quality)\b", q):
        if product.rating is None:
            return {"response": "utter_product_no_ratings", "title": title}
        return {"response": "utter_product_rating", "title": title, "rating": f"{product.rating:.1f}"}
    if re.search(r"\b(in stock|stock|available|availability|left)\b", q):
        if product.in_stock:
            return {"response": "utter_product_in_stock", "title": title}
        return {"response": "utter_product_out_of_stock", "title": title, "product_id": str(product.id)}
    if re.search(r"\b(made of|made from|material|fabric)\b", q):
        material = attrs.get("material")
        if material:
            return {"response": "utter_product_material", "title": title, "material": material}
        return {"response": "utter_product_material_unknown", "title": title}
    if re.search(r"\b(sizes?|fit|fits)\b", q):
        size = attrs.get("size")
        if isinstance(size, list) and size:
            return {"response": "utter_product_sizes", "title": title, "sizes": ", ".join(map(str, size))}
        if size:
            return {"response": "utter_product_size", "title": title, "size": size}
        return {"response": "utter_product_one_size", "title": title}
    if re.search(r"\bcolou?rs?\b", q):
        if attrs.get("colour"):
            return {"response": "utter_product_colour", "title": title, "colour": attrs["colour"]}
        return {"response": "utter_product_colour_unknown", "title": title}
    if re.search(r"\bbrand\b", q):
        return {"response": "utter_product_brand", "title": title, "brand": product.brand}
    if re.search(r"\b(return|returnable|send (it )?back)\b", q):
        if getattr(product, "returnable", True):
            return {"response": "utter_product_returnable"}
        return {"response": "utter_product_not_returnable"}
    for word, key in _EXTRA_KEYS.items():
        if re.search(rf"\b{word}", q) and attrs.get(key):
            return {"response": EXTRA_RESPONSES[key], "title": title, "detail": attrs[key]}
    words = [w for w in re.findall(r"[a-z][a-z-]{2,}", q) if w not in _STOPWORDS]
    for word in words:
        variants = _SYNONYMS.get(word, (word,))
        for fact in facts:
            if any(v in fact.lower() for v in variants):
                return {"response": "utter_product_is", "title": title, "fact": fact}
        for sentence in _sentences(product.description):
            if any(re.search(rf"\b{re.escape(v)}", sentence.lower()) for v in variants):
                return {"response": "utter_product_from_description", "sentence": sentence}
    if facts:
        return {"response": "utter_product_unknown", "title": title, "known": ", ".join(facts)}
    return {"response": "utter_product_unknown_no_details", "title": title}


# --------------------------------------------------------------------------- products the classifier missed

PRODUCT_ENTITIES = ("colour", "size", "price_max", "price_min", "category")  # the NLU's words of a product search


def product_follow_up(tracker: Tracker) -> Optional[Text]:
    """The search action for a message the classifier could not place (or read as bare details) that names
    products in the catalogue's own words, or None.

    "navy one?", "4 slice one?", "under 50?" after a list refine it (``action_refine_search``); a kind of
    product other than the list's ("now the caps pls"), or one named with no list yet ("sunnies and a cap
    for a festival", "what have u got from fjellgear"), is a new search (``action_search_products``). A brand
    counts only when named in full: "nothing from larkspur" is not a search for Larkspur Press. A message
    with an order number or an e-mail address is about an order, not products; one naming a place in the list
    ("the first one") shows that product (``action_show_product``)."""
    from actions.typed_details import find_email, find_order_number

    text = latest_text(tracker)
    if not text or find_order_number(text) or find_email(text):
        return None
    if first_entity(tracker, "ordinal"):  # "show me the first sneaker again": a product shown, not a search
        return "action_show_product" if tracker.get_slot("last_results") else None
    understood = shop_search().understand(text)
    named = understood.filters
    words = set(re.findall(r"\w+", text.lower()))
    brand = bool(named.brand) and set(re.findall(r"\w+", str(named.brand).lower())) <= words
    category = named.category or (category_for(first_entity(tracker, "category") or "") or None)
    last = tracker.get_slot("last_search") or {}
    last_category = (last.get("filters") or {}).get("category")
    details = bool(refinements(understood)) or any(first_entity(tracker, e) for e in PRODUCT_ENTITIES)
    if last and details and category in (None, last_category) and (brand or not named.brand):
        return "action_refine_search"
    if category or brand:
        return "action_search_products"
    return None


# --------------------------------------------------------------------------- actions


class ActionSearchProducts(ShopAction):
    """Searches the catalogue with the shopper's words and the filters in them."""

    def name(self) -> Text:
        return "action_search_products"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        query = latest_text(tracker)
        # "what about a necklace?", "and body wash I opened?" right after the passage on what can't be returned
        # ask that of the necklace: read in the topic first (actions.policies.topic_follow_up).
        in_topic = topic_follow_up(tracker) if POLICY_ANSWER in last_turn_responses(tracker) else None
        if in_topic is not None:
            return say_passage(dispatcher, in_topic)
        filters = search_filters(tracker)
        if not query and not filters:
            dispatcher.utter_message(response="utter_ask_what_product")
            return []
        found = search_with_relaxation(query, filters)
        search = {"query": query, "filters": found.filters}  # what was understood, for "cheaper ones"
        asked, read = describe(domain, found.filters, query), read_as(domain, found.corrections)
        if not found.hits:
            dispatcher.utter_message(response="utter_search_nothing", search=asked, read_as=read)
            return [SlotSet("last_search", search), SlotSet("last_results", [])]
        if found.relaxed:
            response = "utter_search_closest"
        elif found.cheapest_first:
            response = "utter_search_showing_cheapest"
        elif found.filters:
            response = "utter_search_showing"
        else:
            response = "utter_search_results"
        show_products(dispatcher, tracker, domain, found.hits, response=response, search=asked, read_as=read)
        return results_events(found.hits) + [SlotSet("last_search", search), SlotSet("current_product", None)]


class ActionRefineSearch(ShopAction):
    """Follow-ups on the last list: cheaper/pricier, another colour or size, better rated, more results."""

    def name(self) -> Text:
        return "action_refine_search"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        last = tracker.get_slot("last_search") or {}
        if not last:
            in_topic = topic_follow_up(tracker)  # "how much?" right after "we deliver to Austria": its cost
            if in_topic is not None:
                return say_passage(dispatcher, in_topic)
            dispatcher.utter_message(response="utter_ask_what_product")
            return []
        text = latest_text(tracker)
        query = last.get("query", "")
        understood = shop_search().understand(text) if text else None
        changed = refinements(understood)
        filters = search_filters(tracker, {**(last.get("filters") or {}), **changed})
        shown = shown_products(tracker)
        prices = [p.price for p in shown]
        explicit_price = bool(
            entity_values(tracker, "price_max") or entity_values(tracker, "price_min") or changed.keys() & set(PRICES)
        )
        exclude: List[str] = []
        k = PAGE_SIZE
        sort = None
        cheaper = False
        if CHEAPEST_RE.search(text):
            sort, k = "price", 20
        elif CHEAPER_RE.search(text) and not explicit_price and prices:
            cheaper = True
            filters.update(max_price=float(min(prices)), max_exclusive=True)
            filters.pop("min_price", None)
        elif PRICIER_RE.search(text) and not explicit_price and prices:
            filters.update(min_price=float(max(prices)), min_exclusive=True)
            filters.pop("max_price", None)
        elif RATING_RE.search(text):
            sort, k = "rating", 20
        elif MORE_RE.search(text) and not (
            explicit_price or changed or entity_values(tracker, "colour") or entity_values(tracker, "size")
        ):
            exclude = [str(p.id) for p in shown]
        products = shop_search().search_products(query, filters, k=k + len(exclude))
        products = [p for p in products if str(p.id) not in exclude]
        if sort == "price":
            products.sort(key=lambda p: p.price)
        elif sort == "rating":
            products.sort(key=lambda p: -(p.rating or 0))
        products = products[:PAGE_SIZE]
        search = {"query": query, "filters": filters}
        if not products and cheaper:  # nothing under the cheapest shown: under the middle of them
            filters.update(max_price=float(statistics.median(prices)), max_exclusive=True)
            products = shop_search().search_products(query, filters, k=PAGE_SIZE)
        response = "utter_refined_results"
        if not products:  # keep the budget, let go of colour and size
            budget = ProductFilters.coerce(filters)
            products = search_with_relaxation(query, filters, exclude=exclude).hits
            products = [p for p in products if budget.admits_price(float(p.price))]
            response = "utter_refined_closest"
        asked, read = describe(domain, filters, query), read_as(domain, understood.corrections if understood else {})
        if not products:
            dispatcher.utter_message(response="utter_refine_nothing", search=asked, read_as=read)
            return [SlotSet("last_search", search)]
        show_products(dispatcher, tracker, domain, products, response=response, search=asked, read_as=read)
        return results_events(products) + [SlotSet("last_search", search), SlotSet("current_product", None)]


class ActionShowProduct(ShopAction):
    """Details of the product the shopper picked, with follow-up buttons."""

    def name(self) -> Text:
        return "action_show_product"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        product, problem = resolve_product(tracker, default_first=False)
        if product is None:
            search = product_follow_up(tracker)  # "blue one" after a list names no product of it: a refinement
            if search is not None and search != self.name():
                return [FollowupAction(search)]
            dispatcher.utter_message(**problem)
            return []
        # the response has the follow-up buttons (similar, goes with); "Add to cart" is this product's
        buttons = [
            {
                "title": label(domain, "utter_label_add_to_cart"),
                "payload": intent_payload("add_to_cart", product_id=product.id),
            }
        ]
        details, values = product_details(domain, product)
        show_products(dispatcher, tracker, domain, [product], response=details, buttons=buttons, **values)
        return [SlotSet("current_product", str(product.id))]


_ORDER_WORD = re.compile(r"\border\b", re.I)


def answer_without_a_product(
    dispatcher: CollectingDispatcher, tracker: Tracker, ask: Dict[str, Any]
) -> List[EventType]:
    """No product to talk about: a question about the order checked in this conversation ("what's in that
    order again?") gets its status, which lists its items; a question the shop's texts answer ("is it free
    from france", "when will I hear back", "how will I know when it's back") gets that answer; otherwise
    ``ask`` (which product?)."""
    if _ORDER_WORD.search(latest_text(tracker)) and has_proof(tracker):
        return [FollowupAction("action_order_status")]
    passage = policy_follow_up(tracker)
    if passage is not None:
        return say_passage(dispatcher, passage)
    dispatcher.utter_message(**ask)
    return []


UNKNOWN_ANSWERS = ("utter_product_unknown", "utter_product_unknown_no_details")  # the product's data does not say


class ActionProductQuestion(ShopAction):
    """Answers a question about a product from its data, then suggests what goes with it."""

    def name(self) -> Text:
        return "action_product_question"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        product, problem = resolve_product(tracker)
        if product is None:
            return answer_without_a_product(dispatcher, tracker, problem or WHICH_PRODUCT)
        question = latest_text(tracker)
        if not question:
            details, values = product_details(domain, product)
            dispatcher.utter_message(response=details, product_list="", **values)
        else:
            answer = answer_about(product, question)
            # "what if it's still sealed?" right after the hygiene-returns passage: the product's data does not
            # say, the topic just talked about does (a question asked in that topic, actions.policies).
            in_topic = topic_follow_up(tracker) if answer["response"] in UNKNOWN_ANSWERS else None
            if in_topic is not None:
                return say_passage(dispatcher, in_topic) + [SlotSet("current_product", str(product.id))]
            dispatcher.utter_message(**answer)
        recommend_complements(dispatcher, tracker, domain, product, limit=3)
        return [SlotSet("current_product", str(product.id))]


def recommend_complements(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, product: Any, limit: int
) -> None:
    """Mid-conversation recommendation: a few products that go with this one."""
    complements = shop_search().goes_well_with(product.id, k=limit)
    if not complements:
        return
    if rich_channel(tracker):
        dispatcher.utter_message(
            response="utter_goes_well_with_cards", attachment=product_attachment(domain, complements)
        )
    else:
        dispatcher.utter_message(
            response="utter_goes_well_with_list", products="; ".join(product_line(domain, p) for p in complements)
        )


class ActionCheckAvailability(ShopAction):
    """ "Do you have it in size 42 / in black?" from the product's sizes, colour and stock."""

    def name(self) -> Text:
        return "action_check_availability"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        product, problem = resolve_product(tracker)
        if product is None:
            return answer_without_a_product(dispatcher, tracker, problem or WHICH_PRODUCT)
        events: List[EventType] = [SlotSet("current_product", str(product.id))]
        attrs = product.attributes or {}
        size = normalise_size(first_entity(tracker, "size"))
        colour = normalise_colour(first_entity(tracker, "colour"))
        size_list = sizes_of(product)
        sizes = ", ".join(size_list)
        product_colour = str(attrs.get("colour") or "")
        if size:
            if any(s.upper() == size.upper() for s in size_list):
                dispatcher.utter_message(response="utter_available_size", title=product.title, size=size)
                say_stock(dispatcher, product)
                return events
            alternatives = shop_search().search_products(
                product.category.split("/")[-1], {"category": product.category, "size": size}, k=3
            )
            if alternatives:
                show_products(
                    dispatcher,
                    tracker,
                    domain,
                    alternatives,
                    response="utter_size_unavailable_alternatives" if size_list else "utter_one_size_only_alternatives",
                    sizes=sizes,
                    size=size,
                )
                return events + results_events(alternatives)
            dispatcher.utter_message(
                response="utter_size_unavailable" if size_list else "utter_one_size_only", sizes=sizes
            )
            return events
        if colour:
            if product_colour.lower() == colour.lower():
                dispatcher.utter_message(response="utter_available_colour", title=product.title, colour=colour)
                say_stock(dispatcher, product)
                return events
            alternatives = shop_search().search_products(
                product.category.split("/")[-1], {"category": product.category, "colour": colour}, k=3
            )
            if alternatives:
                show_products(
                    dispatcher,
                    tracker,
                    domain,
                    alternatives,
                    response="utter_colour_unavailable_alternatives"
                    if product_colour
                    else "utter_no_colour_options_alternatives",
                    product_colour=product_colour,
                    colour=colour,
                )
                return events + results_events(alternatives)
            dispatcher.utter_message(
                response="utter_colour_unavailable" if product_colour else "utter_no_colour_options",
                product_colour=product_colour,
                colour=colour,
            )
            return events
        dispatcher.utter_message(
            response=AVAILABILITY_RESPONSES[(bool(product_colour), bool(size_list))],
            title=product.title,
            product_colour=product_colour,
            sizes=sizes,
        )
        say_stock(dispatcher, product)
        return events


AVAILABILITY_RESPONSES = {  # (has a colour, has sizes)
    (True, True): "utter_availability_colour_sizes",
    (True, False): "utter_availability_colour",
    (False, True): "utter_availability_sizes",
    (False, False): "utter_availability_one_size",
}


def say_stock(dispatcher: CollectingDispatcher, product: Any) -> None:
    """In stock (how many, when few are left) or not."""
    if product.in_stock and product.stock < 10:
        dispatcher.utter_message(response="utter_stock_few", stock_count=product.stock)
    elif product.in_stock:
        dispatcher.utter_message(response="utter_stock_in")
    else:
        dispatcher.utter_message(response="utter_stock_out")


class ActionCompareProducts(ShopAction):
    """Side-by-side facts of two or three products from the last list, with a short verdict."""

    def name(self) -> Text:
        return "action_compare_products"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        results: List[str] = tracker.get_slot("last_results") or []
        if len(results) < 2:
            dispatcher.utter_message(response="utter_compare_need_two")
            return []
        positions = [p for p in (ordinal_position(v) for v in entity_values(tracker, "ordinal")) if p is not None]
        if len(positions) < 2:
            positions = [1, 2] if not positions or positions[0] == 1 else [1, positions[0]]
        indexes = []
        for pos in positions[:3]:
            index = pos - 1 if pos > 0 else len(results) - 1
            if not 0 <= index < len(results):
                dispatcher.utter_message(response="utter_only_showed_products", count=len(results))
                return []
            if index not in indexes:
                indexes.append(index)
        search = shop_search()
        products = [p for p in (search.get_product(results[i]) for i in indexes) if p is not None]
        if len(products) < 2:
            dispatcher.utter_message(response="utter_compare_pick_two")
            return []
        lines = []
        for index, product in zip(indexes, products):
            attrs = product.attributes or {}
            facts = [
                money(product.price, product.currency),
                f"{product.rating:.1f}★" if product.rating else label(domain, "utter_label_unrated"),
            ]
            facts += [str(attrs[k]) for k in ("colour", "material") if attrs.get(k)]
            facts += [", ".join(attrs.get("features") or [])] if attrs.get("features") else []
            facts.append(label(domain, "utter_label_in_stock" if product.in_stock else "utter_label_out_of_stock"))
            lines.append(f"{index + 1}. {product.title}: " + "; ".join(facts))
        cheapest = min(products, key=lambda p: p.price)
        rated = [p for p in products if p.rating is not None]
        best = max(rated, key=lambda p: p.rating or 0.0) if rated else None
        if best is None:
            response = "utter_comparison"
        elif best is cheapest:
            response = "utter_comparison_cheapest_best_rated"
        else:
            response = "utter_comparison_best_rated"
        dispatcher.utter_message(
            response=response,
            comparison="\n".join(lines),
            cheapest=cheapest.title,
            best_rated=best.title if best else "",
        )
        return []


class ActionGoesWellWith(ShopAction):
    """Products that complete the one in focus (socks for running shoes, mugs for a coffee machine)."""

    def name(self) -> Text:
        return "action_goes_well_with"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        product, problem = resolve_product(tracker)
        if product is None:
            dispatcher.utter_message(**problem)
            return []
        complements = shop_search().goes_well_with(product.id, k=4)
        if not complements:
            dispatcher.utter_message(response="utter_no_goes_with", title=product.title)
            return [SlotSet("current_product", str(product.id))]
        show_products(dispatcher, tracker, domain, complements, response="utter_goes_with_results", title=product.title)
        return results_events(complements) + [SlotSet("current_product", str(product.id))]


class ActionSimilarProducts(ShopAction):
    """Alternatives to the product in focus, optionally cheaper or in another colour."""

    def name(self) -> Text:
        return "action_similar_products"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        product, problem = resolve_product(tracker)
        if product is None:
            dispatcher.utter_message(**problem)
            return []
        text = latest_text(tracker)
        max_price = parse_price(first_entity(tracker, "price_max"))
        if max_price is None and (CHEAPER_RE.search(text) or not text):  # the button says "cheaper"
            budget = ProductFilters(max_price=float(product.price), max_exclusive=True)
        else:
            strict = is_strict_bound(words_before_entity(tracker, "price_max"))
            budget = ProductFilters(max_price=float(max_price) if max_price is not None else None, max_exclusive=strict)
        colour = normalise_colour(first_entity(tracker, "colour"))
        similar = shop_search().similar_products(product.id, k=10, max_price=budget.max_price)
        similar = [p for p in similar if budget.admits_price(float(p.price))]
        if colour:
            similar = [p for p in similar if colour_matches(colour, str((p.attributes or {}).get("colour") or ""))]
        similar = similar[:PAGE_SIZE]
        conditions = []
        if colour:
            conditions.append(label(domain, "utter_label_search_colour", colour=colour))
        if budget.max_price is not None:
            conditions.append(price_limit(domain, budget.max_price, bool(budget.max_exclusive), product.currency))
        condition = " ".join(conditions)
        if not similar:
            dispatcher.utter_message(
                response="utter_no_similar_filtered" if condition else "utter_no_similar",
                title=product.title,
                condition=condition,
            )
            return [SlotSet("current_product", str(product.id))]
        show_products(
            dispatcher,
            tracker,
            domain,
            similar,
            response="utter_similar_results_filtered" if condition else "utter_similar_results",
            title=product.title,
            condition=condition,
        )
        return results_events(similar) + [SlotSet("current_product", str(product.id))]


class ActionAddToCart(ShopAction):
    """Confirms a card's "Add to cart" (the widget puts it in the shop's cart) and suggests complements."""

    def name(self) -> Text:
        return "action_add_to_cart"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        product, problem = resolve_product(tracker)
        if product is None:
            dispatcher.utter_message(**problem)
            return []
        from_button = ((tracker.latest_message or {}).get("text") or "").startswith("/add_to_cart")
        price = money(product.price, product.currency)
        if from_button and not client_can(tracker, CART):
            # A client without a cart of its own (a stock Rasa widget): nothing was added; its page can.
            url = product_url(product.to_dict(), public_url())
            dispatcher.utter_message(response="utter_add_to_cart_on_page", title=product.title, price=price, url=url)
        elif from_button:
            dispatcher.utter_message(response="utter_added_to_cart", title=product.title, price=price)
            recommend_complements(dispatcher, tracker, domain, product, limit=3)
        else:
            show_products(dispatcher, tracker, domain, [product], response="utter_tap_add_to_cart", title=product.title)
        return [SlotSet("current_product", str(product.id))]
