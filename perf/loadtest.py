"""Load test: many concurrent simulated shoppers holding multi-turn conversations.

Runs as its own process against a running assistant (``make start`` or the
scale-out stack) over the real channels on loopback -- Rasa's REST webhook, or
the shop widget's socket.io (websocket transport; a turn ends with the
channel's ``typing: off``) -- bounded in time and in turns. Shoppers pause
between turns (``--think``, mean seconds): with think time near zero the run
measures saturation throughput, with a shopper-like pause it measures latency
at a given offered load. It prints turn latency percentiles, throughput and errors, and
where the time went (NLU, policy prediction, actions), read back from the
tracker store's event timestamps after the run:

- NLU: request sent -> the ``user`` event (parsing, plus waiting for the lock);
- policy: the gap between consecutive ``user``/``action`` events before a response
  action (``utter_*``, ``action_listen``), which is prediction alone;
- actions: the same gap before each custom action's event, minus the mean policy gap.

These are wall-clock gaps: near saturation they include waiting for the Rasa
server's event loop (one turn's NLU and prediction at a time per process).
``python -m perf.scaleout_benchmark`` adds each process's CPU ms per turn,
which is the work itself.

Usage::

    python -m perf.loadtest --url http://127.0.0.1:5005 --shoppers 20 --duration 60 \
        --tracker-db var/tracker.db [--protocol socketio] [--think 0.4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import aiohttp

from perf.stats import percentile
from rasa_addons.patches.action_fallback import apology_text

# Each conversation is one of these scripts, with {placeholders} filled per shopper.
CONVERSATIONS: Sequence[Sequence[str]] = (
    ("hi", "I'm looking for {product}", "show me cheaper ones", "thanks, bye"),
    ("hello", "do you have {product} under {price}?", "what goes well with the first one?", "bye"),
    ("hey", "where is my order?", "{order_number}", "{email}", "thank you"),
    ("hi there", "how long does shipping take?", "and what is your return policy?", "great, bye"),
    ("good morning", "{product} in {colour}", "something similar but cheaper", "ok thanks"),
)
PRODUCTS = (
    "running shoes",
    "a winter jacket",
    "wireless headphones",
    "a coffee grinder",
    "a yoga mat",
    "a leather wallet",
    "a desk lamp",
    "hiking boots",
    "a backpack",
    "a face cream",
)
COLOURS = ("red", "black", "blue", "green", "white")
PROTOCOLS = ("rest", "socketio")


APOLOGY = apology_text()  # the Rasa server's "couldn't reach the shop" answer (the domain's words)


def answered(messages: Sequence[object]) -> bool:
    """A turn succeeded: the bot said something, and it is not the "couldn't reach the shop" apology."""
    return bool(messages) and not any(isinstance(m, dict) and m.get("text") == APOLOGY for m in messages)


@dataclass
class Turn:
    sender: str
    sent_at: float
    latency: float
    ok: bool  # a real answer (not silence, not the "couldn't reach the shop" apology)
    replied: bool = False  # any answer at all, the apology included


@dataclass
class LoadResult:
    turns: List[Turn] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    @property
    def errors(self) -> int:
        return sum(not t.ok for t in self.turns)

    def latencies_ms(self) -> List[float]:
        return sorted(t.latency * 1000 for t in self.turns if t.ok)


def fill(template: str, rng: random.Random, demo_order: Dict[str, str]) -> str:
    return template.format(
        product=rng.choice(PRODUCTS),
        price=rng.choice((30, 50, 80, 120)),
        colour=rng.choice(COLOURS),
        order_number=demo_order.get("order_number", "ORD-000000"),
        email=demo_order.get("email", "x@example.com"),
    )


class RestConversation:
    """One conversation over Rasa's REST channel (``/webhooks/rest/webhook``); a turn is one POST."""

    def __init__(self, session: aiohttp.ClientSession, url: str, timeout: float) -> None:
        self.session, self.url, self.timeout = session, url, timeout
        self.sender = f"load-{uuid.uuid4().hex[:12]}"

    async def open(self) -> None:
        return None

    async def turn(self, message: str) -> List[object]:
        """The bot's messages of this turn (an empty list: silence or a refusal)."""
        async with self.session.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": message},
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        ) as response:
            body = await response.json(content_type=None)
            return body if response.status == 200 and isinstance(body, list) else []

    async def close(self) -> None:
        return None


