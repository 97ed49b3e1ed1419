"""The widget and the agent console in a real browser (Playwright + Debian's Chromium).

Everything is real: the project's bot trained with ``bot/config.test.yml``, the action
server with the shop database and FAISS index, the Rasa server with ``web.channel.ShopChannel``.
Screenshots land in ``test-artifacts/web/``; ``SHOP_UPDATE_SCREENSHOTS=1`` also refreshes the
README's ``docs/screenshots/widget.png`` and ``console.png``.
"""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path

import pytest
import requests
from PIL import Image

from handoff.store import HandoffStore
from shopdb.ratings import ratings_between

pytestmark = pytest.mark.slow

from playwright.sync_api import Page, expect  # noqa: E402

BOT_TIMEOUT = 60_000  # ms; the first product search loads the embedding model in the action server
LIVE_TIMEOUT = 15_000


def open_chat(page: Page) -> None:
    page.get_by_role("button", name="Open chat with the shop assistant").click()
    expect(page.get_by_role("dialog")).to_be_visible()


def say(page: Page, text: str) -> None:
    box = page.get_by_label("Message to the shop assistant")
    box.fill(text)
    box.press("Enter")
    # The widget shows the line at once; a loaded machine (the whole suite running) can take seconds to paint it.
    expect(page.locator(".shopchat-msg--user .shopchat-bubble").last).to_have_text(
        f"You said: {text}", timeout=LIVE_TIMEOUT
    )


def bot_count(page: Page) -> int:
    return page.locator(".shopchat-msg--bot").count()


def wait_for_more_bot_messages(page: Page, than: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.shopchat-msg--bot').length > n", arg=than, timeout=BOT_TIMEOUT
    )


def login(page: Page, shop, account, password: str | None = None) -> None:
    page.goto(f"{shop.channel}/console")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(password or account.password)
    page.get_by_role("button", name="Sign in").click()


