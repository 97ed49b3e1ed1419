"""Fixtures of the reliability tests: restarting one server of the session's running assistant with other
settings, then back."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, ContextManager, Iterator

import pytest

from assistant.launcher import AssistantProcesses


@contextmanager
def _restarted(assistant: AssistantProcesses, name: str, kill: bool = False, **env: str) -> Iterator[None]:
    saved = dict(assistant.config.extra_env)
    start = assistant.start_actions if name == "actions" else assistant.start_rasa
    assistant.stop(name, kill=kill)
    assistant.config.extra_env.update(env)
    try:
        start()
        yield
    finally:
        assistant.config.extra_env.clear()
        assistant.config.extra_env.update(saved)
        if name == "actions":
            assistant.stop(name)
            start()
        elif name not in assistant.processes:
            start()


@pytest.fixture(scope="session")
def restarted() -> Callable[..., ContextManager[None]]:
    """``with restarted(assistant, name, kill=False, **env):`` server ``name`` ("actions" or "rasa"; SIGKILL
    first if ``kill``) runs with ``env`` added, then goes back to the old settings.

    The action server restarts in seconds and is restarted again on the way out; the Rasa server (about a
    minute) is left running as restarted: only the settings are restored.
    """
    return _restarted