class SocketConversation:
    """One conversation over the shop widget's socket.io (websocket transport, as the widget uses).

    Speaks Engine.IO 4 / Socket.IO 5 over aiohttp's websocket (python-socketio's
    client needs a newer aiohttp than Rasa allows). A turn is ``user_uttered`` ->
    the bot's ``bot_uttered`` messages -> the channel's ``typing: off``, which the
    channel sends once Rasa has handled the message.
    """

    def __init__(self, session: aiohttp.ClientSession, url: str, timeout: float) -> None:
        self.session, self.timeout = session, timeout
        self.ws_url = (
            url.replace("http://", "ws://").replace("https://", "wss://") + "/socket.io/?EIO=4&transport=websocket"
        )
        self.sender = ""  # the conversation id, issued by the server in session_confirm
        self.ws: Optional[aiohttp.ClientWebSocketResponse] = None

    async def _event(self) -> Tuple[str, object]:
        """The next socket.io event (name, data); answers the server's pings on the way."""
        assert self.ws is not None
        while True:
            message = await self.ws.receive(timeout=self.timeout)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"socket closed ({message.type})")
            packet: str = message.data
            if packet == "2":  # engine.io ping
                await self.ws.send_str("3")
            elif packet.startswith("42"):
                name, *args = json.loads(packet[2:])
                return name, (args[0] if args else None)
            elif packet.startswith("44"):
                raise ConnectionError(f"socket.io refused: {packet[2:]}")

    async def _emit(self, name: str, data: object) -> None:
        assert self.ws is not None
        await self.ws.send_str("42" + json.dumps([name, data]))

    async def open(self) -> None:
        self.ws = await self.session.ws_connect(self.ws_url, timeout=self.timeout, heartbeat=None)
        opened = await self.ws.receive(timeout=self.timeout)  # "0{sid, pingInterval, ...}"
        if opened.type != aiohttp.WSMsgType.TEXT or not opened.data.startswith("0"):
            raise ConnectionError("no engine.io open packet")
        await self.ws.send_str("40")  # connect to the default namespace
        connected = await self.ws.receive(timeout=self.timeout)
        if connected.type != aiohttp.WSMsgType.TEXT or not connected.data.startswith("40"):
            raise ConnectionError(f"socket.io connect refused: {connected.data!r}")
        await self._emit("session_request", {"session_id": None})
        while True:  # the server issues the conversation id (it continues no other)
            name, data = await self._event()
            if name == "session_confirm":
                if isinstance(data, str):
                    self.sender = data
                elif isinstance(data, dict):
                    self.sender = data.get("session_id", self.sender)
                break

    async def turn(self, message: str) -> List[object]:
        """The bot's messages of this turn, once the channel said it is done (typing off)."""
        await self._emit("user_uttered", {"message": message, "session_id": self.sender})
        answers: List[object] = []
        while True:
            name, data = await asyncio.wait_for(self._event(), self.timeout)
            if name == "bot_uttered":
                answers.append(data)
            elif name == "typing" and isinstance(data, dict) and data.get("on") is False:
                return answers
            elif name == "shop_error":
                return []

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def shopper(
    session: aiohttp.ClientSession,
    url: str,
    rng: random.Random,
    deadline: float,
    budget: List[int],
    result: LoadResult,
    demo_order: Dict[str, str],
    timeout: float,
    protocol: str = "rest",
    think: float = 0.025,
) -> None:
    """One simulated shopper: conversation after conversation until time or turns run out.

    Between turns the shopper pauses uniformly in [0, 2 * ``think``] seconds.
    """
    while time.monotonic() < deadline and budget[0] > 0:
        conversation: Union[SocketConversation, RestConversation] = (
            SocketConversation(session, url, timeout)
            if protocol == "socketio"
            else RestConversation(session, url, timeout)
        )
        try:
            await conversation.open()
        except Exception:  # noqa: BLE001 - a refused connection is an error turn, not a crash
            result.turns.append(Turn(conversation.sender, time.time(), 0.0, False))
            budget[0] -= 1
            await asyncio.sleep(0.1)
            continue
        try:
            for template in rng.choice(CONVERSATIONS):
                if time.monotonic() >= deadline or budget[0] <= 0:
                    return
                budget[0] -= 1
                sent_at = time.time()
                start = time.perf_counter()
                try:
                    messages = await conversation.turn(fill(template, rng, demo_order))
                except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError, ConnectionError):
                    messages = []
                except Exception:  # noqa: BLE001 - socket.io client errors
                    messages = []
                result.turns.append(
                    Turn(
                        conversation.sender,
                        sent_at,
                        time.perf_counter() - start,
                        answered(messages),
                        replied=bool(messages),
                    )
                )
                await asyncio.sleep(rng.uniform(0, 2 * think))  # a shopper does not type instantly
        finally:
            try:
                await conversation.close()
            except Exception:  # noqa: BLE001
                pass


