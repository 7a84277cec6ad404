"""OCI Monitoring through the oci SDK, signed as the gateway: post custom metrics, read their totals.

PostMetricData goes to the telemetry-ingestion endpoint, queries to the telemetry endpoint:
https://docs.oracle.com/en-us/iaas/api/#/en/monitoring/20180401/MetricData/PostMetricData
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.upstream.signers import RefreshingSigner

# The metric that budgets read; metering.METRICS lists every one the gateway posts.
TOKENS_METRIC = "total_tokens"
# Both windows of a query are one day: a month is at most 31 daily points per metric stream, and a
# resolution equal to the interval keeps the windows from overlapping (the default resolution is 1m).
DAILY = "1d"


def tokens_query(team: str) -> str:
    """MQL for a key's tokens (every model and route); names are `[A-Za-z0-9._-]`, safe inside quotes."""
    return f'{TOKENS_METRIC}[{DAILY}]{{key = "{team}"}}.sum()'


def sum_points(series: list[Any]) -> float:
    """The sum of every aggregated datapoint of every returned metric stream."""
    return float(sum(p.value for s in series for p in (s.aggregated_datapoints or [])))


class Monitoring:
    """Two SDK clients (ingestion and query), built on first use; every call in a worker thread."""

    def __init__(self, settings: Settings, signer: RefreshingSigner) -> None:
        self._settings = settings
        self._signer = signer
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def post(self, details: Any) -> Any:
        """PostMetricData; returns the PostMetricDataResponseDetails (failed records named there)."""
        return self._call("ingestion", lambda c: c.post_metric_data(details)).data

    def summarize(self, query: str, start: datetime, end: datetime) -> list[Any]:
        """SummarizeMetricsData in the gateway's compartment and namespace (list of MetricData)."""
        import oci

        details = oci.monitoring.models.SummarizeMetricsDataDetails(
            namespace=self._settings.metrics_namespace,
            query=query,
            start_time=start,
            end_time=end,
            resolution=DAILY,
        )
        compartment = self._settings.compartment_id
        response = self._call("telemetry", lambda c: c.summarize_metrics_data(compartment, details))
        return list(response.data)

    def tokens_spent(self, team: str, start: datetime, end: datetime) -> float:
        """A key's tokens between `start` and `end`."""
        return sum_points(self.summarize(tokens_query(team), start, end))

    def _call(self, which: str, call: Callable[[Any], Any]) -> Any:
        import oci

        client = self._client(which)
        for attempt in (1, 2):
            self._signer.ensure_fresh()
            try:
                return call(client)
            except oci.exceptions.ServiceError as exc:
                if exc.status != 401 or attempt == 2:
                    raise
                self._signer.force_refresh()
        raise AssertionError("unreachable")

    def _client(self, which: str) -> Any:
        import oci

        with self._lock:
            if which not in self._clients:
                settings = self._settings
                endpoint = (
                    settings.ingestion_endpoint if which == "ingestion" else settings.telemetry_endpoint
                )
                if endpoint is None and which == "ingestion":
                    # The SDK's default is the query endpoint; ingestion has its own host in every realm.
                    endpoint = oci.regions.endpoint_for(
                        "monitoring",
                        settings.region,
                        service_endpoint_template="https://telemetry-ingestion.{region}.{secondLevelDomain}",
                    )
                kwargs: dict[str, Any] = {
                    "signer": self._signer.inner,  # the SDK only accepts its own signers
                    # Off the request path, and a failed post is only logged: no SDK back-off.
                    "retry_strategy": oci.retry.NoneRetryStrategy(),
                    "timeout": (5.0, 20.0),
                }
                if endpoint is not None:
                    kwargs["service_endpoint"] = endpoint
                config = {**self._signer.sdk_config, "region": settings.region}
                self._clients[which] = oci.monitoring.MonitoringClient(config, **kwargs)
            return self._clients[which]
