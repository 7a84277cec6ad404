"""`keys usage`'s chart: tokens and requests per key per day, as terminal bars or self-contained HTML."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date
from typing import Any, TextIO

# key -> day -> metric -> value (metrics: "total_tokens" and "requests")
Daily = Mapping[str, Mapping[date, Mapping[str, float]]]
_WIDTH = 40  # characters of the longest terminal bar
_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d")


def add_series(daily: dict[str, dict[date, dict[str, float]]], metric: str, series: Any) -> None:
    """Fold one Monitoring MetricData (daily datapoints of one key and model) into `daily`."""
    key = (series.dimensions or {}).get("key", "?")
    for point in series.aggregated_datapoints or []:
        day = point.timestamp.date()
        cell = daily.setdefault(key, {}).setdefault(day, {})
        cell[metric] = cell.get(metric, 0.0) + float(point.value)


def terminal(daily: Daily, out: TextIO) -> None:
    """Per key, one line a day: a bar of its tokens (scaled to the busiest day of all) and its numbers."""
    peak = max((v.get("total_tokens", 0.0) for days in daily.values() for v in days.values()), default=0.0)
    if not daily or peak <= 0:
        print("\nNo tokens in this period.", file=out)
        return
    for key in sorted(daily):
        print(f"\n{key}  (tokens per day; # = {peak / _WIDTH:,.0f} tokens)", file=out)
        for day in sorted(daily[key]):
            values = daily[key][day]
            tokens, requests = values.get("total_tokens", 0.0), values.get("requests", 0.0)
            bar = "#" * max(1 if tokens else 0, round(tokens / peak * _WIDTH))
            print(f"  {day:%m-%d} {bar:<{_WIDTH}} {tokens:>12,.0f} tok {requests:>8,.0f} req", file=out)


def page(daily: Daily, title: str) -> str:
    """A self-contained HTML page (inline SVG, no script, nothing fetched): tokens and requests per day."""
    days = sorted({day for days in daily.values() for day in days})
    keys = sorted(daily)
    charts = [
        _svg(daily, keys, days, metric, label)
        for metric, label in (("total_tokens", "Tokens per day"), ("requests", "Requests per day"))
    ]
    legend = "".join(
        f'<span style="color:{_COLOURS[i % len(_COLOURS)]}">&#9632; {html.escape(key)}</span> '
        for i, key in enumerate(keys)
    )
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}svg{display:block;margin:1em 0}"
        "text{font-size:11px}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{legend}</p>{''.join(charts)}</body></html>\n"
    )


def _svg(daily: Daily, keys: list[str], days: list[date], metric: str, label: str) -> str:
    width, height, left, bottom = 760, 240, 70, 30
    peak = max((daily[k].get(d, {}).get(metric, 0.0) for k in keys for d in days), default=0.0) or 1.0
    slot = (width - left) / max(len(days), 1)
    bar = max(slot / max(len(keys), 1) - 1, 1)
    parts = [f'<svg width="{width}" height="{height + bottom}" role="img" aria-label="{label}">']
    parts.append(f'<text x="0" y="12">{label} (max {peak:,.0f})</text>')
    for d_index, day in enumerate(days):
        x0 = left + d_index * slot
        parts.append(f'<text x="{x0:.1f}" y="{height + 20}">{day:%m-%d}</text>')
        for k_index, key in enumerate(keys):
            value = daily[key].get(day, {}).get(metric, 0.0)
            h = value / peak * (height - 20)
            colour = _COLOURS[k_index % len(_COLOURS)]
            parts.append(
                f'<rect x="{x0 + k_index * (bar + 1):.1f}" y="{height - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}">'
                f"<title>{html.escape(key)} {day}: {value:,.0f}</title></rect>"
            )
    parts.append(f'<line x1="{left}" y1="{height}" x2="{width}" y2="{height}" stroke="#555"/></svg>')
    return "".join(parts)
