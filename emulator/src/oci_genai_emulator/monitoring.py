"""OCI Monitoring's custom metrics: PostMetricData (ingestion) and SummarizeMetricsData (queries).

Bodies are validated with the oci SDK's `oci.monitoring.models`, then by the rules the API documents
(https://docs.oracle.com/en-us/iaas/api/#/en/monitoring/20180401/MetricData/PostMetricData): the
namespace and name patterns, 1-20 dimensions, at most 50 metric streams a call, datapoints less than
two hours old and less than ten minutes ahead. NON_ATOMIC batches name the records they refused.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from oci.monitoring import models as monitoring_models

from . import mql
from .errors import invalid
from .validation import validate

API = "/20180401"
MAX_STREAMS = 50
MAX_DIMENSIONS = 20
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]*[a-z0-9]$")
_RESERVED = ("oci_", "oracle_")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._$-]*$")
_DIMENSION_KEY = re.compile(r"^[!-~]{1,256}$")  # printable ASCII, no spaces
_OCID = re.compile(r"^ocid1\.(compartment|tenancy)\.")


class MetricStore:
    """Everything accepted so far: the records as posted (for tests) and their datapoints (for queries)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[dict[str, Any]] = []
        self.points: list[mql.Point] = []

    def add(self, record: dict[str, Any]) -> None:
        """Keep one accepted MetricDataDetails (JSON as received)."""
        dims = tuple(sorted(record["dimensions"].items()))
        points = [
            mql.Point(
                record["compartmentId"],
                record["namespace"],
                record["name"],
                dims,
                _time(p["timestamp"]),
                float(p["value"]),
                int(p.get("count") or 1),
            )
            for p in record["datapoints"]
        ]
        with self._lock:
            self.records.append(record)
            self.points.extend(points)

    def clear(self) -> None:
        """Forget every metric."""
        with self._lock:
            self.records.clear()
            self.points.clear()


def post_metric_data(body: Any, store: MetricStore, now: datetime) -> dict[str, Any]:
    """Accept the valid records; a PostMetricDataResponseDetails naming the refused ones."""
    validate(body, "PostMetricDataDetails", monitoring_models)
    records: list[dict[str, Any]] = body["metricData"]
    if not records:
        raise invalid("metricData must hold at least one metric object")
    streams = {(r["namespace"], r["name"], tuple(sorted(r["dimensions"].items()))) for r in records}
    if len(streams) > MAX_STREAMS:
        raise invalid(f"metricData holds {len(streams)} metric streams; at most {MAX_STREAMS} per request")
    failed = [(record, problem) for record in records if (problem := _problem(record, now))]
    if failed and (body.get("batchAtomicity") == "ATOMIC" or len(failed) == len(records)):
        raise invalid(f"metricData[{records.index(failed[0][0])}]: {failed[0][1]}")
    refused = {id(record) for record, _ in failed}
    for record in records:
        if id(record) not in refused:
            store.add(record)
    return {
        "failedMetricsCount": len(failed),
        "failedMetrics": [{"message": problem, "metricData": record} for record, problem in failed],
    }


def summarize_metrics_data(
    body: Any, query: Mapping[str, str], store: MetricStore, now: datetime
) -> list[dict[str, Any]]:
    """The MetricData list for one SummarizeMetricsDataDetails in one compartment."""
    validate(body, "SummarizeMetricsDataDetails", monitoring_models)
    compartment = query.get("compartmentId") or ""
    if not _OCID.match(compartment):
        raise invalid("compartmentId must be a compartment OCID")
    parsed = mql.parse(body["query"])
    resolution_text = body.get("resolution") or "1m"
    resolution = mql.duration(resolution_text, "resolution")
    if resolution > parsed.interval:
        raise invalid("resolution must be equal to or less than the query interval")
    end = _time(body["endTime"]) if body.get("endTime") else now
    start = _time(body["startTime"]) if body.get("startTime") else end - timedelta(hours=3)
    if start >= end:
        raise invalid("startTime must be before endTime")
    namespace = body["namespace"]
    points = [p for p in store.points if p.compartment == compartment and p.namespace == namespace]
    return [
        {
            "namespace": namespace,
            "compartmentId": compartment,
            "name": parsed.metric,
            "dimensions": dims,
            "resolution": resolution_text,
            "aggregatedDatapoints": [{"timestamp": _iso(t), "value": v} for t, v in series],
        }
        for dims, series in mql.aggregate(parsed, points, start, end, resolution)
    ]


def _problem(record: Mapping[str, Any], now: datetime) -> str | None:
    """Why OCI would refuse one metric object (None: it would take it)."""
    namespace = record["namespace"]
    if not _NAMESPACE.match(namespace) or namespace.startswith(_RESERVED):
        return f"invalid namespace {namespace!r}: a letter, then a-z, 0-9 or _, and not oci_ or oracle_"
    if not _NAME.match(record["name"]):
        return f"invalid metric name {record['name']!r}"
    if not _OCID.match(record["compartmentId"]):
        return "compartmentId must be a compartment OCID"
    dims: Mapping[str, str] = record["dimensions"]
    if not 1 <= len(dims) <= MAX_DIMENSIONS:
        return f"a metric needs 1 to {MAX_DIMENSIONS} dimensions"
    for key, value in dims.items():
        if not _DIMENSION_KEY.match(key) or not value or len(value) > 512:
            return f"invalid dimension {key!r}: keys are printable ASCII without spaces, values 1-512 chars"
    if not record["datapoints"]:
        return "at least one datapoint is required"
    for point in record["datapoints"]:
        when = _time(point["timestamp"])
        if not now - timedelta(hours=2) < when < now + timedelta(minutes=10):
            return (
                f"datapoint timestamp {point['timestamp']} is not within two hours ago and ten minutes ahead"
            )
        if point.get("count") is not None and point["count"] < 1:
            return "a datapoint count must be greater than zero"
    return None


def _time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
