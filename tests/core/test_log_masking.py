"""Personal data never reaches a log line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.log_masking import mask_personal_data
from core.settings import PROJECT_ROOT


@pytest.mark.parametrize(
    "text, secret",
    [
        ("my email is jane.doe+shop@example.co.uk", "jane.doe+shop@example.co.uk"),
        ("where is order ORD-104233?", "104233"),
        ("my order 10000042 never came", "10000042"),
        ("postcode 75011, Paris", "75011"),
        ("call me on +44 7700 900123", "7700 900123"),
        ("card 4111 1111 1111 1111 please", "4111 1111 1111 1111"),
        ('slots {"delivery_address": "12 Baker Street, London", "email": "a@b.io"}', "Baker Street"),
        ("{'shipping_address': '5 Main Rd'}", "5 Main Rd"),
    ],
)
def test_masks_personal_data(text: str, secret: str) -> None:
    masked = mask_personal_data(text)
    assert secret not in masked
    assert masked != text


@pytest.mark.parametrize(
    "text", ["running shoes under 80", "port 5055 is up", "size 42 in red", "v3.6.21", "costs 129.99 EUR"]
)
def test_leaves_ordinary_text_alone(text: str) -> None:
    assert mask_personal_data(text) == text


def test_logging_config_masks_records_of_every_handler() -> None:
    """Load bot/logging.yml as Rasa does, then log through a handler added afterwards."""
    script = f"""
import logging, sys
from rasa.utils.common import configure_logging_from_file
configure_logging_from_file({str(PROJECT_ROOT / "bot" / "logging.yml")!r})
handler = logging.StreamHandler(sys.stdout)   # like the coloured handler Rasa adds later
logging.getLogger().addHandler(handler)
logging.getLogger('rasa.core').warning('user %s wrote about %s', 'bob@example.com', 'ORD-555555')
"""
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "user <email> wrote about <reference>" in output
    assert "bob@example.com" not in output
