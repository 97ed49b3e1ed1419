"""The review queue in a real browser (Playwright + Debian's Chromium), on an assistant of its own (an
empty tracker store): shoppers' misread messages are collected, a reviewer relabels one, marks an
entity in another, gives similar messages the same decision, and `shop learn export` turns the
labels into training data Rasa reads."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy import delete

from core.settings import PROJECT_ROOT, Settings
from shopdb.db import create_db_engine, session_factory
from shopdb.models import ReviewItem

pytestmark = pytest.mark.slow

from playwright.sync_api import expect  # noqa: E402

LIVE_TIMEOUT = 30_000  # ms: the first "Similar" loads the sentence encoder into the Rasa server


@pytest.fixture(scope="module")
def review_shop(assistant_on_a_copy, shop_at) -> Iterator[Any]:
    from assistant.launcher import server_environment

    with assistant_on_a_copy(SHOP_REVIEW_COLLECT_MINUTES="0.05") as processes:  # a round every 3 s
        # The copied shop holds what the session's own assistant collected from earlier tests' chats:
        # this queue starts empty, so it holds this test's messages only.
        env = server_environment(processes.config)
        database = Settings(var_dir=Path(env["SHOP_VAR_DIR"])).resolved_database_url
        with session_factory(create_db_engine(database)).begin() as session:
            session.execute(delete(ReviewItem))
        yield shop_at(processes.config.rasa_url, env)


def _say(shop: Any, *lines: str) -> None:
    session = requests.post(f"{shop.channel}/session", timeout=30).json()["session_id"]
    for line in lines:
        requests.post(
            f"{shop.channel}/webhook", json={"sender": session, "message": line}, timeout=60
        ).raise_for_status()


def test_a_reviewer_labels_misread_messages_that_become_training_data(
    browser, review_shop, agent_in, artifacts: Path, tmp_path: Path
) -> None:
    shop = review_shop
    _say(shop, "hi", "zzqx blorp fnarg")  # not understood
    _say(shop, "zzqx blorp fnarg")  # the same words in another conversation
    _say(shop, "where is my order 10000003 please", "I want to talk to a human agent")  # handed off
    # two handed-off conversations that say nearly the same thing
    _say(shop, "the zipper on my jacket broke after one day", "I want to talk to a human agent")
    _say(shop, "my jacket's zipper broke after a day of wearing it", "I want to talk to a human agent")
    reviewer = agent_in(shop, "Rene", options=("--reviewer", "--capacity", "0"))
    plain_agent = agent_in(shop, "Pat")

    # The Rasa server fills the queue by itself (SHOP_REVIEW_COLLECT_MINUTES), and /metrics shows it.
    api = requests.Session()
    assert api.post(
        f"{shop.channel}/agent/login", json={"username": reviewer.username, "password": reviewer.password}
    ).ok
    deadline = time.monotonic() + 30
    while api.get(f"{shop.channel}/agent/review", timeout=30).json()["counts"].get("pending", 0) < 5:
        assert time.monotonic() < deadline, "the review queue was not filled by the scheduled round"
        time.sleep(1)
    # The gauge counts what the queue holds (a round may still add a message the model read with low
    # confidence, e.g. the hand-off request: compare the two readings when no round came between them).
    for _ in range(10):
        before = api.get(f"{shop.channel}/agent/review", timeout=30).json()["counts"]["pending"]
        scraped = requests.get(f"{shop.url}/metrics", timeout=30).text
        after = api.get(f"{shop.channel}/agent/review", timeout=30).json()["counts"]["pending"]
        if before == after:
            break
    assert f'shop_review_queue_items{{status="pending"}} {float(after)}' in scraped

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{shop.channel}/console")
    page.get_by_label("Username").fill(reviewer.username)
    page.get_by_label("Password").fill(reviewer.password)
    page.get_by_role("button", name="Sign in").click()

    def queue_loaded(response: Any) -> bool:
        return response.url.endswith("/agent/review") and response.request.method == "GET"

    with page.expect_response(queue_loaded):
        page.get_by_role("button", name="Review queue").click()
    with page.expect_response(queue_loaded):  # the list is drawn again once the collection is done
        page.get_by_role("button", name="Collect new messages").click()
    items = page.locator("#review-list .review-item")
    expect(items.filter(has_text="zzqx blorp fnarg")).to_have_count(1, timeout=LIVE_TIMEOUT)
    expect(items.filter(has_text="where is my order 10000000 please")).to_have_count(1)  # scrubbed
    expect(page.locator("#review-list")).not_to_contain_text("10000003")

    # Mark the order number as an entity and confirm the bot's reading.
    order = items.filter(has_text="where is my order 10000000 please")
    order.locator('[data-role="text"]').evaluate(
        """p => { const r = document.createRange(); const t = p.firstChild; const i = t.textContent.indexOf('10000000');
                 r.setStart(t, i); r.setEnd(t, i + 8); const s = getSelection(); s.removeAllRanges(); s.addRange(r); }"""
    )
    order.get_by_label("Entity of the selected words").select_option("order_number")
    order.get_by_role("button", name="Mark").click()
    expect(order.locator("mark")).to_have_text("10000000")
    page.screenshot(path=str(artifacts / "console-review.png"))
    order.get_by_role("button", name="Confirm").click()
    expect(order.locator(".reading")).to_contain_text("Decided: confirmed")

    # Relabel the gibberish as out of scope: shown once, said twice, decided for both.
    gibberish = items.filter(has_text="zzqx blorp fnarg")
    expect(gibberish.locator(".reading")).to_contain_text("Said in 2 conversations")
    gibberish.get_by_label(f"Right intent for message {gibberish.get_attribute('data-item')}").fill("out_of_scope")
    gibberish.get_by_role("button", name="Relabel").click()
    expect(gibberish.locator(".reading")).to_contain_text("relabelled → out_of_scope")
    assert api.get(f"{shop.channel}/agent/review", timeout=30).json()["counts"]["relabelled"] == 2

    # Label one broken zipper a problem report, then give the similar message the same decision.
    zipper = items.filter(has_text="the zipper on my jacket broke after one day")
    zipper.get_by_label(f"Right intent for message {zipper.get_attribute('data-item')}").fill("report_problem")
    zipper.get_by_role("button", name="Relabel").click()
    expect(zipper.locator(".reading")).to_contain_text("relabelled → report_problem")
    zipper.get_by_role("button", name="Similar").click()
    similar = zipper.locator(".similar li").filter(has_text="my jacket's zipper broke")
    expect(similar).to_have_count(1, timeout=LIVE_TIMEOUT)
    zipper.get_by_role("button", name="Same decision for the checked").click()
    expect(items.filter(has_text="my jacket's zipper broke")).to_have_count(0, timeout=LIVE_TIMEOUT)  # decided

    # An agent without the reviewer flag is refused.
    other = requests.Session()
    login = other.post(
        f"{shop.channel}/agent/login", json={"username": plain_agent.username, "password": plain_agent.password}
    )
    assert login.status_code == 200
    assert other.get(f"{shop.channel}/agent/review").status_code == 403

    out = tmp_path / "reviewed.yml"
    result = subprocess.run(
        [sys.executable, "-m", "cli.shop", "learn", "export", "--out", str(out)],
        env=shop.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    examples = {m.get("text"): m for m in RasaYAMLReader().read(str(out)).intent_examples}
    assert examples["zzqx blorp fnarg"].get("intent") == "out_of_scope"
    assert examples["my jacket's zipper broke after a day of wearing it"].get("intent") == "report_problem"
    order_example = examples["where is my order 10000000 please"]
    assert [(e["entity"], e["value"]) for e in order_example.get("entities")] == [("order_number", "10000000")]
    assert order_example.get("metadata")["example"]["reviewed_by"] == reviewer.username
