"""Soak: 20,000 mixed requests at concurrency 200 through the ASGI gateway, with mid-stream disconnects.

Run from the repository root (figures go to docs/RELIABILITY.md, "Soak"):

    .venv/bin/python -m bench.soak --requests 20000 --concurrency 200

One emulator process (OCI) and one gateway process (`python -m oci_genai_gateway serve`, as in
compose). A load client runs a fixed mix: chat, streams read to the end, streams dropped after the
first chunk, embeddings, model list and lookups, and refused requests (bad body, lone surrogate,
deep nesting, wrong key, unknown route), each with the status it must get. Reported: every answer
that is not the expected one (a server error), the gateway's RSS and open fds after a warm-up and
after the soak (both measured with every client connection closed), the unhandled-error lines in
its log, and whether it still serves afterwards.

Keep-alive: uvicorn closes a connection idle for `timeout_keep_alive` (5 s). A client that keeps
idle connections as long or longer (httpx's default expiry is also 5 s) can send a request on a
connection in the very moment the server closes it, and sees "Server disconnected" through no
fault of either. The client here expires idle connections after 2 s, well inside the server's 5 s,
so the side that closes idle connections is always the one that would reuse them.

Upstream keep-alive: the same race exists between the gateway's OCI client (httpx, idle expiry
5 s) and the emulator (uvicorn, 5 s): a call on a connection idle for just under 5 s can fail with
a ReadError. The gateway retries a failed connection once by default (GATEWAY_UPSTREAM_RETRIES=1),
which the soak keeps; the report counts those failed calls from the gateway's log.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

CLIENT_KEEPALIVE_SECONDS = 2.0  # below uvicorn's timeout_keep_alive (5 s): see the module docstring
CHAT = {"model": "xai.grok-3-mini", "messages": [{"role": "user", "content": "soak"}], "max_tokens": 16}


@dataclass
class Tally:
    """What the load client saw."""

    by_kind: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def error(self, kind: str, what: str) -> None:
        """Record an answer the server should not have given."""
        key = f"{kind}: {what[:120]}"
        self.errors[key] += 1
        self.examples.setdefault(key, what[:400])


Kind = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[int]]


async def _json(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], body: Any) -> int:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return (await client.request(method, path, headers=headers, content=content or None)).status_code


async def chat(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    return await _json(client, "POST", "/v1/chat/completions", auth, CHAT)


async def stream(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    body = json.dumps({**CHAT, "stream": True}).encode()
    async with client.stream("POST", "/v1/chat/completions", headers=auth, content=body) as response:
        text = (await response.aread()).decode()
    if response.status_code == 200 and not text.endswith("data: [DONE]\n\n"):
        raise AssertionError(f"stream did not end in [DONE]: {text[-200:]!r}")
    return response.status_code


async def dropped_stream(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    """Read the first chunk, then close the connection mid-stream (as a client that goes away)."""
    body = json.dumps({**CHAT, "stream": True}).encode()
    async with client.stream("POST", "/v1/chat/completions", headers=auth, content=body) as response:
        async for _ in response.aiter_raw():
            break
    return response.status_code


async def embeddings(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    return await _json(
        client, "POST", "/v1/embeddings", auth, {"model": "cohere.embed-v4.0", "input": ["a", "b"]}
    )


async def models(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    return await _json(client, "GET", "/v1/models", auth, b"")


async def model(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    return await _json(client, "GET", "/v1/models/xai.grok-4", auth, b"")


async def bad_body(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    return await _json(client, "POST", "/v1/chat/completions", auth, {**CHAT, "reasoning_effort": []})


async def surrogate(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    return await _json(client, "POST", "/v1/chat/completions", auth, b'{"\\ud800": 1}')


async def deep(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    return await _json(client, "POST", "/v1/chat/completions", auth, b"[" * 10_000 + b"]" * 10_000)


async def wrong_key(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    return await _json(
        client, "POST", "/v1/chat/completions", {"authorization": "Bearer sk-wrong-0000000000"}, CHAT
    )


async def unknown_route(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    return await _json(client, "GET", "/v1/nothing", auth, b"")


# Twenty requests, repeated: a quarter are refused on purpose; a tenth are dropped mid-stream.
SCHEDULE: list[tuple[Kind, int]] = [
    *[(chat, 200)] * 5,
    *[(stream, 200)] * 3,
    *[(dropped_stream, 200)] * 2,
    *[(embeddings, 200)] * 3,
    (models, 200),
    (model, 200),
    (bad_body, 400),
    (surrogate, 400),
    (deep, 400),
    (wrong_key, 401),
    (unknown_route, 404),
]


async def load(base_url: str, key: str, count: int, concurrency: int, tally: Tally) -> float:
    """Send `count` requests of the schedule from `concurrency` workers; the wall time."""
    limits = httpx.Limits(
        max_connections=concurrency,
        max_keepalive_connections=concurrency,
        keepalive_expiry=CLIENT_KEEPALIVE_SECONDS,
    )
    auth = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    started = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=httpx.Timeout(120, connect=30)
    ) as client:
        indexes = iter(range(count))

        async def worker() -> None:
            for index in indexes:
                kind, expected = SCHEDULE[index % len(SCHEDULE)]
                try:
                    status = await kind(client, auth)
                except Exception as exc:
                    tally.error(kind.__name__, f"{type(exc).__name__}: {exc}")
                    continue
                tally.by_kind[(kind.__name__, status)] += 1
                if status != expected:
                    tally.error(kind.__name__, f"status {status} instead of {expected}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def process_stats(pid: int) -> tuple[int, int]:
    """VmRSS (KiB) and the number of open file descriptors of a process (Linux /proc)."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


