"""The core's CPU per stream, in process: `Gateway.handle` and its SSE body, without uvicorn or a client.

Run from the repository root (for changes too small to see end to end on a shared machine):

    .venv/bin/python -m bench.stream_cpu --streams 400 --concurrency 20

The emulator runs in its own process; this process builds the gateway as `serve` does (API-key
signer from an OCI config file), then opens `--streams` streams, `--concurrency` at a time, reads
each SSE body to its end and checks it. Reported: this process's CPU time (`time.process_time`) per
stream, and per event. With `--src DIR` it measures that tree's `oci_genai_gateway` instead (an
older commit), so two runs can alternate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.peers import MAX_TOKENS, MODEL, prompt, write_oci_config

KEY = "sk-bench-stream-cpu-01"


async def rounds(
    gateway: object, emulator: object, streams: int, concurrency: int, count: int
) -> list[float]:
    """CPU seconds per stream of each round, printed as they come."""
    out = []
    for _ in range(count):
        emulator.reset()  # type: ignore[attr-defined]
        cpu, events = await run(gateway, streams, concurrency)
        out.append(cpu / streams)
        print(
            f"{cpu / streams * 1000:.3f} ms CPU per stream, "
            f"{cpu / events * 1e6:.1f} us per event ({events / streams:.1f} events a stream)"
        )
    return out


async def run(gateway: object, streams: int, concurrency: int) -> tuple[float, int]:
    """CPU seconds for `streams` streams and the number of SSE events they carried."""
    try:
        from oci_genai_gateway.core.exchange import Request
    except ImportError:  # a tree from before core/exchange.py (--src), where core/gateway.py held it
        from oci_genai_gateway.core.gateway import Request  # type: ignore[attr-defined,no-redef]

    gate = asyncio.Semaphore(concurrency)
    events = 0

    async def one(i: int) -> None:
        nonlocal events
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": prompt(i)}],
            "max_tokens": MAX_TOKENS,
            "stream": True,
        }
        headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
        async with gate:
            reply = await gateway.handle(  # type: ignore[attr-defined]
                Request("POST", "/v1/chat/completions", headers, json.dumps(body).encode())
            )
            if reply.status != 200 or reply.stream is None:
                raise RuntimeError(f"stream {i}: {reply}")
            text = b"".join([chunk async for chunk in reply.stream])
        if b"Call" not in text or not text.endswith(b"data: [DONE]\n\n"):
            raise RuntimeError(f"stream {i}: {text[-300:]!r}")
        events += text.count(b"data: ")

    await asyncio.gather(*(one(i) for i in range(concurrency)))  # warm: pools, first imports
    events = 0
    started = time.process_time()
    await asyncio.gather(*(one(i) for i in range(streams)))
    return time.process_time() - started, events


def main(argv: list[str] | None = None) -> int:
    """Start an emulator, build the gateway in this process, measure, print one line per round."""
    parser = argparse.ArgumentParser(prog="bench.stream_cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--src", type=Path, help="measure this src/ tree's gateway instead")
    args = parser.parse_args(argv)
    if args.src:
        sys.path.insert(0, str(args.src.resolve()))
    from oci_genai_emulator import DEFAULT_COMPARTMENT, DEFAULT_REGION, EmulatorProcess
    from oci_genai_emulator.credentials import generate_api_key

    with tempfile.TemporaryDirectory(prefix="bench-stream-cpu-") as tmp:
        workdir = Path(tmp)
        emulator = EmulatorProcess.start(workdir / "emulator", options=("--log-level", "error"))
        try:
            key = generate_api_key(workdir / "api-key")
            emulator.register_api_key(key.key_id, key.public_pem)
            config = write_oci_config(key, workdir / "oci-config", DEFAULT_REGION)
            env = {
                **os.environ,
                "GATEWAY_AUTH": "config_file",
                "GATEWAY_OCI_CONFIG_FILE": str(config),
                "GATEWAY_OCI_ENDPOINT": emulator.url,
                "GATEWAY_REGION": DEFAULT_REGION,
                "GATEWAY_COMPARTMENT_ID": DEFAULT_COMPARTMENT,
                "GATEWAY_API_KEYS": f"bench:{KEY}",
                "GATEWAY_LOG_LEVEL": "WARNING",
            }
            import oci_genai_gateway
            from oci_genai_gateway.bootstrap import build_gateway

            gateway = build_gateway(env, authenticate=True)
            print(f"gateway from {Path(oci_genai_gateway.__file__).parent}", file=sys.stderr)
            per_stream = asyncio.run(rounds(gateway, emulator, args.streams, args.concurrency, args.rounds))
            print(f"median {statistics.median(per_stream) * 1000:.3f} ms per stream")
        finally:
            emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
