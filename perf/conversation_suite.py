"""The conversation-quality suite: multi-turn conversations as shoppers type them, judged turn by turn.

Each conversation of ``tests/conversations/*.yml`` (or of any folder given) runs in a fresh
conversation through the shop channel's REST webhook of a running assistant, as a guest or as the
signed-in demo customer. Every turn must get a non-empty reply; a turn's reply (texts, button titles,
card titles and subtitles) must contain all of ``expect``, one of ``expect_any`` and none of
``forbid`` (case-insensitive). A conversation passes when every turn does. Prints the share that
pass, the empty replies, and each failure with the reply the shopper got.

    shop bench conversations [--dir tests/conversations] [--model var/models/<model>.tar.gz] [--url URL]

Without ``--url`` the servers start on a copy of the shop (``var/`` is not changed), with agents on
duty (``SHOP_SUPPORT_HOURS=always``) so hand-offs reach a queue whatever the hour, and per-client limits
that let every conversation hand off (``SUITE_ENV``). A server given with ``--url`` needs the same.

Format of a file::

    conversations:
      - name: where is my order, as a guest
        shopper: guest            # or "alex": signed in as SHOPPERS["alex"]
        turns:
          - say: "wheres my order??"
            expect_any: ["order number"]
            forbid: ["didn't get that"]
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import aiohttp
import yaml

from core.settings import PROJECT_ROOT, Settings, get_settings

SUITE_DIR = PROJECT_ROOT / "tests" / "conversations"
# Agents on duty whatever the hour; and every conversation is another shopper, though all of them talk
# from this machine's address: room for all of them under the per-client limits of hand-offs and order checks.
SUITE_ENV = {"SHOP_SUPPORT_HOURS": "always", "SHOP_HANDOFF_CLIENT_LIMIT": "1000", "SHOP_VERIFY_CLIENT_LIMIT": "1000"}
SHOPPERS = {"guest": None, "alex": "C0000001", "sam": "C0000002"}  # the demo shop's customers (shopdb/README.md)


@dataclass(frozen=True)
class Turn:
    say: str
    expect: Sequence[str] = ()
    expect_any: Sequence[str] = ()
    forbid: Sequence[str] = ()

    def problems(self, reply: str) -> List[str]:
        """What is wrong with ``reply`` (lower-cased text of the turn's answer); [] when it passes."""
        if not reply.strip():
            return ["no reply at all"]
        found: List[str] = [f"missing {word!r}" for word in self.expect if word.lower() not in reply]
        if self.expect_any and not any(word.lower() in reply for word in self.expect_any):
            found.append(f"none of {list(self.expect_any)!r}")
        found += [f"says {word!r}" for word in self.forbid if word.lower() in reply]
        return found


@dataclass(frozen=True)
class Conversation:
    name: str
    shopper: str
    turns: Sequence[Turn]
    source: str = ""


@dataclass
class TurnResult:
    say: str
    reply: str
    problems: List[str]


@dataclass
class ConversationResult:
    conversation: Conversation
    turns: List[TurnResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(not turn.problems for turn in self.turns)

    @property
    def empty_replies(self) -> int:
        return sum(1 for turn in self.turns if not turn.reply.strip())


def _strings(value: Any, key: str, where: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"{where}: {key} must be a list of non-empty strings")
    return list(value)


def load_suite(folder: Path = SUITE_DIR) -> List[Conversation]:
    """Every conversation of the folder's ``*.yml``, checked: unique names, known shoppers and keys."""
    conversations: List[Conversation] = []
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        for index, raw in enumerate(data.get("conversations") or []):
            where = f"{path.name} #{index + 1}"
            name, shopper = raw.get("name"), raw.get("shopper", "guest")
            if not isinstance(name, str) or not name:
                raise ValueError(f"{where}: a conversation needs a name")
            if shopper not in SHOPPERS:
                raise ValueError(f"{where}: shopper must be one of {sorted(SHOPPERS)}")
            turns = []
            for turn in raw.get("turns") or []:
                unknown = set(turn) - {"say", "expect", "expect_any", "forbid"}
                if unknown or not isinstance(turn.get("say"), str) or not turn["say"].strip():
                    raise ValueError(f"{where} ({name}): each turn has a 'say' and only expect/expect_any/forbid")
                turns.append(
                    Turn(
                        say=turn["say"],
                        expect=_strings(turn.get("expect"), "expect", where),
                        expect_any=_strings(turn.get("expect_any"), "expect_any", where),
                        forbid=_strings(turn.get("forbid"), "forbid", where),
                    )
                )
            if not turns:
                raise ValueError(f"{where} ({name}): no turns")
            conversations.append(Conversation(name=name, shopper=shopper, turns=turns, source=path.name))
    names = [c.name for c in conversations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"conversation names must be unique: {duplicates}")
    return conversations


def reply_text(messages: Sequence[Dict[str, Any]]) -> str:
    """What the shopper reads of a turn's answer: texts, buttons, cards, and the widget's receipt under a line
    that went to the support team (lower case, one string)."""
    parts: List[str] = []
    for message in messages:
        parts.append(str(message.get("text") or ""))
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("delivered"):  # queued or with an agent: the widget's receipt
            parts.append("[delivered to our team]")
        parts += [str(b.get("title") or "") for b in message.get("buttons") or [] if isinstance(b, dict)]
        attachment = message.get("attachment") or {}
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        for element in (payload or {}).get("elements") or [] if isinstance(payload, dict) else []:
            parts += [str(element.get("title") or ""), str(element.get("subtitle") or "")]
    return "\n".join(part for part in parts if part).lower()


def customer_token(customer_id: str, settings: Settings) -> str:
    """What the shop's own site does for a signed-in shopper: sign its id with the assistant's secret."""
    from core.signing import CustomerTokens, resolve_secret_key

    return CustomerTokens(resolve_secret_key(settings)).sign(customer_id)


async def run_conversation(
    client: aiohttp.ClientSession, channel_url: str, conversation: Conversation, tokens: Dict[str, str]
) -> ConversationResult:
    async with client.post(f"{channel_url}/session") as reply:
        sender = (await reply.json())["session_id"]
    metadata: Dict[str, Any] = {}
    if SHOPPERS[conversation.shopper]:
        metadata["customer_token"] = tokens[conversation.shopper]
    result = ConversationResult(conversation)
    for turn in conversation.turns:
        body = {"sender": sender, "message": turn.say, "metadata": metadata}
        async with client.post(f"{channel_url}/webhook", json=body) as reply:
            messages = await reply.json() if reply.status == 200 else [{"text": ""}]
        text = reply_text(messages)
        result.turns.append(TurnResult(turn.say, text, turn.problems(text)))
    return result


async def run_suite(
    url: str, conversations: Sequence[Conversation], settings: Settings, concurrency: int = 2
) -> List[ConversationResult]:
    """Every conversation against the assistant at ``url`` (the Rasa server), ``concurrency`` at a time."""
    tokens = {name: customer_token(cid, settings) for name, cid in SHOPPERS.items() if cid}
    channel_url = f"{url.rstrip('/')}/webhooks/shop"
    limit = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as client:

        async def one(conversation: Conversation) -> ConversationResult:
            async with limit:
                return await run_conversation(client, channel_url, conversation, tokens)

        return list(await asyncio.gather(*(one(c) for c in conversations)))


def format_report(results: Sequence[ConversationResult], *, failures: bool = True) -> str:
    passed = sum(r.passed for r in results)
    turns = sum(len(r.turns) for r in results)
    empty = sum(r.empty_replies for r in results)
    turns_passed = sum(1 for r in results for t in r.turns if not t.problems)
    lines = [
        f"conversations passed: {passed}/{len(results)} = {passed / max(len(results), 1):.1%}",
        f"turns passed: {turns_passed}/{turns} = {turns_passed / max(turns, 1):.1%}; empty replies: {empty}",
    ]
    by_file: Dict[str, List[bool]] = {}
    for r in results:
        by_file.setdefault(r.conversation.source, []).append(r.passed)
    for source, outcomes in sorted(by_file.items()):
        lines.append(f"  {source:<28} {sum(outcomes):>3}/{len(outcomes)}")
    if failures:
        for r in results:
            if r.passed:
                continue
            lines.append(f"FAILED {r.conversation.source}: {r.conversation.name} ({r.conversation.shopper})")
            for turn in r.turns:
                mark = "  x" if turn.problems else "   "
                lines.append(f"{mark} > {turn.say[:100]}")
                lines.append(f"      < {turn.reply[:240]!r}")
                if turn.problems:
                    lines.append(f"      ! {'; '.join(turn.problems)}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    from assistant.launcher import AssistantProcesses, latest_model
    from perf.shop_copy import launch_on_a_copy

    parser = argparse.ArgumentParser(prog="shop bench conversations", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=SUITE_DIR, help="folder of conversation files")
    parser.add_argument("--model", type=Path, help="model archive (default: newest in var/models)")
    parser.add_argument("--url", help="a running assistant (its secret key must be this machine's settings')")
    parser.add_argument("--port", type=int, default=5125)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args(argv)
    conversations = load_suite(args.dir)
    settings = get_settings()
    if args.url:
        results = asyncio.run(run_suite(args.url, conversations, settings, args.concurrency))
    else:
        model = args.model or latest_model(settings.var_dir / "models")
        config = launch_on_a_copy(settings, model, args.port, "conversations-", SUITE_ENV)
        work = Path(config.extra_env["SHOP_VAR_DIR"])
        with AssistantProcesses(config):
            results = asyncio.run(run_suite(config.rasa_url, conversations, Settings(var_dir=work), args.concurrency))
        print(f"model {model.name}")
    print(format_report(results))
    return 0


__all__ = ["Conversation", "ConversationResult", "Turn", "format_report", "load_suite", "main", "run_suite"]