def test_shopper_path_search_handoff_reload_and_back_to_the_bot(
    browser, live_shop, agent_account, artifacts: Path, publish_screenshot, signed_in
) -> None:
    shopper_context = browser.new_context(viewport={"width": 1280, "height": 860})
    signed_in(shopper_context, live_shop)  # the shop's page carries a signed customer token
    page = shopper_context.new_page()
    errors: list = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_shop.channel}/demo")
    expect(page.locator("#who")).to_contain_text("Signed in as")
    customer_name = page.locator("#who").inner_text().removeprefix("Signed in as ")
    open_chat(page)

    # 1. Search: the bot answers with a carousel of product cards.
    say(page, "I'm looking for running shoes")
    cards = page.locator(".shopchat-card")
    expect(cards.first).to_be_visible(timeout=BOT_TIMEOUT)
    assert cards.count() >= 2
    first = cards.first
    expect(first.locator(".shopchat-card-title")).not_to_be_empty()
    expect(first.locator(".shopchat-price")).to_contain_text("€")
    # Absolute links (cards are shown on other sites too) and a picture drawn by the assistant.
    expect(first.get_by_role("link", name="View")).to_have_attribute(
        "href", f"{live_shop.channel}/demo?product=" + first.get_attribute("data-product-id")
    )
    image = first.locator("img.shopchat-card-img")
    expect(image).to_have_attribute("src", re.compile(r"/webhooks/shop/images/products/\d+\.svg$"))
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 400", arg=image.element_handle(), timeout=LIVE_TIMEOUT
    )  # loaded, not the widget's fall-back picture (a data: URL)
    expect(page.get_by_role("button", name="Next products")).to_be_visible()
    # "Add to cart" lands in the host page's cart (the demo page handles the widget's event).
    first.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("Cart: 1 item")
    expect(page.locator(".shopchat-msg--user").last).to_contain_text("Add to cart: ")  # the bot is told too
    page.screenshot(path=str(artifacts / "widget-products.png"))
    publish_screenshot(artifacts / "widget-products.png", "widget.png")

    # 2. Ask for a person: queued, the bot is paused.
    say(page, "I want to talk to a human")
    expect(page.locator(".shopchat-title")).to_have_text("Waiting for an agent", timeout=BOT_TIMEOUT)
    expect(page.locator(".shopchat-status")).to_contain_text("in the queue")
    ticket_id = page.evaluate("window.ShopChat.instance.handoff.ticket_id")
    session_id = page.evaluate("window.ShopChat.instance.sessionId")
    bots_before = bot_count(page)
    say(page, "My order of running shoes is late, can someone check?")
    # Queued: the line reaches the team (a receipt under it) and the shopper hears the place and the wait.
    expect(page.locator(".shopchat-msg--user").last.locator(".shopchat-receipt")).to_have_text(
        "Delivered to our team", timeout=LIVE_TIMEOUT
    )
    expect(page.locator(".shopchat-msg--system").last).to_contain_text(re.compile(r"number \d+ in the queue"))
    expect(page.locator(".shopchat-msg--system").last).to_contain_text(re.compile(r"about \d+ min"))

    # 3. The agent, in a second browser context, sees it live, takes it and answers.
    agent_context = browser.new_context(viewport={"width": 1280, "height": 860})
    console = agent_context.new_page()
    console.on("pageerror", lambda error: errors.append(str(error)))
    login(console, live_shop, agent_account)
    expect(console.locator("#live-state")).to_have_text("Live", timeout=LIVE_TIMEOUT)
    item = console.locator(f'#queue-list .queue-item[data-ticket="{ticket_id}"]')
    expect(item).to_contain_text("waiting")
    item.click()
    expect(console.locator("#thread")).to_contain_text("can someone check?")
    expect(console.locator("#thread")).to_contain_text("I'm looking for running shoes")  # bot transcript
    expect(console.locator("#intents")).to_contain_text("request_human")
    expect(console.locator("#cart li")).to_have_count(1)  # the product added from the card
    expect(console.locator("#customer")).to_contain_text(customer_name)  # the signed-in demo customer
    console.get_by_role("button", name="Take").click()
    expect(page.locator(".shopchat-title")).to_have_text(
        f"Connected to {agent_account.display_name}", timeout=LIVE_TIMEOUT
    )
    console.get_by_label("Reply to the shopper").fill("Hi, I'm Robin from support. Let me look at your order.")
    console.get_by_role("button", name="Send").click()
    agent_line = page.locator(".shopchat-msg--agent").last
    expect(agent_line).to_contain_text("Let me look at your order.", timeout=LIVE_TIMEOUT)
    expect(agent_line).to_contain_text(f"{agent_account.display_name} (support agent)")

    assert bot_count(page) == bots_before  # the bot stayed silent while queued and with the agent

    # 4. Reload in the middle: history and hand-off state come back; the chat goes on.
    page.reload()
    expect(page.locator(".shopchat-msg--agent").last).to_contain_text(
        "Let me look at your order.", timeout=LIVE_TIMEOUT
    )
    expect(page.locator(".shopchat-card").first).to_be_visible()
    expect(page.locator(".shopchat-title")).to_have_text(f"Connected to {agent_account.display_name}")
    assert page.evaluate("window.ShopChat.instance.sessionId") == session_id
    say(page, "Thanks! It is order 10000001")
    expect(console.locator("#thread")).to_contain_text("It is order 10000001", timeout=LIVE_TIMEOUT)
    expect(page.locator(".shopchat-msg--user").last.locator(".shopchat-receipt")).to_be_visible()
    assert bot_count(page) == bots_before  # the bot stayed silent while the agent had the conversation
    page.screenshot(path=str(artifacts / "widget-agent.png"))
    console.screenshot(path=str(artifacts / "console.png"))
    publish_screenshot(artifacts / "console.png", "console.png")

    # 5. Hand back: the bot answers again.
    console.get_by_role("button", name="Hand back to bot").click()
    expect(page.locator(".shopchat-title")).to_have_text("Shop assistant", timeout=LIVE_TIMEOUT)
    expect(page.locator(".shopchat-msg--system").last).to_contain_text("handed you back")
    bots = bot_count(page)
    say(page, "hi")
    wait_for_more_bot_messages(page, bots)
    page.screenshot(path=str(artifacts / "widget-back-to-bot.png"))

    # Nothing was lost: the tracker store and the ticket hold both sides of the hand-off.
    history = requests.get(f"{live_shop.channel}/history/{session_id}", timeout=10).json()
    texts = [m["text"] for m in history["messages"]]
    for line in (
        "My order of running shoes is late, can someone check?",
        "Thanks! It is order 10000001",
        "Hi, I'm Robin from support. Let me look at your order.",
    ):
        assert line in texts
    assert [m["text"] for m in history["messages"] if m["role"] == "event"][-2:] == ["pause", "resume"]
    assert history["handoff"] == {"status": None}
    store = HandoffStore.from_url(f"sqlite:///{Path(live_shop.env['SHOP_VAR_DIR']) / 'shop.db'}")
    lines = [(m.author, m.text) for m in store.messages(ticket_id)]
    assert ("shopper", "Thanks! It is order 10000001") in lines
    assert ("agent", "Hi, I'm Robin from support. Let me look at your order.") in lines
    assert store.get_ticket(ticket_id).status == "handed_back"
    assert errors == []
    shopper_context.close()
    agent_context.close()


