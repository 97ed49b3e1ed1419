"""Import a shop's own catalogue from CSV or JSON, with one clear error per bad row.

Schema (CSV header names = JSON keys; only the first five are required):

===============  ========  ==============================================================
field            required  rule
===============  ========  ==============================================================
sku              yes       3-40 characters: letters, digits, ``-``, ``_``, ``.``; unique
title            yes       1-300 characters
category         yes       a path, ``Shoes/Running shoes`` or ``Shoes > Running shoes``
price            yes       a number > 0 (dot or comma decimal), at most 2 decimals
brand            yes       1-100 characters
description      no        text (default empty)
currency         no        3-letter code (default EUR)
stock            no        whole number >= 0 (default 0)
rating           no        0-5
image_url        no        http(s) URL
returnable       no        true/false/yes/no/1/0 (default true)
colour           no        shortcut for ``attributes.colour``
size             no        one size, or several separated by ``|`` (``S|M|L``)
material         no        shortcut for ``attributes.material``
attributes       no        JSON object (in CSV: a JSON string) of any further attributes
===============  ========  ==============================================================

JSON input: a list of objects, or ``{"products": [...]}``. Valid rows are loaded
even when other rows fail (nothing valid is lost); each failure is reported as
``row N, field F: reason`` (row numbers are file lines for CSV, 1-based
positions for JSON). ``--strict`` loads nothing if any row fails.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from pydantic import BaseModel, Field, ValidationError, validator
from sqlalchemy import delete, select, update

from shopdb.demo_data import ProductRecord

MAX_ROWS = 2_000_000


def _json_error(exc: ValueError) -> str:
    """Why ``json.loads`` failed: a ``JSONDecodeError``'s message, or the plain ``ValueError``'s
    (e.g. an integer over Python's 4300-digit limit), which has no ``msg``."""
    return exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)


class ProductIn(BaseModel):
    """One product row of an import file (pydantic v1)."""

    sku: str = Field(..., min_length=3, max_length=40, regex=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
    title: str = Field(..., min_length=1, max_length=300)
    category: str = Field(..., min_length=1, max_length=200)
    price: Decimal
    brand: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=20_000)
    currency: str = Field("EUR", regex=r"^[A-Za-z]{3}$")
    stock: int = Field(0, ge=0, le=10_000_000)
    rating: Optional[float] = Field(None, ge=0, le=5)
    image_url: Optional[str] = Field(None, max_length=500, regex=r"^https?://\S+$")
    returnable: bool = True
    colour: Optional[str] = Field(None, max_length=50)
    size: Optional[str] = Field(None, max_length=200)
    material: Optional[str] = Field(None, max_length=100)
    attributes: Dict[str, Any] = Field(default_factory=dict)

    class Config:
        anystr_strip_whitespace = True
        extra = "forbid"

    @validator("description", "currency", "colour", "size", "material", "image_url", "rating", "stock", pre=True)
    def _blank_is_missing(cls, v, field):  # noqa: N805 - pydantic signature
        if isinstance(v, str) and not v.strip():
            return field.default
        return v

    @validator("returnable", pre=True)
    def _bool_words(cls, v):  # noqa: N805
        if isinstance(v, str):
            word = v.strip().lower()
            if word in ("", "true", "yes", "y", "1"):
                return True
            if word in ("false", "no", "n", "0"):
                return False
            raise ValueError("must be true or false")
        return v

    @validator("price", pre=True)
    def _price_text(cls, v):  # noqa: N805
        if isinstance(v, str):
            text = v.strip().replace("€", "").replace(" ", "")
            if re.fullmatch(r"\d+,\d{1,2}", text):
                text = text.replace(",", ".")
            try:
                return Decimal(text)
            except InvalidOperation:
                raise ValueError("must be a number like 19.99") from None
        if isinstance(v, float):
            return Decimal(str(v))
        return v

    @validator("price")
    def _price_range(cls, v: Decimal) -> Decimal:  # noqa: N805
        if not v.is_finite() or v <= 0:
            raise ValueError("must be greater than 0")
        if v >= Decimal("100000000"):
            raise ValueError("must be below 100,000,000")
        if v != v.quantize(Decimal("0.01")):
            raise ValueError("must have at most 2 decimals")
        return v.quantize(Decimal("0.01"))

    @validator("category")
    def _category_path(cls, v: str) -> str:  # noqa: N805
        parts = [p.strip() for p in re.split(r"\s*(?:/|>)\s*", v) if p.strip()]
        if not parts:
            raise ValueError("must be a category path like 'Shoes/Running shoes'")
        return "/".join(p[:1].upper() + p[1:] for p in parts)

    @validator("sku")
    def _upper_sku(cls, v: str) -> str:  # noqa: N805
        return v.upper()

    @validator("currency")
    def _upper_currency(cls, v: str) -> str:  # noqa: N805
        return v.upper()

    @validator("attributes", pre=True)
    def _attributes_json(cls, v):  # noqa: N805
        if v is None or (isinstance(v, str) and not v.strip()):
            return {}
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError as exc:  # JSONDecodeError, or a plain ValueError (an integer over 4300 digits)
                raise ValueError(f"must be a JSON object ({_json_error(exc)})") from None
        if not isinstance(v, dict):
            raise ValueError("must be a JSON object")
        return v

    def to_record(self) -> ProductRecord:
        attrs = dict(self.attributes)
        if self.colour:
            attrs["colour"] = self.colour.lower()
        if self.material:
            attrs["material"] = self.material
        if self.size:
            sizes = [s.strip() for s in self.size.split("|") if s.strip()]
            attrs["size"] = sizes if len(sizes) > 1 else sizes[0]
        return ProductRecord(
            sku=self.sku,
            title=self.title,
            description=self.description,
            brand=self.brand,
            category=self.category,
            attributes=attrs,
            price=self.price,
            currency=self.currency,
            stock=self.stock,
            rating=self.rating,
            image_url=self.image_url,
            returnable=self.returnable,
        )


