"""The project's own code checks, run by the test command: lint and format (ruff), types (mypy),
layers (import-linter), and the configuration documented for every setting.

Each is configured in ``pyproject.toml``; a failure prints the tool's own report.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from core.settings import PROJECT_ROOT, Settings

BIN = Path(sys.executable).parent


def run(command: List[str]) -> None:
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "--output-format", "concise", "."],
        ["ruff", "format", "--check", "."],
        ["lint-imports"],
        ["mypy"],
    ],
    ids=["ruff-lint", "ruff-format", "import-layers", "mypy"],
)
def test_code_check(command: List[str]) -> None:
    run([str(BIN / command[0]), *command[1:]])


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`SHOP_([A-Z0-9_]+)`", (PROJECT_ROOT / "docs" / "configuration.md").read_text()))
    fields = {name.upper() for name in Settings.__fields__}
    assert fields - documented == set(), "add these to docs/configuration.md"
    assert documented - fields == set(), "docs/configuration.md names settings that do not exist"


def test_no_setting_is_read_around_the_settings_class() -> None:
    """Every SHOP_* variable is read through core.settings (one place to document, validate and change);
    setting one for a child process is fine."""
    offenders = []
    for path in PROJECT_ROOT.glob("*/**/*.py"):
        if path.parts[len(PROJECT_ROOT.parts)] in ("tests", ".venv", "var") or path.name == "settings.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"environ\.get\(\s*[\"']SHOP_|environ\[[\"']SHOP_\w+[\"']\](?!\s*=)", line):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert offenders == []
