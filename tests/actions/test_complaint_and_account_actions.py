"""Complaints, account deletion and account help: what the shopper reads, what is stored, who may delete.

Against a real migrated shop database (the hand-off store, the data-rights requests) in a temp folder;
the responses are rendered with Rasa's NLG and ``bot/domain.yml`` (``run`` of conftest).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.account import ActionAccountHelp, ActionDeleteAccount
from actions.complaints import ActionRecordComplaint
from core.clock import utcnow

SENDER = "test-conversation"  # the conversation of conftest's trackers
STOREFRONT = "https://shop.test"
ASKED = [{"event": "action", "name": "action_delete_account"}, {"event": "action", "name": "action_listen"}]
COMPLAINT = "The courier threw my parcel over the fence and the lamp of order 10000003 arrived broken"
DELETION = "account/deleting-your-account"  # the topic a follow-up is read in after these answers


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shopdb.db import migrate

    path = tmp_path_factory.mktemp("service-db") / "shop.db"
    migrate(f"sqlite:///{path}", "heads")
    return path


def _clear_caches() -> None:
    from core.settings import get_settings
    from handoff.store import default_store
    from insights.erasure_requests import default_sessions
    from shopdb.counters import default_limiter

    for cached in (get_settings, default_store, default_sessions, default_limiter):
        cached.cache_clear()


@pytest.fixture
def shop_db(migrated_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh copy of the migrated database that the actions' stores use; two new tickets per client."""
    for source in migrated_db.parent.glob("shop.db*"):
        shutil.copyfile(source, tmp_path / source.name)
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    monkeypatch.setenv("SHOP_SECRET_KEY", "test-secret-for-service-actions")
    monkeypatch.setenv("SHOP_HANDOFF_CLIENT_LIMIT", "2")
    monkeypatch.setenv("SHOP_STOREFRONT_URL", STOREFRONT)
    _clear_caches()
    yield url
    _clear_caches()


def signed(customer_id: str = "C0000001", sender: str = SENDER) -> Dict[str, Any]:
    """The shop channel's metadata for a signed-in shopper: the verified id and its proof for ``sender``."""
    from actions.common import customer_proofs

    return {"customer_id": customer_id, "customer_proof": customer_proofs().issue(sender, customer_id)}


def buttons(message: Dict[str, Any]) -> List[Tuple[str, str]]:
    return [(b["title"], b["payload"]) for b in message.get("buttons") or []]


def requests_recorded() -> list:
    from insights.erasure_requests import default_sessions, pending_requests

    return pending_requests(default_sessions())


# --------------------------------------------------------------------------- complaints


def test_a_complaint_is_recorded_with_the_words_and_the_bot_keeps_talking(shop_db, tracker, run, domain, slots_of):
    from handoff.store import default_store
    from handoff.tickets import create_ticket

    t = tracker(
        COMPLAINT,
        "complaint",
        slots={"customer_id": "C0000001"},
        metadata={**signed(), "client": "client-a"},
        channel="shop",
    )
    messages, events = run(ActionRecordComplaint(), t, domain)

    store = default_store()
    [ticket] = store.followups()
    assert (ticket.kind, ticket.status, ticket.reason) == ("complaint", "recorded", "complaint")
    assert ticket.sender_id == SENDER and ticket.customer_id == "C0000001"
    assert [(m.author, m.text) for m in store.messages(ticket.id)] == [("shopper", COMPLAINT)]
    assert ticket.summary.startswith("Complaint: “The courier threw my parcel")
    assert ticket.context["order_number"] == "10000003" and ticket.context["order_verified"] is False
    assert [m["text"] for m in ticket.transcript] == [COMPLAINT]
    # Listed for agents, but nothing is open: the channel keeps sending this shopper to the bot.
    assert store.active_ticket(SENDER) is None and store.queue() == []
    assert slots_of(events) == {"complaint_text": None, "policy_topic": "help/complaints"}

    [said] = messages
    assert said["response"] == "utter_complaint_recorded"
    assert f"ticket #{ticket.id}" in said["text"] and "within one business day" in said["text"]
    assert buttons(said) == [("Talk to a person now", "/request_human"), ("No, thanks", "/deny")]

    # More words in the same conversation go to the same complaint; a hand-off is a ticket of its own.
    more = tracker("And nobody answered my e-mail about it", "complaint", metadata={"client": "client-a"})
    messages, _ = run(ActionRecordComplaint(), more, domain)
    assert messages[0]["response"] == "utter_complaint_added" and f"#{ticket.id}" in messages[0]["text"]
    assert [m.text for m in store.messages(ticket.id)] == [COMPLAINT, "And nobody answered my e-mail about it"]
    handoff, _, _ = create_ticket(SENDER, [])
    assert handoff.kind == "handoff" and handoff.status == "waiting" and handoff.id != ticket.id
    assert [c.id for c in store.followups()] == [ticket.id]


