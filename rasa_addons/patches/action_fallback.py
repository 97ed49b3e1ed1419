"""What the Rasa server does when the action server is down or slow.

Rasa 3.6 waits up to 5 minutes for a custom action (``DEFAULT_REQUEST_TIMEOUT``);
when the call fails it logs an exception, drops the action's events and goes
on predicting, so the shopper usually gets no answer at all. Here
:func:`install` wraps Rasa's ``RemoteAction.run`` once per process
(:func:`rasa_addons.patches.install_all`):

* every call is bounded by ``SHOP_ACTION_TIMEOUT`` seconds (default 1.5);
* a failed call (or two timed-out calls in a row) opens a circuit breaker: meanwhile calls
  fail at once instead of each waiting for the timeout; a health probe asks the server's
  ``/health`` twice a second, and as soon as it answers (or after ``SHOP_ACTION_RETRY_AFTER``
  seconds) one trial call goes through and closes the breaker when it succeeds;
* the shopper gets one apology per turn (the domain's ``utter_shop_unavailable``, with a "Talk
  to a person" button), any open form is closed and the bot listens again; asking for a person
  works without the action server: the ``local_handoff`` given at install time writes the ticket
  from the Rasa server (the same database, :mod:`handoff.tickets`);
* the slot-mapping validation that runs on every message fails silently (its
  slots are page context), so small talk keeps working while the server is down.

A call that times out may still finish on the action server (for example a
cancellation); the apology says the bot "couldn't finish", never that nothing happened.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import yaml

from core.settings import PROJECT_ROOT
from monitoring import metrics

logger = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff_to_human"
SILENT_ACTIONS = frozenset({"action_validate_slot_mappings"})
APOLOGY_RESPONSE = "utter_shop_unavailable"  # the domain's words (with a "Talk to a person" button)
LAST_RESORT = {"text": "Sorry, something went wrong on our side. Please try again in a moment."}  # no domain text
FALLBACK_MARK = "shop_action_fallback"  # in BotUttered metadata: tests and analytics can count apologies
# Queues the conversation from the Rasa server: returns the response to say and its values, e.g.
# ("utter_handoff_queued", {"position": 3}); provided by whoever installs the patch (web.channel).
LocalHandoff = Callable[[Any], Awaitable[Tuple[str, Dict[str, Any]]]]


def apology_text(domain_file: Path = PROJECT_ROOT / "bot" / "domain.yml") -> str:
    """The apology's words from the domain (for clients that tell an apology from an answer)."""
    responses = yaml.safe_load(domain_file.read_text())["responses"]
    return str(responses[APOLOGY_RESPONSE][0]["text"])


_installed = False


class ActionServerUnavailable(Exception):
    """The action server did not answer in time, or not at all."""


