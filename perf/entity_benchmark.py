"""Entity extraction benchmark: ``shop bench entities``.

Scores what the search path reads from a shopper's words against the labels of
``perf/data/search_messages.jsonl`` (262 search messages with typos and slang: category, colour,
size, brand, material, price_max, price_min, capacity), on the 5,000-product demo catalogue
(``var/bench/quality``, shared with ``shop bench search``):

* **parser**: :class:`retrieval.query_parser.QueryParser`, built from the catalogue in the database;
* **old extractor** (baseline): the regular expressions the search used before (price, size, a
  colour spelt exactly), kept here as :func:`old_extract_filters`;
* **old extractor + lookups**: the same plus the bot's NLU lookup tables for category and colour
  (``actions.vocabulary``, exact words), which gave the actions their entities before.

The file is split by line: even lines (0-based) are the **dev** part, on which the parser's
thresholds (:class:`retrieval.query_parser.Tuning`) are chosen by coordinate ascent on micro F1;
odd lines are the **report** part, scored once with the chosen thresholds. Then **search
fidelity**: for the report messages labelled with a category, a colour and a size, the share of the
(up to 5) results shown that meet all three, with the old extractor in the search path and with
the parser.

    shop bench entities [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from core.settings import get_settings
from perf.stats import percentile
from retrieval.filters import ProductFilters, measure_of, normalise_size, size_matches
from retrieval.query_parser import QueryParser, Tuning

DATA = Path(__file__).resolve().parent / "data" / "search_messages.jsonl"
ENTITIES = ("category", "colour", "size", "brand", "material", "price_max", "price_min", "capacity")
GRID: Dict[str, Sequence[Any]] = {
    "slips_short": (0.0, 1.0, 2.0),
    "slips_long": (1.0, 2.0, 3.0),
    "category_share": (0.4, 0.5, 0.6, 0.7, 0.8),
    "category_count": (2, 3, 5, 8),
    "evidence_share": (0.1, 0.2, 0.3, 0.4, 0.5),
    "value_share": (0.5, 0.6, 0.7, 0.8, 0.9),
}
EXAMPLE = "yo got any cheap sneakrs in whte size 42??"

Labels = Dict[str, Any]
Extractor = Callable[[str], Labels]


# ----------------------------------------------------------------------------- the old extractor (baseline)

_NUM = r"(\d+(?:[.,]\d{1,2})?)"
_CUR = r"(?:€|eur|euros?|\$|usd|dollars?|£|gbp|pounds?|bucks)?"
_OLD_PRICE_MAX = re.compile(
    rf"\b(?:under|below|less than|cheaper than|max(?:imum)?|up to|at most|within|no more than)\s*{_CUR}\s*{_NUM}\s*{_CUR}",
    re.I,
)
_OLD_PRICE_MIN = re.compile(
    rf"\b(?:over|above|more than|at least|from|starting at|min(?:imum)?)\s*{_CUR}\s*{_NUM}\s*{_CUR}", re.I
)
_OLD_PRICE_RANGE = re.compile(rf"\bbetween\s*{_CUR}\s*{_NUM}\s*{_CUR}\s*(?:and|-|to)\s*{_CUR}\s*{_NUM}\s*{_CUR}", re.I)
_OLD_SIZE = re.compile(r"\bsize\s*([0-9]{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl|small|medium|large)\b", re.I)
_OLD_IN_STOCK = re.compile(r"\b(?:in stock|available now|available today|ships today)\b", re.I)
_OLD_SIZE_WORDS = {"small": "S", "medium": "M", "large": "L"}


def old_extract_filters(query: str, colours: Sequence[str] = ()) -> Tuple[str, ProductFilters]:
    """The search path's extractor before the parser (``retrieval/search.py``, verbatim): filters hinted
    in free text, and the text without the price/size phrases."""
    f = ProductFilters()
    text = query
    m = _OLD_PRICE_RANGE.search(text)
    if m:
        f.min_price, f.max_price = sorted((float(m.group(1).replace(",", ".")), float(m.group(2).replace(",", "."))))
        text = text.replace(m.group(0), " ")
    else:
        m = _OLD_PRICE_MAX.search(text)
        if m:
            f.max_price = float(m.group(1).replace(",", "."))
            text = text.replace(m.group(0), " ")
        m = _OLD_PRICE_MIN.search(text)
        if m and not re.match(r"from\s+[a-z]", m.group(0), re.I):
            f.min_price = float(m.group(1).replace(",", "."))
            text = text.replace(m.group(0), " ")
    m = _OLD_SIZE.search(text)
    if m:
        size = m.group(1)
        f.size = _OLD_SIZE_WORDS.get(size.lower(), size.upper())
        text = text.replace(m.group(0), " ")
    if _OLD_IN_STOCK.search(text):
        f.in_stock = True
    lowered = f" {text.lower()} "
    for colour in sorted(colours, key=len, reverse=True):  # "dark blue" before "blue"
        if re.search(rf"(?<![a-z-]){re.escape(colour)}(?![a-z-])", lowered):
            f.colour = colour
            break
    text = re.sub(r"\s+", " ", text).strip(" ,.?!")
    return text or query, f


def lookup_entities(text: str) -> Dict[str, str]:
    """Category and colour as the bot's NLU lookup tables found them (whole words, longest first)."""
    from actions.vocabulary import category_for, lookup_tables, normalise_colour

    found: Dict[str, str] = {}
    lowered = text.lower()
    for entity in ("category", "colour"):
        for term in lookup_tables()[entity]:
            if re.search(rf"\b{re.escape(term)}\b", lowered):
                value = category_for(term) if entity == "category" else normalise_colour(term)
                if value:
                    found[entity] = value
                break
    return found


