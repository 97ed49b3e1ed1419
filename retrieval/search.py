"""Product search (semantic + keyword, with structured filters), recommendations, policy retrieval.

* Semantic: the query's embedding against the FAISS product index.
* Keyword: TF-IDF (scikit-learn) over title, brand, SKU and category: what
  helps exact names, brands and model lines that an embedding blurs.
* Hybrid: a weighted sum of both cosine scores (weight tuned on the dev half
  of the labelled queries, see ``perf.retrieval_benchmark``); an exact SKU in the
  query always ranks first.
* Filters (category, price range, colour, size, brand, material, capacity, in stock) are
  applied inside the search (FAISS ID selectors, masked keyword scores), never by
  trimming a short list afterwards, so a narrow filter still fills ``k``.
* The shopper's words are read in the catalogue's own vocabulary (:mod:`retrieval.query_parser`:
  typos repaired, "under 60 quid", "whte", "sz 42", "sneakrs" become filters). Filters read
  from the words that leave nothing are let go a few at a time: material, brand and capacity,
  then colour, then size, then all of them. "cheap" puts the cheapest of the relevant products first.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from retrieval.embeddings import Embedder, shared_embedder
from retrieval.filters import Measure, ProductFilters, colour_matches, measure_of, size_matches
from retrieval.index import VectorIndex
from retrieval.indexing import POLICIES, PRODUCTS, policy_texts, product_fingerprint, sync_product_index
from retrieval.query_parser import CatalogueVocabulary, ParsedQuery, QueryParser
from shopdb.models import Category, PolicyPassage, Product

log = logging.getLogger(__name__)

SKU_TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{1,39}")
HYBRID_KEYWORD_WEIGHT = 0.35  # tuned on the dev split of knowledge/eval (see benchmark quality)
POLICY_THRESHOLD = 0.35  # cosine below which the bot says it does not know (tuned in benchmark quality)
CANDIDATES = 200
CHEAP_POOL = 30  # "cheap": the cheapest among this many most relevant products
# Filters read from the words, let go a few at a time when they leave nothing: the details first, the size last.
RELAX_STEPS = (("material", "brand", "capacity"), ("colour",), ("size",))


# ----------------------------------------------------------------------------- catalogue metadata


class CatalogueView:
    """Columns of the catalogue in numpy arrays (vectorised filtering, fast keyword scoring), and the
    parser that reads shoppers' words in this catalogue's vocabulary: built from the same rows, so
    an imported catalogue is understood as well as the demo shop."""

    def __init__(self, engine: Engine) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    Product.id,
                    Product.sku,
                    Product.title,
                    Product.brand,
                    Category.path,
                    Product.price,
                    Product.stock,
                    Product.attributes,
                    Product.description,
                )
                .join(Category, Category.id == Product.category_id)
                .order_by(Product.id)
            ).all()
        n = len(rows)
        self.ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        self.pos = {int(i): k for k, i in enumerate(self.ids)}
        self.sku = {r[1].upper(): r[0] for r in rows}
        self.brand = np.array([(r[3] or "").lower() for r in rows], dtype=object)
        self.category = np.array([(r[4] or "").lower() for r in rows], dtype=object)
        # Few distinct categories/colours: match the distinct values once, then index (fast masks).
        self._cat_values, self._cat_codes = np.unique(self.category.astype(str), return_inverse=True) if n else ([], [])
        self.price = np.fromiter((float(r[5]) for r in rows), dtype=np.float64, count=n)
        self.stock = np.fromiter((int(r[6] or 0) for r in rows), dtype=np.int64, count=n)
        attrs = [r[7] or {} for r in rows]
        self.colour = np.array([str(a.get("colour") or "").lower() for a in attrs], dtype=object)
        self._col_values, self._col_codes = np.unique(self.colour.astype(str), return_inverse=True) if n else ([], [])
        self.material = np.array([str(a.get("material") or "").lower() for a in attrs], dtype=object)
        # Sizes and capacities: a product has several, so each is a (products x distinct values)
        # membership matrix; a filter picks the fitting columns (no pass over products in Python).
        self._size_values, self._sizes = _membership([_size_set(a.get("size")) for a in attrs])
        self._measure_values, self._measures = _membership([_measures(a) for a in attrs])
        self.parser = QueryParser(CatalogueVocabulary.from_rows((r[2], r[8] or "", r[3], r[4], r[7]) for r in rows))
        docs = [f"{r[2]} {r[3]} {r[1]} {r[1].replace('-', ' ')} {(r[4] or '').replace('/', ' ')}" for r in rows]
        self.vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True, token_pattern=r"(?u)\b\w[\w']*\b"
        )
        # Column-major: a query touches only the postings of its own terms, not every product.
        self.matrix = self.vectorizer.fit_transform(docs).tocsc() if n else None

    def __len__(self) -> int:
        return len(self.ids)

    def mask(self, f: ProductFilters) -> Optional[np.ndarray]:
        """Boolean mask of products passing ``f`` (None when no filter is set)."""
        if f.is_empty():
            return None
        m = np.ones(len(self.ids), dtype=bool)
        if f.category:
            want = f.category.strip().lower().replace(" > ", "/")
            table = np.array(
                [
                    c == want or c.startswith(want + "/") or c.rsplit("/", 1)[-1] == want or c.split("/", 1)[0] == want
                    for c in self._cat_values
                ],
                dtype=bool,
            )
            m &= table[self._cat_codes]
        if f.min_price is not None:
            m &= (self.price > f.min_price) if f.min_exclusive else (self.price >= f.min_price)
        if f.max_price is not None:
            m &= (self.price < f.max_price) if f.max_exclusive else (self.price <= f.max_price)
        if f.in_stock:
            m &= self.stock > 0
        if f.brand:
            m &= self.brand == f.brand.strip().lower()
        if f.material:
            m &= self.material == f.material.strip().lower()
        if f.colour:
            table = np.array([colour_matches(f.colour, c) for c in self._col_values], dtype=bool)
            m &= table[self._col_codes]
        if f.size:
            m &= _any_of(self._sizes, [j for j, s in enumerate(self._size_values) if size_matches(str(f.size), s)])
        if f.capacity:
            wanted = measure_of(f.capacity)
            m &= _any_of(self._measures, [j for j, v in enumerate(self._measure_values) if v == wanted])
        return m

    def keyword_matches(self, query: str, mask: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Positions of the products sharing a term with ``query`` (and passing ``mask``), and their
        TF-IDF cosine; products without a shared term are not listed (their score is 0)."""
        if self.matrix is None:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        q = self.vectorizer.transform([query])
        if not q.nnz:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        hits = np.asarray(self.matrix[:, q.indices] @ q.data).ravel()
        positions = np.flatnonzero(hits > 0)
        if mask is not None:
            positions = positions[mask[positions]]
        return positions, hits[positions]