async def run_load(
    url: str,
    shoppers: int,
    duration: float,
    max_turns: int,
    seed: int = 7,
    demo_order: Optional[Dict[str, str]] = None,
    timeout: float = 30.0,
    protocol: str = "rest",
    think: float = 0.025,
) -> LoadResult:
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}")
    result = LoadResult(started=time.time())
    deadline = time.monotonic() + duration
    budget = [max_turns]
    connector = aiohttp.TCPConnector(limit=shoppers)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(
            *(
                shopper(
                    session,
                    url.rstrip("/"),
                    random.Random(seed + i),
                    deadline,
                    budget,
                    result,
                    demo_order or {},
                    timeout,
                    protocol,
                    think,
                )
                for i in range(shoppers)
            )
        )
    result.finished = time.time()
    return result


# --------------------------------------------------------------------------- conversation outcome


async def probe_conversations(
    url: str, demo_order: Optional[Dict[str, str]] = None, timeout: float = 60.0
) -> List[str]:
    """Holds every scripted conversation once, one turn at a time; returns the senders in script order.

    The placeholders are filled from a fixed seed, so two deployments get the same words;
    :func:`conversation_outcome` then reads what the bot did from the tracker store.
    """
    senders = []
    async with aiohttp.ClientSession() as session:
        for index, script in enumerate(CONVERSATIONS):
            rng = random.Random(1000 + index)
            conversation = RestConversation(session, url.rstrip("/"), timeout)
            conversation.sender = f"probe-{index}-{uuid.uuid4().hex[:8]}"
            for template in script:
                if not answered(await conversation.turn(fill(template, rng, demo_order or {}))):
                    raise RuntimeError(f"probe conversation {index} got no answer to {template!r}")
            senders.append(conversation.sender)
    return senders


