"""Site events from the widget (page/product viewed, searched, added to cart, purchased).

They travel on the same event stream as Rasa's own events: :func:`record`
validates one, strips what is personal, and publishes it through a Rasa
``EventBroker`` (the SQL broker by default, RabbitMQ in production), so the one
consumer sees a shopper's chat turns and page activity in order.

The web channel exposes this as an HTTP endpoint with
:func:`insights.api.site_events_blueprint`; it must pass the *verified*
customer id (from the signed customer token), never one read from the request.
"""

from __future__ import annotations

import re
import time
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, root_validator, validator

from core.log_masking import mask_personal_data
from insights.interpret import SITE_EVENT

_ID = re.compile(r"^[\w.:@-]{1,128}$")
_PRODUCT_REF = re.compile(r"^[\w.-]{1,40}$")


class SiteEventType(str, Enum):
    PAGE_VIEWED = "page_viewed"
    PRODUCT_VIEWED = "product_viewed"
    SEARCHED = "searched"
    ADDED_TO_CART = "added_to_cart"
    PURCHASED = "purchased"


class InvalidSiteEvent(ValueError):
    """A site event that cannot be recorded; ``errors`` says which field and why."""

    def __init__(self, errors: List[Dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


class SiteEvent(BaseModel):
    """One validated site event as it travels on the stream (no e-mails, no order numbers)."""

    event: str = Field(SITE_EVENT, const=True)
    type: SiteEventType
    sender_id: str
    timestamp: float = Field(default_factory=time.time)
    customer_id: Optional[str] = None
    page: Optional[str] = None  # path only: query strings may carry tokens or e-mails
    product_id: Optional[str] = None  # catalogue id or SKU
    product_ids: List[str] = Field(default_factory=list, max_items=50)
    category: Optional[str] = Field(None, max_length=200)
    query: Optional[str] = Field(None, max_length=300)
    price: Optional[float] = Field(None, ge=0, le=1_000_000)
    quantity: Optional[int] = Field(None, ge=1, le=999)

    class Config:
        extra = "ignore"
        use_enum_values = True

    @validator("sender_id")
    def _sender(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be 1-128 letters, digits or . : @ _ -")
        return value

    @validator("customer_id")
    def _customer(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _ID.match(value):
            raise ValueError("must be 1-128 letters, digits or . : @ _ -")
        return value[:64] if value else None

    @validator("product_id")
    def _product(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _PRODUCT_REF.match(str(value)):
            raise ValueError("must be a catalogue id or SKU (letters, digits, . _ -)")
        return str(value) if value is not None else None

    @validator("product_ids", each_item=True)
    def _products(cls, value: str) -> str:
        if not _PRODUCT_REF.match(str(value)):
            raise ValueError("must be catalogue ids or SKUs")
        return str(value)

    @validator("page")
    def _page(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        path = urlsplit(value).path or "/"
        return mask_personal_data(path)[:300]

    @validator("query", "category")
    def _mask(cls, value: Optional[str]) -> Optional[str]:
        return mask_personal_data(value.strip()) if value is not None else None

    @root_validator(skip_on_failure=True)
    def _required_by_type(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        kind = values.get("type")
        if kind in (SiteEventType.PRODUCT_VIEWED, SiteEventType.ADDED_TO_CART) and not values.get("product_id"):
            raise ValueError(f"{kind.value if isinstance(kind, Enum) else kind} needs product_id")
        if kind == SiteEventType.SEARCHED and not values.get("query"):
            raise ValueError("searched needs a non-empty query")
        if kind == SiteEventType.PURCHASED and not (values.get("product_ids") or values.get("product_id")):
            raise ValueError("purchased needs product_ids (or product_id)")
        if kind == SiteEventType.PAGE_VIEWED and not values.get("page"):
            raise ValueError("page_viewed needs page")
        return values

    def all_product_ids(self) -> List[str]:
        ids = list(self.product_ids)
        if self.product_id and self.product_id not in ids:
            ids.insert(0, self.product_id)
        return ids


def validate(
    data: Mapping[str, Any], *, sender_id: Optional[str] = None, customer_id: Optional[str] = None
) -> Tuple[SiteEvent, List[str]]:
    """The validated event and the names of the fields it ignored.

    ``sender_id``/``customer_id`` given here (by the channel, from its verified
    session) win over whatever the payload claims; the timestamp is always the
    server's.
    """
    if not isinstance(data, Mapping):
        raise InvalidSiteEvent([{"field": "body", "message": "must be a JSON object"}])
    payload = {k: v for k, v in data.items() if k not in ("event", "timestamp", "customer_id")}
    if sender_id is not None:
        payload["sender_id"] = sender_id
    payload["customer_id"] = customer_id
    try:
        event = SiteEvent.parse_obj(payload)
    except ValidationError as error:
        raise InvalidSiteEvent(
            [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in error.errors()]
        ) from None
    ignored = sorted(set(data) - set(SiteEvent.__fields__) - {"event", "timestamp"})
    return event, ignored


def record(
    data: Mapping[str, Any],
    *,
    sender_id: Optional[str] = None,
    customer_id: Optional[str] = None,
    broker: Any = None,
) -> SiteEvent:
    """Validate a site event and publish it on the event stream.

    ``broker`` is any Rasa ``EventBroker`` (inside the Rasa server pass the
    agent's own, ``app.ctx.agent.tracker_store.event_broker``); by default the
    broker of ``bot/endpoints.yml`` (the SQL broker, created synchronously).
    Raises :class:`InvalidSiteEvent` on bad input; nothing is published then.
    """
    event, _ = validate(data, sender_id=sender_id, customer_id=customer_id)
    if broker is None:
        from insights.stream import default_broker

        broker = default_broker()
    broker.publish(event.dict(exclude_none=True))
    return event
