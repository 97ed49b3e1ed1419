"""Rasa turns a conversation into dialogue states once, and only the new part on each prediction.

Every policy prediction (rules, memoization, TED; several per turn) asks for the conversation's
states, and Rasa 3.6's ``Domain.states_for_tracker_history`` replays the whole conversation from its
first event each time. The cost of a turn therefore grows with the conversation: measured by
``shop bench growth`` (one shopper alone), the Rasa server spent 14 ms of CPU on each of a
conversation's first ten turns and 31 ms on each of turns 41-50.

:func:`install` keeps, on each tracker object, where the replay got to: the replayed tracker, the
states so far and the loop's two carried values, per set of arguments. A later call whose applied
events start with the same event objects continues from there; anything else (another tracker, a
reverted turn, a restart) replays from the start as before. The loop body is Rasa's own, moved
into a resumable form; callers get copies of the states (they edit the last one in place).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

_installed = False
original: Any = None  # Rasa's own Domain.states_for_tracker_history, once replaced
_CACHE_ATTRIBUTE = "_shop_state_replays"


@dataclass
class _Replay:
    """How far one replay of a conversation got, for one set of arguments."""

    applied: List[Any] = field(default_factory=list)  # the applied events replayed so far
    tracker: Any = None  # the conversation after ``applied``
    states: List[Dict[str, Any]] = field(default_factory=list)  # one per action in ``applied``
    last_ml_action_sub_state: Any = None
    turn_was_hidden: bool = False
    seen: Tuple[int, int] = (-1, 0)  # (events, id of the last) of the tracker when ``final`` was computed
    final: Optional[Dict[str, Any]] = None  # the state of the conversation as it was then


def _copy(state: Dict[str, Any]) -> Dict[str, Any]:
    """A state's copy deep enough for callers: sub-state dicts are copied, their values are immutable."""
    return {key: dict(value) if isinstance(value, dict) else value for key, value in state.items()}


def _answer(replay: _Replay) -> List[Dict[str, Any]]:
    """The states as Rasa's replay returns them: one per action, then the conversation as it is now."""
    return [_copy(state) for state in replay.states] + ([_copy(replay.final)] if replay.final is not None else [])


def _continues(replay: _Replay, applied: List[Any]) -> bool:
    done = replay.applied
    return len(done) <= len(applied) and all(a is b for a, b in zip(done, applied))


def install() -> None:
    """Patch ``Domain.states_for_tracker_history`` once per process (idempotent)."""
    global _installed, original
    if _installed:
        return
    import rasa.shared.core.constants as core_constants
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted

    original = Domain.states_for_tracker_history

    def state_of(
        domain: Domain,
        tracker: Any,
        states: List[Dict[str, Any]],
        replay_values: Tuple[Any, bool],
        hide_rule_turn: bool,
        omit_unset_slots: bool,
        ignore_rule_only_turns: bool,
        rule_only_data: Optional[Dict[str, Any]],
    ) -> Tuple[Optional[Dict[str, Any]], Tuple[Any, bool]]:
        """Rasa's loop body for one prior tracker: its state (None: hidden) and the carried values."""
        last_ml_action_sub_state, turn_was_hidden = replay_values
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = domain._get_prev_action_sub_state(tracker)
            if not tracker.followup_action and not tracker.latest_action_name == tracker.active_loop_name:
                turn_was_hidden = hide_rule_turn
            if turn_was_hidden:
                return None, (last_ml_action_sub_state, turn_was_hidden)
        state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if states:
                domain._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[core_constants.PREVIOUS_ACTION] = last_ml_action_sub_state
        return domain._clean_state(state), (last_ml_action_sub_state, turn_was_hidden)

    def states_for_tracker_history(
        self: Domain,
        tracker: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Optional[Dict[str, Any]] = None,
    ) -> List[Dict[str, Any]]:
        key = (id(self), omit_unset_slots, ignore_rule_only_turns, json.dumps(rule_only_data, sort_keys=True))
        replays: Dict[Any, _Replay] = tracker.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
        replay = replays.get(key)
        events = tracker.events
        seen = (len(events), id(events[-1]) if events else 0)
        if replay is not None and replay.seen == seen:  # asked again before the conversation moved on
            return _answer(replay)
        applied = tracker.applied_events()
        if replay is None or not _continues(replay, applied):
            replay = replays[key] = _Replay(tracker=tracker.init_copy())
        args = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        carried = (replay.last_ml_action_sub_state, replay.turn_was_hidden)
        for event in applied[len(replay.applied) :]:
            if isinstance(event, ActionExecuted):  # the tracker before each action, as Rasa's generator yields it
                state, carried = state_of(self, replay.tracker, replay.states, carried, event.hide_rule_turn, *args)
                if state is not None:
                    replay.states.append(state)
            replay.tracker.update(event)
            replay.applied.append(event)
        replay.last_ml_action_sub_state, replay.turn_was_hidden = carried
        # The conversation as it is now (Rasa's generator's last yield): not kept, the next event changes it.
        replay.final, _ = state_of(self, replay.tracker, replay.states, carried, False, *args)
        replay.seen = seen
        return _answer(replay)

    Domain.states_for_tracker_history = states_for_tracker_history
    _installed = True


__all__ = ["install"]