# ----------------------------------------------------------------------------- scoring


def labels_of(filters: ProductFilters) -> Labels:
    capacity = measure_of(filters.capacity) if filters.capacity else None
    return {
        "category": filters.category,
        "colour": filters.colour,
        "size": filters.size,
        "brand": filters.brand,
        "material": filters.material,
        "price_max": filters.max_price,
        "price_min": filters.min_price,
        "capacity": capacity[0] if capacity else None,
    }


def _same(entity: str, value: Any) -> Any:
    """A label in one spelling: sizes normalised, amounts as floats, words in lower case."""
    if value is None:
        return None
    if entity == "size":
        return normalise_size(value)
    if entity in ("price_max", "price_min", "capacity"):
        return float(value)
    return str(value).lower()


@dataclass
class Score:
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)

    def add(self, gold: Labels, predicted: Labels) -> None:
        for entity in ENTITIES:
            want, got = _same(entity, gold.get(entity)), _same(entity, predicted.get(entity))
            if want is not None and want == got:
                self.tp[entity] += 1
                continue
            self.fp[entity] += got is not None
            self.fn[entity] += want is not None

    def prf(self, entity: Optional[str] = None) -> Tuple[float, float, float]:
        """Precision, recall and F1 of one entity type, or micro-averaged over all."""
        pick: Callable[[Counter], int] = (lambda c: c[entity]) if entity else (lambda c: sum(c.values()))
        tp, fp, fn = pick(self.tp), pick(self.fp), pick(self.fn)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score(extract: Extractor, messages: Sequence[dict]) -> Score:
    result = Score()
    for message in messages:
        result.add(message["entities"], extract(message["text"]))
    return result


def tune(vocabulary: Any, dev: Sequence[dict]) -> Tuple[Tuning, float]:
    """Coordinate ascent on the dev part's micro F1, twice over the grid; a tie keeps the value held."""
    best = Tuning()

    def f1(tuning: Tuning) -> float:
        parser = QueryParser(vocabulary, tuning)
        return score(lambda text: labels_of(parser.parse(text).filters), dev).prf()[2]

    best_f1 = f1(best)
    for _ in range(2):
        for name, values in GRID.items():
            for value in values:
                candidate = replace(best, **{name: value})
                candidate_f1 = f1(candidate)
                if candidate_f1 > best_f1 + 1e-9:
                    best, best_f1 = candidate, candidate_f1
    return best, best_f1


def split(messages: Sequence[dict]) -> Tuple[List[dict], List[dict]]:
    """(dev, report): even and odd lines of the file."""
    return list(messages[0::2]), list(messages[1::2])


# ----------------------------------------------------------------------------- search fidelity


def meets(hit: Any, gold: Labels) -> bool:
    """The product has the labelled category, colour and size."""
    sizes = hit.attributes.get("size")
    offered = sizes if isinstance(sizes, list) else [sizes] if sizes else []
    return (
        hit.category.lower() == str(gold["category"]).lower()
        and str(hit.attributes.get("colour") or "").lower() == str(gold["colour"]).lower()
        and any(size_matches(str(gold["size"]), str(s)) for s in offered)
    )


