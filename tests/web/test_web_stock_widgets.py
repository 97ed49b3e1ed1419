"""Rasa's stock widgets on the shop's own site: botfront's rasa-webchat, from npm, in Chromium.

rasa-webchat renders only the standard message shapes (``text`` alone, ``text`` with buttons or
quick replies, a generic-template attachment); anything else is dropped without a word. So this
drives a whole conversation through it (search with cards, an order check, a reload, a hand-off
with the agent's lines and the notices) and checks that the shopper sees every line.

The widget comes from the npm registry at a pinned version and checksum (``npm pack``: the
package's own bundle, no dependency tree), cached under ``test-artifacts/npm``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import requests

from core.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

from playwright.sync_api import Page, expect  # noqa: E402

WEBCHAT = "rasa-webchat@1.0.1"
WEBCHAT_SHA1 = "918985573aa505d81ab927c5ea5919ae29a5ecfd"  # the registry's dist.shasum of 1.0.1
NPM_CACHE = PROJECT_ROOT / "test-artifacts" / "npm"
BOT_TIMEOUT = 60_000
LIVE_TIMEOUT = 15_000


@pytest.fixture(scope="session")
def webchat_bundle() -> bytes:
    """rasa-webchat's browser bundle (``lib/index.js``), downloaded from npm once and checked."""
    bundle = NPM_CACHE / "rasa-webchat-1.0.1.js"
    if not bundle.exists():
        npm = shutil.which("npm")
        assert npm, "npm is missing: apt-get install -y npm (make test installs it)"
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(
            [npm, "pack", WEBCHAT, "--pack-destination", str(NPM_CACHE), "--silent"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert packed.returncode == 0, f"npm pack {WEBCHAT} failed: {packed.stderr[-2000:]}"
        archive = NPM_CACHE / packed.stdout.strip().splitlines()[-1]
        assert hashlib.sha1(archive.read_bytes()).hexdigest() == WEBCHAT_SHA1, "rasa-webchat's archive changed"
        with tarfile.open(archive) as tar:
            member = tar.extractfile("package/lib/index.js")
            assert member is not None
            bundle.write_bytes(member.read())
        archive.unlink()
    return bundle.read_bytes()


def webchat_page(site, live_shop, bundle: bytes) -> str:
    """The shop's page with rasa-webchat as its README shows it, pointed at the assistant."""
    site.serve("/rasa-webchat.js", bundle, "application/javascript")
    return site.serve(
        "/webchat.html",
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sunny Shoes</title></head>
<body><h1>Sunny Shoes</h1><div id="webchat"></div>
<script src="/rasa-webchat.js"></script>
<script>WebChat.default({{selector: "#webchat", initPayload: "/greet", customData: {{language: "en"}},
  socketUrl: "{live_shop.url}", socketPath: "/socket.io/", title: "Sunny Shoes", params: {{storage: "local"}}}}, null);
</script></body></html>""",
    )


def bot_lines(page: Page):
    return page.locator(".rw-response")


def say(page: Page, text: str) -> None:
    box = page.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(".rw-client").last).to_contain_text(text, timeout=LIVE_TIMEOUT)


def expect_bot_says(page: Page, text: str, timeout: int = LIVE_TIMEOUT) -> None:
    expect(bot_lines(page).filter(has_text=text).last).to_be_visible(timeout=timeout)


def agent_session(live_shop, account) -> tuple:
    """The agent console's API, as the console page calls it (login, then a CSRF header on every change)."""
    session = requests.Session()
    reply = session.post(
        f"{live_shop.channel}/agent/login",
        json={"username": account.username, "password": account.password},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return session, {"X-CSRF-Token": reply.json()["csrf"]}


def test_rasa_webchat_shows_cards_orders_reloads_and_the_whole_hand_off(
    browser, live_shop, shop_sites, agent_account, webchat_bundle: bytes, artifacts: Path
) -> None:
    site = shop_sites[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(webchat_page(site, live_shop, webchat_bundle))
    page.locator(".rw-launcher").click()
    expect(bot_lines(page).first).to_be_visible(timeout=BOT_TIMEOUT)  # the answer to the init payload

    # Search: the product carousel, each card with its title and buttons.
    say(page, "I'm looking for running shoes")
    card = page.locator(".rw-carousel-card").first
    expect(card).to_be_visible(timeout=BOT_TIMEOUT)
    expect(card.locator(".rw-carousel-card-title")).not_to_be_empty()

    # An order check: the number, the e-mail, then the order's status.
    say(page, "where is my order 10000001?")
    expect_bot_says(page, "e-mail", timeout=BOT_TIMEOUT)
    say(page, "alex.morgan@example.com")
    expect_bot_says(page, "10000001", timeout=BOT_TIMEOUT)

    # Reload: rasa-webchat keeps the conversation (its session id continues on the server).
    page.reload()
    expect(page.locator(".rw-client").filter(has_text="alex.morgan@example.com")).to_have_count(1, timeout=LIVE_TIMEOUT)

    # A hand-off: queued, joined, the agent's lines, handed back: every line is shown.
    say(page, "I want to talk to a human")
    expect_bot_says(page, "queue", timeout=BOT_TIMEOUT)
    agent, csrf = agent_session(live_shop, agent_account)
    session_id = page.evaluate("JSON.parse(localStorage.getItem('chat_session')).session_id")
    queue = agent.get(f"{live_shop.channel}/agent/queue", timeout=10).json()["tickets"]
    ticket = next(t for t in queue if t["sender_id"] == session_id)
    base = f"{live_shop.channel}/agent/tickets/{ticket['id']}"
    assert agent.post(f"{base}/take", headers=csrf, timeout=10).status_code == 200
    expect_bot_says(page, f"{agent_account.display_name} from our support team has joined")
    reply = agent.post(f"{base}/messages", json={"text": "I can see your order, one moment."}, headers=csrf, timeout=10)
    assert reply.status_code == 201
    expect_bot_says(page, f"{agent_account.display_name} (support agent): I can see your order, one moment.")
    say(page, "thank you!")
    lines = agent.get(base, timeout=10).json()["messages"]
    assert any(m["text"] == "thank you!" for m in lines)
    page.screenshot(path=str(artifacts / "rasa-webchat-agent.png"))
    outcome = {"outcome": "handed_back"}
    assert agent.post(f"{base}/resolve", json=outcome, headers=csrf, timeout=10).status_code == 200
    expect_bot_says(page, "handed you back")
    # The rating question: five plain buttons in a stock widget.
    page.locator(".rw-reply").filter(has_text=re.compile(r"^5$")).click(timeout=LIVE_TIMEOUT)
    expect_bot_says(page, "Thank you for rating us 5 out of 5!")
    answered = bot_lines(page).count()
    say(page, "do you ship to austria?")
    expect(bot_lines(page)).not_to_have_count(answered, timeout=BOT_TIMEOUT)  # the bot answers again
    context.close()