async def quiescent_stats(base_url: str, key: str, pid: int) -> tuple[int, int]:
    """RSS and fds with every client connection closed and idle upstream connections expired.

    httpx drops expired pool connections when the pool is next used: after the gateway's idle
    expiry (5 s) one request makes it close every idle OCI connection, as a quiet minute would.
    """
    await asyncio.sleep(6)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        headers = {"authorization": f"Bearer {key}"}
        (await client.post("/v1/chat/completions", headers=headers, json=CHAT)).raise_for_status()
    await asyncio.sleep(1)
    return process_stats(pid)


async def still_serving(base_url: str, key: str) -> bool:
    """A chat, a stream and the readiness probe, all answered normally."""
    tally = Tally()
    await load(base_url, key, len(SCHEDULE), 4, tally)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        ready = (await client.get("/health/readiness")).status_code == 200
    return ready and not tally.errors


def log_bugs(log_path: Path) -> int:
    """Lines where the gateway logged an unexpected exception."""
    marks = ('"event": "bug"', '"event": "stream_bug"', "Traceback")
    return sum(
        any(mark in line for mark in marks) for line in log_path.read_text(errors="replace").splitlines()
    )


def upstream_failures(log_path: Path) -> collections.Counter[str]:
    """The gateway's failed OCI calls by kind (status, timeout, transport and its exception)."""
    found = collections.Counter[str]()
    for line in log_path.read_text(errors="replace").splitlines():
        if '"upstream_failure"' in line:
            entry = json.loads(line)
            found[f"{entry.get('kind')} {entry.get('status') or entry.get('exc_type') or ''}".strip()] += 1
    return found


async def soak(requests: int, concurrency: int, warmup: int, workdir: Path) -> tuple[str, bool]:
    """Start the emulator and the gateway, warm up, soak, and report."""
    from tests.fixtures.gateway import KEY, start_gateway, stop

    from oci_genai_emulator import EmulatorProcess

    emulator = EmulatorProcess.start(workdir / "emulator")
    gateway = None
    try:
        # The documented default of one retry (the test fixtures set none): see "Upstream keep-alive".
        gateway = start_gateway(emulator, workdir / "gateway", GATEWAY_UPSTREAM_RETRIES="1")
        pid = gateway.process.pid
        warm = Tally()
        await load(gateway.url, KEY, warmup, concurrency, warm)
        rss0, fds0 = await quiescent_stats(gateway.url, KEY, pid)
        tally = Tally()
        wall = await load(gateway.url, KEY, requests, concurrency, tally)
        rss1, fds1 = await quiescent_stats(gateway.url, KEY, pid)
        serving = await still_serving(gateway.url, KEY)
        bugs = log_bugs(gateway.log_path)
        upstream = upstream_failures(gateway.log_path)
        stats = (rss0, fds0), (rss1, fds1)
        text = report(requests, concurrency, warmup, wall, tally, warm, stats, serving, bugs, upstream)
        clean = not tally.errors and not warm.errors and serving and not bugs
        return text, clean and rss1 < rss0 * 1.10 and fds1 <= fds0
    finally:
        if gateway is not None:
            stop(gateway.process)
        emulator.stop()


def report(
    requests: int,
    concurrency: int,
    warmup: int,
    wall: float,
    tally: Tally,
    warm: Tally,
    stats: tuple[tuple[int, int], tuple[int, int]],
    serving: bool,
    bugs: int,
    upstream: collections.Counter[str],
) -> str:
    """The figures, as docs/RELIABILITY.md quotes them."""
    before, after = stats
    kinds = collections.Counter[str]()
    for (kind, _status), n in tally.by_kind.items():
        kinds[kind] += n
    lines = [
        f"{requests} requests at concurrency {concurrency} after a {warmup}-request warm-up: "
        f"{wall:.0f} s ({requests / wall:.0f} requests/s)",
        "mix: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())),
        f"server errors: {sum(tally.errors.values())} (warm-up: {sum(warm.errors.values())})",
        f"RSS: {before[0] / 1024:.0f} MiB after warm-up, {after[0] / 1024:.0f} MiB after the soak "
        f"({(after[0] - before[0]) / before[0] * 100:+.1f} %)",
        f"open fds: {before[1]} after warm-up, {after[1]} after the soak ({after[1] - before[1]:+d})",
        f"unhandled-error lines in the gateway log: {bugs}",
        "failed OCI calls in the gateway log (each retried once): "
        + (", ".join(f"{kind} {n}" for kind, n in upstream.most_common()) or "none"),
        f"serves normally afterwards: {serving}",
    ]
    for key, n in (tally.errors + warm.errors).most_common(10):
        lines.append(f"  {n:6d}  {key}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print the report; exit 1 on any server error or growth over the bounds."""
    parser = argparse.ArgumentParser(prog="bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=4_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        text, ok = asyncio.run(soak(args.requests, args.concurrency, args.warmup, Path(tmp)))
    print(text)
    print("PASS" if ok else "FAIL: a server error, RSS growth of 10 % or more, fd growth, or not serving")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
