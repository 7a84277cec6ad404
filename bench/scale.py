"""Scale: 1, 2 and 3 gateway instances behind a local load balancer (HAProxy), limits shared in Redis.

Run from the repository root (numbers go to docs/PERFORMANCE.md, "Scaled target"):

    .venv/bin/python -m bench.scale --instances 1,2,3 --workloads s200,s1000,j200

One emulator stands in for OCI (streams paced as in bench/peers.py: ~25 events 40 ms apart); one
real redis-server holds the shared counters; each instance is `serve --workers 1` with
GATEWAY_REDIS_URL, and the bench key has a rate and a quota, so every request runs the limits
script once. Contenders: direct signed calls to the emulator (the baseline), one instance without
the load balancer (per-process efficiency), and N instances behind HAProxy (`bench/peers.py`'s
load client, workloads and checks). Reported per batch: completed, streams (or requests) per
second, TTFT (or latency) p50 and p99, CPU per call and peak RSS of each instance, the Redis
round trips per request (INFO commandstats). Then the latency the limits script adds, measured in
process on loopback: `SharedLimiter.admit` with and without a rate to count.

On this machine every instance, HAProxy, Redis, the emulator and the load client share two cores
(with other engineers' work): more instances cannot add CPU here, so the N-instance rows show the
cost of the extra hop and of sharing, not the capacity of N machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.peers import (
    CHAT_PATH,
    WORKLOADS,
    Batch,
    Contender,
    Workload,
    _api_key_signer,
    _base_env,
    _free_port,
    _sign,
    _spawn,
    _wait_answering,
    cpu_seconds,
    run_batch,
    write_oci_config,
)

KEY = "sk-bench-scale-00000001"
# High enough never to refuse a bench request; present so every request is counted in Redis.
POLICY = {"key": KEY, "rps": 1_000_000, "quota": {"requests": 1_000_000_000, "per": "month"}}


@dataclass
class Cell:
    """One workload on one contender, with what each instance spent on it."""

    batch: Batch
    instance_cpu_ms: list[float]  # per completed call, each instance
    instance_rss_mib: list[float]  # VmRSS after the batch, each instance
    redis_calls: float  # Redis round trips per completed call


def rss_mib(pid: int) -> float:
    """VmRSS of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# The commands a client sends (commandstats also counts the commands a script runs inside Redis).
ROUND_TRIPS = ("evalsha", "eval", "script|load", "hello", "client|setinfo", "ping")


def redis_commands(client: Any) -> int:
    """Round trips clients made to Redis so far: the commands they sent, not those scripts ran."""
    stats = client.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ROUND_TRIPS)


def _bearer(*_: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}


def start_instances(
    count: int, emulator: Any, config: Path, redis_url: str | None, workdir: Path
) -> list[tuple[int, Any]]:
    """`count` gateways (`serve --workers 1`) counting in Redis (or in process): (port, process) each."""
    from oci_genai_emulator import DEFAULT_COMPARTMENT, DEFAULT_REGION

    out = []
    for i in range(count):
        port = _free_port()
        env = _base_env() | {
            "GATEWAY_AUTH": "config_file",
            "GATEWAY_OCI_CONFIG_FILE": str(config),
            "GATEWAY_OCI_ENDPOINT": emulator.url,
            "GATEWAY_REGION": DEFAULT_REGION,
            "GATEWAY_COMPARTMENT_ID": DEFAULT_COMPARTMENT,
            "GATEWAY_API_KEYS": json.dumps({"bench": POLICY}),
        }
        if redis_url is not None:
            env["GATEWAY_REDIS_URL"] = redis_url
        command = [sys.executable, "-m", "oci_genai_gateway", "serve", "--port", str(port), "--workers", "1"]
        process = _spawn(command, env, workdir / f"gateway-{i}-{'redis' if redis_url else 'local'}.log")
        _wait_answering(Contender(f"instance {i}", port, "openai", lambda: None, _bearer), process)
        out.append((port, process))
    return out


