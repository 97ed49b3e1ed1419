"""The running assistant (`make start`'s two servers) streams every turn through the SQL broker of
bot/endpoints.yml, and the consumer turns it into the shopper's profile."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from insights.consumer import consume_sql
from insights.profile_store import get_profile
from shopdb.db import create_db_engine, session_factory


@pytest.mark.slow
def test_a_chat_turn_reaches_the_profile(running_assistant, shop_env):
    var = Path(shop_env["SHOP_VAR_DIR"])
    request = urllib.request.Request(
        f"{running_assistant.config.rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": "live-insights-1", "message": "hello"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200

    events_db = var / "events.db"
    assert events_db.exists(), "the Rasa server did not write to the SQL event broker (SHOP_EVENTS_DB)"
    sessions = session_factory(create_db_engine(f"sqlite:///{var / 'shop.db'}"))
    result = consume_sql(f"sqlite:///{events_db}", sessions)
    assert result.events >= 3  # session start, the user's message, the bot's answer (at least)
    profile = get_profile("live-insights-1", sessions=sessions)
    assert profile.total_turns == 1 and profile.last_intent
