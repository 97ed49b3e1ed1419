"""The action server's shared access to the shop: :func:`shop_search` (catalogue, policies) and
:func:`shop_orders` (orders, returns, refunds).

Why lazy: the action server imports every module of ``actions`` at start-up; loading the
embedding model and FAISS indexes at import time slows start-up and breaks rasa-sdk's worker
start ("spawn"/"fork" clash). The first action that needs them builds them once per process.

Why warmed up all the same: loading the indexes and the model takes seconds, longer than the
Rasa server waits for an action (``SHOP_ACTION_TIMEOUT``). Inside the action server (``rasa run
actions``, which imports ``rasa_sdk.endpoint`` before our modules) :func:`warm_up_in_background`
loads them in a daemon thread right after start-up; ``SHOP_ACTIONS_WARM_UP=false`` turns it off.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING, Optional

from core.heap import freeze_startup_heap
from core.settings import get_settings
from monitoring.health import NotReady, register_readiness, sql_reachable

if TYPE_CHECKING:  # pragma: no cover - typing only
    from retrieval.shop_search import ShopSearch
    from shopdb.orders import Orders

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_search: Optional["ShopSearch"] = None
_orders: Optional["Orders"] = None


def shop_search() -> "ShopSearch":
    """The process-wide catalogue and policy search, built on first use."""
    global _search
    if _search is None:
        with _lock:
            if _search is None:
                from retrieval.shop_search import ShopSearch

                _search = ShopSearch.from_settings(timeout=get_settings().db_timeout)
    return _search


def shop_orders() -> "Orders":
    """The process-wide order operations, built on first use."""
    global _orders
    if _orders is None:
        with _lock:
            if _orders is None:
                from shopdb.orders import Orders

                _orders = Orders.from_settings(timeout=get_settings().db_timeout)
    return _orders


def use_shop(search: Optional["ShopSearch"] = None, orders: Optional["Orders"] = None) -> None:
    """Use explicitly built parts (tests build their own shop); None goes back to the lazy default."""
    global _search, _orders
    _search, _orders = search, orders


_warmed = threading.Event()
_warm_up_failed: Optional[str] = None


def catalogue_ready() -> None:
    """Readiness (``/health/ready``): the catalogue, the indexes and the embedding model are loaded.

    Without the warm-up (``SHOP_ACTIONS_WARM_UP=false``) they load on the first search, so only
    the index folder is checked.
    """
    if not get_settings().actions_warm_up or _warmed.is_set():
        if not get_settings().resolved_index_dir.is_dir():
            raise NotReady("no index folder: run `shop build`")
        return
    if _warm_up_failed:
        raise NotReady(f"loading the catalogue failed ({_warm_up_failed}): see the action server's log")
    raise NotReady("loading the catalogue, the indexes and the embedding model")


def database_reachable() -> None:
    sql_reachable(shop_orders().engine)()


def warm_up_in_background() -> bool:
    """Load the indexes and the embedding model in a daemon thread when running inside the action server."""
    if "rasa_sdk.endpoint" not in sys.modules:
        return False
    register_readiness("catalogue_index", catalogue_ready)
    register_readiness("shop_database", database_reachable)
    if not get_settings().actions_warm_up:
        return False

    def warm() -> None:
        global _warm_up_failed
        try:
            shop_search().search_products("warm up", k=1)
        except Exception as error:  # a broken shop shows itself on the first real action, with its error
            _warm_up_failed = type(error).__name__
            logger.warning("warming up the shop search failed", exc_info=True)
        else:
            _warmed.set()
            freeze_startup_heap()  # the indexes and the catalogue's columns stay for good (core/heap.py)

    threading.Thread(target=warm, name="shop-warm-up", daemon=True).start()
    return True


warm_up_in_background()
