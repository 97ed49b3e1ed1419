"""Plain-text rendering of an analytics :class:`~insights.analytics.Report` (the CLI report)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, List, Sequence

from insights.analytics import Report


def _pct(rate: Any) -> str:
    return "n/a" if rate is None else f"{100 * rate:.1f} %"


def table(headers: Sequence[str], rows: List[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


def _frustration(figures: Dict[str, Any]) -> str:
    """The frustration block; a shop whose NLU does not score messages gets one line, not zeros."""
    if not figures["scored_messages"]:
        return "(no scored messages)"
    mean = figures["mean_score"]
    text = table(
        ["metric", "value", "of"],
        [
            [
                "frustrated messages",
                _pct(figures["rate"]),
                f"{figures['frustrated_messages']}/{figures['scored_messages']} scored messages",
            ],
            ["mean score", f"{mean:.2f}", f"{figures['scored_messages']} scored messages"],
            [
                "frustrated conversations handed off",
                _pct(figures["handoff_rate"]),
                f"{figures['handed_off']}/{figures['frustrated_conversations']} frustrated conversations",
            ],
        ],
    )
    if figures["top_intents"]:
        rows: List[Sequence[Any]] = [[r["intent"], r["count"]] for r in figures["top_intents"]]
        text += "\n\n" + table(["most frustrated requests", "messages"], rows)
    return text


def format_report(report: Report) -> str:
    period = f"{report.since or 'beginning'} .. {report.until or 'now'}"
    conv = report.conversion
    out = [
        f"Shop assistant analytics ({period}, UTC)",
        "",
        table(
            ["metric", "value", "of"],
            [
                [
                    "fallback rate",
                    _pct(report.fallback["rate"]),
                    f"{report.fallback['fallbacks']}/{report.fallback['messages']} messages",
                ],
                [
                    "hand-off rate",
                    _pct(report.handoff["rate"]),
                    f"{report.handoff['handed_off']}/{report.handoff['conversations']} conversations",
                ],
                [
                    "containment",
                    _pct(report.containment["rate"]),
                    f"{report.containment['contained']}/{report.containment['conversations']} conversations",
                ],
                [
                    "cart after recommendation",
                    _pct(conv["cart_rate"]),
                    f"{conv['added_to_cart']}/{conv['conversations_with_recommendations']} conversations",
                ],
                [
                    "purchase after recommendation",
                    _pct(conv["purchase_rate"]),
                    f"{conv['purchased']}/{conv['conversations_with_recommendations']} conversations",
                ],
            ],
        ),
        "",
        "Frustration (messages scored by the NLU; frustrated: at or above its threshold)",
        _frustration(report.frustration),
        "",
        "Intents",
        table(
            ["intent", "messages", "mean confidence"],
            [
                [r["intent"], r["count"], "" if r["mean_confidence"] is None else f"{r['mean_confidence']:.2f}"]
                for r in report.intents
            ],
        )
        if report.intents
        else "(no messages)",
    ]
    if report.intent_volumes:
        per_bucket: Dict[str, int] = defaultdict(int)
        for row in report.intent_volumes:
            per_bucket[row["bucket"]] += row["count"]
        top = max(per_bucket.values())
        out += ["", "Messages over time"]
        out += [f"{bucket}  {'#' * max(1, round(30 * n / top))} {n}" for bucket, n in sorted(per_bucket.items())]
    out += ["", "Top unanswered questions"]
    out.append(
        table(
            ["question", "times", "last seen"],
            [[r["question"][:70], r["count"], r["last_seen"]] for r in report.unanswered],
        )
        if report.unanswered
        else "(none)"
    )
    return "\n".join(out)
