"""The bot's domain (``bot/domain.yml``) as Rasa sends it to the action server, read once per process.

The Rasa servers no longer send the domain with every action call (``enable_selective_domain`` in
``bot/endpoints*.yml``): the action server fills it in from the bot folder it ships with
(:mod:`rasa_sdk_plugins.domain`), and actions called without one read their words from it too.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict

from core.settings import PROJECT_ROOT

DOMAIN_PATH = PROJECT_ROOT / "bot" / "domain.yml"


@functools.lru_cache(maxsize=1)
def bot_domain(path: Path = DOMAIN_PATH) -> Dict[str, Any]:
    """``Domain.as_dict()`` of the bot's domain file (Rasa's own loader, so the same format)."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(path)).as_dict()


__all__ = ["DOMAIN_PATH", "bot_domain"]