def _membership(sets: Sequence[frozenset]) -> Tuple[List[Any], Any]:
    """Distinct values of ``sets`` and a CSC (len(sets) x values) matrix: 1 where set i holds value j."""
    from scipy.sparse import csc_matrix

    values = sorted(set().union(*sets), key=str) if sets else []
    column = {v: j for j, v in enumerate(values)}
    rows = [i for i, found in enumerate(sets) for _ in found]
    cols = [column[v] for found in sets for v in found]
    matrix = csc_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(len(sets), len(values)))
    return values, matrix


def _any_of(membership: Any, columns: Sequence[int]) -> np.ndarray:
    """Rows holding at least one of ``columns``."""
    found = np.zeros(membership.shape[0], dtype=bool)
    if columns:
        found[membership[:, list(columns)].indices] = True
    return found


def _size_set(value: Any) -> frozenset:
    if value is None:
        return frozenset()
    values = value if isinstance(value, (list, tuple)) else [value]
    return frozenset(str(v).strip() for v in values)


def _measures(attributes: Dict[str, Any]) -> frozenset:
    """The capacities a product states: in its sizes ("2-person", "30 l") or attributes ("20,000 mAh")."""
    size = attributes.get("size")
    values = [
        *(size if isinstance(size, (list, tuple)) else [size]),
        attributes.get("capacity"),
        attributes.get("volume"),
    ]
    found: List[Measure] = [m for v in values if v and (m := measure_of(v)) is not None]
    return frozenset(found)


@dataclass
class Ranking:
    """A ranked search and what it understood."""

    ranked: List[Tuple[int, float]]  # (product id, score), best first
    understood: ParsedQuery  # the shopper's words as read: repairs, "cheap"
    asked: ProductFilters  # the caller's filters and those the words gave
    applied: ProductFilters  # what the results meet: ``asked``, or less when that found nothing


def relaxations(explicit: ProductFilters, asked: ProductFilters) -> Iterator[ProductFilters]:
    """``asked``; then without the details the words added, a few at a time (material, brand and capacity,
    then colour, then size); then ``explicit`` alone."""
    steps, dropped = [asked], []
    for names in RELAX_STEPS:
        dropped += [name for name in names if getattr(explicit, name) is None and getattr(asked, name) is not None]
        steps.append(asked.without(*dropped))
    steps.append(explicit)
    for n, step in enumerate(steps):
        if n == 0 or step != steps[n - 1]:
            yield step


