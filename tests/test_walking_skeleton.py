"""End to end over Rasa's REST channel on 127.0.0.1, as a shop's site would talk
to it: both real servers, a trained bot, the real catalogue database."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Dict, List

import pytest
import requests
from sqlalchemy import create_engine, text

from assistant.launcher import AssistantProcesses

pytestmark = pytest.mark.slow


def say(assistant: AssistantProcesses, sender: str, message: str) -> List[Dict]:
    response = requests.post(
        f"{assistant.config.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def all_text(replies: List[Dict]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


def catalogue_titles(shop_env: Dict[str, str]) -> List[str]:
    engine = create_engine(f"sqlite:///{Path(shop_env['SHOP_VAR_DIR']) / 'shop.db'}")
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT title FROM products"))]


def test_greet_product_question_goodbye(running_assistant: AssistantProcesses, shop_env: Dict[str, str]) -> None:
    sender = f"skeleton-{uuid.uuid4().hex[:8]}"

    greeting = all_text(say(running_assistant, sender, "hello there"))
    assert greeting.strip(), "the bot should greet back"

    answer = all_text(say(running_assistant, sender, "do you have running shoes?"))
    titles = catalogue_titles(shop_env)
    assert any(title in answer for title in titles), f"expected products from the shop's database, got: {answer!r}"

    farewell = all_text(say(running_assistant, sender, "bye, thanks"))
    assert farewell.strip() and farewell != greeting


def test_conversation_is_kept_in_the_tracker_store(
    running_assistant: AssistantProcesses, shop_env: Dict[str, str]
) -> None:
    sender = f"persist-{uuid.uuid4().hex[:8]}"
    say(running_assistant, sender, "hi")
    engine = create_engine(f"sqlite:///{running_assistant.config.tracker_db}")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"), {"s": sender}
        ).scalar()
    assert rows == 1
