"""Bulk loading of generated or imported data into the database.

Core ``insert()`` with executemany in batches (not ORM objects): 100k products
load in seconds on SQLite and the same code runs on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Dict, Iterable, List, Optional, Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

from shopdb import demo_data as gen
from shopdb.models import (
    Category,
    Customer,
    DeliveryOption,
    KnowledgeMeta,
    Order,
    OrderIssue,
    OrderItem,
    PolicyPassage,
    Product,
    ProductRelation,
    Return,
    ShipmentEvent,
)
from shopdb.policies import PassageRecord, load_passages, passages_checksum
from shopdb.taxonomy import PRODUCT_TYPES

log = logging.getLogger(__name__)

BATCH = 5000
RELATION_CHUNK = 50_000  # relations are computed within chunks to bound memory at 1M products


@dataclass
class LoadStats:
    products: int = 0
    relations: int = 0
    customers: int = 0
    orders: int = 0
    returns: int = 0
    passages: int = 0
    delivery_options: int = 0


def get_meta(conn: Connection) -> Dict[str, str]:
    return dict(conn.execute(select(KnowledgeMeta.key, KnowledgeMeta.value)).all())


def set_meta(conn: Connection, **values: object) -> None:
    for key, value in values.items():
        conn.execute(delete(KnowledgeMeta).where(KnowledgeMeta.key == key))
        conn.execute(insert(KnowledgeMeta), [{"key": key, "value": str(value)}])


def ensure_categories(conn: Connection, paths: Iterable[str]) -> Dict[str, int]:
    """Category ids by path, inserting the missing ones."""
    existing = {p: i for i, p in conn.execute(select(Category.id, Category.path))}
    missing = sorted(set(paths) - set(existing))
    if missing:
        conn.execute(insert(Category), [{"path": p, "name": p.rsplit("/", 1)[-1]} for p in missing])
        existing = {p: i for i, p in conn.execute(select(Category.id, Category.path))}
    return existing


def clear_shop(conn: Connection) -> None:
    """Remove catalogue, customers and orders (policies and web tables stay)."""
    for model in (OrderIssue, Return, ShipmentEvent, OrderItem, Order, Customer, ProductRelation, Product, Category):
        conn.execute(delete(model))
    conn.execute(
        delete(KnowledgeMeta).where(KnowledgeMeta.key.in_(["seed", "products", "generator_version", "source"]))
    )


def _product_row(p: gen.ProductRecord, category_id: int, now: dt.datetime, pid: Optional[int] = None) -> dict:
    row = p.to_row()
    row.pop("category")
    row["category_id"] = category_id
    row["updated_at"] = now
    if pid is not None:
        row["id"] = pid
    return row


def load_generated(
    engine: Engine,
    n_products: int,
    seed: int = gen.DEFAULT_SEED,
    today: Optional[dt.date] = None,
    n_customers: Optional[int] = None,
    n_orders: Optional[int] = None,
    progress: bool = True,
) -> LoadStats:
    """Replace the shop's data with a generated catalogue of ``n_products`` plus customers, orders and
    the demo delivery options."""
    stats = LoadStats()
    now = dt.datetime.utcnow()
    gen_now = now.replace(microsecond=0)
    n_customers = n_customers or max(50, min(20_000, n_products // 10))
    n_orders = n_orders if n_orders is not None else max(200, min(50_000, n_products * 2 // 5))
    sample: List[gen.ProductRecord] = []  # products kept for order generation (first chunk)
    with engine.begin() as conn:
        clear_shop(conn)
        cats = ensure_categories(conn, (t.category for t in PRODUCT_TYPES))
        bar = tqdm(total=n_products, desc="products", unit="p", disable=not progress)
        for start in range(0, n_products, RELATION_CHUNK):
            stop = min(n_products, start + RELATION_CHUNK)
            chunk = list(gen.iter_products(stop, seed, start=start))
            for b0 in range(0, len(chunk), BATCH):
                rows = [
                    _product_row(p, cats[p.category], now, start + b0 + j + 1)
                    for j, p in enumerate(chunk[b0 : b0 + BATCH])
                ]
                conn.execute(insert(Product), rows)
                bar.update(len(rows))
            links = gen.generate_relations(chunk, seed=seed + start)
            for b0 in range(0, len(links), BATCH * 4):
                conn.execute(
                    insert(ProductRelation),
                    [
                        {"product_id": start + a + 1, "related_id": start + b + 1, "kind": kind, "weight": w}
                        for a, b, kind, w in links[b0 : b0 + BATCH * 4]
                    ],
                )
            stats.relations += len(links)
            if start == 0:
                sample = chunk
        bar.close()
        stats.products = n_products

        customers = gen.generate_customers(n_customers, seed=seed, today=today)
        conn.execute(
            insert(Customer),
            [
                {
                    "id": i + 1,
                    "customer_id": c.customer_id,
                    "email": c.email,
                    "name": c.name,
                    "created_at": c.created_at,
                    "newsletter": c.newsletter,
                    "newsletter_changed_at": c.newsletter_changed_at,
                }
                for i, c in enumerate(customers)
            ],
        )
        stats.customers = len(customers)
        orders = gen.generate_orders(sample, customers, n_orders, seed=seed, today=today)
        stats.orders, stats.returns = _insert_orders(conn, orders, sample)
        stats.delivery_options = replace_delivery_options(conn, gen.demo_delivery_options())
        set_meta(
            conn,
            generator_version=gen.GENERATOR_VERSION,
            seed=seed,
            products=n_products,
            source="generated",
            loaded_at=gen_now.isoformat(),
        )
    return stats


def _insert_orders(conn: Connection, orders: Sequence[gen.OrderRecord], products: Sequence[gen.ProductRecord]):
    order_rows, item_rows, event_rows, return_rows = [], [], [], []
    item_id = 0
    n_returns = 0
    for oid, o in enumerate(orders, start=1):
        total = Decimal("0")
        ids_in_order = []
        for it in o.items:
            p = products[it.product_index]
            item_id += 1
            ids_in_order.append((item_id, p, it.quantity))
            total += p.price * it.quantity
            item_rows.append(
                {
                    "id": item_id,
                    "order_id": oid,
                    "product_id": it.product_index + 1,
                    "sku": p.sku,
                    "title": p.title,
                    "quantity": it.quantity,
                    "unit_price": p.price,
                    "returnable": p.returnable,
                }
            )
        a = o.address
        order_rows.append(
            {
                "id": oid,
                "order_number": o.order_number,
                "customer_ref": o.customer_index + 1,
                "status": o.status,
                "placed_at": o.placed_at,
                "paid_at": o.paid_at,
                "shipped_at": o.shipped_at,
                "delivered_at": o.delivered_at,
                "cancelled_at": o.cancelled_at,
                "cancel_reason": o.cancel_reason,
                "total": total,
                "currency": gen.CURRENCY,
                "payment_method": o.payment_method,
                "shipping_method": o.shipping_method,
                "ship_name": a["name"],
                "ship_line1": a["line1"],
                "ship_line2": a["line2"],
                "ship_city": a["city"],
                "ship_postcode": a["postcode"],
                "ship_country": a["country"],
                "carrier": o.carrier,
                "tracking_number": o.tracking_number,
                "updated_at": o.cancelled_at or o.delivered_at or o.shipped_at or o.paid_at or o.placed_at,
            }
        )
        for e in o.events:
            event_rows.append(
                {"order_id": oid, "at": e.at, "code": e.code, "location": e.location, "description": e.description}
            )
        for r in o.returns:
            n_returns += 1
            iid, p, qty = ids_in_order[r.item_position]
            refund = (
                p.price * min(r.quantity, qty)
                if r.refund_status in ("processing", "refunded", "pending")
                else Decimal("0")
            )
            return_rows.append(
                {
                    "rma_number": f"RMA-{oid:06d}{n_returns:03d}"[:20],
                    "order_id": oid,
                    "order_item_id": iid,
                    "quantity": min(r.quantity, qty),
                    "reason": r.reason,
                    "status": r.status,
                    "refund_status": r.refund_status,
                    "refund_amount": refund,
                    "created_at": r.created_at,
                    "updated_at": r.created_at,
                }
            )
    for model, rows in (
        (Order, order_rows),
        (OrderItem, item_rows),
        (ShipmentEvent, event_rows),
        (Return, return_rows),
    ):
        for b0 in range(0, len(rows), BATCH):
            conn.execute(insert(model), rows[b0 : b0 + BATCH])
    return len(order_rows), n_returns


def replace_delivery_options(conn: Connection, records: Sequence[gen.DeliveryOptionRecord]) -> int:
    """Make ``records`` the shop's delivery options: a shop states all of them at once, so a method or
    country left out is no longer offered."""
    conn.execute(delete(DeliveryOption))
    if records:
        conn.execute(insert(DeliveryOption), [asdict(r) for r in records])
    return len(records)


def load_policies(engine: Engine, passages: Optional[List[PassageRecord]] = None) -> int:
    """Replace the policy passages with those of ``shopdb/data/policies`` (or the given ones)."""
    passages = passages if passages is not None else load_passages()
    with engine.begin() as conn:
        conn.execute(delete(PolicyPassage))
        conn.execute(
            insert(PolicyPassage),
            [{"key": p.key, "topic": p.topic, "title": p.title, "text": p.text, "source": p.source} for p in passages],
        )
        set_meta(conn, policies_checksum=passages_checksum(passages))
    return len(passages)


def insert_products(conn: Connection, records: Sequence[gen.ProductRecord], *, upsert: bool = True) -> Dict[str, int]:
    """Insert (or update by SKU) user products; returns counts of inserted and updated rows."""
    cats = ensure_categories(conn, {r.category for r in records})
    now = dt.datetime.utcnow()
    skus = [r.sku for r in records]
    existing: Dict[str, int] = {}
    for b0 in range(0, len(skus), 900):  # SQLite's bound-parameter limit
        existing.update(
            {s: i for i, s in conn.execute(select(Product.id, Product.sku).where(Product.sku.in_(skus[b0 : b0 + 900])))}
        )
    new_rows = [_product_row(r, cats[r.category], now) for r in records if r.sku not in existing]
    for b0 in range(0, len(new_rows), BATCH):
        conn.execute(insert(Product), new_rows[b0 : b0 + BATCH])
    updated = 0
    if upsert:
        from sqlalchemy import update

        for r in records:
            if r.sku in existing:
                row = _product_row(r, cats[r.category], now)
                row.pop("sku")
                conn.execute(update(Product).where(Product.id == existing[r.sku]).values(**row))
                updated += 1
    return {"inserted": len(new_rows), "updated": updated}