# ----------------------------------------------------------------------------- products


class ProductRetriever:
    """Search and recommendations over the product index and catalogue view."""

    def __init__(
        self, index: VectorIndex, view: CatalogueView, embedder: Embedder, keyword_weight: float = HYBRID_KEYWORD_WEIGHT
    ) -> None:
        self.index = index
        self.view = view
        self.embedder = embedder
        self.keyword_weight = keyword_weight

    def search(
        self,
        query: str,
        filters: Optional[ProductFilters] = None,
        k: int = 10,
        *,
        mode: str = "hybrid",
        parse_query: bool = True,
        nprobe: Optional[int] = None,
    ) -> List[Tuple[int, float]]:
        """Ranked (product id, score) pairs. ``mode``: hybrid | semantic | keyword."""
        return self.find(query, filters, k, mode=mode, parse_query=parse_query, nprobe=nprobe).ranked

    def find(
        self,
        query: str,
        filters: Optional[ProductFilters] = None,
        k: int = 10,
        *,
        mode: str = "hybrid",
        parse_query: bool = True,
        nprobe: Optional[int] = None,
    ) -> Ranking:
        """:meth:`search`, with what the words were understood to ask for (see the module docstring)."""
        if mode not in ("hybrid", "semantic", "keyword"):
            raise ValueError(f"unknown search mode {mode!r}")
        explicit = filters or ProductFilters()
        query = (query or "").strip()[:500]
        understood = self.view.parser.parse(query) if parse_query else ParsedQuery(query, ProductFilters())
        asked = explicit.merged(understood.filters)
        pool = max(k, CHEAP_POOL) if understood.cheap else k
        results: List[Tuple[int, float]] = []
        applied = asked
        for applied in relaxations(explicit, asked):
            results = self._search(understood.text, applied, pool, mode, nprobe)
            if results:
                break
        if understood.cheap:  # the cheapest of the relevant ones first
            results.sort(key=lambda hit: (self.view.price[self.view.pos[hit[0]]], -hit[1]))
        sku_hits = (
            []
            if mode == "semantic"
            else [  # an exact SKU is a keyword match
                self.view.sku[t.upper().rstrip(".")]
                for t in SKU_TOKEN_RE.findall(query)
                if t.upper().rstrip(".") in self.view.sku
            ]
        )
        if sku_hits:
            rest = [(i, s) for i, s in results if i not in sku_hits]
            results = [(i, 2.0) for i in dict.fromkeys(sku_hits)] + rest
        return Ranking(results[:k], understood, asked, applied)

    def _search(
        self, text: str, f: ProductFilters, k: int, mode: str, nprobe: Optional[int]
    ) -> List[Tuple[int, float]]:
        mask = self.view.mask(f)
        if mask is not None and not mask.any():
            return []
        allowed = self.view.ids[mask] if mask is not None else None
        n_cand = max(k, CANDIDATES)
        scores: Dict[int, float] = {}
        q = self.embedder.encode_query(text) if mode in ("semantic", "hybrid") and text else None
        if q is not None:
            sims, ids = self.index.search(q, n_cand, allowed_ids=allowed, nprobe=nprobe)
            for s, i in zip(sims[0], ids[0]):
                if i >= 0:
                    scores[int(i)] = float(s)
        if mode in ("keyword", "hybrid") and text:
            positions, kw = self.view.keyword_matches(text, mask)
            if len(kw) > n_cand:
                best = np.argpartition(-kw, n_cand - 1)[:n_cand]
                positions, kw = positions[best], kw[best]
            top = [(int(self.view.ids[p]), float(score)) for p, score in zip(positions, kw)]
            w = 1.0 if mode == "keyword" else self.keyword_weight
            if mode == "hybrid" and q is not None and scores:
                # Products outside the semantic shortlist get their real semantic score, not zero.
                missing = [pid for pid, _ in top if pid not in scores]
                for pid, s in self._semantic_scores(q, missing).items():
                    scores[pid] = s
            for pid, score in top:
                scores[pid] = scores.get(pid, 0.0) + w * score
        if not text:  # no words at all: best rated / in stock first within the filters
            pos = np.flatnonzero(mask) if mask is not None else np.arange(len(self.view))
            pos = pos[np.argsort(self.view.stock[pos] <= 0, kind="stable")][:k]
            return [(int(self.view.ids[p]), 0.0) for p in pos]
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]

    def _semantic_scores(self, q: np.ndarray, ids: Sequence[int]) -> Dict[int, float]:
        if not ids:
            return {}
        out = {}
        for pid in ids:
            v = self.index.reconstruct(pid)
            if v is not None:
                out[pid] = float(v @ q)
        return out

    def similar(
        self, product_id: int, k: int = 5, max_price: Optional[float] = None, same_category: bool = True
    ) -> List[Tuple[int, float]]:
        """Nearest neighbours of a product's own embedding, optionally same category and under a price."""
        v = self.index.reconstruct(product_id)
        pos = self.view.pos.get(int(product_id))
        if v is None or pos is None:
            return []
        f = ProductFilters(max_price=max_price)
        mask = self.view.mask(f)
        if same_category:
            cat = self.view.category == self.view.category[pos]
            mask = cat if mask is None else mask & cat
        allowed = self.view.ids[mask] if mask is not None else None
        sims, ids = self.index.search(v, k + 1, allowed_ids=allowed)
        return [(int(i), float(s)) for s, i in zip(sims[0], ids[0]) if i >= 0 and int(i) != int(product_id)][:k]