def test_a_complaint_by_button_asks_for_the_words_and_records_the_next_message(
    shop_db, tracker, run, domain, proven, slots_of
):
    from handoff.store import default_store

    messages, events = run(ActionRecordComplaint(), tracker("/complaint", "complaint"), domain)
    assert messages == [] and events == [{"event": "followup", "timestamp": None, "name": "complaint_form"}]
    assert default_store().followups() == []
    assert "in your own words" in " ".join(m["text"] for m in domain["responses"]["utter_ask_complaint_text"])

    # complaint_form filled complaint_text with the next message; the order was verified earlier in the chat
    slots = proven({"order_number": "10000003", "email": "alex.morgan@example.com"})
    words = "It came two weeks late and the box was wet"
    t = tracker(words, "inform", slots={**slots, "complaint_text": words})
    messages, events = run(ActionRecordComplaint(), t, domain)
    [ticket] = default_store().followups()
    assert [m.text for m in default_store().messages(ticket.id)] == [words]
    assert ticket.customer_id is None  # a guest
    assert ticket.context["order_number"] == "10000003" and ticket.context["order_verified"] is True
    assert "Order 10000003 (verified in the chat)." in ticket.summary
    assert messages[0]["response"] == "utter_complaint_recorded"  # the order's e-mail: the team can reply
    assert slots_of(events) == {"complaint_text": None, "policy_topic": "help/complaints"}


def test_a_guest_without_a_verified_order_is_told_how_to_get_an_answer(shop_db, tracker, run, domain):
    messages, _ = run(ActionRecordComplaint(), tracker("Your support line never picks up", "complaint"), domain)
    assert messages[0]["response"] == "utter_complaint_recorded_guest"
    assert "help@larkspur-market.example" in messages[0]["text"]
    assert buttons(messages[0]) == [("Talk to a person now", "/request_human"), ("No, thanks", "/deny")]


def test_complaints_count_against_the_clients_ticket_limit(shop_db, tracker, run, domain):
    from handoff.store import default_store
    from handoff.tickets import TooManyTickets, create_ticket

    def complain(sender: str, client: str) -> str:
        t = tracker("The parcel was opened before it reached me", "complaint", metadata={"client": client})
        t.sender_id = sender
        messages, _ = run(ActionRecordComplaint(), t, domain)
        return messages[0]["response"]

    assert complain("script-1", "client-x") == "utter_complaint_recorded_guest"
    assert complain("script-2", "client-x") == "utter_complaint_recorded_guest"
    assert complain("script-3", "client-x") == "utter_complaint_limit"  # SHOP_HANDOFF_CLIENT_LIMIT=2
    assert {c.sender_id for c in default_store().followups()} == {"script-1", "script-2"}
    with pytest.raises(TooManyTickets):  # one limit for complaints and hand-offs
        create_ticket("script-4", [], client="client-x")
    assert complain("someone-else", "client-y") == "utter_complaint_recorded_guest"


