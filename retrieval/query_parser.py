"""What a shopper's search words mean, in the catalogue's own vocabulary.

"yo got any cheap sneakrs in whte size 42??" has to become *Sneakers, white, size 42, cheapest
first*. The words that matter are the catalogue's: its colours, brands, materials, sizes and
category names, and the words of its product titles and descriptions (which carry the names
shoppers use: "trainers", "kicks", "rain jacket"). :class:`CatalogueVocabulary` collects them from
the catalogue's rows, so an imported catalogue is understood like the demo shop, and
:class:`QueryParser`:

1. repairs misspelt words against that vocabulary ("whte" -> white, "sneakrs" -> sneakers,
   "apexxa" -> Apexa, "gry" -> grey) with ``rapidfuzz``, never touching a word the catalogue,
   the query words below or plain English know ("niece" stays "niece", not "piece");
2. reads the filters: price ("under 60 quid", "max 80e", "between 20 and 50", "under a tenner"),
   capacity ("tent for 2 people", "30l", "10k mAh"), colour, brand and material (the catalogue's
   values, longest first, or a word that stands for one value: "merino" -> merino wool), the
   category the words point to (the category whose products most use them), and the size ("size
   42", "sz 42", "im a 37", a size the category sells: "L", "39-42", "king", "28cm");
3. returns the words left for the semantic and keyword search, and every repair it made, so the
   bot can say what it understood.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

from retrieval.filters import ProductFilters, is_strict_bound, measure_in, measure_of, size_matches

# Words a search is made of that are not about products: never repaired, never evidence.
COMMON_WORDS = frozenset(
    """a an and any anything are as at be but by can could do does doing for from get got gotta have hey hi
    i im in is it its looking look me my need of on one ones or please pls some something the them these
    this those to u ur under over up want wanted wants we what with would you your yo show find buy like
    than less more max min maximum minimum between around about cheap cheaper cheapest expensive best good
    nice new size sz colour color price euro euros eur quid bucks dollars pounds tenner fiver grand
    people person ppl pers sell selling stock available really very also just not no nothing yes ok okay
    thanks thank there here where which who how much many after poss lol stuff thing things everything
    proper if else other another same all w plz thx asap mine our us he she his her him son daughter mum
    mom dad wife husband friend little tiny big first second third fourth fifth last""".split()
)
ATTRIBUTES = ("colour", "brand", "material")
SLANG_AMOUNTS = {"fiver": "5", "tenner": "10", "grand": "1000"}
_UNSEEN = 0.001  # the share a category gets for a word none of its products use: unlikely, not impossible
_VOWELS = frozenset("aeiouy")
_ALIKE = frozenset(frozenset(pair) for pair in ("ck", "kq", "cq", "sz", "sc", "iy", "mn", "fv"))

_NUMBER = r"(\d+(?:[.,]\d{1,2})?)(k\b)?"
_MONEY = r"(?:€|\$|£|(?:eur(?:os?)?|e|usd|dollars?|gbp|pounds?|quid|bucks)(?![a-z]))"
_AMOUNT = rf"{_MONEY}?\s*{_NUMBER}\s*{_MONEY}?"
_PRICE_RANGE = re.compile(rf"\b(?:between|from)\s*{_AMOUNT}\s*(?:and|-|to)\s*{_AMOUNT}")
_PRICE_MAX = re.compile(
    rf"(?:\b(?:under|below|less than|cheaper than|max(?:imum)?|up to|at most|within|(?:no|not|nothing) more than|"
    rf"budget(?: of| is)?|for less than)\s*|<\s*){_AMOUNT}"
)
_PRICE_MAX_AFTER = re.compile(rf"\b{_AMOUNT}\s*(?:max|or less|tops|at most)\b")
_PRICE_MIN = re.compile(rf"\b(?:over|above|more than|at least|starting at|min(?:imum)?)\s*{_AMOUNT}")
_PRICE_MIN_AFTER = re.compile(rf"\b{_AMOUNT}\s*(?:or more|and up)\b")
_SLANG = re.compile(rf"\b(?:a\s+)?({'|'.join(SLANG_AMOUNTS)})\b")
_CHEAP = re.compile(r"\b(?:cheap|cheaper|cheapest|budget|inexpensive|affordable|low cost|bargain)\b")
_IN_STOCK = re.compile(r"\b(?:in stock|available now|available today|ships today)\b")
_SIZE_CUE = re.compile(
    r"\b(?:shoe size|size|sz|sze|waist|in a|im a|uk|eu)\s*:?\s*(\d{1,2}(?:[.,]5)?|xxs|xs|s|m|l|xl|xxl|xxxl|[sml]/[mlx]{1,2})\b"
)
_CAPITAL_SIZE = re.compile(r"(?<![\w'/])(XXS|XS|S|M|L|XL|XXL|XXXL)(?![\w'/])")  # typed in capitals: a size
_LONG_SIZE = re.compile(r"(?<![\w'/])(xxs|xs|xl|xxl|xxxl)(?![\w'/])")
_WORD = re.compile(r"[a-z0-9]+")
_LETTERS = re.compile(r"(?<![a-z0-9])[a-z]+(?![a-z0-9])")


def _plain(text: str) -> str:
    """Lower case, no apostrophes, "&" read as "and", a hyphen between letters as a space."""
    text = text.lower().replace("'", "").replace("’", "").replace("&", " and ")
    return re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)


def _words(text: str) -> List[str]:
    return _WORD.findall(_plain(text))


def _phrase(value: str) -> str:
    """A catalogue value as shoppers type it: "Cobble & Co" -> "cobble and co"."""
    return " ".join(_words(value))


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _normalised(text: str) -> str:
    """The query as the parser reads it: plain words, one space, sizes and amounts spelt one way."""
    text = _plain(text)
    text = _SLANG.sub(lambda m: SLANG_AMOUNTS[m.group(1)], text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"(?<=\d)(?=(?:cm|mm|inch|in|kg|g|pieces|pcs|pc)\b)", " ", text)  # 28cm -> 28 cm
    text = re.sub(r"\b(?:pcs|pc|piece)\b", "pieces", text)
    return " ".join(text.split())


def _amount(number: str, thousand: Optional[str]) -> float:
    return float(number.replace(",", ".")) * (1000 if thousand else 1)


def _find(text: str, phrase: str) -> Optional["re.Match[str]"]:
    """``phrase`` as whole words of ``text``."""
    return re.search(rf"(?<![\w/-]){re.escape(phrase)}(?![\w/-])", text) if phrase else None


def _without(text: str, found: "re.Match[str]") -> str:
    return f"{text[: found.start()]} {text[found.end() :]}"


def _best(counts: Optional[Mapping[str, int]]) -> Tuple[Optional[str], float]:
    """The most frequent key and its share of all, or (None, 0)."""
    if not counts:
        return None, 0.0
    key, count = max(counts.items(), key=lambda item: (item[1], item[0]))
    return key, count / sum(counts.values())


@lru_cache(maxsize=1)
def english_words() -> FrozenSet[str]:
    """Whole words of the default embedding model's tokenizer (an English vocabulary of 30k entries):
    words a shopper spelt right, never "repaired" into a catalogue word one letter away."""
    try:
        from core.settings import default_embedding_model

        lines = (Path(default_embedding_model()) / "vocab.txt").read_text(encoding="utf-8").split()
    except (ImportError, OSError):  # another model in use and the package gone: the catalogue words still guard
        return frozenset()
    return frozenset(w for w in lines if len(w) >= 3 and w.isalpha())


def slip_cost(typed: str, word: str) -> float:
    """How far ``typed`` is from ``word`` as a typing slip: a dropped, added or swapped letter costs 1, a
    letter replaced by a vowel for a vowel or a sound-alike ("c"/"k") 1, by another letter 2, and a slip
    at the first letter 1 more (people rarely miss the first one: "runing" is running, not pruning)."""
    n, m = len(typed), len(word)
    d = [[float(i + j + 1) if (i == 0) != (j == 0) else 0.0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            a, b = typed[i - 1], word[j - 1]
            replace = 0.0 if a == b else 1.0 if {a, b} <= _VOWELS or frozenset((a, b)) in _ALIKE else 2.0
            if i == j == 1 and a != b:
                replace += 1.0
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + replace)
            if i > 1 and j > 1 and a == word[j - 2] and typed[i - 2] == b:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[n][m]


def abbreviation_cost(typed: str, word: str) -> Optional[float]:
    """``typed`` as ``word`` written short ("gry" grey, "bks" books, "brwn" brown): the same first letter,
    its letters in order, vowels left out freely and at most one consonant (which costs 0.5), at least
    half of the word. None when it is not a short form of ``word``."""
    if len(typed) < 3 or typed[0] != word[0] or 2 * len(typed) < len(word) or len(typed) >= len(word):
        return None
    position, dropped = 0, 0
    for letter in word:
        if position < len(typed) and typed[position] == letter:
            position += 1
        elif letter not in _VOWELS:
            dropped += 1
    return 1.0 + 0.5 * dropped if position == len(typed) and dropped <= 1 else None


@dataclass(frozen=True)
class Tuning:
    """The parser's thresholds, chosen on the dev part of ``perf/data/search_messages.jsonl``."""

    slips_short: float = 1.0  # slip cost allowed for a word of 4-5 letters
    slips_long: float = 3.0  # ... of 6 letters or more
    category_share: float = 0.6  # least belief in one category (words' evidence combined)
    category_count: int = 3  # least number of products using a word for it to be evidence ...
    evidence_share: float = 0.1  # ... and least share of them in one category (a word all use is no evidence)
    value_share: float = 0.6  # least share of the products using a word of a value that carry the value


