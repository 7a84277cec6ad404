"""Issue 23: a throttled home region, one region alone against two (GATEWAY_REGIONS).

The emulator serves us-chicago-1 and eu-frankfurt-1 (one process, /<region> prefixes) and answers
half of Chicago's inference calls with 429 (`--throttle us-chicago-1=0.5`, every other call). Three
gateways (ASGI, one worker, resource principal, no in-region retries) get the same non-streamed calls:

- `baseline`: Chicago alone, unthrottled (the emulator's `/_emulator/throttle` set to 0 for the run);
- `one region`: Chicago alone, throttled;
- `two regions`: Chicago then Frankfurt, Chicago throttled.

Per configuration: the share of calls answered 200, latency p50/p95 of the answered ones and their
ratio to the baseline, and which region served them (X-Gateway-Region).

    .venv/bin/python -m bench.regions --calls 300 --concurrency 8 --repeats 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

HOME, EU = "us-chicago-1", "eu-frankfurt-1"
MODEL = "meta.llama-3.3-70b-instruct"
KEY = "sk-bench-regions-00001"


@dataclass
class Result:
    """One configuration's batch."""

    name: str
    calls: int
    ok: int
    latencies: list[float]
    regions: Counter[str]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gateway(
    emulator_url: str, rp_env: dict[str, str], regions: list[str], log: Path
) -> tuple[str, subprocess.Popen[bytes]]:
    """The ASGI gateway over `regions` of the emulator; returns its URL once ready."""
    from oci_genai_emulator import DEFAULT_COMPARTMENT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "OCI_"))}
    env.update(rp_env)
    env.update(
        GATEWAY_AUTH="resource_principal",
        GATEWAY_OCI_ENDPOINT=f"{emulator_url}/{{region}}",
        GATEWAY_REGIONS=",".join(regions),
        GATEWAY_REGION=regions[0],
        GATEWAY_COMPARTMENT_ID=DEFAULT_COMPARTMENT,
        GATEWAY_API_KEYS=f"bench:{KEY}",
        GATEWAY_UPSTREAM_RETRIES="0",
        GATEWAY_METRICS="false",
        GATEWAY_LOG_LEVEL="WARNING",
    )
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "oci_genai_gateway",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/readiness", timeout=1).status_code == 200:
                return url, process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gateway did not start; see {log}")


async def batch(name: str, url: str, calls: int, concurrency: int) -> Result:
    """`calls` chat completions from `concurrency` workers; latency of each answered one."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 16}
    latencies: list[float] = []
    regions: Counter[str] = Counter()
    ok = 0
    queue = iter(range(calls))
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60
    ) as client:
        # Warm the model list and the connection before the clock starts.
        await client.get("/v1/models")

        async def worker() -> None:
            nonlocal ok
            for _ in queue:
                start = time.perf_counter()
                response = await client.post("/v1/chat/completions", json=body)
                elapsed = time.perf_counter() - start
                if response.status_code == 200:
                    ok += 1
                    latencies.append(elapsed)
                    regions[response.headers.get("x-gateway-region", "?")] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, calls, ok, latencies, regions)


def _ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(results: dict[str, list[Result]]) -> str:
    """A Markdown table: calls answered over every repeat, the median of the repeats' p50 and p95,
    and the p50's ratio to the baseline's (the first configuration)."""

    def p50(runs: list[Result]) -> float:
        return statistics.median(statistics.median(r.latencies) for r in runs if r.latencies) * 1000

    def p95(runs: list[Result]) -> float:
        return statistics.median(_ms(r.latencies, 0.95) for r in runs if r.latencies)

    base = p50(next(iter(results.values())))
    rows = [
        "| configuration | answered | p50 latency | p95 latency | served by |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, runs in results.items():
        ok, calls = sum(r.ok for r in runs), sum(r.calls for r in runs)
        regions: Counter[str] = sum((r.regions for r in runs), Counter())
        served = ", ".join(f"{region} {count}" for region, count in sorted(regions.items()))
        rows.append(
            f"| {name} | {ok}/{calls} ({100 * ok / calls:.0f} %) | {p50(runs):.1f} ms "
            f"({p50(runs) / base:.2f}x) | {p95(runs):.1f} ms | {served} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the three configurations and print the table."""
    parser = argparse.ArgumentParser(prog="bench.regions", description=__doc__)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--share", type=float, default=0.5, help="the home region's throttled share")
    parser.add_argument("--repeats", type=int, default=3, help="rounds, the configurations' order rotated")
    args = parser.parse_args(argv)
    from oci_genai_emulator import EmulatorProcess

    workdir = Path(tempfile.mkdtemp(prefix="bench-regions-"))
    options = (
        "--log-level", "error",
        "--region-catalog", f"{HOME}=*",
        "--region-catalog", f"{EU}=*",
    )  # fmt: skip
    emulator = EmulatorProcess.start(workdir / "emulator", options=options)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        rp_env = emulator.mint_resource_principal(workdir / "rp")
        configs = [("baseline: one region, unthrottled", [HOME], 0.0)]
        configs += [("one region, home throttled", [HOME], args.share)]
        configs += [("two regions, home throttled", [HOME, EU], args.share)]
        results: dict[str, list[Result]] = {name: [] for name, _, _ in configs}
        for repeat in range(args.repeats):
            for name, regions, share in configs[repeat % 3 :] + configs[: repeat % 3]:
                url, process = start_gateway(emulator.url, rp_env, regions, workdir / "gateway.log")
                processes.append(process)
                emulator.throttle(HOME, share)
                results[name].append(asyncio.run(batch(name, url, args.calls, args.concurrency)))
                process.terminate()
                process.wait(timeout=30)
        print(report(results))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