def test_a_complaint_the_database_cannot_store_gets_an_apology(
    shop_db, tracker, run, domain, slots_of, monkeypatch, tmp_path
):
    from core.settings import get_settings
    from handoff.store import default_store

    (tmp_path / "broken.db").mkdir()  # a directory where the database file should be
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'broken.db'}")
    get_settings.cache_clear()
    default_store.cache_clear()
    messages, events = run(ActionRecordComplaint(), tracker("The zip broke on day one", "complaint"), domain)
    assert messages[0]["response"] == "utter_complaint_unavailable"
    assert slots_of(events) == {"complaint_text": None, "policy_topic": "help/complaints"}


# --------------------------------------------------------------------------- account deletion


def test_a_guest_gets_the_steps_and_nothing_is_recorded(shop_db, tracker, run, domain, slots_of):
    messages, events = run(ActionDeleteAccount(), tracker("delete my account please", "delete_account"), domain)
    [said] = messages
    assert said["response"] == "utter_account_deletion_guest"
    assert f"{STOREFRONT}/account/sign-in" in said["text"] and "Account settings > Delete account" in said["text"]
    assert "within 30 days" in said["text"] and "7 years" in said["text"]
    assert buttons(said) == [("Talk to a person", "/request_human")]
    assert slots_of(events) == {"account_deletion_pending": None, "policy_topic": DELETION}
    # a guest's yes to a question they were never asked deletes nothing either
    t = tracker("/affirm", "affirm", slots={"account_deletion_pending": True}, history=ASKED)
    messages, _ = run(ActionDeleteAccount(), t, domain)
    assert messages[0]["response"] == "utter_account_deletion_guest"
    assert requests_recorded() == []


@pytest.mark.parametrize(
    "channel, metadata",
    [
        ("rest", lambda: signed()),  # another channel's metadata is whatever its caller sent
        ("shop", lambda: {"customer_id": "C0000001"}),  # no proof
        ("shop", lambda: signed(sender="other-conversation")),  # a proof for another conversation
        ("shop", lambda: {"customer_id": "C0000001", "customer_proof": signed("C0000002")["customer_proof"]}),
        ("shop", lambda: signed("C0000002")),  # proven, but not the customer in the slot
    ],
)
def test_a_customer_id_without_the_signed_proof_deletes_nothing(shop_db, tracker, run, domain, channel, metadata):
    slots = {"customer_id": "C0000001", "account_deletion_pending": True}
    for text, intent, history in (("delete my account", "delete_account", []), ("/affirm", "affirm", ASKED)):
        t = tracker(text, intent, slots=slots, metadata=metadata(), channel=channel, history=history)
        messages, _ = run(ActionDeleteAccount(), t, domain)
        assert [m["response"] for m in messages] == ["utter_account_deletion_guest"]
    assert requests_recorded() == []


def test_a_signed_in_customer_confirms_and_the_request_is_recorded(shop_db, tracker, run, domain, slots_of):
    me = {"slots": {"customer_id": "C0000001"}, "metadata": signed(), "channel": "shop"}
    messages, events = run(ActionDeleteAccount(), tracker("delete my account", "delete_account", **me), domain)
    [asked] = messages
    assert asked["response"] == "utter_ask_confirm_account_deletion"
    assert buttons(asked) == [("Yes, delete my account", "/affirm"), ("No, keep it", "/deny")]
    assert slots_of(events) == {"account_deletion_pending": True, "policy_topic": DELETION}
    assert requests_recorded() == []  # nothing before the yes

    confirming = {**me, "slots": {"customer_id": "C0000001", "account_deletion_pending": True}, "history": ASKED}
    messages, events = run(ActionDeleteAccount(), tracker("/affirm", "affirm", **confirming), domain)
    [request] = requests_recorded()
    assert (request.customer_id, request.sender_id, request.status) == ("C0000001", SENDER, "pending")
    assert request.due_at - request.created_at == dt.timedelta(days=30)
    assert abs((request.created_at - utcnow()).total_seconds()) < 60
    [said] = messages
    assert said["response"] == "utter_account_deletion_requested"
    assert f"number {request.id}" in said["text"] and f"{request.due_at:%-d %B %Y}" in said["text"]
    assert "order and invoice records for 7 years" in said["text"]
    assert slots_of(events) == {"account_deletion_pending": None, "policy_topic": DELETION}

    # asking again: the same request, nothing new
    messages, _ = run(ActionDeleteAccount(), tracker("delete my account", "delete_account", **me), domain)
    assert messages[0]["response"] == "utter_account_deletion_already_requested"
    assert f"number {request.id}" in messages[0]["text"]
    assert [r.id for r in requests_recorded()] == [request.id]


