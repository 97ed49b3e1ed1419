"""``ShopSearch``: what the actions ask of the catalogue and the policies.

Product search (semantic + keyword, with structured filters), look-ups by id or SKU, similar
products, what goes with a product, and the policy passages that answer a question. Everything
here is public shop information; orders live in :mod:`shopdb.orders`, behind ownership checks.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Union

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings, get_settings
from retrieval.filters import ProductFilters
from retrieval.query_parser import ParsedQuery
from retrieval.results import PolicyHit, ProductHit, ProductSearch
from retrieval.search import Retrieval
from shopdb.db import create_db_engine, session_factory
from shopdb.models import PolicyPassage, Product, ProductRelation


class ShopSearch:
    """Products and policy passages for the assistant; open to anyone (nothing here is personal).

    Build it once per process (:meth:`from_settings`); the indexes load on first use and are then
    shared by every thread; each method opens its own short database session.
    """

    def __init__(
        self,
        engine: Engine,
        index_dir: Optional[Path] = None,
        embedding_model: Optional[str] = None,
        *,
        embedding_backend: Optional[str] = None,
        policy_threshold: Optional[float] = None,
    ) -> None:
        self.engine = engine
        self.sessions: sessionmaker = session_factory(engine)
        self.index_dir = index_dir
        self.embedding_model = embedding_model
        self.embedding_backend = embedding_backend
        self.policy_threshold = policy_threshold
        self._retrieval: Optional[Retrieval] = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: Optional[Settings] = None, *, timeout: Optional[float] = None, **kwargs: Any
    ) -> "ShopSearch":
        """Search over the database, index folder and embedding model of ``settings``.

        ``timeout``: the servers' bound on every database statement (``SHOP_DB_TIMEOUT``).
        """
        settings = settings or get_settings()
        engine = create_db_engine(settings.resolved_database_url, timeout=timeout)
        return cls(
            engine,
            settings.resolved_index_dir,
            settings.embedding_model,
            embedding_backend=settings.embedding_backend,
            **kwargs,
        )

    # ------------------------------------------------------------------ retrieval (lazy, shared)

    @property
    def retrieval(self) -> Retrieval:
        """The loaded indexes (FAISS + keyword); loaded on first use, then shared by all threads."""
        if self._retrieval is None:
            with self._lock:
                if self._retrieval is None:
                    self._retrieval = Retrieval.load(
                        self.engine, self.index_dir, self.embedding_model, backend=self.embedding_backend
                    )
        return self._retrieval

    def warm_up(self) -> None:
        """Load indexes and the embedding model now (e.g. at action-server start-up)."""
        self.retrieval.warm_up()

    # ------------------------------------------------------------------ products

    def search_products(
        self,
        query: str,
        filters: Union[ProductFilters, Mapping[str, Any], None] = None,
        k: int = 5,
        *,
        mode: str = "hybrid",
        parse_query: bool = True,
    ) -> List[ProductHit]:
        """Products matching a shopper's free-text ``query`` and structured ``filters``.

        ``filters``: category, min_price, max_price, colour, size, brand, material, capacity,
        in_stock (a ``ProductFilters`` or a dict with those keys). With ``parse_query``, what the
        words ask for ("under 80 euros", "in whte", "sz 42", "sneakrs") is added to the filters.
        """
        return self._find(query, filters, k, mode=mode, parse_query=parse_query).hits

    def find_products(
        self,
        query: str,
        filters: Union[ProductFilters, Mapping[str, Any], None] = None,
        k: int = 5,
        *,
        mode: str = "hybrid",
    ) -> ProductSearch:
        """:meth:`search_products` with what the words were understood to ask for: the filters,
        whether the hits meet only part of them, the words repaired, "cheapest first"."""
        return self._find(query, filters, k, mode=mode, parse_query=True)

    def understand(self, text: str) -> ParsedQuery:
        """What a shopper's words ask for, in this catalogue's vocabulary (nothing is searched)."""
        return self.retrieval.products.view.parser.parse(text)

    def _find(
        self,
        query: str,
        filters: Union[ProductFilters, Mapping[str, Any], None],
        k: int,
        *,
        mode: str,
        parse_query: bool,
    ) -> ProductSearch:
        k = max(1, min(int(k), 50))
        found = self.retrieval.products.find(
            query or "", ProductFilters.coerce(filters), k, mode=mode, parse_query=parse_query
        )
        return ProductSearch(
            hits=self._hydrate(found.ranked),
            filters={name: value for name, value in asdict(found.asked).items() if value is not None},
            relaxed=found.applied != found.asked,
            corrections=dict(found.understood.corrections),
            cheapest_first=found.understood.cheap,
        )

    def get_product(self, id_or_sku: Union[int, str]) -> Optional[ProductHit]:
        """A product by database id or SKU (case-insensitive), or None."""
        with self.sessions() as s:
            stmt = select(Product)
            if isinstance(id_or_sku, int) or (isinstance(id_or_sku, str) and id_or_sku.strip().isdigit()):
                stmt = stmt.where(Product.id == int(id_or_sku))
            elif isinstance(id_or_sku, str) and 0 < len(id_or_sku) <= 40:
                stmt = stmt.where(Product.sku == id_or_sku.strip().upper())
            else:
                return None
            p = s.execute(stmt).scalar_one_or_none()
            return _product_hit(p) if p else None

    def similar_products(
        self, product_id: Union[int, str], k: int = 5, max_price: Optional[float] = None
    ) -> List[ProductHit]:
        """Alternatives to a product (nearest neighbours in embedding space, same category), cheapest cap optional."""
        base = self.get_product(product_id)
        if base is None:
            return []
        ranked = self.retrieval.products.similar(base.id, k=max(1, min(int(k), 50)), max_price=max_price)
        return self._hydrate(ranked)

    def goes_well_with(self, product_id: Union[int, str], k: int = 5) -> List[ProductHit]:
        """Complements of a product (socks for running shoes, mugs for a coffee machine).

        Uses the catalogue's ``goes_with`` links; for a product without links (e.g. just
        imported), borrows the links of its nearest linked neighbour.
        """
        base = self.get_product(product_id)
        if base is None:
            return []
        k = max(1, min(int(k), 50))
        with self.sessions() as s:
            ids = self._goes_with_ids(s, base.id, k)
            if not ids:
                for nid, _ in self.retrieval.products.similar(base.id, k=10, same_category=True):
                    ids = self._goes_with_ids(s, nid, k)
                    if ids:
                        break
        return self._hydrate([(i, None) for i in ids])

    @staticmethod
    def _goes_with_ids(s: Session, pid: int, k: int) -> List[int]:
        stmt = (
            select(ProductRelation.related_id)
            .join(Product, Product.id == ProductRelation.related_id)
            .where(ProductRelation.product_id == pid, ProductRelation.kind == "goes_with")
            .order_by(Product.stock == 0, ProductRelation.weight.desc(), ProductRelation.related_id)
            .limit(k)
        )
        return list(s.execute(stmt).scalars())

    def _hydrate(self, ranked: Sequence) -> List[ProductHit]:
        if not ranked:
            return []
        ids = [int(i) for i, _ in ranked]
        with self.sessions() as s:
            rows = {p.id: p for p in s.execute(select(Product).where(Product.id.in_(ids))).scalars()}
        out = []
        for pid, score in ranked:
            p = rows.get(int(pid))
            if p is not None:
                out.append(_product_hit(p, None if score is None else round(float(score), 4)))
        return out

    def similarity(self, a: str, b: str) -> float:
        """Cosine of two texts' sentence embeddings (L2-normalised vectors): how alike two questions are."""
        embedder = self.retrieval.policies.embedder
        return float(embedder.encode_query(a) @ embedder.encode_query(b))

    # ------------------------------------------------------------------ policies

    def policy_passage(self, key: str) -> Optional[PolicyHit]:
        """The passage with this key ("payment/payment-methods"), or None when the shop's texts lack it."""
        with self.sessions() as s:
            p = s.execute(select(PolicyPassage).where(PolicyPassage.key == key)).scalar_one_or_none()
            return PolicyHit(p.key, p.topic, p.title, p.text, p.source, 1.0) if p is not None else None

    def answer_policy_question(self, question: str, k: int = 3) -> List[PolicyHit]:
        """Policy/FAQ passages answering ``question``, best first; empty when nothing is relevant enough."""
        self.retrieval.policies.catch_up()  # passages added since (learning.answers): answerable at once
        ranked = self.retrieval.policies.search(
            question or "", k=max(1, min(int(k), 10)), threshold=self.policy_threshold
        )
        if not ranked:
            return []
        with self.sessions() as s:
            rows = {
                p.id: p
                for p in s.execute(select(PolicyPassage).where(PolicyPassage.id.in_([i for i, _ in ranked]))).scalars()
            }
        return [
            PolicyHit(p.key, p.topic, p.title, p.text, p.source, round(float(score), 4))
            for pid, score in ranked
            if (p := rows.get(pid)) is not None
        ]


def _product_hit(p: Product, score: Optional[float] = None) -> ProductHit:
    return ProductHit(
        id=p.id,
        sku=p.sku,
        title=p.title,
        brand=p.brand,
        category=p.category.path if p.category else "",
        price=float(p.price),
        currency=p.currency,
        in_stock=p.stock > 0,
        stock=p.stock,
        rating=p.rating,
        image_url=p.image_url,
        attributes=dict(p.attributes or {}),
        description=p.description,
        score=score,
    )


__all__ = ["ProductFilters", "ShopSearch"]
