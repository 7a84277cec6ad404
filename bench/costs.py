"""Dollar cost of each deploy target from the measured CPU and memory and OCI's list prices.

    .venv/bin/python -m bench.costs     # the tables of docs/SCALING.md, "Cost"

Prices: USD, pay as you go, without free tiers; docs/SCALING.md cites each with the date it was read.
Measured figures: docs/PERFORMANCE.md ("Scaled target", "Functions cold start").
"""

from __future__ import annotations

from dataclasses import dataclass

HOURS_PER_MONTH = 730
THREADS_PER_OCPU = 2  # x86: one OCPU is one core, two hardware threads (CPU-seconds count threads)


@dataclass(frozen=True)
class Prices:
    """OCI list prices in USD (defaults: VM.Standard.E5.Flex, the deploy targets' default shape)."""

    function_invocation: float = 0.20 / 1e6
    function_gb_second: float = 0.00001417
    api_gateway_call: float = 3.00 / 1e6
    ocpu_hour: float = 0.03
    memory_gb_hour: float = 0.002
    lb_hour: float = 0.0113
    lb_mbps_hour: float = 0.0001
    cache_gb_hour: float = 0.0194


E5 = Prices()
E4 = Prices(ocpu_hour=0.025, memory_gb_hour=0.0015)


@dataclass(frozen=True)
class Usage:
    """What one gateway process was measured to use, and the deployment's sizes (deploy defaults)."""

    cpu_ms_per_request: float = 4.0  # non-streamed, with the Redis limits script
    cpu_ms_per_event: float = 0.3  # a stream's CPU (7-8 ms) over its ~25 events
    events_per_second: float = 25.0  # one stream's rate of SSE events
    bytes_per_event: float = 200.0  # one OpenAI chunk event on the wire (assumed)
    function_seconds: float = 2.0  # a function is billed for its wall time: mostly OCI's answer
    function_memory_gb: float = 0.5  # the chat function's tier (peak RSS 260 MiB)
    gb_per_ocpu: float = 8.0  # the VM shape's memory per OCPU (compose.memory_gbs / ocpus)
    utilisation: float = 0.7  # autoscaling's scale-out CPU: VMs are this busy at most
    vm_ocpus: float = 1.0
    min_instances: int = 2
    lb_min_mbps: float = 10.0
    cache_gb: float = 2.0


def vm_hour(p: Prices, u: Usage) -> float:
    """One OCPU of the shape, with its memory, for an hour."""
    return p.ocpu_hour + u.gb_per_ocpu * p.memory_gb_hour


def ocpu_hours(cpu_seconds: float, u: Usage) -> float:
    """The OCPU-hours that carry this much CPU time at the utilisation target."""
    return cpu_seconds / 3600 / THREADS_PER_OCPU / u.utilisation


def functions_per_million(p: Prices, u: Usage) -> float:
    """A million non-streamed calls through API Gateway and a function."""
    per_call = (
        p.api_gateway_call
        + p.function_invocation
        + u.function_memory_gb * u.function_seconds * p.function_gb_second
    )
    return 1e6 * per_call


def vm_per_million(p: Prices, u: Usage) -> float:
    """A million non-streamed calls on VMs (compose or scaled): the OCPU-hours their CPU needs."""
    return ocpu_hours(1e6 * u.cpu_ms_per_request / 1000, u) * vm_hour(p, u)


def stream_mbps(u: Usage, streams: int = 1000) -> float:
    """The load balancer's bandwidth for that many streams."""
    return streams * u.events_per_second * u.bytes_per_event * 8 / 1e6


def vm_per_thousand_streams_hour(p: Prices, u: Usage, *, balanced: bool) -> float:
    """A thousand concurrent streams held for an hour on VMs (+ the LB's bandwidth when balanced)."""
    cpu_seconds = 1000 * u.events_per_second * u.cpu_ms_per_event / 1000 * 3600
    compute = ocpu_hours(cpu_seconds, u) * vm_hour(p, u)
    return compute + (stream_mbps(u) * p.lb_mbps_hour if balanced else 0.0)


def fixed_per_month(p: Prices, u: Usage, target: str) -> float:
    """What a target costs idle for a month (serverless: nothing)."""
    if target == "serverless":
        return 0.0
    vm = u.vm_ocpus * vm_hour(p, u)
    if target == "compose":
        return vm * HOURS_PER_MONTH
    lb = p.lb_hour + u.lb_min_mbps * p.lb_mbps_hour
    return (lb + u.min_instances * vm + u.cache_gb * p.cache_gb_hour) * HOURS_PER_MONTH


def table(p: Prices = E5, u: Usage = Usage()) -> str:
    """The cost table of docs/SCALING.md."""
    rows = [
        ("`serverless`", functions_per_million(p, u), None, fixed_per_month(p, u, "serverless")),
        (
            "`compose`",
            vm_per_million(p, u),
            vm_per_thousand_streams_hour(p, u, balanced=False),
            fixed_per_month(p, u, "compose"),
        ),
        (
            "`scaled`",
            vm_per_million(p, u),
            vm_per_thousand_streams_hour(p, u, balanced=True),
            fixed_per_month(p, u, "scaled"),
        ),
    ]
    lines = [
        "| target | per million non-streamed calls | per 1000 concurrent streams an hour | idle a month |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, million, streams, idle in rows:
        held = "not possible" if streams is None else f"${streams:.3f}"
        lines.append(f"| {name} | ${million:.3f} | {held} | ${idle:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