def fidelity(search: Any, messages: Sequence[dict], colours: Sequence[str]) -> Dict[str, Dict[str, float]]:
    """Of the (up to 5) results shown, the share meeting category + colour + size, and the messages whose
    results all meet them: old extractor vs parser in the search path. A search that asked for more
    (a material, a price) may rightly show fewer than five."""
    labelled = [m for m in messages if all(m["entities"].get(e) for e in ("category", "colour", "size"))]

    def old(text: str) -> List[Any]:  # the old search path: its hints as filters, dropped when they leave nothing
        words, hinted = old_extract_filters(text, colours)
        return search.search_products(words, hinted, 5, parse_query=False) or search.search_products(
            words, None, 5, parse_query=False
        )

    def new(text: str) -> List[Any]:
        return search.search_products(text, None, 5)

    out: Dict[str, Dict[str, float]] = {}
    for name, find in (("old extractor", old), ("parser", new)):
        shares, all_right = [], 0
        for message in labelled:
            hits = find(message["text"])
            good = sum(meets(hit, message["entities"]) for hit in hits)
            shares.append(good / len(hits) if hits else 0.0)
            all_right += bool(hits) and good == len(hits)
        out[name] = {"messages": len(labelled), "shown_share": statistics.mean(shares), "all_right": all_right}
    return out


# ----------------------------------------------------------------------------- the run


def run(out: Optional[Path] = None) -> dict:
    from perf.retrieval_benchmark import load_jsonl, quality_shop
    from retrieval.shop_search import ShopSearch

    search = ShopSearch.from_settings(quality_shop(get_settings()))
    search.warm_up()
    view = search.retrieval.products.view
    colours = sorted({c for c in view.colour if c})
    messages = load_jsonl(DATA)
    dev, report = split(messages)
    print(
        f"\n{len(messages)} labelled search messages: dev = even lines ({len(dev)}, thresholds chosen there), "
        f"report = odd lines ({len(report)}, figures below)"
    )

    started = time.perf_counter()
    tuning, dev_f1 = tune(view.parser.vocabulary, dev)
    print(
        f"tuning on dev ({time.perf_counter() - started:.0f} s): {asdict(tuning)}, dev micro F1 {dev_f1:.3f}"
        f" ({'the shipped defaults' if tuning == Tuning() else 'differs from the shipped Tuning()'})"
    )
    parser = QueryParser(view.parser.vocabulary, tuning)

    def old(text: str) -> Labels:
        return labels_of(old_extract_filters(text, colours)[1])

    def old_lookups(text: str) -> Labels:
        return {**old(text), **lookup_entities(text)}

    def parsed(text: str) -> Labels:
        return labels_of(parser.parse(text).filters)

    systems: List[Tuple[str, Extractor]] = [("old extractor", old), ("old + lookups", old_lookups), ("parser", parsed)]
    results: dict = {"tuning": asdict(tuning), "dev_f1": dev_f1, "parts": {}}
    for part, chosen in (("dev", dev), ("report", report)):
        print(f"\n{part} part ({len(chosen)} messages): precision / recall / F1")
        print(f"{'entity':<10} " + " ".join(f"{name:>22}" for name, _ in systems))
        scores = {name: score(extract, chosen) for name, extract in systems}
        for entity in (*ENTITIES, None):
            row = [scores[name].prf(entity) for name, _ in systems]
            print(f"{entity or 'overall':<10} " + " ".join(f"{p:6.3f} {r:6.3f} {f:6.3f}   " for p, r, f in row))
        results["parts"][part] = {
            name: {entity or "overall": scores[name].prf(entity) for entity in (*ENTITIES, None)} for name, _ in systems
        }

    latencies = []
    for message in report:
        started = time.perf_counter()
        parser.parse(message["text"])
        latencies.append((time.perf_counter() - started) * 1000)
    results["parse_ms"] = {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)}
    print(f"\nparse time per message: p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms")

    view.parser = parser  # the search path reads the words with the thresholds chosen on dev
    results["fidelity"] = fidelity(search, report, colours)
    print(
        "\nsearch fidelity, report messages labelled with category + colour + size: results (up to 5) meeting all three"
    )
    for name, share in results["fidelity"].items():
        print(
            f"  {name:<14} {share['shown_share']:.3f} of the results shown; "
            f"every result right for {share['all_right']}/{share['messages']} messages"
        )

    found = search.find_products(EXAMPLE, k=5)
    print(f'\n"{EXAMPLE}" -> {found.filters}, read {found.corrections}, cheapest first: {found.cheapest_first}')
    for hit in found.hits:
        print(f"  {hit.price:8.2f}  {hit.title} (size {hit.attributes.get('size')})")
    if out:
        out.write_text(json.dumps(results, indent=2))
    return results


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    run(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
