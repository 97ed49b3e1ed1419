"""The shop's policies and FAQ, read from ``shopdb/data/policies/*.md``.

Each ``## Heading`` section of a markdown file is one answerable passage; the
file name is its topic. Passages keep a stable key (``topic/slug``) and a source
(``shopdb/data/policies/returns.md#return-window``) so an answer can cite it.

The numbers the order logic enforces live here too, next to the text that
states them, and a test checks that the text and the numbers agree.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import List, Optional

POLICY_DIR = Path(__file__).resolve().parent / "data" / "policies"

RETURN_WINDOW_DAYS = 30
RETURN_SHIPPING_COST = Decimal("0.00")  # the prepaid return label
REFUND_BUSINESS_DAYS = (5, 10)
SHIPPING_COUNTRIES = ("AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "LU", "NL", "PL", "PT", "SE")
DISPATCH_CUTOFF = "14:00 CET"  # orders before it on a business day leave the same day

_HEADING = re.compile(r"^##\s+(.+?)\s*$", re.M)


@dataclass(frozen=True)
class PassageRecord:
    key: str
    topic: str
    title: str
    text: str
    source: str


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def parse_markdown(text: str, topic: str, source_path: str) -> List[PassageRecord]:
    """Split a policy file into one passage per ``##`` section (text before the first is ignored)."""
    out: List[PassageRecord] = []
    matches = list(_HEADING.finditer(text))
    for n, m in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(text)
        body = text[m.end() : end].strip()
        body = re.sub(r"\s*\n\s*", " ", body)  # one paragraph per passage for retrieval and chat
        if not body:
            continue
        title = m.group(1).strip()
        slug = slugify(title)
        out.append(PassageRecord(f"{topic}/{slug}", topic, title, body, f"{source_path}#{slug}"))
    return out


def load_passages(directory: Optional[Path] = None) -> List[PassageRecord]:
    directory = directory or POLICY_DIR
    passages: List[PassageRecord] = []
    for path in sorted(directory.glob("*.md")):
        rel = f"shopdb/data/policies/{path.name}"
        passages.extend(parse_markdown(path.read_text(encoding="utf-8"), path.stem, rel))
    keys = [p.key for p in passages]
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise ValueError(f"duplicate policy sections: {sorted(dupes)}")
    return passages


def passages_checksum(passages: List[PassageRecord]) -> str:
    h = hashlib.sha256()
    for p in passages:
        h.update(f"{p.key}\x1f{p.title}\x1f{p.text}\x1e".encode())
    return h.hexdigest()[:16]
