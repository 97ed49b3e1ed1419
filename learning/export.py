"""Reviewed messages as Rasa NLU training data: ``bot/data/nlu/reviewed.yml``, beside the bot's own
data and reviewable in git like it.

Only confirmed and relabelled items become examples (a new request type waits until the bot has an
intent for it). Each example keeps its provenance in Rasa's per-example ``metadata``: who reviewed
it and when, why it was in the queue, and the conversation as a hash (never its id). The text was
scrubbed when it joined the queue; marked entities are written inline (``[10000000](order_number)``).
An example the bot's own data already has is left out, and one the bot's data gives another intent
is reported as a conflict instead of written: Rasa refuses one text under two intents.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.log_masking import conversation_ref
from core.settings import PROJECT_ROOT
from shopdb.models import ReviewItem, ReviewStatus

BOT_NLU = PROJECT_ROOT / "bot" / "data" / "nlu"
REVIEWED_FILE = BOT_NLU / "reviewed.yml"


@dataclass
class ExportResult:
    examples: int = 0
    already_known: int = 0
    conflicts: List[Tuple[str, str, str]] = field(default_factory=list)  # (text, reviewed intent, bot's intent)


def annotated(text: str, entities: List[Dict[str, Any]]) -> str:
    """Rasa's inline entity markup: ``[value](entity)`` for every marked span."""
    out, at = [], 0
    for span in sorted(entities or [], key=lambda s: s["start"]):
        out.append(text[at : span["start"]])
        out.append(f"[{text[span['start'] : span['end']]}]({span['entity']})")
        at = span["end"]
    out.append(text[at:])
    return "".join(out)


def bot_examples(nlu_dir: Path, skip: Optional[Path] = None) -> Dict[str, str]:
    """Every example text (lower case, entities unmarked) of the bot's NLU data -> its intent."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    known: Dict[str, str] = {}
    for path in sorted(nlu_dir.rglob("*.yml")):
        if skip is not None and path.resolve() == skip.resolve():
            continue
        data = RasaYAMLReader().read(str(path))
        for message in data.intent_examples:
            known[message.get("text", "").strip().lower()] = message.get("intent")
    return known


def export(session: Session, out: Path = REVIEWED_FILE, nlu_dir: Path = BOT_NLU) -> ExportResult:
    """Write every labelled item into ``out`` (replacing it); returns what was written and left out."""
    known = bot_examples(nlu_dir, skip=out)
    result = ExportResult()
    by_intent: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    seen: Dict[str, str] = {}
    items = session.execute(
        select(ReviewItem).where(ReviewItem.status.in_(ReviewStatus.LABELLED)).order_by(ReviewItem.id)
    ).scalars()
    for item in items:
        key = item.text.strip().lower()
        bot_intent = known.get(key)
        if bot_intent == item.intent or seen.get(key) == item.intent:
            result.already_known += 1
            continue
        if bot_intent is not None or key in seen:
            result.conflicts.append((item.text, str(item.intent), str(bot_intent or seen[key])))
            continue
        seen[key] = str(item.intent)
        by_intent[str(item.intent)].append(
            {
                "text": annotated(item.text, item.entities or []),
                "metadata": {
                    "reviewed_by": item.reviewer,
                    "reviewed_at": (item.reviewed_at or dt.datetime.utcnow()).isoformat(timespec="seconds"),
                    "sources": list(item.sources or []),
                    "conversation": conversation_ref(item.sender_id),
                },
            }
        )
        result.examples += 1
    document = {
        "version": "3.1",
        "nlu": [{"intent": intent, "examples": examples} for intent, examples in sorted(by_intent.items())],
    }
    header = (
        "# Shoppers' messages labelled in the review queue (`shop learn export`): scrubbed of personal\n"
        "# data, each with who reviewed it, when, why it was queued and the conversation's hash.\n"
        "# Regenerated from the database: review there, not here.\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120))
    return result


__all__ = ["REVIEWED_FILE", "ExportResult", "annotated", "bot_examples", "export"]