def conversation_outcome(tracker_db: str, sender: str) -> List[Tuple[str, Tuple[str, ...]]]:
    """Per user turn: (intent, the actions the bot ran), from the tracker store's events table."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tracker_db}" if "://" not in tracker_db else tracker_db)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT type_name, action_name, intent_name FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender},
            ).all()
    finally:
        engine.dispose()
    turns: List[Tuple[str, List[str]]] = []
    for type_name, action_name, intent_name in rows:
        if type_name == "user":
            turns.append((intent_name or "", []))
        elif type_name == "action" and turns and action_name and action_name != "action_listen":
            turns[-1][1].append(action_name)
    return [(intent, tuple(actions)) for intent, actions in turns]


def time_breakdown(tracker_db: str, result: LoadResult) -> Dict[str, float]:
    """Mean milliseconds per turn in NLU, policy prediction and custom actions."""
    from sqlalchemy import create_engine, text

    sent: Dict[str, List[float]] = {}
    for turn in result.turns:
        sent.setdefault(turn.sender, []).append(turn.sent_at)
    nlu, policy, custom = [], [], []
    engine = create_engine(f"sqlite:///{tracker_db}" if "://" not in tracker_db else tracker_db)
    with engine.connect() as connection:
        for sender, sent_times in sent.items():
            rows = connection.execute(
                text("SELECT type_name, action_name, timestamp FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender},
            ).all()
            user_index = 0
            previous: Optional[float] = None
            for type_name, action_name, timestamp in rows:
                if type_name == "user":
                    if user_index < len(sent_times):
                        nlu.append(timestamp - sent_times[user_index])
                    user_index += 1
                elif type_name == "action" and previous is not None and action_name:
                    gap = timestamp - previous
                    if action_name.startswith("utter_") or action_name == "action_listen":
                        policy.append(gap)
                    elif action_name.startswith("action_") and not action_name.startswith("action_session"):
                        custom.append(gap)
                if type_name in ("user", "action"):  # bot/slot events come back inside an action's time
                    previous = timestamp
    engine.dispose()
    mean_policy = statistics.mean(policy) if policy else 0.0
    turns = max(1, len(nlu))
    return {
        "nlu_ms_per_turn": 1000 * sum(nlu) / turns,
        "policy_ms_per_prediction": 1000 * mean_policy,
        "actions_ms_per_custom_action": 1000 * (statistics.mean(custom) - mean_policy) if custom else 0.0,
        "custom_actions": float(len(custom)),
    }


def report(result: LoadResult, shoppers: int, breakdown: Optional[Dict[str, float]] = None) -> str:
    latencies = result.latencies_ms()
    elapsed = max(1e-9, result.finished - result.started)
    lines = [
        f"shoppers            {shoppers}",
        f"turns               {len(result.turns)} ({result.errors} errors)",
        f"duration            {elapsed:.1f} s",
        f"throughput          {len(latencies) / elapsed:.1f} turns/s",
        f"latency p50         {percentile(latencies, 50):.1f} ms",
        f"latency p95         {percentile(latencies, 95):.1f} ms",
        f"latency p99         {percentile(latencies, 99):.1f} ms",
    ]
    if breakdown:
        lines += [
            f"NLU (+lock wait)    {breakdown['nlu_ms_per_turn']:.1f} ms per turn",
            f"policy prediction   {breakdown['policy_ms_per_prediction']:.1f} ms per prediction",
            f"custom actions      {breakdown['actions_ms_per_custom_action']:.1f} ms per action "
            f"({int(breakdown['custom_actions'])} actions)",
        ]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Load test the running assistant over its REST channel.")
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--shoppers", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (bounded)")
    parser.add_argument("--max-turns", type=int, default=20000, help="stop after this many turns")
    parser.add_argument("--tracker-db", help="tracker store (SQLite path or URL) for the time breakdown")
    parser.add_argument("--order-number", default="", help="a demo order number for the order-status script")
    parser.add_argument("--email", default="", help="the e-mail on that order")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="rest",
        help="rest: Rasa's REST webhook; socketio: the shop widget's socket.io",
    )
    parser.add_argument(
        "--think", type=float, default=0.025, help="mean pause between a shopper's turns in seconds (0: saturation)"
    )
    args = parser.parse_args(argv)

    result = asyncio.run(
        run_load(
            args.url,
            args.shoppers,
            min(args.duration, 600.0),
            args.max_turns,
            args.seed,
            {"order_number": args.order_number, "email": args.email} if args.order_number else None,
            protocol=args.protocol,
            think=args.think,
        )
    )
    breakdown = time_breakdown(args.tracker_db, result) if args.tracker_db else None
    print(report(result, args.shoppers, breakdown))
    return 0 if result.turns and result.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
