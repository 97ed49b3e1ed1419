"""What the Rasa server does when the action server is down or slow.

Rasa 3.6 waits up to 5 minutes for a custom action (``DEFAULT_REQUEST_TIMEOUT``);
when the call fails it logs an exception, drops the action's events and goes
on predicting, so the shopper usually gets no answer at all. Here
:func:`install_action_fallback` wraps Rasa's ``RemoteAction.run`` once per
process (the shop channel installs it, like the Sanic fix in ``web.compat``):

* every call is bounded by ``SHOP_ACTION_TIMEOUT`` seconds (default 1.5);
* a failed call (or two timed-out calls in a row) opens a short circuit breaker
  (``SHOP_ACTION_RETRY_AFTER`` seconds, default 5): meanwhile calls fail at
  once instead of each waiting for the timeout, then the next call tries again,
  so the bot recovers by itself when the action server is back;
* the shopper gets one apology per turn with a "Talk to a person" button, any
  open form is closed and the bot listens again; asking for a person works
  without the action server: the ticket is written from the Rasa server
  (:mod:`actions.handoff` code, the same database);
* the slot-mapping validation that runs on every message fails silently (its
  slots are page context), so small talk keeps working while the server is down.

A call that times out may still finish on the action server (for example a
cancellation); the apology says the bot "couldn't finish", never that nothing happened.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple

logger = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff_to_human"
SILENT_ACTIONS = frozenset({"action_validate_slot_mappings"})
REQUEST_HUMAN_PAYLOAD = "/request_human"
APOLOGY_TEXT = (
    "Sorry, I can't reach our shop systems right now, so I couldn't finish that. "
    "Please try again in a minute, or talk to a person from our team."
)
APOLOGY_BUTTONS = [{"title": "Talk to a person", "payload": REQUEST_HUMAN_PAYLOAD}]
FALLBACK_MARK = "shop_action_fallback"  # in BotUttered metadata: tests and analytics can count apologies

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

    def __init__(self, retry_after: float, timeouts_to_open: int = 2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_after = retry_after
        self.timeouts_to_open = timeouts_to_open
        self._clock = clock
        self.state = self.CLOSED
        self.opened_at: Optional[float] = None
        self.timeouts = 0

    def allow(self) -> bool:
        """May a call go out now? True at most once while half-open (the trial)."""
        if self.state == self.CLOSED:
            return True
        if self.state == self.OPEN and self.opened_at is not None and self._clock() - self.opened_at >= self.retry_after:
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


def _tracker_events_as_dicts(tracker: Any) -> List[Dict[str, Any]]:
    return [event.as_dict() for event in tracker.applied_events()]


_handoff_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="shop-handoff")


async def _local_handoff(output_channel: Any, tracker: Any, time_limit: float) -> List[Any]:
    """Queue the conversation for a person from the Rasa server (the action server is away).

    The ticket write runs in threads of its own, never the event loop's default executor, and the
    shopper gets an answer within ``time_limit`` even when the database is locked: six stuck
    writes must not stall every other shopper's turn.
    """
    from rasa.core.actions.action import create_bot_utterance
    from rasa.shared.core.events import ConversationPaused

    from actions.handoff import (
        ALREADY_QUEUED_TEXT,
        QUEUED_TEXT,
        TOO_MANY_TICKETS_TEXT,
        UNAVAILABLE_TEXT,
        TooManyTickets,
        client_of_events,
        create_ticket,
    )

    events = _tracker_events_as_dicts(tracker)
    write = functools.partial(
        create_ticket, tracker.sender_id, events,
        tracker.get_slot("handoff_reason") or "action_server_unavailable", client_of_events(events),
    )
    try:
        loop = asyncio.get_running_loop()
        _, position, is_new = await asyncio.wait_for(loop.run_in_executor(_handoff_threads, write), time_limit)
    except TooManyTickets:
        message = {"text": TOO_MANY_TICKETS_TEXT}
        await output_channel.send_response(tracker.sender_id, message)
        return [create_bot_utterance(message)]
    except Exception as error:  # the database is away or locked too: say so, keep the bot up
        logger.error("could not store the hand-off ticket while the action server is away (%s)",
                     type(error).__name__ or "time-out")
        message = {"text": UNAVAILABLE_TEXT}
        await output_channel.send_response(tracker.sender_id, message)
        return [create_bot_utterance(message)]
    text = QUEUED_TEXT.format(position=max(position, 1)) if is_new else ALREADY_QUEUED_TEXT
    message = {"text": text}
    await output_channel.send_response(tracker.sender_id, message)
    return [create_bot_utterance(message), ConversationPaused()]


async def _apology(output_channel: Any, tracker: Any, ledger: _TurnLedger) -> List[Any]:
    """One apology per turn, the form closed, and back to listening."""
    from rasa.core.actions.action import create_bot_utterance
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
    from rasa.shared.core.events import ActiveLoop, FollowupAction, SlotSet

    events: List[Any] = []
    if ledger.remember(tracker):  # one apology per turn
        message = {"text": APOLOGY_TEXT, "buttons": APOLOGY_BUTTONS}
        await output_channel.send_response(tracker.sender_id, message)
        utterance = create_bot_utterance(message)
        utterance.metadata = {**(utterance.metadata or {}), FALLBACK_MARK: True}
        events.append(utterance)
    if tracker.active_loop_name:
        events += [SlotSet(REQUESTED_SLOT, None), ActiveLoop(None)]
    events.append(FollowupAction(ACTION_LISTEN_NAME))
    return events


def install_action_fallback(timeout: Optional[float] = None, retry_after: Optional[float] = None) -> bool:
    """Wrap ``RemoteAction.run`` with the timeout, breaker and fallbacks above; True the first time."""
    global _installed
    if _installed:
        return False
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.exceptions import RasaException

    from assistant.settings import get_settings

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
            raise ActionServerUnavailable("an action of this turn already timed out")
        if not breaker.allow():
            raise ActionServerUnavailable("the action server failed a moment ago")
        try:
            events = await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), limit)
        except ActionExecutionRejection:
            breaker.success()  # the server answered
            raise
        except asyncio.TimeoutError:
            breaker.timeout()
            opened(self)
            slow_turns.remember(tracker)
            raise ActionServerUnavailable(f"no answer within {limit:.1f} s") from None
        except RasaException as error:
            # Connection refused / reset, 401, 5xx, bad JSON: the server is not serving actions.
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
            if name == HANDOFF_ACTION:
                return await _local_handoff(output_channel, tracker, limit)
            return await _apology(output_channel, tracker, ledger)

    RemoteAction.run = run  # type: ignore[assignment]
    RemoteAction._shop_breaker = breaker  # type: ignore[attr-defined]
    _installed = True
    logger.info("action fallback installed: %.1f s timeout, retry after %.1f s", limit, breaker.retry_after)
    return True


__all__ = [
    "APOLOGY_TEXT",
    "ActionServerUnavailable",
    "CircuitBreaker",
    "FALLBACK_MARK",
    "install_action_fallback",
]
