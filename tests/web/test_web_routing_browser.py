"""Routing with several agents in a real browser (Playwright + Debian's Chromium), on an assistant of
its own with ``SHOP_HANDOFF_ROUTING=auto``: an order question reaches the orders agent, a return the
returns agent, a second order question waits for the orders agent's free place and is routed to her
as soon as she closes the first; the supervisor sees every queue and every agent's load."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

pytestmark = pytest.mark.slow

from playwright.sync_api import Page, expect  # noqa: E402

LIVE_TIMEOUT = 20_000  # ms: routing runs on the next turn, console poll or background round (2 s)


@pytest.fixture(scope="module")
def routed_shop(assistant_on_a_copy, shop_at) -> Iterator[Any]:
    from assistant.launcher import server_environment

    with assistant_on_a_copy(SHOP_HANDOFF_ROUTING="auto", SHOP_SUPPORT_HOURS="always") as processes:
        env = server_environment(processes.config)
        # The copy holds the hand-offs of earlier tests: open ones would be routed first (longest
        # waiting first). This shop's team starts with none.
        with sqlite3.connect(Path(env["SHOP_VAR_DIR"]) / "shop.db") as db:
            db.execute("DELETE FROM handoff_messages")
            db.execute("DELETE FROM handoff_tickets")
        yield shop_at(processes.config.rasa_url, env)


def _chat(shop: Any, lines: List[str]) -> Dict[str, Any]:
    """A shopper over REST; returns the conversation id and the hand-off state after the last line."""
    session = requests.post(f"{shop.channel}/session", timeout=30).json()["session_id"]
    state: Dict[str, Any] = {}
    for line in lines:
        reply = requests.post(f"{shop.channel}/webhook", json={"sender": session, "message": line}, timeout=60)
        reply.raise_for_status()
        for message in reply.json():
            if "handoff" in (message.get("custom") or {}):
                state = message["custom"]["handoff"]
    return {"session": session, **state}


def _console(browser: Any, shop: Any, account: Any) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(f"{shop.channel}/console")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#live-state")).to_have_text("Live", timeout=LIVE_TIMEOUT)
    return page


def test_conversations_reach_the_agent_with_the_skill_and_room(browser, routed_shop, agent_in, artifacts: Path) -> None:
    shop = routed_shop
    olga = agent_in(shop, "Olga", options=("--skills", "orders", "--capacity", "1"))
    rita = agent_in(shop, "Rita", options=("--skills", "returns", "--capacity", "1"))
    sam = agent_in(shop, "Sam", options=("--supervisor", "--capacity", "0"))
    consoles = {
        name: _console(browser, shop, account) for name, account in (("olga", olga), ("rita", rita), ("sam", sam))
    }

    order = _chat(shop, ["where is my order?", "I want to talk to a human agent"])
    ret = _chat(shop, ["I want to return my shoes", "I want to talk to a human agent"])
    assert order.get("status") and ret.get("status")

    # Each conversation is routed to the agent with its skill, announced to her and opened.
    olga_item = consoles["olga"].locator(f'#queue-list .queue-item[data-ticket="{order["ticket_id"]}"]')
    expect(olga_item).to_contain_text("yours", timeout=LIVE_TIMEOUT)
    expect(olga_item).to_contain_text("orders")
    expect(consoles["olga"].locator("#thread")).to_contain_text("where is my order?", timeout=LIVE_TIMEOUT)
    rita_item = consoles["rita"].locator(f'#queue-list .queue-item[data-ticket="{ret["ticket_id"]}"]')
    expect(rita_item).to_contain_text("yours", timeout=LIVE_TIMEOUT)
    expect(rita_item).to_contain_text("returns")
    expect(consoles["rita"].locator(f'#queue-list .queue-item[data-ticket="{order["ticket_id"]}"]')).to_have_count(0)

    # A second order question: Olga has no free place, so it waits first in the orders queue.
    second = _chat(shop, ["can you check the status of my order", "I want to talk to a human agent"])
    assert second["status"] == "waiting" and second["position"] == 1, second
    expect(consoles["olga"].locator(f'#queue-list .queue-item[data-ticket="{second["ticket_id"]}"]')).to_contain_text(
        "waiting", timeout=LIVE_TIMEOUT
    )
    expect(consoles["rita"].locator(f'#queue-list .queue-item[data-ticket="{second["ticket_id"]}"]')).to_have_count(0)

    # The supervisor sees every queue, the waiting count per skill and each agent's load.
    sam_page = consoles["sam"]
    for ticket in (order, ret, second):
        expect(sam_page.locator(f'#queue-list .queue-item[data-ticket="{ticket["ticket_id"]}"]')).to_have_count(
            1, timeout=LIVE_TIMEOUT
        )
    expect(sam_page.locator('#skill-overview li[data-skill="orders"]')).to_contain_text("1 waiting · 1 online · 0 free")
    expect(sam_page.locator("#team-list")).to_contain_text("Olga — online · 1/1", timeout=LIVE_TIMEOUT)
    sam_page.screenshot(path=str(artifacts / "console-supervisor.png"))

    # Olga closes the first conversation: the waiting one is routed to her at once.
    consoles["olga"].locator(f'#queue-list .queue-item[data-ticket="{order["ticket_id"]}"]').click()
    consoles["olga"].get_by_role("button", name="Close", exact=True).click()
    second_item = consoles["olga"].locator(f'#queue-list .queue-item[data-ticket="{second["ticket_id"]}"]')
    expect(second_item).to_contain_text("yours", timeout=LIVE_TIMEOUT)
    # the closed conversation gives way to the new one in her console
    expect(consoles["olga"].locator("#thread")).to_contain_text("can you check the status", timeout=LIVE_TIMEOUT)
    history = requests.get(f"{shop.channel}/history/{second['session']}", timeout=30).json()
    assert history["handoff"]["status"] == "assigned" and history["handoff"]["agent"] == "Olga"
    assert any("Olga" in (m.get("text") or "") for m in history["messages"])  # "Olga has joined"
    consoles["olga"].screenshot(path=str(artifacts / "console-routed.png"))
