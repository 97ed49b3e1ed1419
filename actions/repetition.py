"""A new question never gets the last answer again word for word.

"So when does it ship?" right after an order's status, "how long till the money is back on my card?"
after a refund's status, "how long should I wait before it counts as lost?" after tracking: the
classifier reads these as the request just answered, and its action would say the same again. A
person would answer the question. When an action's answer repeats the bot's last turn exactly and the
shopper's message is a new question (the shop's texts answer it closely, and none of the shopper's
last messages asked the same), the shop's passage replaces the repetition. Asking the
same thing again ("where is my order?" twice, or with the order's number) still gets the same answer.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker

from actions.common import last_turn_events, latest_text, visible_events
from actions.policies import (
    FOLLOW_UP_OPENERS,
    POLICY_ANSWER,
    QUESTION_CLAUSE_RE,
    last_turn_responses,
    policy_follow_up,
    topic_of_last_answer,
)
from actions.shop import shop_search
from actions.typed_details import find_order_number
from retrieval.results import PolicyHit

# How close (cosine) the passage must be to replace an answer the action chose. The retrieval's own threshold
# lets through neighbours ("so when does it ship?" finds delayed parcels at 0.42); the repeated answer is
# the safer one then. The same bar as a rule question asked with an order request (actions.orders).
NEW_ANSWER_SCORE = 0.5

Signature = Tuple[Optional[str], Tuple[Tuple[str, str], ...]]

# Keys of a dispatcher message and of a bot event's metadata that are not the answer's own values.
_MESSAGE_KEYS = frozenset(
    {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment", "json_message"}
)
_METADATA_KEYS = frozenset({"utter_action", "template", "model_id", "assistant_id"})


def _signature(response: Optional[str], values: Dict[str, Any], text: Optional[str]) -> Signature:
    """The response and its values; a message without a response, by its text."""
    if response is None:
        return None, (("text", str(text or "")),)
    # Rasa keeps no empty values in a bot event's metadata
    return response, tuple(sorted((key, str(value)) for key, value in values.items() if value not in (None, "")))


def answer_signatures(messages: List[Dict[str, Any]]) -> List[Signature]:
    """What the dispatcher's messages say (a response name and its values)."""
    return [
        _signature(m.get("response"), {k: v for k, v in m.items() if k not in _MESSAGE_KEYS}, m.get("text"))
        for m in messages
    ]


def last_turn_signatures(tracker: Tracker) -> List[Signature]:
    """What the bot said between the shopper's previous message and the latest one."""
    said = []
    for event in last_turn_events(tracker):
        if event.get("event") != "bot":
            continue
        metadata = event.get("metadata") or {}
        values = {k: v for k, v in metadata.items() if k not in _METADATA_KEYS}
        said.append(_signature(metadata.get("utter_action"), values, event.get("text")))
    return said


def repeats_last_answer(tracker: Tracker, messages: List[Dict[str, Any]]) -> bool:
    """Whether ``messages`` say exactly what the bot's last turn said."""
    now = answer_signatures(messages)
    return bool(now) and now == last_turn_signatures(tracker)


EARLIER_MESSAGES = 5  # the shopper's messages before the latest that are compared with it
# Cosine of two messages' sentence embeddings from which they ask the same thing. Set by hand on nine pairs
# (six from tests/conversations, so its figure is no held-out measurement of this): the same question again
# 0.69-0.97 ("and my refund, where is it?" after "wheres my refund for 10000005"), a new one 0.20-0.41 ("how
# long till the money is back on my card" after it).
SAME_QUESTION = 0.6


def _earlier_user_texts(tracker: Tracker) -> List[str]:
    texts = [str(e.get("text") or "") for e in visible_events(tracker) if e.get("event") == "user"]
    return [text for text in texts[-1 - EARLIER_MESSAGES : -1] if text and not text.startswith("/")]


def asks_something_new(question: str) -> bool:
    """A question: a question mark, the words a question opens with, or a question clause ("not yet. how do
    I get a return label when I do")."""
    words = question.lower().split()
    if not words:
        return False
    return "?" in question or words[0].strip(",.!") in FOLLOW_UP_OPENERS or bool(QUESTION_CLAUSE_RE.search(question))


def answer_instead_of_repeating(tracker: Tracker) -> Optional[PolicyHit]:
    """The shop's passage for a new question whose action would repeat the last answer, or None."""
    question = latest_text(tracker)
    if not asks_something_new(question) or find_order_number(question):  # an order's number: that order's answer
        return None
    hit = policy_follow_up(tracker)
    if hit is None or hit.score < NEW_ANSWER_SCORE:
        return None
    if hit.key == topic_of_last_answer(tracker) and POLICY_ANSWER in last_turn_responses(tracker):
        return None  # that passage is what was said: no new answer (after an answer from data, it is one)
    search = shop_search()
    if any(search.similarity(question, earlier) >= SAME_QUESTION for earlier in _earlier_user_texts(tracker)):
        return None  # the same question again: the same answer is right
    return hit


__all__ = ["answer_instead_of_repeating", "answer_signatures", "last_turn_signatures", "repeats_last_answer"]