def test_declining_keeps_the_account(shop_db, tracker, run, domain, slots_of):
    t = tracker(
        "/deny",
        "deny",
        slots={"customer_id": "C0000001", "account_deletion_pending": True},
        metadata=signed(),
        channel="shop",
        history=ASKED,
    )
    messages, events = run(ActionDeleteAccount(), t, domain)
    assert messages[0]["response"] == "utter_account_deletion_kept"
    assert slots_of(events) == {"account_deletion_pending": None, "policy_topic": DELETION}
    assert requests_recorded() == []


def test_a_yes_to_another_question_deletes_nothing(shop_db, tracker, run, domain):
    other_question = [{"event": "action", "name": "utter_offer_human"}, {"event": "action", "name": "action_listen"}]
    t = tracker(
        "/affirm",
        "affirm",
        slots={"customer_id": "C0000001", "account_deletion_pending": True},
        metadata=signed(),
        channel="shop",
        history=ASKED + other_question,
    )
    messages, _ = run(ActionDeleteAccount(), t, domain)
    assert messages[0]["response"] == "utter_ask_confirm_account_deletion"  # asked again, not deleted
    assert requests_recorded() == []


# --------------------------------------------------------------------------- account help

HELP = {
    "create_account": ("/account/sign-up", ["Sign up", "e-mail address and choose a password", "guest orders"]),
    "edit_account": ("/account/settings", ["Account settings", "name, e-mail address, password or saved addresses"]),
    "recover_password": ("/account/forgot-password", ["Forgot password", "valid for 1 hour", "never see or reset"]),
    "registration_problems": ("/account/forgot-password", ["5 wrong passwords", "15 minutes", "Apple or Google"]),
    "switch_account": ("/account/sign-in", ["Sign out", "Orders stay with the account they were placed with"]),
    "set_up_address": ("/account/settings", ["saved addresses", "don't change orders already placed"]),
}


@pytest.mark.parametrize("intent", sorted(HELP))
def test_account_help_gives_the_steps_and_the_link(shop_db, tracker, run, domain, intent):
    path, facts = HELP[intent]
    messages, events = run(ActionAccountHelp(), tracker("help with my account", intent), domain)
    [said] = messages
    assert said["response"] == f"utter_account_help_{intent}" and events == []
    assert f"{STOREFRONT}{path}" in said["text"] and "\n1. " in said["text"] and "\n2. " in said["text"]
    for fact in facts:
        assert fact in said["text"], fact
    offered = buttons(said)
    assert ("Talk to a person", "/request_human") in offered
    assert (("Change the address of an order", "/change_address") in offered) == (intent == "set_up_address")


def test_the_words_agree_with_the_shops_policies(domain):
    """Deadlines and limits said in the chat are the policy texts' (shopdb/data/policies)."""
    from insights.erasure_requests import ERASURE_DAYS
    from shopdb.policies import load_passages

    policy = {p.key: p.text for p in load_passages()}
    deleting = policy["account/deleting-your-account"]
    assert f"within {ERASURE_DAYS} days" in deleting and "7 years" in deleting
    assert "valid for 1 hour" in policy["account/forgotten-password"]
    assert "5 wrong passwords" in policy["account/signing-in-problems"]
    assert "15 minutes" in policy["account/signing-in-problems"]
    complaints = policy["help/complaints"]
    assert "within one business day" in complaints and "within 5 business days" in complaints
    words = domain["responses"]
    for name in ("utter_complaint_recorded", "utter_complaint_recorded_guest", "utter_complaint_added"):
        assert "within one business day" in words[name][0]["text"] and "5 business days" in words[name][0]["text"]
    for name in ("utter_account_deletion_guest", "utter_ask_confirm_account_deletion"):
        assert f"within {ERASURE_DAYS} days" in words[name][0]["text"] and "7 years" in words[name][0]["text"]


