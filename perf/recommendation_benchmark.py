"""Recommendation benchmark: simulated shoppers, profile-aware ranking vs similarity and popularity.

``python -m perf.recommendation_benchmark [--sessions 300] [--seed 7] [--similarity auto|search|tfidf]``

Each simulated shopper is drawn from the catalogue (seeded): a category they
shop in, a colour and maybe a brand they favour, a price tier, and a few past
purchases. Their session runs browse -> search -> question -> buy:

- browse: product views, most matching their taste, some noise (other products of the
  category, or anything);
- search: a message with intent ``search_products`` using a shopper's word for the
  category (sometimes with the colour, as an entity);
- question: a ``product_question`` about a viewed product;
- buy: the product they finally buy -- one they have *not* viewed, drawn from the category
  with a preference for their taste (sometimes at random).

The events go through Rasa's real SQL event broker and the real consumer into
profiles. At the search, the candidates are the similarity search's top 50 for
the query (the shop's FAISS/hybrid search, or TF-IDF when no index
is built); every ranker re-orders the *same* candidates, and hit-rate@10 /
NDCG@10 measure where the bought product lands. This is a simulation: the
taste that drives the purchase is the taste the profile can observe, through
noise. It says whether the profile is used well, not how real shoppers behave.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from insights.catalogue import Catalogue, ProductInfo
from insights.recommend import DEFAULT_WEIGHTS, Weights, rank

K = 10
CANDIDATES = 50


# ---------------------------------------------------------------------------- catalogue
def load_catalogue(sessions: sessionmaker) -> Tuple[List[ProductInfo], Dict[str, float]]:
    """All products, and a popularity per product (units sold in the shop's orders, then rating)."""
    from shopdb.models import OrderItem, Product

    with sessions() as session:
        products = [ProductInfo.from_product(p) for p in session.execute(select(Product)).unique().scalars()]
        sold = dict(
            session.execute(
                select(OrderItem.product_id, func.sum(OrderItem.quantity)).group_by(OrderItem.product_id)
            ).all()
        )
    popularity = {p.id: float(sold.get(int(p.id), 0)) + (p.rating or 0.0) / 10.0 for p in products}
    return products, popularity


def _synonyms() -> Dict[str, Tuple[str, ...]]:
    """What shoppers call each category (from the catalogue generator's taxonomy when available)."""
    try:
        from shopdb.taxonomy import PRODUCT_TYPES
    except ImportError:  # another catalogue: the category's own name will do
        return {}
    out: Dict[str, Tuple[str, ...]] = {}
    for t in PRODUCT_TYPES:
        out[t.category] = out.get(t.category, ()) + tuple(t.synonyms)
    return out


# ---------------------------------------------------------------------------- shoppers
@dataclass
class Shopper:
    sender_id: str
    customer_id: str
    category: str
    colour: Optional[str]
    brand: Optional[str]
    price_range: Tuple[float, float]
    past: List[ProductInfo] = field(default_factory=list)
    viewed: List[ProductInfo] = field(default_factory=list)
    query: str = ""
    query_colour: Optional[str] = None
    target: Optional[ProductInfo] = None


def _colour(p: ProductInfo) -> Optional[str]:
    value = p.attributes.get("colour") or p.attributes.get("color")
    return str(value).lower() if value else None


def _taste(shopper: Shopper, p: ProductInfo) -> float:
    score = 1.0
    if shopper.colour and _colour(p) == shopper.colour:
        score *= 4.0
    if shopper.brand and p.brand == shopper.brand:
        score *= 3.0
    lo, hi = shopper.price_range
    if p.price is not None and lo <= p.price <= hi:
        score *= 3.0
    return score


def simulate_shoppers(
    products: Sequence[ProductInfo], n: int, seed: int, noise: float = 0.3, random_target: float = 0.25
) -> List[Shopper]:
    """``n`` shoppers whose sessions are derived from the catalogue (deterministic for a seed)."""
    rng = random.Random(seed)
    synonyms = _synonyms()
    by_category: Dict[str, List[ProductInfo]] = defaultdict(list)
    for p in products:
        by_category[p.category].append(p)
    categories = [c for c, items in by_category.items() if len(items) >= 15]
    if not categories:
        raise ValueError("the catalogue needs categories with at least 15 products; build a bigger one")
    weights = [len(by_category[c]) for c in categories]
    shoppers = []
    for i in range(n):
        category = rng.choices(categories, weights)[0]
        pool = by_category[category]
        colours = [c for c in (_colour(p) for p in pool) if c]
        brands = [p.brand for p in pool if p.brand]
        prices = sorted(p.price for p in pool if p.price is not None)
        tier = rng.randrange(3)  # budget / mid / premium third of the category's prices
        lo = prices[int(tier * (len(prices) - 1) / 3)]
        hi = prices[int((tier + 1) * (len(prices) - 1) / 3)]
        shopper = Shopper(
            sender_id=f"sim-{seed}-{i}",
            customer_id=f"SIM{seed:03d}{i:05d}",
            category=category,
            colour=rng.choice(colours) if colours and rng.random() < 0.8 else None,
            brand=rng.choice(brands) if brands and rng.random() < 0.5 else None,
            price_range=(lo, hi),
        )
        # Past purchases: things in the shopper's taste from other categories of the same department.
        department = category.split("/", 1)[0]
        related = [p for p in products if p.top_category == department and p.category != category]
        for _ in range(rng.randrange(0, 3)):
            if related:
                shopper.past.append(rng.choices(related, [_taste(shopper, p) for p in related])[0])
        # Browse: mostly in taste, some noise.
        for _ in range(rng.randint(3, 6)):
            if rng.random() < noise:
                source = pool if rng.random() < 0.5 else products
                shopper.viewed.append(rng.choice(source))
            else:
                shopper.viewed.append(rng.choices(pool, [_taste(shopper, p) ** 2 for p in pool])[0])
        # Search words: a synonym of the category, sometimes with the colour.
        words = synonyms.get(category) or (category.split("/")[-1].lower(),)
        shopper.query = rng.choice(words)
        if shopper.colour and rng.random() < 0.3:
            shopper.query_colour = shopper.colour
            shopper.query = f"{shopper.colour} {shopper.query}"
        # Buy: a product not viewed yet, in taste (or at random), from the category.
        seen = {p.id for p in shopper.viewed}
        unseen = [p for p in pool if p.id not in seen] or pool
        if rng.random() < random_target:
            shopper.target = rng.choice(unseen)
        else:
            shopper.target = rng.choices(unseen, [_taste(shopper, p) ** 2 for p in unseen])[0]
        shoppers.append(shopper)
    return shoppers


def session_events(shopper: Shopper, start: float) -> List[Dict[str, Any]]:
    """The shopper's stream up to the moment of the search: Rasa events and site events, as the broker carries them."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

    from insights.site_events import validate

    clock = [start]

    def rasa(event: Any) -> Dict[str, Any]:
        clock[0] += 1.0
        event.timestamp = clock[0]
        return {"sender_id": shopper.sender_id, **event.as_dict()}

    def site(kind: str, **fields: Any) -> Dict[str, Any]:
        clock[0] += 1.0
        event, _ = validate({"type": kind, **fields}, sender_id=shopper.sender_id, customer_id=shopper.customer_id)
        return {**event.dict(exclude_none=True), "timestamp": clock[0]}

    events = []
    if shopper.past:  # an earlier visit in which they bought
        events.append(site("purchased", product_ids=[p.id for p in shopper.past]))
    events += [rasa(ActionExecuted("action_session_start")), rasa(SessionStarted())]
    for p in shopper.viewed:
        events.append(site("product_viewed", product_id=p.id))
    entities = []
    if shopper.query_colour:
        entities.append({"entity": "colour", "value": shopper.query_colour})
    meta = {"customer_id": shopper.customer_id}
    events.append(
        rasa(
            UserUttered(
                shopper.query, intent={"name": "search_products", "confidence": 0.9}, entities=entities, metadata=meta
            )
        )
    )
    events.append(rasa(ActionExecuted("action_search_products")))
    question = shopper.viewed[-1]
    events.append(
        rasa(
            UserUttered(
                f"is the {question.title} comfortable?",
                intent={"name": "product_question", "confidence": 0.8},
                metadata=meta,
            )
        )
    )
    return events


# ---------------------------------------------------------------------------- similarity
class TfidfSimilarity:
    """Similarity-only retrieval without an index: TF-IDF cosine over title, category, brand, colour and description."""

    name = "tfidf"

    def __init__(self, products: Sequence[ProductInfo], descriptions: Dict[str, str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.products = list(products)
        texts = [
            f"{p.title} {p.category.replace('/', ' ')} {p.brand} {_colour(p) or ''} {descriptions.get(p.id, '')}"
            for p in self.products
        ]
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        self.matrix = self.vectorizer.fit_transform(texts)

    def search(self, query: str, k: int) -> List[Tuple[ProductInfo, float]]:
        scores = (self.matrix @ self.vectorizer.transform([query]).T).toarray().ravel()
        order = scores.argsort()[::-1][:k]
        return [(self.products[i], float(scores[i])) for i in order if scores[i] > 0]


class SearchSimilarity:
    """The shop's own product search (FAISS + keyword hybrid), as the actions call it."""

    name = "search"

    def __init__(self, by_id: Dict[str, ProductInfo]) -> None:
        from retrieval.shop_search import ShopSearch

        self.kb = ShopSearch.from_settings()
        self.by_id = by_id

    def search(self, query: str, k: int) -> List[Tuple[ProductInfo, float]]:
        hits = self.kb.search_products(query, k=k)
        return [(self.by_id[str(h.id)], float(h.score or 0.0)) for h in hits if str(h.id) in self.by_id]


def _descriptions(sessions: sessionmaker) -> Dict[str, str]:
    from shopdb.models import Product

    with sessions() as session:
        return {str(i): d or "" for i, d in session.execute(select(Product.id, Product.description))}


# ---------------------------------------------------------------------------- metrics
def hit_and_ndcg(ranked_ids: Sequence[str], target: str, k: int = K) -> Tuple[float, float]:
    top = list(ranked_ids[:k])
    if target not in top:
        return 0.0, 0.0
    return 1.0, 1.0 / math.log2(top.index(target) + 2)


@dataclass
class Result:
    name: str
    hits: float = 0.0
    ndcg: float = 0.0
    n: int = 0

    def add(self, hit: float, gain: float) -> None:
        self.hits += hit
        self.ndcg += gain
        self.n += 1

    @property
    def hit_rate(self) -> float:
        return self.hits / self.n if self.n else 0.0

    @property
    def mean_ndcg(self) -> float:
        return self.ndcg / self.n if self.n else 0.0


Candidates = Dict[str, List[Tuple[ProductInfo, float]]]


def candidates_for(shoppers: Sequence[Shopper], similarity: Any) -> Candidates:
    """The similarity search's top 50 for each shopper's query (computed once, shared by every ranker)."""
    return {s.sender_id: similarity.search(s.query, CANDIDATES) for s in shoppers}


def evaluate(
    shoppers: Sequence[Shopper],
    profiles: Dict[str, Any],
    candidates: Candidates,
    popularity: Dict[str, float],
    weights: Weights = DEFAULT_WEIGHTS,
) -> Tuple[List[Result], float]:
    """Hit-rate@10 / NDCG@10 of each ranker on the same candidates; also the candidates' recall@50."""
    global_top = sorted(popularity, key=lambda pid: -popularity[pid])

    def profile_aware(cands: List[Tuple[ProductInfo, float]], s: Shopper) -> List[str]:
        hits: List[Dict[str, Any]] = [{"product": p, "score": score} for p, score in cands]  # as search hits
        return [c["product"].id for c in rank(hits, profiles[s.sender_id], s.past, weights=weights)]

    rankers: Dict[str, Callable[[List[Tuple[ProductInfo, float]], Shopper], List[str]]] = {
        "popularity (global top 10)": lambda cands, s: global_top[:K],
        "popularity (re-ranked candidates)": lambda cands, s: [
            p.id for p, _ in sorted(cands, key=lambda c: -popularity.get(c[0].id, 0.0))
        ],
        "similarity only": lambda cands, s: [p.id for p, _ in cands],
        "profile-aware (insights.recommend)": profile_aware,
    }
    results = {name: Result(name) for name in rankers}
    in_candidates = 0
    for shopper in shoppers:
        target = shopper.target
        assert target is not None  # simulate_shoppers picks one for every shopper
        cands = candidates[shopper.sender_id]
        in_candidates += any(p.id == target.id for p, _ in cands)
        for name, ranker in rankers.items():
            results[name].add(*hit_and_ndcg(ranker(cands, shopper), target.id))
    return list(results.values()), in_candidates / max(1, len(shoppers))


# ---------------------------------------------------------------------------- pipeline
def build_profiles(
    shoppers: Sequence[Shopper], shop_sessions: sessionmaker, workdir: Path
) -> Tuple[Dict[str, Any], int, float]:
    """Publish every session through Rasa's SQLEventBroker, consume it into a scratch database, read the profiles."""
    from insights.consumer import ProfileUpdater, SQLConsumer
    from insights.db import migrate_shop_db
    from insights.profile_store import get_profile
    from insights.stream import SQLEventSource, sql_broker
    from shopdb.db import create_db_engine, session_factory

    scratch_url = f"sqlite:///{workdir / 'profiles.db'}"
    migrate_shop_db(scratch_url)
    scratch = session_factory(create_db_engine(scratch_url))
    broker = sql_broker(str(workdir / "events.db"))
    _no_fsync(broker.engine)  # scratch data: do not wait for the disk on every published event
    start = time.time() - 3600
    count = 0
    for i, shopper in enumerate(shoppers):
        for event in session_events(shopper, start + 100 * i):
            broker.publish(event)
            count += 1
    source = SQLEventSource.from_url(f"sqlite:///{workdir / 'events.db'}")
    updater = ProfileUpdater(scratch, catalogue=Catalogue(shop_sessions))  # products from the real shop
    began = time.perf_counter()
    SQLConsumer(source, updater).consume_once()
    seconds = time.perf_counter() - began
    profiles = {s.sender_id: get_profile(s.sender_id, sessions=scratch) for s in shoppers}
    return profiles, count, seconds


def _no_fsync(engine: Any) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=OFF")


def format_table(results: Sequence[Result], n: int) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"{'ranker'.ljust(width)}  hit-rate@10  NDCG@10", f"{'-' * width}  -----------  -------"]
    lines += [f"{r.name.ljust(width)}  {r.hit_rate:11.3f}  {r.mean_ndcg:7.3f}" for r in results]
    return "\n".join(lines)


