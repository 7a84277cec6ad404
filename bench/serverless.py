"""Warm overhead of one call: the ASGI gateway and the chat function (fdk) next to a direct OCI call.

Run from the repository root (numbers go to docs/PERFORMANCE.md, "Warm overhead"):

    .venv/bin/python -m bench.serverless --calls 300

One call at a time, interleaved call by call: a direct OCI request to the emulator (signed by the
same resource principal before its clock starts), the same request through `serve --workers 1`,
and through the chat function's fdk unix socket in the form API Gateway invokes it (API Gateway
replaces the ASGI server in production; its own hop is not on this machine). Each path keeps
one warm keep-alive connection. Reported: latency p50/p99 and the overhead over direct
(the difference of the percentiles), for a non-streamed answer and for a whole stream (the function
buffers streams; no token pacing, so the stream is as fast as the emulator sends it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from bench.cold_start import _FDK_MAIN, Call, function_env, invoke
from bench.peers import CHAT_PATH, MAX_TOKENS, MODEL, _sign, oci_body, prompt

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-serverless-01"


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest-rank method."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _wait_socket(sock: Path, process: Any) -> None:
    deadline = time.monotonic() + 60
    while not sock.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the fdk function did not listen")
        time.sleep(0.01)


def measure(calls: int, workdir: Path, log: Callable[[str], None]) -> dict[tuple[str, str], list[float]]:
    """Latencies in seconds by (mode, path)."""
    import subprocess

    from tests.fixtures.gateway import start_gateway, stop

    from oci_genai_emulator import DEFAULT_COMPARTMENT, EmulatorProcess

    emulator = EmulatorProcess.start(workdir / "emulator", options=("--log-level", "error"))
    gateway = None
    function = None
    try:
        gateway = start_gateway(emulator, workdir / "gateway", GATEWAY_API_KEYS=f"bench:{KEY}")
        rp_env = emulator.mint_resource_principal(workdir / "rp-fn")
        env = function_env(emulator.url, rp_env, bytecode=True, prefix=workdir)
        sock = workdir / "chat.sock"
        func = ROOT / "functions" / "chat" / "func.py"
        function = subprocess.Popen(
            [sys.executable, "-c", _FDK_MAIN, str(func), "handler"],
            cwd=func.parent,
            env={**env, "FN_FORMAT": "http-stream", "FN_LISTENER": f"unix:{sock}"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_socket(sock, function)
        signer = emulator.resource_principal_signer(workdir / "rp-direct")
        url = f"{emulator.url}{CHAT_PATH}"
        asgi = httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
        # As the gateway offers: httpx with zstandard installed would offer zstd, which OCI frames per event.
        direct = httpx.Client(timeout=60, headers={"accept-encoding": "gzip, deflate"})
        fdk = httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), base_url="http://fdk", timeout=60)
        out: dict[tuple[str, str], list[float]] = {}

        def timed(run: Callable[[], Any]) -> float:
            started = time.perf_counter()
            run()
            return time.perf_counter() - started

        for i in range(-10, calls):  # the first 10 warm every path up and are not kept
            for mode in ("json", "stream"):
                stream = mode == "stream"
                body = {
                    "model": MODEL,
                    "messages": [{"role": "user", "content": prompt(i)}],
                    "max_tokens": MAX_TOKENS,
                    "stream": stream,
                }
                raw = oci_body(DEFAULT_COMPARTMENT, i, stream)
                headers = {"content-type": "application/json", **_sign(signer, url, raw)}
                runs: dict[str, Callable[[], Any]] = {
                    "direct": partial(_post, direct, url, raw, headers),
                    "ASGI gateway": partial(
                        _post, asgi, "/v1/chat/completions", json.dumps(body).encode(), {}
                    ),
                    "chat function (fdk)": partial(
                        invoke, fdk, Call("POST", "/genai/v1/chat/completions", body)
                    ),
                }
                order = list(runs)
                shift = i % len(order)
                for name in order[shift:] + order[:shift]:
                    seconds = timed(runs[name])
                    if i >= 0:
                        out.setdefault((mode, name), []).append(seconds)
            if i % 50 == 0:
                log(f"call {i}")
        return out
    finally:
        if function is not None:
            function.terminate()
            function.wait(timeout=10)
        if gateway is not None:
            stop(gateway.process)
        emulator.stop()


def _post(client: httpx.Client, url: str, content: bytes, headers: dict[str, str]) -> None:
    response = client.post(url, content=content, headers={"content-type": "application/json", **headers})
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code}: {response.text[:300]}")


def report(results: dict[tuple[str, str], list[float]], calls: int) -> str:
    """p50/p99 per path and mode, and the overhead over direct."""
    lines = [
        f"{calls} sequential calls per path and mode, interleaved; overhead = the path's percentile "
        "minus direct's.",
        "",
        "| answer | path | p50 (ms) | p99 (ms) | overhead p50 (ms) | overhead p99 (ms) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for (mode, name), values in results.items():
        base = results[(mode, "direct")]
        p50, p99 = statistics.median(values) * 1000, percentile(values, 0.99) * 1000
        b50, b99 = statistics.median(base) * 1000, percentile(base, 0.99) * 1000
        what = "non-streamed" if mode == "json" else "whole stream"
        lines.append(f"| {what} | {name} | {p50:.1f} | {p99:.1f} | {p50 - b50:+.1f} | {p99 - b99:+.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the report."""
    parser = argparse.ArgumentParser(prog="bench.serverless", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-serverless-") as tmp:
        results = measure(args.calls, Path(tmp), lambda s: print(s, file=sys.stderr))
    print(report(results, args.calls))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
