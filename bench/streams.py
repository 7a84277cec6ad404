"""Concurrent streams: N at once through the ASGI gateway, next to the same N sent straight to OCI.

Run from the repository root (numbers go to docs/PERFORMANCE.md, "Compose target: concurrent streams"):

    .venv/bin/python -m bench.streams --streams 1000

Both runs hit the same emulator process. The baseline sends OCI-signed requests to the emulator
directly; the gateway run sends OpenAI requests through `python -m oci_genai_gateway serve`. Reported:
how many streams completed correctly, time to first token (p50/p95), wall time, and the gateway's
RSS at rest and at its peak (VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai

MODEL = "xai.grok-3-mini"
MAX_TOKENS = 64
# Generous: under load the emulator, gateway and client share two cores; nothing here is timed by it.
CLIENT_TIMEOUT = httpx.Timeout(300.0, connect=60.0)


def prompt(index: int) -> str:
    """A distinct prompt per stream; the emulator echoes it, so crossed streams are caught."""
    return f"Stream {index} says hello"


@dataclass(frozen=True)
class StreamResult:
    """What one client saw of its stream."""

    index: int
    text: str
    finish: str | None
    ttft: float | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Completed with a stop, carrying the reply to its own prompt."""
        return self.error is None and self.finish == "stop" and f'"{prompt(self.index)}"' in self.text


def _limits(count: int) -> httpx.Limits:
    # One connection per stream: the client must never be the thing that queues them.
    return httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)


async def _gateway_stream(client: openai.AsyncOpenAI, index: int) -> StreamResult:
    started = time.perf_counter()
    parts: list[str] = []
    finish: str | None = None
    ttft: float | None = None
    try:
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": prompt(index)}],
            stream=True,
            max_tokens=MAX_TOKENS,
        )
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content:
                    ttft = ttft if ttft is not None else time.perf_counter() - started
                    parts.append(choice.delta.content)
                finish = choice.finish_reason or finish
    except Exception as exc:
        return StreamResult(index, "".join(parts), finish, ttft, f"{type(exc).__name__}: {exc}")
    return StreamResult(index, "".join(parts), finish, ttft)


async def gateway_streams(base_url: str, key: str, count: int) -> list[StreamResult]:
    """Open `count` OpenAI streams through the gateway at once and read each to its end."""
    async with httpx.AsyncClient(limits=_limits(count), timeout=CLIENT_TIMEOUT) as http:
        client = openai.AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0, http_client=http)
        return list(await asyncio.gather(*(_gateway_stream(client, i) for i in range(count))))


def oci_chat_body(compartment: str, index: int) -> bytes:
    """The OCI GENERIC streaming chat request the gateway would send for stream `index`."""
    body = {
        "compartmentId": compartment,
        "servingMode": {"servingType": "ON_DEMAND", "modelId": MODEL},
        "chatRequest": {
            "apiFormat": "GENERIC",
            "messages": [{"role": "USER", "content": [{"type": "TEXT", "text": prompt(index)}]}],
            "maxTokens": MAX_TOKENS,
            "isStream": True,
        },
    }
    return json.dumps(body).encode()


async def _direct_stream(
    client: httpx.AsyncClient, url: str, index: int, headers: dict[str, str], body: bytes
) -> StreamResult:
    started = time.perf_counter()
    parts: list[str] = []
    finish: str | None = None
    ttft: float | None = None
    try:
        async with client.stream("POST", url, content=body, headers=headers) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                event = json.loads(line[5:])
                for item in event.get("message", {}).get("content") or []:
                    if item.get("text"):
                        ttft = ttft if ttft is not None else time.perf_counter() - started
                        parts.append(item["text"])
                finish = event.get("finishReason") or finish
    except Exception as exc:
        return StreamResult(index, "".join(parts), finish, ttft, f"{type(exc).__name__}: {exc}")
    return StreamResult(index, "".join(parts), finish, ttft)


async def direct_streams(
    emulator_url: str, compartment: str, sign: Callable[[str, bytes], dict[str, str]], count: int
) -> list[StreamResult]:
    """The baseline: the same streams as OCI-signed requests straight to the emulator."""
    url = f"{emulator_url}/20231130/actions/chat"
    bodies = [oci_chat_body(compartment, i) for i in range(count)]
    signed = [sign(url, body) for body in bodies]  # signed up front: the baseline is the wire alone
    async with httpx.AsyncClient(limits=_limits(count), timeout=CLIENT_TIMEOUT) as client:
        runs = (_direct_stream(client, url, i, signed[i], bodies[i]) for i in range(count))
        return list(await asyncio.gather(*runs))


