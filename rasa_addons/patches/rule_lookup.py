"""Rasa's RulePolicy looks up the rules that can apply instead of testing all of them.

Rasa 3.6's ``RulePolicy._get_possible_keys`` tests every rule key (443 in this bot) against the
conversation's last state, then the survivors against the state before, and so on back to the
conversation's first turn. Profiled under the load test (``python -m perf.loadtest``, 5,000
products) this was a sixth of the Rasa server's CPU, and the walk grows with the conversation.

:func:`install` hands the original the same question, narrowed in two exact ways:

- only the keys whose last state names the current state's previous action and intent (or names
  none): any other key fails the original's test of that state (``_does_rule_match_state``
  requires a named value to be equal);
- only the last ``longest rule`` states: the original keeps every key once its walk is past the
  key's length (``_is_rule_applicable``).

The keys it returns are the original's; each policy's index is built once, on its first prediction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Optional, Set, Tuple

from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.nlu.constants import ACTION_NAME, INTENT

_installed = False
_original: Any = None  # Rasa's own _get_possible_keys, once installed


def _named(state: Dict[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    """The previous action and intent a state names (None: not named, or "must not be set")."""
    action = (state.get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    intent = (state.get(USER) or {}).get(INTENT)
    return (
        action if isinstance(action, str) and action != SHOULD_NOT_BE_SET else None,
        intent if isinstance(intent, str) and intent != SHOULD_NOT_BE_SET else None,
    )


@dataclass(frozen=True)
class RuleIndex:
    """The keys of one rule lookup, by what their last state names; and the longest rule."""

    by_last_state: Dict[Tuple[Optional[str], Optional[str]], FrozenSet[str]]
    longest: int

    @classmethod
    def of(cls, lookup: Dict[str, Any]) -> "RuleIndex":
        buckets: Dict[Tuple[Optional[str], Optional[str]], Set[str]] = {}
        longest = 0
        for key in lookup:
            states = json.loads(key)
            longest = max(longest, len(states))
            buckets.setdefault(_named(states[-1]) if states else (None, None), set()).add(key)
        return cls({named: frozenset(keys) for named, keys in buckets.items()}, longest)

    def candidates(self, current: Dict[str, Any]) -> Set[str]:
        """Keys that can match a conversation whose last state is ``current``."""
        action, intent = _named(current)
        found: Set[str] = set()
        for named in {(None, None), (action, None), (None, intent), (action, intent)}:
            found |= self.by_last_state.get(named, frozenset())
        return found


def install() -> None:
    """Patch ``RulePolicy._get_possible_keys`` once per process (idempotent)."""
    global _installed, _original
    if _installed:
        return
    from rasa.core.policies.rule_policy import RulePolicy

    original = _original = RulePolicy._get_possible_keys

    def _get_possible_keys(self: RulePolicy, lookup: Dict[str, Any], states: List[Any]) -> Set[str]:
        if not states:
            return original(self, lookup, states)
        # A policy's lookups are fixed once trained or loaded: index each once per policy.
        indexes: Dict[int, Tuple[Dict[str, Any], RuleIndex]] = self.__dict__.setdefault("_shop_rule_indexes", {})
        known = indexes.get(id(lookup))
        if known is None or known[0] is not lookup:
            known = indexes[id(lookup)] = (lookup, RuleIndex.of(lookup))
        index = known[1]
        narrowed = {key: lookup[key] for key in index.candidates(states[-1])}
        return original(self, narrowed, states[-index.longest :] if index.longest < len(states) else states)

    RulePolicy._get_possible_keys = _get_possible_keys
    _installed = True


__all__ = ["RuleIndex", "install"]
