"""bench/costs.py: the arithmetic behind docs/SCALING.md's cost table."""

from __future__ import annotations

import pytest
from bench.costs import (
    E5,
    Prices,
    Usage,
    fixed_per_month,
    functions_per_million,
    ocpu_hours,
    stream_mbps,
    table,
    vm_per_million,
    vm_per_thousand_streams_hour,
)

# Round prices, so each figure below can be checked by hand.
ROUND = Prices(
    function_invocation=1e-6,
    function_gb_second=1e-5,
    api_gateway_call=2e-6,
    ocpu_hour=0.1,
    memory_gb_hour=0.01,
    lb_hour=0.01,
    lb_mbps_hour=0.001,
    cache_gb_hour=0.02,
)


def test_a_function_call_pays_the_gateway_the_invocation_and_its_wall_time_times_memory() -> None:
    usage = Usage(function_seconds=2.0, function_memory_gb=0.5)
    # 1 M x (2e-6 + 1e-6 + 0.5 GB x 2 s x 1e-5) = 2 + 1 + 10
    assert functions_per_million(ROUND, usage) == pytest.approx(13.0)


def test_vm_calls_pay_the_ocpu_hours_their_cpu_needs_at_the_utilisation_target() -> None:
    usage = Usage(cpu_ms_per_request=3.6, utilisation=0.5, gb_per_ocpu=10.0)
    # 3600 CPU-s = 1 thread-hour = 0.5 OCPU-hour at full use, 1.0 at 50 %
    assert ocpu_hours(3600, usage) == pytest.approx(1.0)
    # one OCPU-hour with 10 GB: 0.1 + 10 x 0.01
    assert vm_per_million(ROUND, usage) == pytest.approx(0.2)


def test_streams_pay_cpu_per_event_and_the_load_balancer_their_bandwidth() -> None:
    usage = Usage(
        cpu_ms_per_event=0.4, events_per_second=10, bytes_per_event=125, utilisation=1.0, gb_per_ocpu=0
    )
    # 1000 x 10 events/s x 0.4 ms = 4 CPU-s per second = 2 OCPUs for the hour
    assert vm_per_thousand_streams_hour(ROUND, usage, balanced=False) == pytest.approx(0.2)
    # 1000 x 10 x 125 B x 8 = 10 Mbps
    assert stream_mbps(usage) == pytest.approx(10.0)
    assert vm_per_thousand_streams_hour(ROUND, usage, balanced=True) == pytest.approx(0.2 + 10 * 0.001)


def test_idle_costs_nothing_on_functions_one_vm_on_compose_and_lb_vms_and_cache_on_scaled() -> None:
    usage = Usage(vm_ocpus=1, gb_per_ocpu=10, min_instances=2, lb_min_mbps=10, cache_gb=2)
    vm = 0.1 + 10 * 0.01
    assert fixed_per_month(ROUND, usage, "serverless") == 0
    assert fixed_per_month(ROUND, usage, "compose") == pytest.approx(vm * 730)
    assert fixed_per_month(ROUND, usage, "scaled") == pytest.approx((0.01 + 0.01 + 2 * vm + 2 * 0.02) * 730)


def test_the_published_table_is_what_the_defaults_give() -> None:
    text = table(E5, Usage())
    assert "| `serverless` | $17.370 | not possible | $0.00 |" in text
    assert "| `compose` | $0.037 | $0.246 | $33.58 |" in text
    assert "| `scaled` | $0.037 | $0.250 | $104.46 |" in text