@dataclass(frozen=True)
class Summary:
    """One run, reduced to what the report prints."""

    completed: int
    count: int
    ttft_p50: float
    ttft_p95: float
    wall: float
    first_error: str | None


def summarize(results: Sequence[StreamResult], wall: float) -> Summary:
    """Completion count and TTFT percentiles (over the streams that produced a token)."""
    ttfts = sorted(r.ttft for r in results if r.ttft is not None)
    quantiles = statistics.quantiles(ttfts, n=20) if len(ttfts) >= 2 else [float("nan")] * 19
    error = next((r.error or f"bad stream: {r}" for r in results if not r.ok), None)
    return Summary(
        completed=sum(r.ok for r in results),
        count=len(results),
        ttft_p50=statistics.median(ttfts) if ttfts else float("nan"),
        ttft_p95=quantiles[18],
        wall=wall,
        first_error=error,
    )


async def timed(run: Awaitable[list[StreamResult]]) -> Summary:
    """Run and summarize, with the wall time of the whole batch."""
    started = time.perf_counter()
    results = await run
    return summarize(results, time.perf_counter() - started)


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB (Linux /proc)."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def _signer(emulator: Any, workdir: Path) -> Callable[[str, bytes], dict[str, str]]:
    from tests.fixtures.emulator import sign_request

    signer = emulator.resource_principal_signer(workdir / "baseline-rp")
    return lambda url, body: sign_request(signer, "POST", url, body)


def _row(name: str, summary: Summary, base: Summary) -> str:
    cells = [
        name,
        f"{summary.completed}/{summary.count}",
        f"{summary.ttft_p50 * 1000:.0f} ms ({summary.ttft_p50 / base.ttft_p50:.2f}x)",
        f"{summary.ttft_p95 * 1000:.0f} ms ({summary.ttft_p95 / base.ttft_p95:.2f}x)",
        f"{summary.wall:.1f} s ({summary.wall / base.wall:.2f}x)",
    ]
    return "| " + " | ".join(cells) + " |"


async def _measure(count: int, workdir: Path) -> str:
    from tests.fixtures.emulator import COMPARTMENT
    from tests.fixtures.gateway import KEY, start_gateway, stop

    from oci_genai_emulator import EmulatorProcess

    emulator = EmulatorProcess.start(workdir / "emulator")
    emu_url = emulator.url
    gateway = None
    try:
        gateway = start_gateway(emulator, workdir / "gateway")
        sign = _signer(emulator, workdir)
        # Warm both paths (imports, first signing, connection set-up) before measuring.
        await direct_streams(emu_url, COMPARTMENT, sign, 5)
        await gateway_streams(gateway.base_url, KEY, 5)
        rest = rss_kib(gateway.process.pid)["VmRSS"]
        base = await timed(direct_streams(emu_url, COMPARTMENT, sign, count))
        through = await timed(gateway_streams(gateway.base_url, KEY, count))
        peak = rss_kib(gateway.process.pid)["VmHWM"]
        after = await gateway_streams(gateway.base_url, KEY, 1)
        lines = [
            f"{count} concurrent streams, model {MODEL}, max_tokens {MAX_TOKENS}",
            "",
            "| path | completed | TTFT p50 | TTFT p95 | wall |",
            "| --- | --- | --- | --- | --- |",
            _row("emulator direct (baseline)", base, base),
            _row("through the gateway", through, base),
            "",
            f"gateway RSS at rest {rest / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB "
            f"({peak / rest:.2f}x); answers normally afterwards: {after[0].ok}",
        ]
        for name, summary in (("baseline", base), ("gateway", through)):
            if summary.first_error:
                lines.append(f"{name}: first failure: {summary.first_error[:300]}")
        return "\n".join(lines)
    finally:
        if gateway is not None:
            stop(gateway.process)
        emulator.stop()


def main(argv: list[str] | None = None) -> int:
    """Start an emulator and a gateway, run both paths at --streams concurrency, print a report."""
    parser = argparse.ArgumentParser(prog="bench.streams", description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-streams-") as tmp:
        print(asyncio.run(_measure(args.streams, Path(tmp))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
