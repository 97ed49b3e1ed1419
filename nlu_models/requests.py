"""Two requests in one message, and the sentence that matters in a long one.

Shoppers write "I want to return the shoes from order 10000001 and also, do you sell running
socks?" or 170 words of story around one request. Read whole, the first comes out as one of
the two intents (the other is lost) and the second as whatever its opening greeting or story
resembles, and a message longer than the classifier's ``max_length`` is cut before its request.

:func:`split_message` cuts a message into sentences and clauses: at sentence ends and at words
that open another request ("also", "btw", "another question", ";"). Each part is classified on
its own (the same model, one batch) and :func:`read_requests` decides:

* two requests: two parts read confidently as different actionable intents (not small talk
  such as greet or thank, which only frame a request), the second opened by a word that opens
  another request or each a question of its own → both are kept; the one answered in a single
  step goes first when the other starts a multi-turn flow, so the shopper gets one answer at once
  and the flow after it (the dialogue comes back to the second: ``actions/pending.py``);
* otherwise one request, read from all the evidence: the whole message's reading and every
  part's added up, a part that reads like a request (a question, "I want", "can you", "please",
  an imperative opening) counting more, small talk left out. The story around a request
  ("I ordered trail shoes for my husband's birthday...") then no longer outvotes the request
  ("...where is the parcel right now?"), and a request past the classifier's ``max_length`` is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Collection, List, Optional, Sequence, Tuple

import numpy as np

# Words that open another request: the clause after them is a request of its own. The weak ones
# ("also", "plus") only after a comma or a sentence end: "can I also return it?" is one request.
_STRONG = (
    r"and also|oh and|and another thing|another question|one more thing|one more question|by the way|btw|"
    r"aside from that|apart from that|besides that|on another note"
)
_WEAK = r"also|plus|separately|and"
# "and" opens another request when a question follows it: "where is my order 10000002 and do you ship
# to austria" (not "black and white sneakers", nor "cancel it and refund me": one request, two verbs).
_AND_QUESTION = r"do|does|can|could|will|would|is|are|what|whats|what's|how|where|wheres|where's|when|which|if"
_BOUNDARY = re.compile(
    rf"(?<=[.?!])\s+|\s*;\s*|,?\s*\b(?:{_STRONG})\b[,:]?\s*|,\s*(?=(?:{_WEAK})\b)"
    rf"|,?\s+and\s+(?=(?:{_AND_QUESTION})\b)",
    re.I,
)
_OPENING_CUE = re.compile(rf"^(?:{_STRONG}|{_WEAK})\b[,:]?\s*", re.I)
# How a request reads: a question, a wish, a plea, or an imperative opening.
_REQUEST_LIKE = re.compile(
    r"\?|^\s*(?:(?:hi|hello|hey|so|ok|okay|and|but|please|pls|also)[,!]?\s+)*"
    r"(?:can|could|would|will|do|does|did|is|are|am|was|were|have|has|how|what|when|where|which|who|why|"
    r"cancel|change|show|find|send|give|get|tell|help|check|track|return|refund|update|remove|delete|add|"
    r"sign|unsubscribe|subscribe|connect|let)\b"
    r"|\b(?:i|we)\s*(?:'d|would|want|wanna|need|needed|wish|am looking|'m looking|am trying|'m trying|"
    r"would like|'d like|was wondering|wanted to)\b|\bplease\b|\bpls\b|\bhelp\b",
    re.I,
)
MIN_PART_WORDS = 3  # shorter pieces ("Hi!", "Thanks.") stay with their neighbour


@dataclass(frozen=True)
class Part:
    """A piece of a message: its text, where it is, and whether a new-request word opened it."""

    text: str
    start: int
    end: int
    opened_by_cue: bool = False

    @property
    def request_like(self) -> bool:
        return bool(_REQUEST_LIKE.search(self.text))


@dataclass(frozen=True)
class Request:
    """One request found in a message: its intent and the words that ask for it."""

    intent: str
    confidence: float
    text: str
    start: int
    end: int

    def as_dict(self) -> dict:
        return {
            "intent": self.intent,
            "confidence": self.confidence,
            "text": self.text,
            "start": self.start,
            "end": self.end,
        }


def split_message(text: str) -> List[Part]:
    """Sentences and clauses of ``text`` (one part when there is nothing to split)."""
    pieces: List[Tuple[int, int, bool]] = []  # (start, end, opened by a new-request word)
    position, opened = 0, False
    for boundary in _BOUNDARY.finditer(text):
        pieces.append((position, boundary.start(), opened))
        opened = bool(boundary.group(0).strip(" ,;:.!?"))  # the boundary itself was a new-request word
        position = boundary.end()
    pieces.append((position, len(text), opened))
    parts: List[Part] = []
    for start, end, opened in pieces:
        chunk = text[start:end]
        words = chunk.strip()
        if not words:
            continue
        begin = start + chunk.index(words)
        cue = _OPENING_CUE.match(words)
        if cue and len(words) > cue.end():  # "Also, do you sell socks?" after a sentence end
            begin, words, opened = begin + cue.end(), words[cue.end() :], True
        part = Part(words, begin, begin + len(words), opened)
        if parts and len(part.text.split()) < MIN_PART_WORDS:
            last = parts[-1]  # "Thanks." after a request: keep it with the request
            parts[-1] = Part(text[last.start : part.end], last.start, part.end, last.opened_by_cue)
        elif parts and len(parts[-1].text.split()) < MIN_PART_WORDS:
            first = parts[-1]  # "Hi!" before a request: it belongs to the request
            parts[-1] = Part(text[first.start : part.end], first.start, part.end, part.opened_by_cue)
        else:
            parts.append(part)
    return parts or [Part(text, 0, len(text))]


Ranking = List[Tuple[str, float]]


@dataclass(frozen=True)
class Reading:
    """How a message is read: the intent acted on with its ranking, and the two requests of a
    two-part message (empty otherwise)."""

    intent: Optional[str]
    confidence: float
    ranking: Ranking
    requests: List[Request]


def _ranking(intents: Sequence[str], row: np.ndarray) -> Ranking:
    order = np.argsort(-row, kind="stable")
    return [(intents[j], float(row[j])) for j in order]


def read_requests(
    text: str,
    intents: Sequence[str],
    whole_row: np.ndarray,
    probabilities: Callable[[List[str]], np.ndarray],
    *,
    context_intents: Collection[str],
    flow_intents: Collection[str],
    min_confidence: float,
    two_request_confidence: float = 0.9,
    request_weight: float = 3.0,
) -> Reading:
    """How ``text`` is read. ``whole_row``: the whole message's intent probabilities (``intents`` order);
    ``probabilities`` gives such a row per text (called for the parts only, and only when there are some).

    * Two requests: two parts whose own readings are actionable intents, different, each at least
      ``two_request_confidence``, the second opened by a new-request word or both questions.
    * Otherwise one request: the evidence of the whole message and of its parts added up, a part
      that reads like a request weighing ``request_weight``, small talk left out; its confidence is
      the strongest single reading of that intent. A message with no actionable part of at least
      ``min_confidence`` is read whole.
    """
    whole = _ranking(intents, whole_row)
    parts = split_message(text)
    if len(parts) < 2 or not whole:
        return Reading(whole[0][0] if whole else None, whole[0][1] if whole else 0.0, whole, [])
    rows = np.vstack([whole_row, probabilities([p.text for p in parts])])
    actionable = np.array([name not in context_intents for name in intents])
    tops = [(part, int(np.argmax(row)), float(np.max(row))) for part, row in zip(parts, rows[1:])]
    confident = [(part, j, p) for part, j, p in tops if actionable[j] and p >= two_request_confidence]
    distinct: List[Tuple[Part, int, float]] = []
    for candidate in confident:
        if all(kept[1] != candidate[1] for kept in distinct):
            distinct.append(candidate)
    if len(distinct) >= 2:
        first, second = distinct[0], distinct[1]
        if second[0].opened_by_cue or ("?" in first[0].text and "?" in second[0].text):
            if intents[first[1]] in flow_intents and intents[second[1]] not in flow_intents:
                first, second = second, first  # the one-step answer first, then the flow
            requests = [Request(intents[j], p, part.text, part.start, part.end) for part, j, p in (first, second)]
            ranking = _ranking(intents, rows[1 + parts.index(first[0])])
            return Reading(requests[0].intent, requests[0].confidence, ranking, requests)
    strongest = float(np.max(rows[:, actionable])) if actionable.any() else 0.0
    if strongest < min_confidence:  # small talk only ("Hi there. Thanks a lot!"): as the whole reads
        return Reading(whole[0][0], whole[0][1], whole, [])
    weights = np.array([1.0] + [request_weight if part.request_like else 1.0 for part in parts])
    pooled = (rows * weights[:, None]).sum(axis=0) * actionable
    pooled = pooled / pooled.sum()
    best = int(np.argmax(pooled))
    confidence = float(rows[:, best].max())
    scaled = pooled * (confidence / pooled[best])  # the ranking keeps the pooled margins
    ranking = _ranking(intents, scaled)
    return Reading(intents[best], confidence, ranking, [])


__all__ = ["Part", "Reading", "Request", "read_requests", "split_message"]