# ----------------------------------------------------------------------------- policies


class PolicyRetriever:
    """Policy/FAQ passages by cosine similarity, cut at a threshold so unknowns get "I don't know"."""

    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder,
        threshold: float = POLICY_THRESHOLD,
        engine: Optional[Engine] = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.threshold = threshold
        self.engine = engine
        self._newest: Optional[int] = None  # the newest passage id in the index
        self._catching_up = threading.Lock()

    def catch_up(self) -> int:
        """Index the passages added to the database since (a reviewer's answer to a cluster of unanswered
        questions, ``learning.answers``): answerable at the next question, without a rebuild. One
        ``max(id)`` query when nothing changed; returns how many passages were added."""
        if self.engine is None:
            return 0
        with self.engine.connect() as conn:
            newest, count = conn.execute(select(func.max(PolicyPassage.id), func.count(PolicyPassage.id))).one()
        newest = int(newest or 0)
        if newest == self._newest:
            return 0
        with self._catching_up:
            if self._newest is None and self.index.ntotal == count:
                self._newest = newest  # the index is the database's (built by `shop index`)
                return 0
            ids, texts = policy_texts(self.engine, after_id=self._newest or 0)
            if texts:
                self.index.add(np.asarray(ids, dtype=np.int64), self.embedder.encode(texts, show_progress=False))
            self._newest = newest
            return len(texts)

    def search(self, question: str, k: int = 3, threshold: Optional[float] = None) -> List[Tuple[int, float]]:
        question = (question or "").strip()[:1000]
        if not question or self.index.ntotal == 0:
            return []
        cut = self.threshold if threshold is None else threshold
        sims, ids = self.index.search(self.embedder.encode_query(question), k)
        return [(int(i), float(s)) for s, i in zip(sims[0], ids[0]) if i >= 0 and s >= cut]


# ----------------------------------------------------------------------------- loading


class Retrieval:
    """The loaded indexes of one database: products and policies."""

    def __init__(self, products: ProductRetriever, policies: PolicyRetriever) -> None:
        self.products = products
        self.policies = policies

    @classmethod
    def load(
        cls,
        engine: Engine,
        index_dir: Union[str, Path, None],
        model: Optional[str] = None,
        *,
        backend: Optional[str] = None,
        sync: bool = True,
        search_threads: Optional[int] = 1,
    ) -> "Retrieval":
        """Load both indexes (verifying manifests); bring the product index up to date if the data moved.

        ``search_threads``: FAISS OpenMP threads for this process. A chat answers one query
        at a time, and on busy cores OpenMP's barrier turns a 0.3 ms exact search over 5k
        products into ~30 ms (measured); concurrency comes from request threads instead.
        ``None`` leaves FAISS's setting alone.
        """
        if search_threads:
            import faiss

            faiss.omp_set_num_threads(int(search_threads))
        from core.settings import get_settings

        if index_dir is None:
            index_dir = get_settings().resolved_index_dir
        index_dir = Path(index_dir)
        # ONNX exports are kept inside the index folder: an index is only valid with the encoder that built it.
        embedder = shared_embedder(model, backend, index_dir / "encoders")
        products = VectorIndex.load(index_dir, PRODUCTS, model=embedder.name)
        policies = VectorIndex.load(index_dir, POLICIES, model=embedder.name)
        if sync and products.manifest.source != product_fingerprint(engine):
            report = sync_product_index(engine, index_dir, embedder, products, save=_writable(index_dir))
            log.info("product index was stale: %s", report)
        return cls(
            ProductRetriever(products, CatalogueView(engine), embedder),
            PolicyRetriever(policies, embedder, engine=engine),
        )

    def warm_up(self) -> None:
        self.products.embedder.encode_query("warm up")


def _writable(path: Path) -> bool:
    import os

    return os.access(path, os.W_OK)
