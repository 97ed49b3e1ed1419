"""``shop dashboard``: the Grafana dashboard (``deploy/grafana/shop-assistant.json``) drawn as one HTML
page from a Prometheus server's data, for a shop without Grafana and for the docs' screenshot.

The same panels, queries and legends as in Grafana: each panel's queries go through Prometheus'
``query_range`` API over the last minutes and become inline SVG lines (a ``stat`` panel shows the
latest values). Nothing but the standard library: the page has no script and no outside resource.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from core.settings import PROJECT_ROOT

DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "shop-assistant.json"
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
WIDTH, HEIGHT = 360, 120

Series = Tuple[str, List[Tuple[float, float]]]


def query_range(prometheus: str, expr: str, start: float, end: float, step: float) -> List[Dict[str, Any]]:
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{prometheus.rstrip('/')}/api/v1/query_range?{params}", timeout=30) as reply:
        body = json.loads(reply.read())
    if body.get("status") != "success":
        raise ValueError(f"{expr}: {body.get('error')}")
    return list(body["data"]["result"])


def legend(template: str, labels: Dict[str, str]) -> str:
    """Grafana's ``{{label}}`` legend format filled in."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(str(m.group(1)), ""), template or "") or json.dumps(
        labels
    )


def formatted(value: float, unit: str) -> str:
    if math.isnan(value) or math.isinf(value):
        return "–"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit == "percentunit":
        return f"{value * 100:.1f} %"
    if unit == "bytes":
        return f"{value / 1e6:.0f} MB"
    if unit == "reqps":
        return f"{value:.2f}/s"
    return f"{value:.3g}"


def _points(values: Sequence[Sequence[Any]]) -> List[Tuple[float, float]]:
    points = []
    for stamp, raw in values:
        value = float(raw)
        if not (math.isnan(value) or math.isinf(value)):
            points.append((float(stamp), value))
    return points


def chart(series: List[Series], unit: str, start: float, end: float) -> str:
    """An SVG line chart of ``series`` with its range on the left."""
    values = [v for _, points in series for _, v in points]
    if not values:
        return f'<svg width="{WIDTH}" height="{HEIGHT}"><text x="10" y="60" class="none">no data</text></svg>'
    low, high = min(0.0, min(values)), max(values)
    high = high if high > low else low + 1
    lines = []
    for colour, (_, points) in zip(COLOURS * 4, series):
        coords = " ".join(
            f"{(t - start) / max(end - start, 1) * (WIDTH - 60) + 55:.1f},"
            f"{HEIGHT - 15 - (v - low) / (high - low) * (HEIGHT - 25):.1f}"
            for t, v in points
        )
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{coords}"/>')
    return (
        f'<svg width="{WIDTH}" height="{HEIGHT}" role="img">'
        f'<line x1="55" y1="10" x2="55" y2="{HEIGHT - 15}" class="axis"/>'
        f'<line x1="55" y1="{HEIGHT - 15}" x2="{WIDTH - 5}" y2="{HEIGHT - 15}" class="axis"/>'
        f'<text x="50" y="16" class="tick">{html.escape(formatted(high, unit))}</text>'
        f'<text x="50" y="{HEIGHT - 15}" class="tick">{html.escape(formatted(low, unit))}</text>'
        f"{''.join(lines)}</svg>"
    )


def panel_html(panel: Dict[str, Any], prometheus: str, start: float, end: float, step: float) -> str:
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
    series: List[Series] = []
    for target in panel.get("targets", []):
        for result in query_range(prometheus, target["expr"], start, end, step):
            series.append((legend(target.get("legendFormat", ""), result.get("metric", {})), _points(result["values"])))
    rows = "".join(
        f'<li><span class="swatch" style="background:{colour}"></span>{html.escape(name)}: '
        f"<b>{html.escape(formatted(points[-1][1], unit) if points else '–')}</b></li>"
        for colour, (name, points) in zip(COLOURS * 4, series)
    )
    body = "" if panel.get("type") == "stat" else chart(series, unit, start, end)
    title = html.escape(panel.get("title", ""))
    return f'<section class="panel"><h3 title="{html.escape(panel.get("description", ""))}">{title}</h3>{body}<ul>{rows}</ul></section>'


def render(prometheus: str, dashboard: Path = DASHBOARD, minutes: float = 15, now: Optional[float] = None) -> str:
    """The whole dashboard as one HTML page, over the last ``minutes``."""
    spec = json.loads(dashboard.read_text())
    end = now or time.time()
    start = end - minutes * 60
    step = max(1.0, minutes * 60 / 120)
    parts = []
    for panel in spec["panels"]:
        if panel.get("type") == "row":
            parts.append(f"<h2>{html.escape(panel.get('title', ''))}</h2>")
        else:
            parts.append(panel_html(panel, prometheus, start, end, step))
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(end))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(spec["title"])}</title>
<style>
body {{ font: 13px system-ui, sans-serif; margin: 16px; color: #1d2433; background: #f4f5f8; }}
h1 {{ font-size: 18px; margin: 0 0 4px; }} h2 {{ font-size: 14px; margin: 16px 0 6px; flex-basis: 100%; }}
main {{ display: flex; flex-wrap: wrap; gap: 10px; }}
.panel {{ background: #fff; border: 1px solid #d8dce6; border-radius: 6px; padding: 8px; width: {WIDTH}px; }}
.panel h3 {{ font-size: 13px; margin: 0 0 4px; }} .panel ul {{ list-style: none; margin: 4px 0 0; padding: 0; }}
.swatch {{ display: inline-block; width: 9px; height: 9px; margin-right: 5px; }}
.axis {{ stroke: #8a94a6; }} .tick {{ font-size: 10px; fill: #4a5468; text-anchor: end; }} .none {{ fill: #8a94a6; }}
</style></head><body><h1>{html.escape(spec["title"])}</h1>
<p>Prometheus {html.escape(prometheus)}, the {minutes:g} minutes up to {stamp}</p><main>{"".join(parts)}</main></body></html>
"""


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="shop dashboard", description=__doc__)
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090", help="the Prometheus server's address")
    parser.add_argument("--minutes", type=float, default=60, help="how far back (default 60)")
    parser.add_argument("--out", type=Path, default=Path("dashboard.html"))
    args = parser.parse_args(argv)
    try:
        page = render(args.prometheus, minutes=args.minutes)
    except (OSError, ValueError) as error:
        print(f"shop dashboard: {error}", file=sys.stderr)
        return 1
    args.out.write_text(page)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