class CircuitBreaker:
    """Fails calls fast while the action server looks down; lets one trial call through to close it.

    Closed: every call goes through. A refused connection or a 5xx opens it at once; a time-out
    alone may be one slow call on a busy machine (the Rasa server's own event loop delays the
    answer), so it takes ``timeouts_to_open`` time-outs in a row. Open: calls fail at once
    (the shopper gets the apology in milliseconds) until ``retry_after`` seconds have passed or
    a health probe saw the server answer (:meth:`healthy`), whichever comes first. Then it is
    half-open: exactly one trial call goes through while the others still fail fast; the
    trial's success closes it, its failure opens it again. No burst of calls hits a server
    that is still starting.
    """

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(
        self, retry_after: float, timeouts_to_open: int = 2, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.retry_after = retry_after
        self.timeouts_to_open = timeouts_to_open
        self._clock = clock
        self._state = self.CLOSED
        self.opened_at: Optional[float] = None
        self.timeouts = 0

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        self._state = value
        metrics.ACTION_BREAKER_OPEN.set(0 if value == self.CLOSED else 1)

    def allow(self) -> bool:
        """May a call go out now? True at most once while half-open (the trial)."""
        if self.state == self.CLOSED:
            return True
        if (
            self.state == self.OPEN
            and self.opened_at is not None
            and self._clock() - self.opened_at >= self.retry_after
        ):
            self.state = self.HALF_OPEN
            return True
        return False

    def healthy(self) -> None:
        """A health probe got an answer: the next call is the trial, without waiting out the pause."""
        if self.state == self.OPEN:
            self.opened_at = self._clock() - self.retry_after

    def failure(self) -> None:
        self.state = self.OPEN
        self.opened_at = self._clock()

    def timeout(self) -> None:
        self.timeouts += 1
        if self.state == self.HALF_OPEN or self.timeouts >= self.timeouts_to_open:
            self.failure()

    def success(self) -> None:
        self.state = self.CLOSED
        self.opened_at = None
        self.timeouts = 0

    @property
    def is_open(self) -> bool:
        return self.state != self.CLOSED


class HealthProbe:
    """While the breaker is open, asks the action server's ``/health`` twice a second and tells the
    breaker as soon as it answers, so recovery does not wait out the whole pause."""

    def __init__(self, breaker: CircuitBreaker, interval: float = 0.5) -> None:
        self.breaker = breaker
        self.interval = interval
        self._task: Optional["asyncio.Task[None]"] = None

    def start(self, webhook_url: str) -> None:
        if self._task is not None and not self._task.done():
            return
        health_url = webhook_url.rsplit("/", 1)[0] + "/health"
        self._task = asyncio.get_running_loop().create_task(self._probe(health_url))

    async def _probe(self, url: str) -> None:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=self.interval)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while self.breaker.state == CircuitBreaker.OPEN:
                try:
                    async with session.get(url) as reply:
                        if reply.status == 200:
                            self.breaker.healthy()
                            return
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                    pass
                await asyncio.sleep(self.interval)


class _TurnLedger:
    """Remembers turns (sender, message id) with bounded memory: one apology per turn, slow turns."""

    def __init__(self, size: int = 10_000) -> None:
        self._turns: "OrderedDict[Tuple[str, str], None]" = OrderedDict()
        self._size = size

    @staticmethod
    def _key(tracker: Any) -> Tuple[str, str]:
        latest = getattr(tracker, "latest_message", None)
        return str(tracker.sender_id), str(getattr(latest, "message_id", None) or id(latest))

    def seen(self, tracker: Any) -> bool:
        return self._key(tracker) in self._turns

    def remember(self, tracker: Any) -> bool:
        """Records the tracker's current turn; True when it was not recorded before."""
        key = self._key(tracker)
        if key in self._turns:
            return False
        self._turns[key] = None
        if len(self._turns) > self._size:
            self._turns.popitem(last=False)
        return True


async def _say(response: str, values: Dict[str, Any], output_channel: Any, nlg: Any, tracker: Any) -> Any:
    """Send the domain's ``response`` (filled with ``values``) and return its ``BotUttered`` event."""
    from rasa.core.actions.action import create_bot_utterance

    message = await nlg.generate(response, tracker, output_channel.name(), **values) if nlg is not None else None
    message = dict(message or LAST_RESORT)
    await output_channel.send_response(tracker.sender_id, message)
    return create_bot_utterance(message)


async def _local_handoff(local_handoff: LocalHandoff, output_channel: Any, nlg: Any, tracker: Any) -> List[Any]:
    """Queue the conversation for a person from the Rasa server (the action server is away)."""
    from rasa.shared.core.events import ConversationPaused

    response, values = await local_handoff(tracker)
    events = [await _say(response, values, output_channel, nlg, tracker)]
    if response in ("utter_handoff_queued", "utter_handoff_already_queued"):
        events.append(ConversationPaused())
    return events


