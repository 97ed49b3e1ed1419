"""The frustration score of a message and its shape in the parse data, without Rasa.

Apart from the Rasa component (``nlu_models.frustration``) because its readers are light processes:
the insights consumer, the hand-off transcript in the action server and the console must read a
stored turn's score without importing Rasa's graph (TensorFlow: seconds and half a gigabyte).

The score (0-1) adds up signals a support agent would hear, each once: angry or insulting words
("useless", "ridiculous", "scam"), merely negative ones ("terrible", "rubbish": products and
reviews use them too, so they weigh less), complaints about waiting ("still not", "for weeks"),
demands in capitals ("NOW"), swearing, runs of "!" or "?!", and shouting (a message mostly in
capitals). A strong word or two weaker signals reach the default threshold; capitals or "still"
alone do not: product names are written in capitals and "is it still in stock?" is a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

SCORE_KEY = "frustration"  # parse data: {"score": 0.85, "signals": ["useless", "shouting"], "threshold": 0.6}
ORIGINAL_INTENT_KEY = "frustrated_intent"  # parse data: the intent a frustrated message had before
FRUSTRATION_INTENT = "express_frustration"
DEFAULT_THRESHOLD = 0.6
MAX_SIGNALS = 8
MAX_SIGNAL_CHARS = 40

_NOT_NEGATED = r"(?<!\bnot )(?<!n't )(?<!\bno )"  # "not annoyed at all", "no problem"
ANGRY_WORDS = (
    r"useless|pointless|ridiculous|unacceptable|pathetic|disgrace(?:ful)?|scam|rip[- ]?off|incompetent|"
    r"hopeless|stupid|idiot(?:ic|s)?|appalling|outrageous|furious|livid|angry|annoyed|annoying|"
    r"frustrat(?:ed|ing)|fed up|sick of|had enough|waste of (?:time|money)|never again|"
    r"(?:isn'?t|aren'?t|not) helping|doesn'?t help|you don'?t understand|"
    r"(?:what a|this is a|is this a) joke"
)
NEGATIVE_WORDS = r"terrible|horrible|awful|worst|rubbish|garbage|trash|shocking|disappoint(?:ed|ing)"
WAITING_WORDS = (
    r"\bstill (?:not|no|nothing|waiting|haven'?t|hasn'?t|didn'?t|don'?t)\b|again and again|yet again|"
    r"\bfor (?:weeks|ages|days)\b|it'?s been (?:weeks|ages|days)|how many times|already told you"
)
DEMAND_WORDS = r"\b(?:RIGHT NOW|NOW|IMMEDIATELY|ASAP|TODAY)\b"  # case-sensitive: "now" is ordinary
SWEAR_WORDS = r"\b(?:damn|damned|hell|crap|wtf|ffs|f+u+c+k[a-z]*|sh[i1]t[a-z]*|bloody)\b"
SIGNALS: Tuple[Tuple["re.Pattern[str]", float], ...] = (
    (re.compile(rf"{_NOT_NEGATED}\b(?:{ANGRY_WORDS})\b", re.I), 0.6),
    (re.compile(rf"{_NOT_NEGATED}\b(?:{NEGATIVE_WORDS})\b", re.I), 0.35),
    (re.compile(WAITING_WORDS, re.I), 0.25),
    (re.compile(DEMAND_WORDS), 0.3),
    (re.compile(SWEAR_WORDS, re.I), 0.4),
    (re.compile(r"!{2,}|\?!|!\?"), 0.2),
)
SHOUTING = "shouting"
SHOUTING_SHARE = 0.6  # this share of a message's letters in capitals (and 8+ letters) is shouting
SHOUTING_WEIGHT = 0.4


@dataclass(frozen=True)
class Frustration:
    """One message's score, the signals behind it and the threshold it was judged by."""

    score: float
    signals: Tuple[str, ...] = ()
    threshold: float = DEFAULT_THRESHOLD

    @property
    def frustrated(self) -> bool:
        return self.score >= self.threshold

    def as_dict(self) -> Dict[str, Any]:
        """The parse data's value: the threshold travels with the score, so a stored turn keeps
        the judgement the bot made even after the threshold in ``config.yml`` changes."""
        return {"score": self.score, "signals": list(self.signals), "threshold": self.threshold}


def frustration_score(text: str, threshold: float = DEFAULT_THRESHOLD) -> Frustration:
    """The score (0-1) of ``text`` and the signals that made it (for agents and analytics)."""
    signals: List[str] = []
    score = 0.0
    for pattern, weight in SIGNALS:
        found = pattern.search(text or "")
        if found:
            score += weight
            signals.append(found.group(0).strip().lower())
    letters = [c for c in text or "" if c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) >= SHOUTING_SHARE:
        score += SHOUTING_WEIGHT
        signals.append(SHOUTING)
    return Frustration(min(1.0, round(score, 2)), tuple(signals), threshold)


def _unit(value: Any) -> Optional[float]:
    """A number within 0-1, or None (the event stream may hold anything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0.0 <= value <= 1.0 else None


def frustration_in(parse_data: Any) -> Optional[Frustration]:
    """The score a message's parse data carries; None when it has none or it is malformed."""
    value = parse_data.get(SCORE_KEY) if isinstance(parse_data, Mapping) else None
    if not isinstance(value, Mapping):
        return None
    score = _unit(value.get("score"))
    if score is None:
        return None
    threshold = _unit(value.get("threshold"))
    raw_signals = value.get("signals")
    signals = [str(s)[:MAX_SIGNAL_CHARS] for s in raw_signals[:MAX_SIGNALS]] if isinstance(raw_signals, list) else []
    return Frustration(score, tuple(signals), DEFAULT_THRESHOLD if threshold is None else threshold)


__all__ = [
    "DEFAULT_THRESHOLD",
    "FRUSTRATION_INTENT",
    "ORIGINAL_INTENT_KEY",
    "SCORE_KEY",
    "Frustration",
    "frustration_in",
    "frustration_score",
]
