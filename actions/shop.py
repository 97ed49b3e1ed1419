"""The one shared :class:`knowledge.service.ShopKnowledge` of the action server.

Why lazy: the action server imports every module of ``actions`` at start-up;
loading the embedding model and FAISS indexes at import time slows start-up and
breaks rasa-sdk's worker start ("spawn"/"fork" clash). The first action that
needs the shop builds it once per process.
"""
from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover - typing only
    from knowledge.service import ShopKnowledge

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
                from knowledge.service import ShopKnowledge

                _knowledge = ShopKnowledge.from_settings()
    return _knowledge


def set_knowledge(knowledge: Optional["ShopKnowledge"]) -> None:
    """Use an explicitly built knowledge object (tests build their own shop)."""
    global _knowledge
    _knowledge = knowledge
