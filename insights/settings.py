"""Settings of the insights package, read from the environment (prefix ``SHOP_``).

Why a separate settings class: retention and the consumer's polling are the
only knobs here and no other part reads them. The shop database URL and the
var folder still come from :func:`assistant.settings.get_settings`, so one
``SHOP_VAR_DIR`` / ``SHOP_DATABASE_URL`` moves everything together.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

from pydantic import BaseSettings, Field

from assistant.settings import PROJECT_ROOT, Settings, get_settings

DEFAULT_ENDPOINTS = PROJECT_ROOT / "bot" / "endpoints.yml"
EVENTS_DB_ENV = "SHOP_EVENTS_DB"  # the SQL event broker's file, named in bot/endpoints.yml


class InsightsSettings(BaseSettings):
    """Retention, broker configuration and consumer pace; every field is ``SHOP_<FIELD>``."""

    retention_days: int = Field(
        180, ge=1, description="Events, facts and idle profiles older than this are purged"
    )
    endpoints: Path = Field(
        DEFAULT_ENDPOINTS, description="Rasa endpoints file whose event_broker the consumer reads"
    )
    events_db: Optional[Path] = Field(
        None, description="SQLite file of Rasa's SQL event broker; default <var_dir>/events.db"
    )
    consumer_poll_seconds: float = Field(0.1, gt=0, description="SQL broker polling interval")

    class Config:
        env_prefix = "SHOP_"

    def resolved_events_db(self, shop: Optional[Settings] = None) -> Path:
        shop = shop or get_settings()
        return self.events_db or Path(shop.var_dir) / "events.db"


@lru_cache(maxsize=1)
def get_insights_settings() -> InsightsSettings:
    return InsightsSettings()