def test_agent_login_refuses_a_wrong_password(browser, live_shop, agent_account, artifacts: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    login(page, live_shop, agent_account, password=agent_account.password + "-wrong")
    expect(page.get_by_role("alert").first).to_have_text("Wrong username or password.")
    expect(page.locator("#app-view")).to_be_hidden()
    assert not any(c["name"] == "shop_agent_session" for c in context.cookies())
    page.screenshot(path=str(artifacts / "console-login-refused.png"))
    # The right password opens the console; the session cookie is HttpOnly and SameSite=Strict.
    page.get_by_label("Password").fill(agent_account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#agent-name")).to_have_text(f"Signed in as {agent_account.display_name}")
    cookie = next(c for c in context.cookies() if c["name"] == "shop_agent_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    context.close()


def test_widget_on_a_phone_with_the_keyboard_and_two_tabs(browser, live_shop, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_shop.channel}/demo")
    launcher = page.get_by_role("button", name="Open chat with the shop assistant")
    launcher.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(launcher).to_be_hidden()
    box = dialog.bounding_box()
    assert box is not None and box["width"] == 390  # full screen on a phone
    expect(page.get_by_label("Message to the shop assistant")).to_be_focused()
    expect(page.get_by_role("log", name="Conversation")).to_have_attribute("aria-live", "polite")
    bots = bot_count(page)
    page.keyboard.type("hi")
    page.keyboard.press("Enter")
    wait_for_more_bot_messages(page, bots)
    page.screenshot(path=str(artifacts / "widget-phone.png"))

    # A second tab continues the same conversation and sees new lines live.
    other = context.new_page()
    other.goto(f"{live_shop.channel}/demo")
    expect(other.get_by_role("dialog")).to_be_visible()  # the widget remembers it was open
    expect(other.locator(".shopchat-msg--user").last).to_contain_text("hi")
    other_bots = bot_count(other)
    say(page, "goodbye")
    expect(other.locator(".shopchat-msg--user").last).to_contain_text("goodbye", timeout=LIVE_TIMEOUT)
    wait_for_more_bot_messages(other, other_bots)

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    context.close()


def test_widget_falls_back_to_rest_without_sockets(browser, live_shop) -> None:
    context = browser.new_context()
    context.route("**/socket.io/**", lambda route: route.abort())  # e.g. a proxy that blocks socket.io
    page = context.new_page()
    page.goto(f"{live_shop.channel}/demo")
    open_chat(page)
    expect(page.locator(".shopchat")).to_have_attribute("data-transport", "rest", timeout=LIVE_TIMEOUT)
    bots = bot_count(page)
    say(page, "hi")
    wait_for_more_bot_messages(page, bots)
    # The REST session is a real one: after a reload the history comes back from the tracker store.
    page.reload()
    expect(page.locator(".shopchat-msg--user").last).to_contain_text("hi", timeout=LIVE_TIMEOUT)
    context.close()


# -- the widget on the shop's own site (another origin) -----------------------------------------------
def shop_page(site, live_shop, path: str = "/shop.html") -> str:
    """A page of the shop's own site that embeds the widget the way the README says: one script tag."""
    return site.serve(
        path,
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sunny Shoes</title></head>
<body><h1>Sunny Shoes</h1><p>Our own shop, on our own site.</p>
<script src="{live_shop.channel}/static/widget.js"></script>
<script>ShopChat.init({{getPage: () => ({{url: location.href, title: document.title}})}});</script>
</body></html>""",
    )


def test_widget_on_another_origin_runs_a_conversation_and_a_hand_off(
    browser, live_shop, shop_sites, agent_account, artifacts: Path, publish_screenshot
) -> None:
    site = shop_sites[0]  # listed in SHOP_WIDGET_ORIGINS
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(shop_page(site, live_shop))
    assert page.evaluate("location.origin") == site.origin != live_shop.url
    page.keyboard.press("Tab")  # the launcher is the page's first stop, whatever the page holds
    expect(page.get_by_role("button", name="Open chat with the shop assistant")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    # socket.io connected across origins (no fall-back to REST), and the widget brought its own styles.
    expect(page.locator(".shopchat")).to_have_attribute("data-transport", "socket", timeout=LIVE_TIMEOUT)
    assert page.evaluate("getComputedStyle(document.querySelector('.shopchat')).position") == "fixed"

    say(page, "I'm looking for running shoes")
    cards = page.locator(".shopchat-card")
    expect(cards.first).to_be_visible(timeout=BOT_TIMEOUT)
    say(page, "I want to talk to a human")
    expect(page.locator(".shopchat-title")).to_have_text("Waiting for an agent", timeout=BOT_TIMEOUT)
    ticket_id = page.evaluate("window.ShopChat.instance.handoff.ticket_id")

    agent_context = browser.new_context()
    console = agent_context.new_page()
    login(console, live_shop, agent_account)
    item = console.locator(f'#queue-list .queue-item[data-ticket="{ticket_id}"]')
    item.click()
    expect(console.locator("#thread")).to_contain_text("I'm looking for running shoes")
    console.get_by_role("button", name="Take").click()
    expect(page.locator(".shopchat-title")).to_have_text(
        f"Connected to {agent_account.display_name}", timeout=LIVE_TIMEOUT
    )
    console.get_by_label("Reply to the shopper").fill("Hello from support, on your shop's own site.")
    console.get_by_role("button", name="Send").click()
    agent_line = page.locator(".shopchat-msg--agent").last
    expect(agent_line).to_contain_text("on your shop's own site.", timeout=LIVE_TIMEOUT)
    expect(agent_line).to_contain_text(f"{agent_account.display_name} (support agent)")
    expect(agent_line.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    say(page, "Great, thanks for the help")
    expect(console.locator("#thread")).to_contain_text("thanks for the help", timeout=LIVE_TIMEOUT)
    # A photo of the damaged item: scaled in the browser, re-encoded by the server, seen by the agent.
    photo = io.BytesIO()
    Image.new("RGB", (2400, 1800), (180, 60, 40)).save(photo, "PNG")
    page.locator(".shopchat-form input[type=file]").set_input_files(
        files=[{"name": "damaged.png", "mimeType": "image/png", "buffer": photo.getvalue()}]
    )
    sent = page.locator(".shopchat-msg--user").last
    expect(sent.locator("img.shopchat-photo")).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(sent.locator(".shopchat-receipt")).to_have_text("Delivered to our team", timeout=LIVE_TIMEOUT)
    seen = console.locator("#thread img.photo").last
    expect(seen).to_be_visible(timeout=LIVE_TIMEOUT)
    console.wait_for_function("img => img.complete && img.naturalWidth === 1600", arg=seen.element_handle())
    page.screenshot(path=str(artifacts / "widget-foreign-origin.png"))
    publish_screenshot(artifacts / "widget-foreign-origin.png", "widget-foreign-origin.png")

    console.get_by_role("button", name="Hand back to bot").click()
    expect(page.locator(".shopchat-msg--system").last).to_contain_text("handed you back", timeout=LIVE_TIMEOUT)
    # The conversation with a person ended: the shopper rates it with stars and a comment.
    stars = page.get_by_role("radiogroup", name="Your rating, 1 to 5 stars")
    expect(stars).to_be_visible(timeout=LIVE_TIMEOUT)
    stars.get_by_role("radio", name="4 stars").click()
    page.get_by_label("Comment on your rating (optional)").fill("Friendly and quick.")
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator(".shopchat-msg--user").last).to_contain_text("★★★★☆ (4 of 5)")
    expect(page.locator(".shopchat-msg--bot").last).to_contain_text("rating us 4 out of 5", timeout=LIVE_TIMEOUT)
    store = HandoffStore.from_url(f"sqlite:///{Path(live_shop.env['SHOP_VAR_DIR']) / 'shop.db'}")
    with store.session() as session:
        kept = next(r for r in ratings_between(session) if r.sender_id == page.evaluate("ShopChat.instance.sessionId"))
        assert (kept.rating, kept.with_agent, kept.comment) == (4, True, "Friendly and quick.")
    bots = bot_count(page)
    say(page, "hi")
    wait_for_more_bot_messages(page, bots)
    # The REST fallback and the history answer this origin too (CORS), preflighted headers included.
    session_id = page.evaluate("window.ShopChat.instance.sessionId")
    restored = page.evaluate(
        """([base, id]) => fetch(`${base}/history/${id}`, {headers: {'X-Shop-Session': id}})
             .then(r => r.json()).then(d => d.messages.map(m => m.text))""",
        [live_shop.channel, session_id],
    )
    assert "Hello from support, on your shop's own site." in restored
    answers = page.evaluate(
        """async (base) => {
             const {session_id} = await (await fetch(`${base}/session`, {method: 'POST', body: '{}',
               headers: {'Content-Type': 'application/json'}})).json();
             const reply = await fetch(`${base}/webhook`, {method: 'POST', headers: {'Content-Type': 'application/json'},
               body: JSON.stringify({sender: session_id, message: 'hi'})});
             return (await reply.json()).map(m => m.text).filter(Boolean);
           }""",
        live_shop.channel,
    )
    assert answers
    assert errors == []
    context.close()
    agent_context.close()


def test_a_site_not_listed_cannot_embed_the_widget(browser, live_shop, shop_sites, artifacts: Path) -> None:
    foreign = shop_sites[1]  # not in SHOP_WIDGET_ORIGINS
    # The server refuses it before any browser is involved: no socket handshake, no CORS answer.
    handshake = requests.get(
        f"{live_shop.url}/socket.io/?EIO=4&transport=polling", headers={"Origin": foreign.origin}, timeout=10
    )
    assert handshake.status_code == 400
    preflight = requests.options(
        f"{live_shop.channel}/webhook",
        headers={"Origin": foreign.origin, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    allowed = requests.options(
        f"{live_shop.channel}/webhook",
        headers={
            "Origin": shop_sites[0].origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert allowed.headers.get("Access-Control-Allow-Origin") == shop_sites[0].origin
    console = requests.get(f"{live_shop.channel}/agent/queue", headers={"Origin": shop_sites[0].origin}, timeout=10)
    assert "Access-Control-Allow-Origin" not in console.headers  # the console stays same-origin

    context = browser.new_context()
    page = context.new_page()
    page.goto(shop_page(foreign, live_shop, "/stolen.html"))
    open_chat(page)
    say(page, "hi")
    expect(page.locator(".shopchat-msg--system").last).to_contain_text("offline", timeout=LIVE_TIMEOUT)
    assert bot_count(page) == 0  # no answer (not even the welcome line, which follows a session) reached this page
    refused = page.evaluate(
        "(base) => fetch(`${base}/session`, {method: 'POST', body: '{}'}).then(() => 'read', () => 'refused')",
        live_shop.channel,
    )
    assert refused == "refused"
    page.screenshot(path=str(artifacts / "widget-origin-refused.png"))
    context.close()


# -- the console: notifications, reload, timers, presence, transfer ------------------------------------
def test_console_tells_of_new_tickets_keeps_the_open_one_and_passes_it_to_a_colleague(
    browser, live_shop, make_agent, artifacts: Path, publish_screenshot
) -> None:
    from web.client import new_conversation_id

    robin, sam = make_agent("Robin"), make_agent("Sam")
    robin_context, sam_context = browser.new_context(), browser.new_context()
    console, other = robin_context.new_page(), sam_context.new_page()
    login(console, live_shop, robin)
    expect(console.locator("#live-state")).to_have_text("Live", timeout=LIVE_TIMEOUT)
    login(other, live_shop, sam)
    expect(console.locator("#team-list")).to_contain_text("Sam — online", timeout=LIVE_TIMEOUT)

    # A shopper asks for a person: the console's title and badge say so.
    sender = new_conversation_id(live_shop.url)
    asked = requests.post(
        f"{live_shop.channel}/webhook", json={"sender": sender, "message": "/request_human"}, timeout=60
    )
    assert asked.status_code == 200
    ticket_id = requests.get(f"{live_shop.channel}/history/{sender}", timeout=10).json()["handoff"]["ticket_id"]
    expect(console).to_have_title(re.compile(r"^\(\d+\) Agent console"), timeout=LIVE_TIMEOUT)
    expect(console.locator("#alert-count")).to_contain_text("new")

    item = console.locator(f'#queue-list .queue-item[data-ticket="{ticket_id}"]')
    expect(item).to_contain_text("waiting")
    item.click()
    console.get_by_role("button", name="Take").click()
    expect(console.locator("#ticket-status")).to_have_text("You are talking to this shopper")
    expect(item.locator(".wait")).to_contain_text("taken ", timeout=LIVE_TIMEOUT)  # no longer "waiting"

    # A reload keeps the open conversation.
    console.reload()
    expect(console.locator("#ticket-title")).to_contain_text(f"Conversation #{ticket_id}", timeout=LIVE_TIMEOUT)
    expect(console.locator("#ticket-status")).to_have_text("You are talking to this shopper")

    # Passing it on: only to a colleague who is online; the shopper is told who replies now.
    console.get_by_label("Colleague to pass the conversation to").select_option(label="Sam")
    console.screenshot(path=str(artifacts / "console-team.png"))
    publish_screenshot(artifacts / "console-team.png", "console-team.png")
    console.get_by_role("button", name="Pass on").click()
    expect(console.locator("#ticket-status")).to_have_text("Taken by Sam", timeout=LIVE_TIMEOUT)
    other.locator(f'#queue-list .queue-item[data-ticket="{ticket_id}"]').click()
    expect(other.locator("#ticket-status")).to_have_text("You are talking to this shopper", timeout=LIVE_TIMEOUT)
    history = requests.get(f"{live_shop.channel}/history/{sender}", timeout=10).json()
    assert "Robin has passed your conversation to Sam, who will reply here." in [m["text"] for m in history["messages"]]
    assert history["handoff"]["agent"] == "Sam"

    # Sam steps away: Robin sees it, and cannot pass anything to Sam any more.
    other.get_by_label("Status").select_option("away")
    expect(console.locator("#team-list")).to_contain_text("Sam — away", timeout=LIVE_TIMEOUT)
    other.get_by_role("button", name="Close", exact=True).click()
    expect(other.locator("#ticket-status")).to_have_text("Closed", timeout=LIVE_TIMEOUT)
    robin_context.close()
    sam_context.close()


def test_a_complaints_words_show_once_in_the_console(browser, live_shop, agent_account) -> None:
    """The shopper's words are the complaint's message; the transcript above it does not repeat them."""
    from rasa.shared.core.events import BotUttered, UserUttered

    from handoff.transcript import conversation_messages

    words = "This is useless, the lamp arrived smashed and nobody answers my e-mails!"
    events = [
        UserUttered("hi", {"name": "greet", "confidence": 0.9}).as_dict(),
        BotUttered("Hi! How can I help?").as_dict(),
        UserUttered(words, {"name": "complaint", "confidence": 0.9}).as_dict(),
    ]
    store = HandoffStore.from_url(f"sqlite:///{Path(live_shop.env['SHOP_VAR_DIR']) / 'shop.db'}")
    complaint, _ = store.record_followup(  # what action_record_complaint stores (handoff.tickets)
        f"complaint-{secrets.token_hex(4)}", words, summary="Complaint", transcript=conversation_messages(events)
    )
    context = browser.new_context()
    console = context.new_page()
    login(console, live_shop, agent_account)
    console.locator(f'#followup-list .queue-item[data-ticket="{complaint.id}"]').click()
    thread = console.locator("#thread")
    expect(thread).to_contain_text("Complaint (the shopper's words)", timeout=LIVE_TIMEOUT)
    expect(thread.locator(".bubble", has_text="the lamp arrived smashed")).to_have_count(1)
    expect(thread).to_contain_text("Hi! How can I help?")  # the rest of the transcript is there
    context.close()
