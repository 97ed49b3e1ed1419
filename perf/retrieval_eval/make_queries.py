"""Generate the labelled shopper queries of ``product_queries.jsonl`` from the catalogue's structure.

Each query is written the way a shopper asks, from a product type's *synonyms*
(never its title noun), plus a feature, audience, use, colour, material, brand
or price cap; its relevant products are *every* product of the default
catalogue (5,000 products, default seed) that satisfies all those constraints.
So relevance is defined by attributes, not by string overlap with titles, and a
search engine that only matches title words is not favoured. A minority of
queries ask for a brand's model line or a SKU, where exact matching matters.

Run ``python -m perf.retrieval_eval.make_queries`` to regenerate (deterministic).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict, List, Optional

from shopdb import demo_data as gen
from shopdb.taxonomy import TYPES_BY_KEY, ProductType

OUT = Path(__file__).resolve().parent / "product_queries.jsonl"
N_PRODUCTS = 5000
MAX_RELEVANT = 60


def _synonym(rng: random.Random, t: ProductType) -> str:
    noun = t.noun.lower().replace("'", "")
    options = [s for s in t.synonyms if s.lower().replace("'", "") != noun and s.lower() not in noun]
    return rng.choice(options or list(t.synonyms))


def _has(p: gen.ProductRecord, key: str, value: str) -> bool:
    v = p.attributes.get(key)
    return value in v if isinstance(v, list) else v == value


def build_queries(seed: int = 7) -> List[dict]:
    rng = random.Random(seed)
    products = list(gen.iter_products(N_PRODUCTS))
    by_type: Dict[str, List[gen.ProductRecord]] = defaultdict(list)
    for p in products:
        assert p.type_key is not None  # generate_product sets it on every generated product
        by_type[p.type_key].append(p)
    types = [TYPES_BY_KEY[k] for k in sorted(by_type) if len(by_type[k]) >= 15]
    queries: List[dict] = []
    seen = set()

    # ``pred`` is called with one product; the lambdas bind their loop values as default arguments, which mypy
    # cannot match to ``Callable[[gen.ProductRecord], bool]``
    def add(
        kind: str,
        text: str,
        pred: Callable[..., bool],
        pool: List[gen.ProductRecord],
        constraints: dict,
        max_rel: int = MAX_RELEVANT,
    ) -> None:
        rel = [p.sku for p in pool if pred(p)]
        if not rel or len(rel) > max_rel or text in seen:
            return
        seen.add(text)
        queries.append(
            {"id": f"q{len(queries) + 1:03d}", "kind": kind, "query": text, "relevant": rel, "constraints": constraints}
        )

    for round_ in range(6):
        for t in types:
            pool = by_type[t.key]
            p = rng.choice(pool)
            syn = _synonym(rng, t)
            feats = p.attributes.get("features") or []
            aud = p.attributes.get("audience")
            which = (round_ + len(queries)) % 6
            if which == 0 and feats:
                f = rng.choice(feats)
                if aud in ("men", "women", "kids"):
                    add(
                        "feature+audience",
                        f"{f} {syn} for {aud}",
                        lambda q, f=f, a=aud: (
                            f in (q.attributes.get("features") or []) and q.attributes.get("audience") == a
                        ),
                        pool,
                        {"type": t.key, "feature": f, "audience": aud},
                    )
                else:
                    add(
                        "feature",
                        f"{f} {syn}",
                        lambda q, f=f: f in (q.attributes.get("features") or []),
                        pool,
                        {"type": t.key, "feature": f},
                    )
            elif which == 1 and p.attributes.get("colour"):
                c = p.attributes["colour"]
                cap = int(float(p.price) * 1.25 / 10 + 1) * 10
                add(
                    "colour+price",
                    f"{c} {syn} under {cap} euros",
                    lambda q, c=c, cap=cap: q.attributes.get("colour") == c and float(q.price) <= cap,
                    pool,
                    {"type": t.key, "colour": c, "max_price": cap},
                )
            elif which == 2 and t.uses:
                use = rng.choice(t.uses)
                words = use.split(" ", 1)
                phrase = f"{syn} {use}" if words[0] in ("for", "as") else f"{syn} for {use}"
                # the "use" appears only in descriptions, never in titles
                add("use", phrase, lambda q, u=use: u in q.description, pool, {"type": t.key, "use": use})
            elif which == 3 and p.attributes.get("material"):
                m = p.attributes["material"]
                add(
                    "material",
                    f"{syn} made of {m}",
                    lambda q, m=m: q.attributes.get("material") == m,
                    pool,
                    {"type": t.key, "material": m},
                )
            elif which == 4:
                add(
                    "brand",
                    f"{p.brand} {syn}",
                    lambda q, b=p.brand: q.brand == b,
                    pool,
                    {"type": t.key, "brand": p.brand},
                )
            elif which == 5:
                # the model line ("Stridewell Vento 3"): exact-name lookups where keywords help
                line = p.description.split(" is a", 1)[0].replace("The ", "", 1)
                add(
                    "model_line",
                    line,
                    lambda q, line=line: q.title.startswith(line + " ") or q.title == line,
                    products,
                    {"model_line": line},
                    max_rel=10,
                )
    for p in rng.sample(products, 20):
        add(
            "sku",
            rng.choice([p.sku, p.sku.lower(), f"do you have {p.sku}?"]),
            lambda q, s=p.sku: q.sku == s,
            products,
            {"sku": p.sku},
        )
    return queries


def main(out: Optional[Path] = None) -> None:
    queries = build_queries()
    path = out or OUT
    with open(path, "w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q) + "\n")
    kinds: Dict[str, int] = defaultdict(int)
    for q in queries:
        kinds[q["kind"]] += 1
    print(f"wrote {len(queries)} queries to {path}: {dict(kinds)}")


if __name__ == "__main__":
    main()
