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

Delivery options (one row per destination country and method):

===============  ========  ==============================================================
field            required  rule
===============  ========  ==============================================================
country          yes       ISO code or English name: ``ES``, ``Spain``, ``the Netherlands``
method           yes       a word: ``standard``, ``express``, ``next_day``; once per country
min_days         yes       business days after dispatch, 0-60
max_days         yes       business days after dispatch, min_days-60
price            yes       a number >= 0 (0: free), at most 2 decimals
free_from        no        order value from which this method is free (default: never)
currency         no        3-letter code (default EUR)
===============  ========  ==============================================================

They come in a CSV file of their own (a header with ``method`` and no ``sku``) or as
``"delivery_options": [...]`` of a JSON object, next to ``"products"`` or alone; the file's
options replace all earlier ones (a method or country left out is no longer offered).

JSON input: a list of products, or ``{"products": [...], "delivery_options": [...]}``. Valid rows
are loaded even when other rows fail (nothing valid is lost); each failure is reported as
``row N, field F: reason`` (row numbers are file lines for CSV, 1-based positions for JSON, where
a delivery option's field reads ``delivery_options.F``). ``--strict`` loads nothing if any row fails.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Dict, Hashable, Iterable, Iterator, List, Optional, Sequence, Tuple

from pydantic import BaseModel, Field, ValidationError, validator
from sqlalchemy import delete, select, update

from shopdb.countries import country_code
from shopdb.demo_data import DeliveryOptionRecord, ProductRecord

MAX_ROWS = 2_000_000
PRODUCTS = "products"
DELIVERY_OPTIONS = "delivery_options"


def _json_error(exc: ValueError) -> str:
    """Why ``json.loads`` failed: a ``JSONDecodeError``'s message, or the plain ``ValueError``'s
    (e.g. an integer over Python's 4300-digit limit), which has no ``msg``."""
    return exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)


def _amount_text(v: Any) -> Any:
    """``"€ 12,50"`` -> ``Decimal("12.50")``; a float through its text, so no binary fraction sneaks in."""
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


def _checked_amount(v: Decimal, *, zero_ok: bool) -> Decimal:
    if not v.is_finite() or v < 0 or (v == 0 and not zero_ok):
        raise ValueError("must be 0 or more" if zero_ok else "must be greater than 0")
    if v >= Decimal("100000000"):
        raise ValueError("must be below 100,000,000")
    if v != v.quantize(Decimal("0.01")):
        raise ValueError("must have at most 2 decimals")
    return v.quantize(Decimal("0.01"))


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

    _price_text = validator("price", pre=True, allow_reuse=True)(_amount_text)

    @validator("price")
    def _price_range(cls, v: Decimal) -> Decimal:  # noqa: N805
        return _checked_amount(v, zero_ok=False)

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