@dataclass
class RowError:
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, field {self.field}: {self.reason}"


@dataclass
class ImportReport:
    file: str
    rows: int = 0
    valid: int = 0
    inserted: int = 0
    updated: int = 0
    loaded: bool = False
    errors: List[RowError] = field(default_factory=list)
    index: Optional[str] = None

    def summary(self) -> str:
        state = "loaded" if self.loaded else "not loaded"
        text = (
            f"{self.file}: {self.rows} rows, {self.valid} valid, {len(self.errors)} errors; {state} "
            f"({self.inserted} new, {self.updated} updated)"
        )
        return text + (f"; index {self.index}" if self.index else "")


def read_rows(path: Path) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """(row number, raw dict) pairs from a CSV or JSON file; raises ValueError for an unreadable file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames:
                raise ValueError("the CSV file has no header row")
            for row in reader:
                extra = row.pop(None, None)  # more cells than header names
                cleaned = {k.strip(): v for k, v in row.items() if k is not None}
                if extra:
                    cleaned["__extra__"] = extra
                yield reader.line_num, cleaned
    elif suffix in (".json", ".jsonl", ".ndjson"):
        text = path.read_text(encoding="utf-8")
        if suffix == ".json":
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"not valid JSON: {exc}") from exc
            items = data.get("products") if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise ValueError('JSON must be a list of products or {"products": [...]}')
            for n, item in enumerate(items, start=1):
                yield n, item if isinstance(item, dict) else {"__not_object__": item}
        else:
            for n, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        item = json.loads(line)
                    except ValueError as exc:
                        item = {"__bad_json__": _json_error(exc)}
                    yield n, item if isinstance(item, dict) else {"__not_object__": item}
    else:
        raise ValueError(f"unsupported file type {suffix!r}: use .csv, .json or .jsonl")


def validate_file(path: Path) -> Tuple[List[ProductRecord], List[RowError], int]:
    """Valid records, per-row errors, and the number of rows read."""
    records: List[ProductRecord] = []
    errors: List[RowError] = []
    seen: Dict[str, int] = {}
    n = 0
    for row_no, raw in read_rows(path):
        n += 1
        if n > MAX_ROWS:
            errors.append(RowError(row_no, "-", f"file has more than {MAX_ROWS} rows; split it"))
            break
        if "__bad_json__" in raw:
            errors.append(RowError(row_no, "-", f"not valid JSON ({raw['__bad_json__']})"))
            continue
        if "__not_object__" in raw:
            errors.append(RowError(row_no, "-", "must be a JSON object"))
            continue
        if "__extra__" in raw:
            errors.append(RowError(row_no, "-", "more cells than header columns (unquoted comma?)"))
            continue
        try:
            product = ProductIn.parse_obj(raw)
        except ValidationError as exc:
            for e in exc.errors():
                loc = ".".join(str(x) for x in e["loc"]) or "-"
                reason = "unknown field" if e["type"] == "value_error.extra" else e["msg"]
                errors.append(RowError(row_no, loc, reason))
            continue
        if product.sku in seen:
            errors.append(RowError(row_no, "sku", f"duplicate of row {seen[product.sku]}"))
            continue
        seen[product.sku] = row_no
        records.append(product.to_record())
    return records, errors, n


def import_file(
    settings, path: Path, *, replace: bool = False, dry_run: bool = False, strict: bool = False
) -> ImportReport:
    """Validate ``path`` and upsert its valid products (by SKU). The search index is retrieval's to sync
    (``assistant.shop_data.import_catalogue`` does both)."""
    from shopdb.db import create_db_engine, migrate
    from shopdb.loader import insert_products, set_meta
    from shopdb.models import OrderItem, Product, ProductRelation

    path = Path(path)
    report = ImportReport(file=str(path))
    try:
        records, errors, n = validate_file(path)
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        report.errors.append(RowError(0, "-", f"cannot read file: {exc}"))
        return report
    report.rows, report.valid, report.errors = n, len(records), errors
    if dry_run or not records or (strict and errors):
        return report
    url = settings.resolved_database_url
    migrate(url)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        if replace:
            conn.execute(delete(ProductRelation))
            conn.execute(update(OrderItem).values(product_id=None))
            conn.execute(delete(Product))
        counts = insert_products(conn, records)
        set_meta(conn, source="import", products=conn.execute(select(Product.id)).all().__len__())
    report.inserted, report.updated, report.loaded = counts["inserted"], counts["updated"], True
    engine.dispose()
    return report
