"""The no-silence net: which turns count as answered, and that it wraps Rasa's prediction loop once."""

from __future__ import annotations

from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.patches import no_silence


def _tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("net", list(events))


def test_a_turn_counts_as_answered_only_with_a_bot_message_after_the_shoppers() -> None:
    listen = ActionExecuted("action_listen")
    assert no_silence.answered_since_message(_tracker(listen, UserUttered("hi"), BotUttered("Hello!"), listen))
    # the policies went straight back to listening: silence
    assert not no_silence.answered_since_message(_tracker(listen, UserUttered("can I return it?"), listen))
    # an earlier answer does not count for this message
    silent = _tracker(listen, UserUttered("hi"), BotUttered("Hello!"), listen, UserUttered("?"), listen)
    assert not no_silence.answered_since_message(silent)
    # a paused conversation that got a message through another channel is silent too
    paused = _tracker(listen, UserUttered("human"), BotUttered("Queued"), ConversationPaused(), UserUttered("hello?"))
    assert not no_silence.answered_since_message(paused) and paused.is_paused()
    assert no_silence.answered_since_message(_tracker(listen))  # no message yet: nothing to answer


def test_install_wraps_the_prediction_loop_once() -> None:
    from rasa.core.processor import MessageProcessor

    no_silence.install()
    wrapped = MessageProcessor._run_prediction_loop
    assert wrapped.__name__ == "run_prediction_loop"
    assert no_silence.install() is False and MessageProcessor._run_prediction_loop is wrapped