class DeliveryOptionIn(BaseModel):
    """One delivery option row of an import file (pydantic v1)."""

    country: str
    method: str
    min_days: int = Field(..., ge=0, le=60)
    max_days: int = Field(..., ge=0, le=60)
    price: Decimal
    free_from: Optional[Decimal] = None
    currency: str = Field("EUR", regex=r"^[A-Za-z]{3}$")

    class Config:
        anystr_strip_whitespace = True
        extra = "forbid"

    @validator("free_from", "currency", pre=True)
    def _blank_is_missing(cls, v, field):  # noqa: N805 - pydantic signature
        if isinstance(v, str) and not v.strip():
            return field.default
        return v

    @validator("country")
    def _known_country(cls, v: str) -> str:  # noqa: N805
        code = country_code(v)
        if code is None:
            raise ValueError("not a country code or name I know (e.g. ES or Spain)")
        return code

    @validator("method")
    def _method_word(cls, v: str) -> str:  # noqa: N805
        word = re.sub(r"[\s-]+", "_", v.strip().lower())
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,29}", word):
            raise ValueError("must be a word like standard or express")
        return word

    @validator("max_days")
    def _not_before_min(cls, v: int, values: Dict[str, Any]) -> int:  # noqa: N805
        if "min_days" in values and v < values["min_days"]:
            raise ValueError("must be at least min_days")
        return v

    _amounts_text = validator("price", "free_from", pre=True, allow_reuse=True)(_amount_text)

    @validator("price")
    def _price_range(cls, v: Decimal) -> Decimal:  # noqa: N805
        return _checked_amount(v, zero_ok=True)

    @validator("free_from")
    def _free_from_range(cls, v: Optional[Decimal]) -> Optional[Decimal]:  # noqa: N805
        return None if v is None else _checked_amount(v, zero_ok=False)

    @validator("currency")
    def _upper_currency(cls, v: str) -> str:  # noqa: N805
        return v.upper()

    def to_record(self) -> DeliveryOptionRecord:
        return DeliveryOptionRecord(
            self.country, self.method, self.min_days, self.max_days, self.price, self.currency, self.free_from
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
    delivery_options: int = 0  # loaded, replacing the earlier ones
    errors: List[RowError] = field(default_factory=list)
    index: Optional[str] = None

    def summary(self) -> str:
        state = "loaded" if self.loaded else "not loaded"
        text = (
            f"{self.file}: {self.rows} rows, {self.valid} valid, {len(self.errors)} errors; {state} "
            f"({self.inserted} new, {self.updated} updated)"
        )
        if self.delivery_options:
            text += f"; {self.delivery_options} delivery options"
        return text + (f"; index {self.index}" if self.index else "")


def csv_section(fieldnames: Sequence[str]) -> str:
    """What a CSV file holds, by its header: delivery options (``method``, no ``sku``) or products."""
    names = {name.strip().lower() for name in fieldnames if name}
    return DELIVERY_OPTIONS if "method" in names and "sku" not in names else PRODUCTS


def read_rows(path: Path, section: str = PRODUCTS) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """(row number, raw dict) pairs of ``section`` (products or delivery options) from a CSV or JSON
    file; none when the file holds the other kind. Raises ValueError for an unreadable file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames:
                raise ValueError("the CSV file has no header row")
            if csv_section(reader.fieldnames) != section:
                return
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
            if isinstance(data, dict) and (PRODUCTS in data or DELIVERY_OPTIONS in data):
                items = data.get(section, [])
            else:
                items = data if section == PRODUCTS else []
            if not isinstance(items, list):
                raise ValueError('JSON must be a list of products or {"products": [...], "delivery_options": [...]}')
            for n, item in enumerate(items, start=1):
                yield n, item if isinstance(item, dict) else {"__not_object__": item}
        elif section == PRODUCTS:
            for n, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        item = json.loads(line)
                    except ValueError as exc:
                        item = {"__bad_json__": _json_error(exc)}
                    yield n, item if isinstance(item, dict) else {"__not_object__": item}
    else:
        raise ValueError(f"unsupported file type {suffix!r}: use .csv, .json or .jsonl")


def _raw_row_error(row_no: int, raw: Dict[str, Any]) -> Optional[RowError]:
    """What makes a row unreadable before its fields are checked, if anything."""
    if "__bad_json__" in raw:
        return RowError(row_no, "-", f"not valid JSON ({raw['__bad_json__']})")
    if "__not_object__" in raw:
        return RowError(row_no, "-", "must be a JSON object")
    if "__extra__" in raw:
        return RowError(row_no, "-", "more cells than header columns (unquoted comma?)")
    return None


def _field_errors(row_no: int, exc: ValidationError, prefix: str = "") -> List[RowError]:
    errors = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "-"
        reason = "unknown field" if e["type"] == "value_error.extra" else e["msg"]
        errors.append(RowError(row_no, prefix + loc, reason))
    return errors


def _validate_rows(
    rows: Iterable[Tuple[int, Any]], model: Any, key_of: Callable[[Any], Hashable], key_field: str, prefix: str = ""
) -> Tuple[List[Any], List[RowError], int]:
    """Rows parsed by ``model`` (to its record), per-row errors, and the number of rows read.

    A second row with the same ``key_of`` is an error on ``key_field``; reading stops after
    ``MAX_ROWS``. ``prefix`` names the rows' list in a JSON file's field paths.
    """
    records: List[Any] = []
    errors: List[RowError] = []
    seen: Dict[Hashable, int] = {}
    n = 0
    for row_no, raw in rows:
        n += 1
        if n > MAX_ROWS:
            errors.append(RowError(row_no, "-", f"file has more than {MAX_ROWS} rows; split it"))
            break
        unreadable = _raw_row_error(row_no, raw)
        if unreadable is not None:
            errors.append(unreadable)
            continue
        try:
            parsed = model.parse_obj(raw)
        except ValidationError as exc:
            errors.extend(_field_errors(row_no, exc, prefix))
            continue
        key = key_of(parsed)
        if key in seen:
            errors.append(RowError(row_no, prefix + key_field, f"duplicate of row {seen[key]}"))
            continue
        seen[key] = row_no
        records.append(parsed.to_record())
    return records, errors, n


def validate_file(path: Path) -> Tuple[List[ProductRecord], List[RowError], int]:
    """Valid product records, per-row errors, and the number of product rows read."""
    return _validate_rows(read_rows(path), ProductIn, lambda product: product.sku, "sku")


def validate_delivery_file(path: Path) -> Tuple[List[DeliveryOptionRecord], List[RowError], int]:
    """Valid delivery options, per-row errors, and the number of delivery option rows read."""
    prefix = f"{DELIVERY_OPTIONS}." if path.suffix.lower() == ".json" else ""
    rows = read_rows(path, DELIVERY_OPTIONS)
    return _validate_rows(rows, DeliveryOptionIn, lambda option: (option.country, option.method), "method", prefix)


def import_file(
    settings, path: Path, *, replace: bool = False, dry_run: bool = False, strict: bool = False
) -> ImportReport:
    """Validate ``path``, upsert its valid products (by SKU) and make its delivery options the shop's.
    The search index is retrieval's to sync (``assistant.shop_data.import_catalogue`` does both)."""
    from shopdb.db import create_db_engine, migrate
    from shopdb.loader import insert_products, replace_delivery_options, set_meta
    from shopdb.models import OrderItem, Product, ProductRelation

    path = Path(path)
    report = ImportReport(file=str(path))
    try:
        records, errors, n = validate_file(path)
        options, option_errors, n_options = validate_delivery_file(path)
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        report.errors.append(RowError(0, "-", f"cannot read file: {exc}"))
        return report
    report.rows, report.valid = n + n_options, len(records) + len(options)
    report.errors = errors + option_errors
    if dry_run or not (records or options) or (strict and report.errors):
        return report
    url = settings.resolved_database_url
    migrate(url)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        if records:
            if replace:
                conn.execute(delete(ProductRelation))
                conn.execute(update(OrderItem).values(product_id=None))
                conn.execute(delete(Product))
            counts = insert_products(conn, records)
            set_meta(conn, source="import", products=conn.execute(select(Product.id)).all().__len__())
            report.inserted, report.updated = counts["inserted"], counts["updated"]
        if options:
            report.delivery_options = replace_delivery_options(conn, options)
    report.loaded = True
    engine.dispose()
    return report
