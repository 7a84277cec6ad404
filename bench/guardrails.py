"""What a key's guardrails add to a request: latency with and without them, on the ASGI server.

Run from the repository root (numbers go to docs/PERFORMANCE.md, "Guardrails"):

    .venv/bin/python -m bench.guardrails --requests 200

One emulator and one gateway process (`serve`, one worker); two keys, one without guardrails and
one with all three (`pii: redact`, `prompt_injection: 0.5`, `moderation: block`); the same chat
request (a short prompt with an e-mail address in it) alternates between them, sequentially, so
machine load hits both alike. The added time is one applyGuardrails round trip to the emulator
plus the gateway's own work (joining the texts, reading the result, redacting): the emulator
answers in well under a millisecond, so OCI's own guardrail latency comes on top in production.
Also measured: the same with output checking on (GATEWAY_GUARDRAILS_OUTPUT=true), a second call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.fixtures.gateway import start_gateway, stop

from oci_genai_emulator import EmulatorProcess

_PLAIN = "sk-bench-plain-0000000000000"
_GUARDED = "sk-bench-guarded-00000000000"
_KEYS = {
    "plain": _PLAIN,
    "guarded": {
        "key": _GUARDED,
        "guardrails": {"pii": "redact", "prompt_injection": 0.5, "moderation": "block"},
    },
}
_BODY = {
    "model": "meta.llama-3.3-70b-instruct",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "Summarise this note from jane.doe@example.com in one line."}],
}


def _measure(url: str, requests: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"plain": [], "guarded": []}
    with httpx.Client(timeout=60) as client:
        for i in range(requests * 2 + 10):
            name = "plain" if i % 2 == 0 else "guarded"
            key = _PLAIN if name == "plain" else _GUARDED
            started = time.perf_counter()
            reply = client.post(
                f"{url}/v1/chat/completions", json=_BODY, headers={"Authorization": f"Bearer {key}"}
            )
            elapsed = time.perf_counter() - started
            reply.raise_for_status()
            if i >= 10:  # the first few warm both paths
                times[name].append(elapsed)
    return times


def _row(label: str, times: dict[str, list[float]]) -> str:
    plain, guarded = (statistics.median(times[k]) * 1000 for k in ("plain", "guarded"))
    p90 = {k: statistics.quantiles(v, n=10)[-1] * 1000 for k, v in times.items()}
    return (
        f"| {label} | {plain:.1f} | {guarded:.1f} | {guarded - plain:+.1f} | {guarded / plain:.2f} "
        f"| {p90['plain']:.1f} / {p90['guarded']:.1f} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per key and setting")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        emulator = EmulatorProcess.start(state / "emulator")
        try:
            for label, output in (("input checks", "false"), ("input + output checks", "true")):
                gateway = start_gateway(
                    emulator,  # type: ignore[arg-type]
                    state / f"gw-{output}",
                    GATEWAY_API_KEYS=json.dumps(_KEYS),
                    GATEWAY_GUARDRAILS_OUTPUT=output,
                    GATEWAY_LOG_LEVEL="WARNING",
                    GATEWAY_METRICS="false",
                )
                try:
                    rows.append(_row(label, _measure(gateway.url, args.requests)))
                finally:
                    stop(gateway.process)
        finally:
            emulator.stop()
    print("| setting | no guardrails (ms, median) | guardrails (ms, median) | added (ms) | x | p90 (ms) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