@dataclass
class CatalogueVocabulary:
    """The catalogue's words: attribute values, sizes, category names, and which products use which words."""

    values: Mapping[str, Sequence[str]] = field(default_factory=dict)  # colour / brand / material -> values
    categories: Sequence[str] = ()  # full paths, "Shoes/Sneakers"
    sold: Mapping[str, Mapping[str, Set[str]]] = field(default_factory=dict)  # category -> attribute -> values
    sizes: Mapping[str, Set[str]] = field(default_factory=dict)  # category -> the sizes it sells
    capacities: Sequence[str] = ()  # sizes and attributes that state a capacity: "2-person", "20,000 mAh"
    word_categories: Mapping[str, Counter] = field(default_factory=dict)  # word or word pair -> categories
    word_values: Mapping[str, Mapping[str, Counter]] = field(default_factory=dict)  # attribute -> word -> values
    word_counts: Mapping[str, int] = field(default_factory=dict)  # word -> products using it

    def __post_init__(self) -> None:
        self.anchors: Set[str] = set()  # words of attribute values and category names
        self.pairs: Set[Tuple[str, str]] = set()  # their consecutive words ("ember", "books")
        named = [v for found in self.values.values() for v in found] + [c.rsplit("/", 1)[-1] for c in self.categories]
        for value in named:
            words = _phrase(value).split()
            self.anchors.update(w for w in words if w.isalpha())
            self.pairs.update(zip(words, words[1:]))
        self.words: Set[str] = set(self.word_counts) | self.anchors
        self._choices = sorted(w for w in self.words if len(w) >= 3 and w.isalpha())
        self._by_initial: Dict[str, List[str]] = defaultdict(list)
        for word in self._choices:
            self._by_initial[word[0]].append(word)

    @classmethod
    def from_rows(cls, rows: Iterable[Tuple[str, str, str, str, Mapping]]) -> "CatalogueVocabulary":
        """From (title, description, brand, category path, attributes) rows of the catalogue."""
        values: Dict[str, Set[str]] = {a: set() for a in ATTRIBUTES}
        sold: Dict[str, Dict[str, Set[str]]] = defaultdict(lambda: {a: set() for a in ATTRIBUTES})
        sizes: Dict[str, Set[str]] = defaultdict(set)
        capacities: Set[str] = set()
        word_categories: Dict[str, Counter] = defaultdict(Counter)
        word_counts: Counter = Counter()
        products = []
        for title, description, brand, category, attributes in rows:
            attributes = attributes or {}
            carried = {
                "colour": str(attributes.get("colour") or "").lower(),
                "brand": str(brand or ""),
                "material": str(attributes.get("material") or "").lower(),
            }
            size = attributes.get("size")
            offered = [str(s) for s in (size if isinstance(size, list) else [size] if size else [])]
            capacities.update(
                str(v) for v in [*offered, attributes.get("capacity"), attributes.get("volume")] if v and measure_of(v)
            )
            if not category:
                continue
            for attribute, value in carried.items():
                if value:
                    values[attribute].add(value)
                    sold[category][attribute].add(value)
            sizes[category].update(offered)
            # the category's own names count as words of its products ("knitwear", "bedding")
            words = set(_words(f"{title} {description} {category.replace('/', ' ')}"))
            words |= {w.replace("-", "") for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", title.lower())}  # "tshirt"
            word_counts.update(words)
            singular = [_singular(w) for w in _words(f"{title} {description}")]
            grams = {_singular(w) for w in words} | {f"{a} {b}" for a, b in zip(singular, singular[1:])}
            for gram in grams:
                word_categories[gram][category] += 1
            products.append((words, category, carried))
        category_words = {w for c in sold for w in _words(c.replace("/", " "))}
        value_words = {  # the words that may stand for a value: not a category's name, not a query word
            a: {w for v in found for w in _phrase(v).split() if len(w) > 1} - COMMON_WORDS - category_words
            for a, found in values.items()
        }
        word_values: Dict[str, Dict[str, Counter]] = {a: defaultdict(Counter) for a in ATTRIBUTES}
        for words, category, carried in products:
            for attribute, value in carried.items():
                for word in words & value_words[attribute]:
                    word_values[attribute][word][f"{category}\t{value}"] += 1
        return cls(
            values={a: sorted(found) for a, found in values.items()},
            categories=sorted(sold),
            sold=dict(sold),
            sizes=dict(sizes),
            capacities=sorted(capacities),
            word_categories={g: c for g, c in word_categories.items() if sum(c.values()) > 1},
            word_values={a: dict(v) for a, v in word_values.items()},
            word_counts=dict(word_counts),
        )

    def known(self, word: str) -> bool:
        """A word of the catalogue or of searching ("size", "under"): never repaired."""
        return word in self.words or _singular(word) in self.words or word in COMMON_WORDS

    def repair(self, word: str, before: str = "", after: str = "", tuning: Tuning = Tuning()) -> Optional[str]:
        """The catalogue word ``word`` is a slip or a short form of, or None to keep it.

        A plain English word is kept unless the repair completes a catalogue phrase with its neighbour
        ("light blu" -> light blue). Among equally close words, one that forms such a phrase wins
        ("ember bks" -> Ember Books), then a word of a value or a category name, then the commoner.
        """
        if len(word) < 3 or self.known(word):
            return None
        budget = 0.0 if len(word) < 4 else tuning.slips_short if len(word) <= 5 else tuning.slips_long
        english = word in english_words()
        if english:
            pool = [b for a, b in self.pairs if a == before] + [a for a, b in self.pairs if b == after]
        else:
            pool = [w for w in self._by_initial.get(word[0], ()) if len(w) <= 2 * len(word)] if len(word) <= 5 else []
            if budget:
                close = process.extract(word, self._choices, scorer=OSA.distance, score_cutoff=int(budget), limit=30)
                pool += [candidate for candidate, _, _ in close]
        costs: Dict[str, float] = {}
        for candidate in set(pool):
            cost = abbreviation_cost(word, candidate)
            if cost is None and budget and abs(len(candidate) - len(word)) <= budget:
                cost = slip_cost(word, candidate)
                cost = cost if cost <= budget else None
            if cost is not None:
                costs[candidate] = cost
        split = None if english else self._split(word)
        if split:
            costs[split] = 1.5
        if not costs:
            return None

        def rank(candidate: str) -> Tuple[float, bool, bool, int, str]:
            in_phrase = (before, candidate) in self.pairs or (candidate, after) in self.pairs
            return (
                costs[candidate],
                not in_phrase,
                candidate not in self.anchors,
                -self.word_counts.get(candidate, 0),
                candidate,
            )

        return min(costs, key=rank)

    def _split(self, word: str) -> Optional[str]:
        """Two catalogue words written as one ("yogamat" -> "yoga mat"), or None."""
        for cut in range(3, len(word) - 2):
            head, tail = word[:cut], word[cut:]
            if head in self.words and tail in self.words and head not in COMMON_WORDS and tail not in COMMON_WORDS:
                return f"{head} {tail}"
        return None

    def sells(self, category: Optional[str], attribute: str, value: str) -> bool:
        """Whether ``category`` (any, when None) has a product with this colour, brand or material."""
        return category is None or value in self.sold.get(category, {}).get(attribute, set())


@dataclass
class ParsedQuery:
    """A search as understood: the words left for search, the filters, and what was repaired."""

    text: str
    filters: ProductFilters
    corrections: Dict[str, str] = field(default_factory=dict)  # typed word -> catalogue word, in order
    cheap: bool = False  # "cheap", "budget": the cheapest of the relevant products first


@dataclass
class _Reading:
    """The query while it is read: the words not used up yet, and what they said so far."""

    text: str
    filters: ProductFilters = field(default_factory=ProductFilters)

    def take(self, found: "re.Match[str]") -> None:
        self.text = _without(self.text, found)


class QueryParser:
    """Reads the filters of a shopper's search in the catalogue's vocabulary (see the module docstring)."""

    def __init__(self, vocabulary: CatalogueVocabulary, tuning: Tuning = Tuning()) -> None:
        self.vocabulary = vocabulary
        self.tuning = tuning
        named = [(_phrase(v), a, v) for a, found in vocabulary.values.items() for v in found]
        self._values = sorted(named, key=lambda p: (-len(p[0].split()), -len(p[0]), ATTRIBUTES.index(p[1])))
        self._capacities = {measure_of(v): v for v in vocabulary.capacities}

    def parse(self, query: str) -> ParsedQuery:
        query = (query or "").strip()[:500]
        text, corrections = self.repaired(_normalised(query))
        reading = _Reading(f" {text} ")
        self._read_prices(reading)
        self._read_capacity(reading)
        named, rest = self._whole_values(reading.text)
        reading.filters.category = self.category_of(reading.text)
        for attribute, value in named.items():
            if self.vocabulary.sells(reading.filters.category, attribute, value):  # not "face cream"
                setattr(reading.filters, attribute, value)
        self._read_value_words(reading, named, rest)
        self._read_size(reading, query)
        if _IN_STOCK.search(reading.text):
            reading.filters.in_stock = True
        cheap = _CHEAP.search(reading.text)
        if cheap:
            reading.take(cheap)
        words = " ".join(reading.text.split()).strip(" ,.?!")
        return ParsedQuery(words or query, reading.filters, corrections, bool(cheap))

    # -- the steps ---------------------------------------------------------------------------------
    def repaired(self, text: str) -> Tuple[str, Dict[str, str]]:
        """``text`` with its slips repaired, and the repairs (typed -> catalogue word)."""
        tokens = list(_LETTERS.finditer(text))
        corrections: Dict[str, str] = {}
        out, end, previous = [], 0, ""
        for n, token in enumerate(tokens):
            word = token.group(0)
            after = tokens[n + 1].group(0) if n + 1 < len(tokens) else ""
            repaired = self.vocabulary.repair(word, previous, after, self.tuning)
            out.append(text[end : token.start()] + (repaired or word))
            end = token.end()
            if repaired:
                corrections[word] = repaired
            previous = repaired or word
        return "".join(out) + text[end:], corrections

    @staticmethod
    def _read_prices(reading: _Reading) -> None:
        found = _PRICE_RANGE.search(reading.text)
        if found:
            low, high = _amount(found.group(1), found.group(2)), _amount(found.group(3), found.group(4))
            reading.filters.min_price, reading.filters.max_price = sorted((low, high))
            reading.take(found)
            return
        for pattern, name, strictness in (
            (_PRICE_MAX, "max_price", "max_exclusive"),
            (_PRICE_MAX_AFTER, "max_price", "max_exclusive"),
            (_PRICE_MIN, "min_price", "min_exclusive"),
            (_PRICE_MIN_AFTER, "min_price", "min_exclusive"),
        ):
            found = pattern.search(reading.text)
            if found and getattr(reading.filters, name) is None:
                setattr(reading.filters, name, _amount(found.group(1), found.group(2)))
                setattr(reading.filters, strictness, is_strict_bound(found.group(0)))
                reading.take(found)

    def _read_capacity(self, reading: _Reading) -> None:
        found = measure_in(reading.text)
        if found is None:
            return
        (amount, unit), where = found
        shown = f"{amount:g}-person" if unit == "person" else f"{amount:g} {unit}"
        reading.filters.capacity = self._capacities.get((amount, unit), shown)
        reading.take(where)

    def _whole_values(self, text: str) -> Tuple[Dict[str, str], str]:
        """Colour, brand and material values named in full (longest first), and the words left. The
        value's words stay in the query: they are evidence of the category and words to search for."""
        found: Dict[str, str] = {}
        for phrase, attribute, value in self._values:
            if attribute not in found:
                where = _find(text, phrase)
                if where:
                    found[attribute] = value
                    text = _without(text, where)
        return found, text

    def _read_value_words(self, reading: _Reading, named: Mapping[str, str], rest: str) -> None:
        """A word of a value that most products (of the category) using the word carry: "merino"."""
        category = reading.filters.category
        for attribute in ATTRIBUTES:
            if attribute in named:
                continue
            for word in _words(rest):
                counts: Counter = Counter()
                for key, n in self.vocabulary.word_values[attribute].get(word, Counter()).items():
                    where, value = key.split("\t", 1)
                    if category in (None, where):
                        counts[value] += n
                total = sum(counts.values())
                holding = [v for v in counts if word in _phrase(v).split()]  # values the word is part of
                best = max(holding, key=lambda v: (counts[v], v), default=None)
                if best and counts[best] >= self.tuning.value_share * total:
                    setattr(reading.filters, attribute, best)
                    break

    def category_of(self, text: str) -> Optional[str]:
        """The category the words point to: each word (or word pair) used by enough products is evidence,
        weighted by the share of those products in each category; the combined belief must be strong."""
        words = [_singular(w) for w in _words(text) if len(w) > 1 and w not in COMMON_WORDS and w[0].isalpha()]
        grams = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
        evidence = []
        for gram in grams:
            counts = self.vocabulary.word_categories.get(gram)
            total = sum(counts.values()) if counts else 0
            if (
                counts
                and total >= self.tuning.category_count
                and max(counts.values()) >= self.tuning.evidence_share * total
            ):
                evidence.append(counts)
        if not evidence:
            return None
        belief = dict.fromkeys(self.vocabulary.categories, 0.0)
        for counts in evidence:
            total = sum(counts.values())
            for category in belief:
                belief[category] += math.log(counts.get(category, 0) / total + _UNSEEN)
        top = max(belief.values())
        weights = {c: math.exp(b - top) for c, b in belief.items()}
        category = max(weights, key=lambda c: weights[c])
        return category if weights[category] / sum(weights.values()) >= self.tuning.category_share else None

    def _read_size(self, reading: _Reading, query: str) -> None:
        """A size after a cue ("size 42", "im a 37"), one the category sells ("L", "king", "28 cm", a bare
        "38" for shoes, a 42 for socks sold as "39-42"), or a size letter typed in capitals."""
        found = _SIZE_CUE.search(reading.text)
        if found:
            reading.filters.size = found.group(1).upper().replace(",", ".")
            reading.take(found)
            return
        sold = sorted(self.vocabulary.sizes.get(reading.filters.category or "", ()), key=lambda s: -len(s))
        for size in sold:
            found = _find(reading.text, _normalised(size))
            if found:
                reading.filters.size = size
                reading.take(found)
                return
        for found in re.finditer(r"(?<![\w./-])\d{1,3}(?![\w./-])", reading.text):  # a 42 for socks sold in 39-42
            if any(size_matches(found.group(0), size) for size in sold):
                reading.filters.size = found.group(0)
                reading.take(found)
                return
        letter = _CAPITAL_SIZE.search(query) or _LONG_SIZE.search(reading.text)
        found = _find(reading.text, letter.group(1).lower()) if letter else None
        if letter and found:
            reading.filters.size = letter.group(1).upper()
            reading.take(found)


__all__ = ["CatalogueVocabulary", "ParsedQuery", "QueryParser", "Tuning", "abbreviation_cost", "slip_cost"]