def tune(shoppers, profiles, candidates: Candidates, popularity) -> Weights:
    """A small grid over the weights, on a separate seed (never the reported one)."""
    best, best_ndcg = DEFAULT_WEIGHTS, -1.0
    for sim in (0.5, 1.0, 2.0):
        for category in (0.4, 0.8):
            for attributes in (0.3, 0.6, 1.0):
                for price in (0.2, 0.4, 0.8):
                    weights = Weights(similarity=sim, category=category, attributes=attributes, price=price)
                    results, _ = evaluate(shoppers, profiles, candidates, popularity, weights)
                    ndcg = results[-1].mean_ndcg
                    if ndcg > best_ndcg:
                        best, best_ndcg = weights, ndcg
    return best


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--similarity",
        choices=("auto", "search", "tfidf"),
        default="auto",
        help="candidate source: the shop's search (needs `shop build`) or TF-IDF",
    )
    parser.add_argument(
        "--database-url", help="shop database with the catalogue (default: SHOP_DATABASE_URL / var/shop.db)"
    )
    parser.add_argument("--tune", action="store_true", help="pick the profile weights on seed+1000 first, then report")
    args = parser.parse_args(argv)

    from insights.db import shop_sessions

    sessions = shop_sessions(args.database_url)
    products, popularity = load_catalogue(sessions)
    if not products:
        print("the shop database has no products: run `shop build` first", file=sys.stderr)
        return 2
    by_id = {p.id: p for p in products}
    similarity: Any
    if args.similarity in ("auto", "search"):
        try:
            similarity = SearchSimilarity(by_id)
            similarity.search("warm up", 1)
        except Exception as error:  # no index built
            if args.similarity == "search":
                raise
            print(f"(shop search unavailable: {error}; using TF-IDF)", file=sys.stderr)
            similarity = TfidfSimilarity(products, _descriptions(sessions))
    else:
        similarity = TfidfSimilarity(products, _descriptions(sessions))

    weights = DEFAULT_WEIGHTS
    with tempfile.TemporaryDirectory(prefix="insights-bench-") as tmp:
        if args.tune:
            tune_shoppers = simulate_shoppers(products, args.sessions, args.seed + 1000)
            tune_dir = Path(tmp) / "tune"
            tune_dir.mkdir()
            tune_profiles, _, _ = build_profiles(tune_shoppers, sessions, tune_dir)
            weights = tune(tune_shoppers, tune_profiles, candidates_for(tune_shoppers, similarity), popularity)
            print(f"tuned on seed {args.seed + 1000}: {weights}")
        shoppers = simulate_shoppers(products, args.sessions, args.seed)
        began = time.perf_counter()
        profiles, events, consume_seconds = build_profiles(shoppers, sessions, Path(tmp))
        results, recall = evaluate(shoppers, profiles, candidates_for(shoppers, similarity), popularity, weights)
        seconds = time.perf_counter() - began

    print(
        f"catalogue: {len(products)} products; {len(shoppers)} simulated sessions (seed {args.seed}); "
        f"candidates: {similarity.name} top {CANDIDATES}"
    )
    print(
        f"events through the SQL broker: {events}; consumed in {consume_seconds:.2f} s "
        f"({events / max(consume_seconds, 1e-9):.0f} events/s); whole run {seconds:.1f} s"
    )
    print(f"bought product among the candidates (recall@{CANDIDATES}): {recall:.3f}\n")
    print(format_table(results, len(shoppers)))
    taste = Counter(bool(s.colour) + bool(s.brand) for s in shoppers)
    print(f"\nshoppers with 0/1/2 stated tastes (colour, brand): {taste[0]}/{taste[1]}/{taste[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
