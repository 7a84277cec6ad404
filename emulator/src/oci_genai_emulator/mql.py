"""A small part of OCI's Monitoring Query Language: `metric[interval]{dim = "v", ...}.grouping.statistic()`.

https://docs.oracle.com/en-us/iaas/Content/Monitoring/Reference/mql.htm: a metric, an interval
(`1m`-`60m`, `1h`-`24h`, `1d`), optional dimension filters (`=` or `!=`, joined by `,` or `&&`),
an optional `grouping()` or `groupBy(dim, ...)`, and a statistic. Emulated: sum, count, mean, max, min.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import invalid

STATISTICS = ("sum", "count", "mean", "max", "min")
_QUERY = re.compile(
    r"^\s*(?P<metric>[A-Za-z][A-Za-z0-9._$-]*)\s*\[\s*(?P<interval>\d+[mhd])\s*\]"
    r"\s*(?:\{(?P<filters>[^}]*)\})?"
    r"(?:\s*\.\s*(?P<grouping>grouping\(\s*\)|groupBy\((?P<by>[^)]*)\)))?"
    r"\s*\.\s*(?P<stat>[a-z]+)\(\s*\)\s*$"
)
_FILTER = re.compile(r'^\s*(?P<dim>[!-~]+?)\s*(?P<op>!?=)\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*$')
_UNITS = {"m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Point:
    """One posted datapoint of one metric stream."""

    compartment: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    timestamp: datetime
    value: float
    count: int


@dataclass(frozen=True)
class Query:
    """A parsed MQL expression."""

    metric: str
    interval: timedelta
    filters: tuple[tuple[str, str, str], ...]  # (dimension, "=" or "!=", value)
    group_by: tuple[str, ...] | None  # None: one result per stream; (): grouping()
    statistic: str

    def selects(self, point: Point) -> bool:
        """The point's metric and dimensions satisfy the query's filters."""
        if point.name != self.metric:
            return False
        dims = dict(point.dimensions)
        return all((dims.get(dim) == value) == (op == "=") for dim, op, value in self.filters)


def duration(text: str, what: str) -> timedelta:
    """`5m`, `1h`, `1d` as a timedelta; OCI's ranges only."""
    match = re.fullmatch(r"(\d+)([mhd])", text.strip())
    if match is None:
        raise invalid(f"{what} {text!r} must be like 1m, 1h or 1d")
    number, unit = int(match.group(1)), match.group(2)
    limits = {"m": 60, "h": 24, "d": 1}
    if not 1 <= number <= limits[unit]:
        raise invalid(f"{what} {text!r} is out of range (1m-60m, 1h-24h, 1d)")
    return timedelta(seconds=number * _UNITS[unit])


def parse(text: str) -> Query:
    """Parse the supported subset, or OCI's 400 for anything else."""
    match = _QUERY.match(text)
    if match is None:
        raise invalid(f"Unsupported or malformed MQL query: {text!r}")
    stat = match.group("stat")
    if stat not in STATISTICS:
        raise invalid(f"Unsupported statistic {stat!r}; this emulator supports {', '.join(STATISTICS)}")
    filters: list[tuple[str, str, str]] = []
    raw = (match.group("filters") or "").strip()
    for part in re.split(r",|&&", raw) if raw else []:
        found = _FILTER.match(part)
        if found is None:
            raise invalid(f'Malformed dimension filter {part.strip()!r}; use name = "value"')
        value = found.group("value").replace('\\"', '"')
        filters.append((found.group("dim"), found.group("op"), value))
    group_by: tuple[str, ...] | None = None
    if match.group("grouping"):
        group_by = tuple(d.strip() for d in (match.group("by") or "").split(",") if d.strip())
    interval = duration(match.group("interval"), "interval")
    return Query(match.group("metric"), interval, tuple(filters), group_by, stat)


def aggregate(
    query: Query, points: Iterable[Point], start: datetime, end: datetime, resolution: timedelta
) -> list[tuple[dict[str, str], list[tuple[datetime, float]]]]:
    """Per result stream: its dimensions and (window start, statistic) for each window with data.

    Windows are `interval` long and start every `resolution` from `start` (a 5m interval at 1m
    resolution gives overlapping five-minute windows, one a minute); `end` is excluded.
    """
    streams: dict[tuple[tuple[str, str], ...], list[Point]] = {}
    for point in points:
        if query.selects(point) and start <= point.timestamp < end:
            streams.setdefault(_key(query, point), []).append(point)
    out = []
    for key, members in sorted(streams.items()):
        series: list[tuple[datetime, float]] = []
        window = start
        while window < end:
            inside = [p for p in members if window <= p.timestamp < window + query.interval]
            if inside:
                series.append((window, _statistic(query.statistic, inside)))
            window += resolution
        out.append((dict(key), series))
    return out


def _key(query: Query, point: Point) -> tuple[tuple[str, str], ...]:
    if query.group_by is None:
        return point.dimensions
    dims = dict(point.dimensions)
    return tuple((d, dims.get(d, "")) for d in query.group_by)


def _statistic(name: str, points: Sequence[Point]) -> float:
    values = [p.value for p in points]
    count = sum(p.count for p in points)
    if name == "sum":
        return float(sum(values))
    if name == "count":
        return float(count)
    if name == "mean":
        return float(sum(values)) / count if count else 0.0
    return float(max(values) if name == "max" else min(values))