def measure_cell(
    contender: Contender, workload: Workload, emulator: Any, pids: Sequence[int], redis: Any
) -> Cell:
    """Run one batch and read each instance's CPU and RSS and Redis's command count around it."""
    from oci_genai_emulator import DEFAULT_COMPARTMENT

    before = [cpu_seconds([pid]) for pid in pids]
    commands = redis_commands(redis)
    batch = run_batch(contender, workload, emulator, DEFAULT_COMPARTMENT)
    calls = max(1, batch.completed)
    return Cell(
        batch,
        [(cpu_seconds([pid]) - b) * 1000 / calls for pid, b in zip(pids, before, strict=True)],
        [rss_mib(pid) for pid in pids],
        (redis_commands(redis) - commands) / calls,
    )


async def script_latency(redis_url: str, rounds: int) -> dict[str, float]:
    """p50/p99 (ms) of admitting one request: counted in Redis, and with nothing to count."""
    from oci_genai_gateway.core.access.limits import Limiter
    from oci_genai_gateway.core.access.policy import KeyPolicy, Quota
    from oci_genai_gateway.core.access.shared_limits import connect

    shared = connect(redis_url, timeout=1.0, fallback=Limiter(), fail_closed=True)
    counted = KeyPolicy("probe", rps=1_000_000, quota=Quota(1_000_000_000, "month"))
    out: dict[str, float] = {}
    try:
        for name, policy in (("counted", counted), ("no limits", KeyPolicy("free"))):
            await shared.admit(policy)  # connect and load the script first
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                await shared.admit(policy)
                times.append(time.perf_counter() - started)
            q = statistics.quantiles(times, n=100)
            out[f"{name} p50"], out[f"{name} p99"] = q[49] * 1000, q[98] * 1000
    finally:
        await shared.aclose()
    return out


def run(args: argparse.Namespace, workdir: Path, log: Callable[[str], None]) -> str:
    """Start everything, measure every workload on every contender, and render the report."""
    import redis as redis_py
    from tests.fixtures.gateway import stop
    from tests.fixtures.redis import start_redis
    from tests.fixtures.scaled import start_lb

    from oci_genai_emulator import DEFAULT_REGION, EmulatorProcess
    from oci_genai_emulator.credentials import generate_api_key

    counts = [int(n) for n in args.instances.split(",")]
    workloads = [WORKLOADS[w] for w in args.workloads.split(",")]
    emulator = EmulatorProcess.start(workdir / "emulator", options=("--log-level", "error"))
    server = start_redis(workdir / "redis")
    instances_all: list[tuple[int, Any]] = []
    balancers: list[Any] = []
    try:
        key = generate_api_key(workdir / "api-key")
        emulator.register_api_key(key.key_id, key.public_pem)
        config = write_oci_config(key, workdir / "oci-config", DEFAULT_REGION)
        instances = start_instances(max(counts), emulator, config, server.url, workdir)
        instances_all += instances
        [plain] = start_instances(1, emulator, config, None, workdir)  # counts in process
        instances_all.append(plain)
        signer = _api_key_signer(key)
        emulator_port = int(emulator.url.rsplit(":", 1)[1])
        bearer = {"Authorization": f"Bearer {KEY}"}

        def signed(_i: int, path: str, body: bytes) -> dict[str, str]:
            return _sign(signer, f"{emulator.url}{path}", body)

        contenders: list[tuple[Contender, list[int]]] = [
            (Contender("direct", emulator_port, "oci", lambda: None, signed, path=CHAT_PATH), []),
            (
                Contender("1 instance, no LB, no Redis", plain[0], "openai", lambda: None, lambda *_: bearer),
                [plain[1].pid],
            ),
            (
                Contender("1 instance, no LB", instances[0][0], "openai", lambda: None, lambda *_: bearer),
                [instances[0][1].pid],
            ),
        ]
        for n in counts:
            lb = start_lb([f"127.0.0.1:{port}" for port, _ in instances[:n]], workdir / f"lb-{n}")
            balancers.append(lb)
            port = int(lb.url.rsplit(":", 1)[1])
            name = f"{n} instance{'s' * (n > 1)} + LB"
            contenders.append(
                (
                    Contender(name, port, "openai", lambda: None, lambda *_: bearer),
                    [p.pid for _, p in instances[:n]],
                )
            )
        with redis_py.Redis.from_url(server.url) as redis:
            from oci_genai_emulator import DEFAULT_COMPARTMENT

            for contender, _ in contenders:  # warm every path
                run_batch(contender, Workload("warm-up", "stream", 20, 20), emulator, DEFAULT_COMPARTMENT)
            cells: dict[tuple[str, str], Cell] = {}
            for workload in workloads:
                for contender, pids in contenders:
                    cell = measure_cell(contender, workload, emulator, pids, redis)
                    cells[(workload.name, contender.name)] = cell
                    log(f"{workload.name} / {contender.name}: {cell}")
        latency = asyncio.run(script_latency(server.url, args.probe))
        load = Path("/proc/loadavg").read_text().split()[:3]
        return report(workloads, [c for c, _ in contenders], cells, latency, " ".join(load))
    finally:
        for lb in balancers:
            stop(lb.process)
        for _, process in instances_all:
            stop(process)
        server.stop()
        emulator.stop()