async def _apology(output_channel: Any, nlg: Any, tracker: Any, ledger: _TurnLedger) -> List[Any]:
    """One apology per turn, the form closed, and back to listening."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
    from rasa.shared.core.events import ActiveLoop, FollowupAction, SlotSet

    events: List[Any] = []
    if ledger.remember(tracker):  # one apology per turn
        utterance = await _say(APOLOGY_RESPONSE, {}, output_channel, nlg, tracker)
        utterance.metadata = {**(utterance.metadata or {}), FALLBACK_MARK: True}
        events.append(utterance)
    if tracker.active_loop_name:
        events += [SlotSet(REQUESTED_SLOT, None), ActiveLoop(None)]
    events.append(FollowupAction(ACTION_LISTEN_NAME))
    return events


def install(
    timeout: Optional[float] = None, retry_after: Optional[float] = None, local_handoff: Optional[LocalHandoff] = None
) -> bool:
    """Wrap ``RemoteAction.run`` with the timeout, breaker and fallbacks above; True the first time.

    ``local_handoff`` queues a conversation for a person without the action server; without it the
    shopper asking for a person while the action server is away gets the apology.
    """
    global _installed
    if _installed:
        return False
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.exceptions import RasaException

    from core.settings import get_settings

    settings = get_settings()
    limit = timeout or settings.action_timeout
    breaker = CircuitBreaker(retry_after or settings.action_retry_after)
    probe = HealthProbe(breaker)
    ledger = _TurnLedger()
    slow_turns = _TurnLedger()  # turns that already waited out one time-out: the rest fails fast
    original = RemoteAction.run

    def opened(self: Any) -> None:
        """The breaker is open: probe the server's health, so the trial call comes as soon as it answers."""
        url = getattr(getattr(self, "action_endpoint", None), "url", None)
        if url and breaker.state == CircuitBreaker.OPEN:
            probe.start(url)

    async def call(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        if slow_turns.seen(tracker):
            metrics.ACTION_FAILURES.labels("timeout").inc()
            raise ActionServerUnavailable("an action of this turn already timed out")
        if not breaker.allow():
            metrics.ACTION_FAILURES.labels("breaker_open").inc()
            raise ActionServerUnavailable("the action server failed a moment ago")
        try:
            events = await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), limit)
        except ActionExecutionRejection:
            breaker.success()  # the server answered
            raise
        except asyncio.TimeoutError:
            metrics.ACTION_FAILURES.labels("timeout").inc()
            breaker.timeout()
            opened(self)
            slow_turns.remember(tracker)
            raise ActionServerUnavailable(f"no answer within {limit:.1f} s") from None
        except RasaException as error:
            # Connection refused / reset, 401, 5xx, bad JSON: the server is not serving actions.
            metrics.ACTION_FAILURES.labels("error").inc()
            breaker.failure()
            opened(self)
            raise ActionServerUnavailable(str(error)) from None
        except BaseException:
            if breaker.state == CircuitBreaker.HALF_OPEN:  # a trial without a verdict must not wedge it
                breaker.failure()
            raise
        breaker.success()
        return events

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        try:
            return await call(self, output_channel, nlg, tracker, domain)
        except ActionServerUnavailable as error:
            name = self.name()
            logger.warning("custom action %s unavailable (%s): answering without the action server", name, error)
            if name in SILENT_ACTIONS:
                raise RasaException(f"action server unavailable for {name}") from None
            if name == HANDOFF_ACTION and local_handoff is not None:
                return await _local_handoff(local_handoff, output_channel, nlg, tracker)
            return await _apology(output_channel, nlg, tracker, ledger)

    RemoteAction.run = run
    RemoteAction._shop_breaker = breaker
    _installed = True
    logger.info("action fallback installed: %.1f s timeout, retry after %.1f s", limit, breaker.retry_after)
    return True


__all__ = ["APOLOGY_RESPONSE", "ActionServerUnavailable", "CircuitBreaker", "FALLBACK_MARK", "apology_text", "install"]
