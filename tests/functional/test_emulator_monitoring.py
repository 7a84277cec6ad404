"""The emulator's OCI Monitoring: the oci SDK's MonitoringClient posts custom metrics and sums them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import oci
import pytest
from oci.monitoring import models as mm

from tests.fixtures.emulator import COMPARTMENT, REGION, Emulator

NAMESPACE = "genai_gateway"


@pytest.fixture
def monitoring(emu: Emulator, rp_signer: Any) -> Any:
    """MonitoringClient at the emulator (its ingestion and query endpoints are the same host)."""
    return oci.monitoring.MonitoringClient(
        {"region": REGION},
        signer=rp_signer,
        service_endpoint=emu.url,
        retry_strategy=oci.retry.NoneRetryStrategy(),
    )


def metric(name: str, value: float, when: datetime, **dims: str) -> Any:
    return mm.MetricDataDetails(
        namespace=NAMESPACE,
        compartment_id=COMPARTMENT,
        name=name,
        dimensions=dims or {"key": "team-a"},
        datapoints=[mm.Datapoint(timestamp=when, value=value, count=1)],
    )


def post(client: Any, *records: Any, atomicity: str = "NON_ATOMIC") -> Any:
    return client.post_metric_data(
        mm.PostMetricDataDetails(metric_data=list(records), batch_atomicity=atomicity)
    )


def summarize(client: Any, query: str, start: datetime, end: datetime, resolution: str = "1d") -> list[Any]:
    details = mm.SummarizeMetricsDataDetails(
        namespace=NAMESPACE, query=query, start_time=start, end_time=end, resolution=resolution
    )
    return list(client.summarize_metrics_data(COMPARTMENT, details).data)


def test_posted_metrics_are_kept_exactly_and_summed_per_stream_and_group(
    emu: Emulator, monitoring: Any
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    response = post(
        monitoring,
        metric("total_tokens", 7, now, key="team-a", model="m1", route="chat"),
        metric("total_tokens", 5, now, key="team-a", model="m2", route="chat"),
        metric("total_tokens", 11, now, key="team-b", model="m1", route="chat"),
    )
    assert response.status == 200
    assert response.data.failed_metrics_count == 0
    assert emu.metrics()[0] == {
        "namespace": NAMESPACE,
        "compartmentId": COMPARTMENT,
        "name": "total_tokens",
        "dimensions": {"key": "team-a", "model": "m1", "route": "chat"},
        "datapoints": [
            {
                "timestamp": now.isoformat().replace("+00:00", "Z"),  # as the SDK sends it
                "value": 7,
                "count": 1,
            }
        ],
    }
    start, end = now - timedelta(days=1), now + timedelta(minutes=1)
    per_stream = summarize(monitoring, 'total_tokens[1d]{key = "team-a"}.sum()', start, end)
    assert sorted((s.dimensions["model"], s.aggregated_datapoints[0].value) for s in per_stream) == [
        ("m1", 7.0),
        ("m2", 5.0),
    ]
    assert all(isinstance(s, mm.MetricData) and s.name == "total_tokens" for s in per_stream)
    by_key = summarize(monitoring, "total_tokens[1d].groupBy(key).sum()", start, end)
    assert [(s.dimensions, s.aggregated_datapoints[0].value) for s in by_key] == [
        ({"key": "team-a"}, 12.0),
        ({"key": "team-b"}, 11.0),
    ]
    everything = summarize(monitoring, "total_tokens[1d].grouping().count()", start, end)
    assert [(s.dimensions, [p.value for p in s.aggregated_datapoints]) for s in everything] == [({}, [3.0])]


def test_overlapping_windows_follow_the_resolution(monitoring: Any) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    post(
        monitoring,
        metric("requests", 1, now - timedelta(minutes=1)),
        metric("requests", 1, now, key="team-a"),
    )
    start = now - timedelta(minutes=3)
    # Three-minute windows every minute: each point is counted in up to three windows.
    series = summarize(
        monitoring, 'requests[3m]{key = "team-a"}.sum()', start, now + timedelta(minutes=1), "1m"
    )
    assert [p.value for p in series[0].aggregated_datapoints] == [1.0, 2.0, 2.0, 1.0]


def test_a_non_atomic_batch_names_the_records_it_refused(emu: Emulator, monitoring: Any) -> None:
    now = datetime.now(UTC)
    bad_namespace = metric("x", 1, now)
    bad_namespace.namespace = "oci_reserved"
    too_old = metric("x", 1, now - timedelta(hours=3))
    no_dimensions = metric("x", 1, now)
    no_dimensions.dimensions = {}
    response = post(monitoring, metric("ok", 1, now), bad_namespace, too_old, no_dimensions)
    failures = response.data.failed_metrics
    assert response.data.failed_metrics_count == 3
    assert ["oci_reserved" in failures[0].message, "two hours" in failures[1].message] == [True, True]
    assert "dimensions" in failures[2].message
    assert [r["name"] for r in emu.metrics()] == ["ok"]


@pytest.mark.parametrize(
    ("records", "atomicity", "message"),
    [
        ("bad-and-good", "ATOMIC", "namespace"),
        ("only-bad", "NON_ATOMIC", "namespace"),
        ("51-streams", "NON_ATOMIC", "at most 50"),
    ],
)
def test_whole_requests_are_refused_with_ocis_400(
    monitoring: Any, records: str, atomicity: str, message: str
) -> None:
    now = datetime.now(UTC)
    bad = metric("x", 1, now)
    bad.namespace = "Bad-Namespace"
    batch = {
        "bad-and-good": [metric("ok", 1, now), bad],
        "only-bad": [bad],
        "51-streams": [metric("x", 1, now, key=f"k{i}") for i in range(51)],
    }[records]
    with pytest.raises(oci.exceptions.ServiceError) as refused:
        post(monitoring, *batch, atomicity=atomicity)
    assert (refused.value.status, refused.value.code) == (400, "InvalidParameter")
    assert message in refused.value.message


def test_bodies_are_validated_with_the_sdk_models_and_requests_must_be_signed(
    emu: Emulator, rp_signer: Any
) -> None:
    url = f"{emu.url}/20180401/metrics"
    unsigned = httpx.post(url, json={"metricData": []})
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "NotAuthenticated")
    client = oci.monitoring.MonitoringClient({"region": REGION}, signer=rp_signer, service_endpoint=emu.url)
    details = mm.SummarizeMetricsDataDetails(namespace=NAMESPACE, query="total_tokens[1d].percentile(0.9)")
    with pytest.raises(oci.exceptions.ServiceError, match="Unsupported"):
        client.summarize_metrics_data(COMPARTMENT, details)
    wide = mm.SummarizeMetricsDataDetails(
        namespace=NAMESPACE, query="total_tokens[1m].sum()", resolution="5m"
    )
    with pytest.raises(oci.exceptions.ServiceError, match="resolution"):
        client.summarize_metrics_data(COMPARTMENT, wide)
    (logged,) = [e for e in emu.requests("/summarizeMetricsData") if e.get("status") == 400][:1]
    assert logged["principal"]["kind"] == "resource_principal"