# --------------------------------------------------------------------------- messages left outside opening hours


def test_a_guests_left_message_asks_where_to_email_the_answer(shop_db, tracker, run, domain, slots_of):
    from actions.handoff import ActionLeaveMessage, ValidateLeaveMessageForm
    from handoff.store import default_store

    form = ValidateLeaveMessageForm()
    slots = list(domain["forms"]["leave_message_form"]["required_slots"])
    guest = tracker("My parcel never came", "inform", active_loop="leave_message_form")
    assert asyncio.run(form.required_slots(slots, CollectingDispatcher(), guest, domain)) == [
        "left_message",
        "contact_email",
    ]
    # a wrong address is asked again, with an example; "no" keeps the answer to the chat
    dispatcher = CollectingDispatcher()
    assert form.validate_contact_email("sam at home", dispatcher, guest, domain) == {"contact_email": None}
    assert dispatcher.messages[0]["response"] == "utter_contact_email_invalid"
    no = tracker("no", "deny", active_loop="leave_message_form")
    assert form.validate_contact_email("no", CollectingDispatcher(), no, domain) == {"contact_email": "none"}
    assert form.validate_contact_email("it's Sam.Lee@Example.com", CollectingDispatcher(), guest, domain) == {
        "contact_email": "sam.lee@example.com"
    }

    t = tracker(
        "sam.lee@example.com",
        "inform",
        slots={"left_message": "My parcel never came", "contact_email": "sam.lee@example.com"},
        metadata={"client": "client-m"},
    )
    messages, events = run(ActionLeaveMessage(), t, domain)
    [ticket] = default_store().followups()
    assert (ticket.kind, ticket.status) == ("message", "recorded")
    assert ticket.context["contact_email"] == "sam.lee@example.com"
    assert [m.text for m in default_store().messages(ticket.id)] == ["My parcel never came"]
    assert default_store().active_ticket(SENDER) is None  # nothing waits: the bot keeps talking
    assert messages[0]["response"] == "utter_message_left_email" and f"#{ticket.id}" in messages[0]["text"]
    assert slots_of(events) == {"left_message": None, "contact_email": None}


def test_a_signed_in_customer_is_not_asked_for_an_address(shop_db, tracker, run, domain):
    from actions.handoff import ActionLeaveMessage, ValidateLeaveMessageForm
    from handoff.store import default_store

    slots = list(domain["forms"]["leave_message_form"]["required_slots"])
    t = tracker("Call me please", "inform", slots={"customer_id": "C0000001"}, metadata=signed(), channel="shop")
    assert asyncio.run(ValidateLeaveMessageForm().required_slots(slots, CollectingDispatcher(), t, domain)) == [
        "left_message"
    ]
    t = tracker(
        "Call me please",
        "inform",
        slots={"customer_id": "C0000001", "left_message": "Call me please"},
        metadata=signed(),
        channel="shop",
    )
    messages, _ = run(ActionLeaveMessage(), t, domain)
    [ticket] = default_store().followups()
    assert ticket.customer_id == "C0000001" and "contact_email" not in ticket.context
    assert messages[0]["response"] == "utter_message_left_email"  # the team writes to the customer's address


def test_a_message_left_for_the_chat_only_says_so(shop_db, tracker, run, domain):
    from actions.handoff import ActionLeaveMessage

    t = tracker("no", "deny", slots={"left_message": "Is the shop open on Sunday?", "contact_email": "none"})
    messages, _ = run(ActionLeaveMessage(), t, domain)
    assert messages[0]["response"] == "utter_message_left_chat" and "in this chat" in messages[0]["text"]
