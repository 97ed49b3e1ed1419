"""The assistant on a copy of the shop: benchmarks that talk to the servers never change ``var/``."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Dict, Optional

from assistant.launcher import LaunchConfig
from core.settings import Settings


def launch_on_a_copy(
    settings: Settings, model: Path, port: int, prefix: str, extra_env: Optional[Dict[str, str]] = None
) -> LaunchConfig:
    """Copies the shop database and indexes into a new folder; servers on ``port`` to ``port + 2`` use it."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.copyfile(settings.var_dir / "shop.db", work / "shop.db")
    shutil.copytree(settings.resolved_index_dir, work / "index")
    return LaunchConfig(
        model=model,
        rasa_port=port,
        actions_port=port + 1,
        insights_port=port + 2,
        tracker_db=work / "tracker.db",
        log_dir=work / "logs",
        extra_env={"SHOP_VAR_DIR": str(work), **(extra_env or {})},
    )


__all__ = ["launch_on_a_copy"]
