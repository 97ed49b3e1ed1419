"""Deterministic generator of the shop's data: catalogue, customers, orders, returns.

Every product ``i`` is a pure function of ``(seed, i)``: any slice of a
1,000,000-product catalogue can be produced independently (streaming, batched)
and the same seed always gives the same shop. Orders are generated relative to a
``today`` date so delivery dates, return windows and tracking states are
realistic whenever the data is built.

Demo data for docs and tests (always present, fixed numbers):

==========  ==========================  =========  =========================================
order       e-mail                      status     what it demonstrates
==========  ==========================  =========  =========================================
10000001    alex.morgan@example.com     delivered  delivered 5 days ago: returnable
10000002    alex.morgan@example.com     shipped    in transit: no cancel, no address change
10000003    alex.morgan@example.com     paid       placed today: cancellable, address changeable
10000004    alex.morgan@example.com     delivered  delivered 45 days ago: return window closed
10000005    alex.morgan@example.com     delivered  return received, refund processing
10000006    alex.morgan@example.com     packed     address changeable, no longer cancellable
10000007    alex.morgan@example.com     cancelled  cancelled and refunded
10000008    sam.lee@example.com         delivered  3 days ago; earrings are final sale
==========  ==========================  =========  =========================================

Customer ids: ``C0000001`` (Alex Morgan, subscribed to the newsletter), ``C0000002`` (Sam Lee, not
subscribed). Delivery options: :data:`DEMO_DELIVERY_METHODS` in every country of
``shopdb.policies.SHIPPING_COUNTRIES``, as ``shopdb/data/policies/shipping.md`` states them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from shopdb.policies import SHIPPING_COUNTRIES
from shopdb.taxonomy import PRODUCT_TYPES, TYPES_BY_KEY, ProductType, category_code, type_code

GENERATOR_VERSION = "3"  # 2: delivery options, newsletter consent; 3: no photo links (the assistant draws them)
DEFAULT_SEED = 20240501
CURRENCY = "EUR"

_SYL_A = [
    "Ae",
    "Al",
    "Bo",
    "Ca",
    "Del",
    "Fen",
    "Ga",
    "Hal",
    "Is",
    "Ka",
    "Lu",
    "Mar",
    "No",
    "Or",
    "Pe",
    "Ri",
    "Sol",
    "Te",
    "Ul",
    "Ve",
    "Zen",
]
_SYL_B = ["ro", "na", "via", "lix", "ra", "to", "mo", "da", "ven", "lia", "rin", "tor", "sa", "vo", "len"]
_SUFFIX = ["", "", "", " 2", " 3", " Pro", " Lite", " Max", " II", " Air", " Go", " Plus", " X"]

_TYPE_WEIGHTS = list(itertools.accumulate(t.weight for t in PRODUCT_TYPES))


@dataclass
class ProductRecord:
    """A generated or imported product, before it gets a database id."""

    sku: str
    title: str
    description: str
    brand: str
    category: str
    attributes: Dict[str, Any]
    price: Decimal
    currency: str = CURRENCY
    stock: int = 0
    rating: Optional[float] = None
    image_url: Optional[str] = None
    returnable: bool = True
    type_key: Optional[str] = None  # taxonomy type when generated (not stored as a column)

    def to_row(self) -> Dict[str, Any]:
        row = asdict(self)
        row.pop("type_key")
        return row


@dataclass(frozen=True)
class DeliveryOptionRecord:
    """One delivery method to one country (generated or imported), before it gets a database id."""

    country: str
    method: str
    min_days: int
    max_days: int
    price: Decimal
    currency: str = CURRENCY
    free_from: Optional[Decimal] = None


# method, business days (min, max), price, free from: "Delivery options and times" and "Shipping costs"
# of shopdb/data/policies/shipping.md (tests/shopdb/test_delivery.py holds them to the text).
DEMO_DELIVERY_METHODS: Tuple[Tuple[str, int, int, Decimal, Optional[Decimal]], ...] = (
    ("standard", 3, 5, Decimal("4.95"), Decimal("50.00")),
    ("express", 1, 2, Decimal("9.95"), None),
)


def demo_delivery_options() -> List[DeliveryOptionRecord]:
    """Every demo method in every country the policy names."""
    return [
        DeliveryOptionRecord(country, method, low, high, price, CURRENCY, free_from)
        for country in SHIPPING_COUNTRIES
        for method, low, high, price, free_from in DEMO_DELIVERY_METHODS
    ]


def product_text(title: str, brand: str, category: str, attributes: Dict[str, Any], description: str) -> str:
    """The text embedded for a product: title, category, key attributes and the description's first sentence.

    Kept to ~40 tokens: embedding cost on a CPU grows with length, and later description
    sentences mostly repeat attributes (measured: 72 -> ~40 tokens is ~2x faster).
    """
    attrs = [str(attributes[key]) for key in ("colour", "material") if attributes.get(key)]
    audience = attributes.get("audience")
    if audience and audience != "unisex":
        attrs.append(f"for {audience}")
    first = description.split(". ", 1)[0].strip().rstrip(".")
    first = re.sub(r"^The [^.]{1,60}? is an? ", "", first)  # "The Apexa Vento is a ..." repeats the title
    cat = category.replace("/", " > ")
    text = f"{title}. {cat}. {first}. {', '.join(attrs)}" if attrs else f"{title}. {cat}. {first}."
    if brand and brand.lower() not in title.lower():
        text = f"{brand} {text}"
    return text


def _line_name(rng: random.Random) -> str:
    return rng.choice(_SYL_A) + rng.choice(_SYL_B) + rng.choice(_SUFFIX)


def _price(rng: random.Random, lo: float, hi: float) -> Decimal:
    import math

    value = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    if value < 20:
        cents = rng.choice([0.49, 0.95, 0.99])
    else:
        cents = rng.choice([0.0, 0.95, 0.99])
    return Decimal(f"{int(value) + cents:.2f}")


def _sizes(rng: random.Random, t: ProductType) -> Any:
    sizes = list(t.sizes)
    wearable = t.category.split("/")[0] in ("Shoes", "Clothing") or t.key in (
        "gloves",
        "garden_gloves",
        "belts",
        "sun_hats",
        "bikes_helmets",
        "sports_socks",
    )
    if wearable:
        if len(sizes) <= 3:
            return sizes
        a = rng.randint(0, max(0, len(sizes) // 3))
        b = rng.randint(len(sizes) - len(sizes) // 3, len(sizes))
        return sizes[a:b]
    return rng.choice(sizes)


def _sentence_list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def generate_product(i: int, seed: int = DEFAULT_SEED) -> ProductRecord:
    """Product number ``i`` of the catalogue of ``seed`` (a pure function of both)."""
    rng = random.Random(seed * 1_000_003 + i)
    t = PRODUCT_TYPES[bisect.bisect_right(_TYPE_WEIGHTS, rng.random() * _TYPE_WEIGHTS[-1])]
    brand = rng.choice(t.brands)
    line = _line_name(rng)
    attrs: Dict[str, Any] = {}
    colour = rng.choice(t.colours) if t.colours else None
    material = rng.choice(t.materials) if t.materials else None
    audience = rng.choice(t.audiences) if t.audiences else None
    n_feat = min(len(t.features), rng.choice([1, 2, 2, 3]))
    features = rng.sample(list(t.features), n_feat) if t.features else []
    use = rng.choice(t.uses) if t.uses else None
    if colour:
        attrs["colour"] = colour
    if t.sizes:
        attrs["size"] = _sizes(rng, t)
    if material:
        attrs["material"] = material
    if audience:
        attrs["audience"] = audience
    if features:
        attrs["features"] = features
    for key, values in t.extra.items():
        attrs[key] = rng.choice(values)

    # Title: brand, model line, sometimes a feature and material, the noun, the audience, the colour.
    parts = [brand, line]
    if features and rng.random() < 0.55:
        parts.append(features[0].title() if features[0].islower() else features[0])
    if material and rng.random() < 0.3:
        parts.append(material.title())
    parts.append(t.noun)
    if audience in ("men", "women") and rng.random() < 0.7:
        parts.append(f"for {audience.title()}")
    elif audience == "kids" and "Kid" not in t.noun and "Children" not in t.noun:
        parts.append("for Kids")
    title = " ".join(parts)
    if colour and rng.random() < 0.8:
        title += f", {colour.title()}"

    # Description: shopper-facing prose that uses a synonym or two, not always the title noun.
    syn = rng.choice(t.synonyms)
    sentences = []
    feat_txt = _sentence_list(features) if features else "well-made"
    article = "an" if feat_txt[:1].lower() in "aeiou" else "a"
    sentences.append(f"The {brand} {line} is {article} {feat_txt} {syn}{(' ' + use) if use else ''}.")
    if material and t.category.startswith("Books/"):
        sentences.append(f"Format: {material}.")
    elif material:
        sentences.append(f"Made from {material}" + (f" in {colour}" if colour else "") + ".")
    elif colour:
        sentences.append(f"Finished in {colour}.")
    for key, value in attrs.items():
        if key in t.extra:
            sentences.append(f"{key.replace('_', ' ').capitalize()}: {value}.")
    if isinstance(attrs.get("size"), list):
        sentences.append(f"Available in sizes {attrs['size'][0]} to {attrs['size'][-1]}.")
    elif attrs.get("size"):
        sentences.append(f"Size: {attrs['size']}.")
    if audience in ("men", "women", "kids"):
        sentences.append(f"Designed for {audience}.")
    sentences.append(
        rng.choice(
            [
                "Backed by our 2-year warranty.",
                "A customer favourite for everyday use.",
                "Thoughtfully designed and built to last.",
                "Great value and a popular gift.",
                "Ships in recyclable packaging.",
            ]
        )
    )
    if not t.returnable:
        sentences.append("For hygiene reasons this item cannot be returned once opened.")
    description = " ".join(sentences)

    price = _price(rng, *t.price)
    stock = 0 if rng.random() < 0.08 else int(rng.expovariate(1 / 60)) + 1
    rating = None if rng.random() < 0.1 else round(min(5.0, max(1.0, rng.gauss(4.2, 0.5))), 1)
    sku = f"{category_code(t.category)}-{type_code(t)}-{i + 1:07d}"
    return ProductRecord(
        sku=sku,
        title=title,
        description=description,
        brand=brand,
        category=t.category,
        attributes=attrs,
        price=price,
        currency=CURRENCY,
        stock=stock,
        rating=rating,
        image_url=None,  # no photos: the assistant draws a picture (core.links.product_image)
        returnable=t.returnable,
        type_key=t.key,
    )


def iter_products(n: int, seed: int = DEFAULT_SEED, start: int = 0) -> Iterator[ProductRecord]:
    """Products ``start .. n-1`` one at a time (constant memory)."""
    for i in range(start, n):
        yield generate_product(i, seed)


def generate_relations(
    products: Sequence[ProductRecord], seed: int = DEFAULT_SEED, k: int = 4
) -> List[Tuple[int, int, str, float]]:
    """(product index, related index, kind, weight) links between the given products.

    ``similar``: same type, nearest in price, preferring the same audience.
    ``goes_with``: products of complementary types (running shoes -> socks, bottles),
    preferring the same audience and colour, so an outfit or a kit holds together.
    """
    rng = random.Random(seed + 7)
    by_type: Dict[str, List[int]] = defaultdict(list)
    for idx, p in enumerate(products):
        by_type[p.type_key or p.category].append(idx)
    for key in by_type:
        by_type[key].sort(key=lambda j: (products[j].price, j))
    links: List[Tuple[int, int, str, float]] = []
    for members in by_type.values():
        for pos, idx in enumerate(members):
            p = products[idx]
            window = members[max(0, pos - 6) : pos] + members[pos + 1 : pos + 7]
            window.sort(
                key=lambda j: (
                    products[j].attributes.get("audience") != p.attributes.get("audience"),
                    abs(products[j].price - p.price),
                    j,
                )
            )
            for rank, j in enumerate(window[:k]):
                links.append((idx, j, "similar", round(1.0 - rank * 0.1, 2)))
            t = TYPES_BY_KEY.get(p.type_key or "")
            if not t:
                continue
            chosen: List[int] = []
            for comp in t.complements:
                cands = by_type.get(comp)
                if not cands:
                    continue
                sample = [cands[rng.randrange(len(cands))] for _ in range(8)]
                sample.sort(
                    key=lambda j: (
                        products[j].attributes.get("audience") not in (p.attributes.get("audience"), "unisex", None),
                        products[j].attributes.get("colour") != p.attributes.get("colour"),
                        products[j].stock == 0,
                        j,
                    )
                )
                chosen.append(sample[0])
            for rank, j in enumerate(chosen[:k]):
                links.append((idx, j, "goes_with", round(1.0 - rank * 0.1, 2)))
    return links


# ----------------------------------------------------------------- customers and orders

FIRST = [
    "Alex",
    "Sam",
    "Maria",
    "Jonas",
    "Aisha",
    "Liam",
    "Sofia",
    "Noah",
    "Emma",
    "Lucas",
    "Chloe",
    "Mateo",
    "Yuki",
    "Priya",
    "Oliver",
    "Hannah",
    "Omar",
    "Ines",
    "Finn",
    "Zara",
    "Elena",
    "Tom",
    "Leila",
    "Max",
    "Nina",
    "Ravi",
    "Clara",
    "Ben",
    "Amara",
    "Felix",
    "Julia",
    "Kai",
    "Lena",
    "Marco",
    "Sara",
    "Theo",
    "Anna",
    "Hugo",
    "Mia",
    "Ivan",
]
LAST = [
    "Morgan",
    "Lee",
    "Garcia",
    "Schmidt",
    "Khan",
    "Murphy",
    "Rossi",
    "Dubois",
    "Nowak",
    "Jansen",
    "Silva",
    "Novak",
    "Tanaka",
    "Patel",
    "Brown",
    "Weber",
    "Haddad",
    "Costa",
    "Larsen",
    "Ahmed",
    "Popescu",
    "Fischer",
    "Moreau",
    "Kowalski",
    "Bakker",
    "Santos",
    "Nielsen",
    "Romano",
    "Meyer",
    "Walsh",
    "Berg",
    "Laurent",
    "Wright",
    "Keller",
]
STREETS = [
    "Canal Street",
    "Lindenstraat",
    "Rue des Lilas",
    "Market Square",
    "Kastanienallee",
    "Via Roma",
    "High Street",
    "Station Road",
    "Harbour Lane",
    "Park Avenue",
    "Mill Road",
    "Church Street",
    "Oak Drive",
    "Bridge Street",
]
CITIES = [
    ("Amsterdam", "NL", "1012 AB"),
    ("Berlin", "DE", "10115"),
    ("Paris", "FR", "75003"),
    ("Dublin", "IE", "D02 X285"),
    ("Madrid", "ES", "28004"),
    ("Milan", "IT", "20121"),
    ("Vienna", "AT", "1010"),
    ("Brussels", "BE", "1000"),
    ("Lisbon", "PT", "1100-148"),
    ("Copenhagen", "DK", "1050"),
    ("Stockholm", "SE", "111 22"),
    ("Warsaw", "PL", "00-001"),
    ("Rotterdam", "NL", "3011 AA"),
    ("Munich", "DE", "80331"),
    ("Lyon", "FR", "69001"),
    ("Porto", "PT", "4000-322"),
]
CARRIERS = {"DHL": ("JJD", 18), "UPS": ("1Z", 16), "DPD": ("0", 14), "PostNL": ("3S", 13), "GLS": ("", 11)}
HUBS = ["Venlo hub", "Leipzig hub", "Roissy hub", "Utrecht depot", "Cologne depot", "Antwerp depot", "local depot"]
PAYMENTS = ["card", "card", "card", "paypal", "ideal", "klarna", "apple_pay", "bank_transfer"]
RETURN_REASONS = [
    "Too small",
    "Too large",
    "Not as described",
    "Changed my mind",
    "Arrived damaged",
    "Wrong item sent",
    "Better price elsewhere",
    "Quality not as expected",
]


@dataclass
class ShipmentEventRecord:
    at: dt.datetime
    code: str
    location: Optional[str]
    description: str


@dataclass
class OrderItemRecord:
    product_index: int  # index into the product list given to the generator
    quantity: int


@dataclass
class ReturnRecord:
    item_position: int  # position within the order's items
    reason: str
    status: str
    refund_status: str
    created_at: dt.datetime
    quantity: int = 1


@dataclass
class OrderRecord:
    order_number: str
    customer_index: int
    status: str
    placed_at: dt.datetime
    items: List[OrderItemRecord]
    payment_method: str
    shipping_method: str
    address: Dict[str, Any]
    paid_at: Optional[dt.datetime] = None
    shipped_at: Optional[dt.datetime] = None
    delivered_at: Optional[dt.datetime] = None
    cancelled_at: Optional[dt.datetime] = None
    cancel_reason: Optional[str] = None
    carrier: Optional[str] = None
    tracking_number: Optional[str] = None
    events: List[ShipmentEventRecord] = field(default_factory=list)
    returns: List[ReturnRecord] = field(default_factory=list)


@dataclass
class CustomerRecord:
    customer_id: str
    email: str
    name: str
    created_at: dt.datetime
    address: Dict[str, Any]
    newsletter: bool = False
    newsletter_changed_at: Optional[dt.datetime] = None


def _address(rng: random.Random, name: str) -> Dict[str, Any]:
    city, country, postcode = rng.choice(CITIES)
    return {
        "name": name,
        "line1": f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
        "line2": rng.choice([None, None, None, f"Apt {rng.randint(1, 40)}"]),
        "city": city,
        "postcode": postcode,
        "country": country,
    }


def _tracking(rng: random.Random, carrier: str) -> str:
    prefix, length = CARRIERS[carrier]
    digits = "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
    return prefix + digits


def _shipment_story(rng: random.Random, order: OrderRecord, until: dt.datetime) -> None:
    """Fill shipped/delivered events of an order up to ``until`` (its status decides how far)."""
    assert order.shipped_at is not None
    city = order.address["city"]
    at = order.shipped_at
    order.events.append(
        ShipmentEventRecord(
            at - dt.timedelta(hours=3), "label_created", "Larkspur warehouse, Venlo", "Shipping label created"
        )
    )
    order.events.append(
        ShipmentEventRecord(at, "picked_up", "Larkspur warehouse, Venlo", f"Parcel handed to {order.carrier}")
    )
    hub_at = at + dt.timedelta(hours=rng.randint(6, 20))
    if hub_at <= until:
        order.events.append(ShipmentEventRecord(hub_at, "in_transit", rng.choice(HUBS), "In transit"))
    if order.delivered_at:
        ofd = order.delivered_at - dt.timedelta(hours=rng.randint(2, 6))
        order.events.append(ShipmentEventRecord(ofd, "out_for_delivery", city, "Out for delivery"))
        order.events.append(ShipmentEventRecord(order.delivered_at, "delivered", city, "Delivered"))


def _make_order(
    rng: random.Random,
    number: str,
    customer_index: int,
    address: Dict[str, Any],
    items: List[OrderItemRecord],
    placed_at: dt.datetime,
    status: str,
    today: dt.datetime,
    transit_days: int = 2,
) -> OrderRecord:
    order = OrderRecord(
        order_number=number,
        customer_index=customer_index,
        status=status,
        placed_at=placed_at,
        items=items,
        payment_method=rng.choice(PAYMENTS),
        shipping_method=rng.choice(["standard", "standard", "standard", "express"]),
        address=address,
    )
    if status in ("paid", "packed", "shipped", "delivered"):
        order.paid_at = placed_at + dt.timedelta(minutes=rng.randint(1, 30))
    if status == "cancelled":
        order.paid_at = placed_at + dt.timedelta(minutes=rng.randint(1, 30))
        order.cancelled_at = order.paid_at + dt.timedelta(hours=rng.randint(1, 12))
        order.cancel_reason = rng.choice(["Ordered by mistake", "Found it cheaper", "No longer needed"])
    if status in ("shipped", "delivered"):
        order.carrier = rng.choice(list(CARRIERS))
        order.tracking_number = _tracking(rng, order.carrier)
        order.shipped_at = placed_at + dt.timedelta(hours=rng.randint(18, 40))
        if status == "delivered":
            order.delivered_at = order.shipped_at + dt.timedelta(days=transit_days, hours=rng.randint(0, 8))
        _shipment_story(rng, order, today)
    return order


def generate_customers(n: int, seed: int = DEFAULT_SEED, today: Optional[dt.date] = None) -> List[CustomerRecord]:
    """``n`` customers; the first two are the documented demo customers."""
    rng = random.Random(seed + 11)
    now = dt.datetime.combine(today or dt.date.today(), dt.time(9, 0))
    out = [
        CustomerRecord(
            "C0000001",
            "alex.morgan@example.com",
            "Alex Morgan",
            now - dt.timedelta(days=400),
            {
                "name": "Alex Morgan",
                "line1": "Canal Street 12",
                "line2": None,
                "city": "Amsterdam",
                "postcode": "1012 AB",
                "country": "NL",
            },
            newsletter=True,
            newsletter_changed_at=now - dt.timedelta(days=400),
        ),
        CustomerRecord(
            "C0000002",
            "sam.lee@example.com",
            "Sam Lee",
            now - dt.timedelta(days=200),
            {
                "name": "Sam Lee",
                "line1": "Kastanienallee 7",
                "line2": "Apt 3",
                "city": "Berlin",
                "postcode": "10115",
                "country": "DE",
            },
        ),
    ]
    seen = {c.email for c in out}
    for k in range(2, n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{k}@example.{rng.choice(['com', 'org', 'net'])}".lower()
        if email in seen:
            continue
        seen.add(email)
        name = f"{first} {last}"
        created = now - dt.timedelta(days=rng.randint(1, 900))
        subscribed = k % 3 == 0  # a third signed up at checkout (no draw: the rest of the shop stays as it was)
        out.append(
            CustomerRecord(
                f"C{k + 1:07d}",
                email,
                name,
                created,
                _address(rng, name),
                newsletter=subscribed,
                newsletter_changed_at=created if subscribed else None,
            )
        )
    return out


def _pick_product(rng: random.Random, products: Sequence[ProductRecord], type_key: str, offset: int = 0) -> int:
    cands = [i for i, p in enumerate(products) if p.type_key == type_key]
    if not cands:
        return offset % len(products)
    return cands[(offset + rng.randrange(len(cands))) % len(cands)]


def generate_orders(
    products: Sequence[ProductRecord],
    customers: Sequence[CustomerRecord],
    n_orders: int,
    seed: int = DEFAULT_SEED,
    today: Optional[dt.date] = None,
) -> List[OrderRecord]:
    """Demo orders (fixed numbers) plus ``n_orders`` random orders over the last 120 days."""
    rng = random.Random(seed + 13)
    now = dt.datetime.combine(today or dt.date.today(), dt.time(9, 0))
    day = dt.timedelta(days=1)
    alex = customers[0].address
    sam = customers[1].address
    pick = lambda key, off=0: _pick_product(rng, products, key, off)  # noqa: E731
    demo = [
        _make_order(
            rng,
            "10000001",
            0,
            alex,
            [OrderItemRecord(pick("running_shoes"), 1), OrderItemRecord(pick("sports_socks"), 2)],
            now - 8 * day,
            "delivered",
            now,
            transit_days=2,
        ),
        _make_order(rng, "10000002", 0, alex, [OrderItemRecord(pick("headphones"), 1)], now - 2 * day, "shipped", now),
        _make_order(
            rng,
            "10000003",
            0,
            alex,
            [OrderItemRecord(pick("coffee_makers"), 1), OrderItemRecord(pick("mugs"), 1)],
            now - dt.timedelta(hours=2),
            "paid",
            now,
        ),
        _make_order(rng, "10000004", 0, alex, [OrderItemRecord(pick("jumpers"), 1)], now - 48 * day, "delivered", now),
        _make_order(
            rng,
            "10000005",
            0,
            alex,
            [OrderItemRecord(pick("rain_jackets"), 1), OrderItemRecord(pick("backpacks"), 1)],
            now - 22 * day,
            "delivered",
            now,
        ),
        _make_order(
            rng, "10000006", 0, alex, [OrderItemRecord(pick("novels"), 2)], now - dt.timedelta(hours=20), "packed", now
        ),
        _make_order(rng, "10000007", 0, alex, [OrderItemRecord(pick("lamps"), 1)], now - 15 * day, "cancelled", now),
        _make_order(
            rng,
            "10000008",
            1,
            sam,
            [OrderItemRecord(pick("earrings"), 1), OrderItemRecord(pick("dresses"), 1)],
            now - 6 * day,
            "delivered",
            now,
        ),
    ]
    # A return in progress on 10000005: jacket received back, refund processing.
    demo[4].returns.append(ReturnRecord(0, "Too small", "received", "processing", now - 10 * day))
    orders = list(demo)
    used = {o.order_number for o in orders}
    n_products = len(products)
    for _ in range(n_orders):
        number = str(rng.randint(20_000_000, 99_999_999))
        while number in used:
            number = str(rng.randint(20_000_000, 99_999_999))
        used.add(number)
        c = rng.randrange(2, len(customers)) if len(customers) > 2 else 0
        age_h = rng.uniform(0.5, 120 * 24)
        placed = now - dt.timedelta(hours=age_h)
        if rng.random() < 0.05:
            status = "cancelled"
        elif age_h < 3:
            status = rng.choice(["placed", "paid"])
        elif age_h < 24:
            status = rng.choice(["paid", "packed"])
        elif age_h < 24 * 4:
            status = "shipped"
        else:
            status = "delivered"
        items = [
            OrderItemRecord(rng.randrange(n_products), rng.choice([1, 1, 1, 2]))
            for _ in range(rng.choice([1, 1, 2, 2, 3, 4]))
        ]
        order = _make_order(
            rng, number, c, customers[c].address, items, placed, status, now, transit_days=rng.randint(1, 3)
        )
        if status == "delivered" and rng.random() < 0.08:
            delivered = order.delivered_at
            assert delivered is not None  # _make_order sets it for every delivered order
            since = (now - delivered).days
            created = delivered + dt.timedelta(days=rng.randint(1, max(1, min(since, 28))))
            age = (now - created).days
            if age < 3:
                st, refund = "requested", "not_started"
            elif age < 8:
                st, refund = "received", "processing"
            else:
                st, refund = ("refunded", "refunded") if rng.random() < 0.9 else ("rejected", "not_applicable")
            order.returns.append(
                ReturnRecord(rng.randrange(len(items)), rng.choice(RETURN_REASONS), st, refund, min(created, now))
            )
        orders.append(order)
    return orders