def report(
    workloads: Sequence[Workload],
    contenders: Sequence[Contender],
    cells: dict[tuple[str, str], Cell],
    latency: dict[str, float],
    load: str,
) -> str:
    """Markdown tables: throughput and TTFT against direct, then per-instance CPU/RSS and Redis."""
    lines = [
        "| workload | contender | completed | rate | TTFT / latency p50 | p99 | CPU ms/call per instance "
        "| RSS MiB per instance | Redis round trips/call |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: |",
    ]
    for workload in workloads:
        base = cells[(workload.name, "direct")].batch
        for contender in contenders:
            cell = cells[(workload.name, contender.name)]
            b = cell.batch
            stream = workload.mode == "stream"
            p50 = b.ttft_p50 if stream else b.latency_p50
            base_p50 = base.ttft_p50 if stream else base.latency_p50
            ratio = f" ({b.rate / base.rate:.2f}x)" if base.rate else ""
            when = f"{p50 * 1000:.0f} ms ({p50 / base_p50:.2f}x)" if p50 and base_p50 else "n/a"
            p99 = b.ttft_p99 if stream else b.latency_p99
            cpu = ", ".join(f"{c:.1f}" for c in cell.instance_cpu_ms) or "—"
            rss = ", ".join(f"{r:.0f}" for r in cell.instance_rss_mib) or "—"
            tail = f"{p99 * 1000:.0f} ms" if p99 else "n/a"
            lines.append(
                f"| {workload.name} | {contender.name} | {b.completed}/{b.count} | {b.rate:.1f}/s{ratio} "
                f"| {when} | {tail} | {cpu} | {rss} | {cell.redis_calls:.2f} |"
            )
    lines += [
        "",
        "Admitting one request in process on loopback (`SharedLimiter.admit`): "
        + ", ".join(f"{k} {v:.3f} ms" for k, v in latency.items())
        + f". Load average (1/5/15 min) at the end: {load}.",
    ]
    errors = {f"{w} / {c}": cell.batch.errors[0] for (w, c), cell in cells.items() if cell.batch.errors}
    if errors:
        lines += ["", "First failure per cell:"] + [f"- {k}: {v[:240]}" for k, v in errors.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, print the report."""
    parser = argparse.ArgumentParser(prog="bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="1,2,3")
    parser.add_argument("--workloads", default="s200,s1000,j200")
    parser.add_argument("--probe", type=int, default=2000, help="admissions timed for the Redis latency")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        print(run(args, Path(tmp), lambda line: print(line, file=sys.stderr, flush=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
