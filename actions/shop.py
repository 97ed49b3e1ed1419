"""The one shared :class:`knowledge.service.ShopKnowledge` of the action server.

Why lazy: the action server imports every module of ``actions`` at start-up;
loading the embedding model and FAISS indexes at import time slows start-up and
breaks rasa-sdk's worker start ("spawn"/"fork" clash). The first action that
needs the shop builds it once per process.

Why warmed up all the same: building it takes seconds (10 s on the loaded test
machine), longer than the Rasa server waits for an action (``SHOP_ACTION_TIMEOUT``,
:mod:`assistant.resilience`). Inside the action server (``rasa run actions``, which
imports ``rasa_sdk.endpoint`` before our modules) :func:`warm_up_in_background`
builds it in a daemon thread right after start-up; ``SHOP_ACTIONS_WARM_UP=0`` turns it off.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover - typing only
    from knowledge.service import ShopKnowledge

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_knowledge: Optional["ShopKnowledge"] = None


def get_knowledge() -> "ShopKnowledge":
    """The process-wide shop knowledge, built on first use."""
    global _knowledge
    if _knowledge is None:
        with _lock:
            if _knowledge is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from assistant.settings import get_settings
                from knowledge.service import ShopKnowledge

                _knowledge = ShopKnowledge.from_settings(timeout=get_settings().db_timeout)
    return _knowledge


def set_knowledge(knowledge: Optional["ShopKnowledge"]) -> None:
    """Use an explicitly built knowledge object (tests build their own shop)."""
    global _knowledge
    _knowledge = knowledge


def warm_up_in_background() -> bool:
    """Build the shop knowledge in a daemon thread when running inside the action server."""
    if "rasa_sdk.endpoint" not in sys.modules or os.environ.get("SHOP_ACTIONS_WARM_UP", "1") == "0":
        return False

    def warm() -> None:
        try:
            get_knowledge().search_products("warm up", k=1)
        except Exception:  # a broken shop shows itself on the first real action, with its error
            logger.warning("warming up the shop knowledge failed", exc_info=True)

    threading.Thread(target=warm, name="shop-warm-up", daemon=True).start()
    return True


warm_up_in_background()
