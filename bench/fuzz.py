"""The hostile-input fuzzer at scale: N generated requests through each front door, every failure recorded.

Run from the repository root (figures go to docs/RELIABILITY.md, "Fuzzing"):

    .venv/bin/python -m bench.fuzz --examples 10000

The same strategies and properties as tests/fuzz/test_front_doors.py, with no shrinking and
no stop at the first failure: each door (the ASGI app, the fdk functions invoked by API Gateway and
plainly, the local API Gateway over the functions, all in process over an OCI that answers every
call) gets `--examples` requests. Reported per door: cases run, violations (5xx, a body that is
neither OpenAI's envelope nor a valid success, an internal detail in a body), and the distinct ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from tests.fuzz.properties import Violation
from tests.fuzz.runner import AsgiDoor, FunctionDoor, LocalGatewayDoor, Request
from tests.fuzz.strategies import requests


@dataclass
class DoorResult:
    """What one front door did with its share of the cases."""

    door: str
    cases: int = 0
    violations: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    examples: dict[str, Request] = field(default_factory=dict)


def _kind(message: str) -> str:
    # Group violations by their shape: digits and quoted text vary from case to case.
    return re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "_", message.splitlines()[0])[:160]


def run_door(door: Any, send: Any, examples: int, at_seed: int, result: DoorResult) -> None:
    """Run `examples` generated requests through `send` on one event loop."""
    with asyncio.Runner() as loop:

        @seed(at_seed)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(requests)
        def one(request: Request) -> None:
            result.cases += 1
            try:
                result.statuses[loop.run(send(request))] += 1
            except Violation as exc:
                result.violations += 1
                kind = _kind(str(exc))
                result.kinds[kind] += 1
                result.examples.setdefault(kind, request)

        started = time.perf_counter()
        one()
        result.seconds = time.perf_counter() - started
        if hasattr(door, "aclose"):
            loop.run(door.aclose())


def main() -> None:
    """Fuzz every front door and print the figures (and each distinct violation with one example)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="cases per front door")
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--doors", default="asgi,fn,fn-plain,localgw")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the gateway logs each refusal; the figures are what matter here
    results = []
    for name in args.doors.split(","):
        result = DoorResult(name)
        if name == "asgi":
            door: Any = AsgiDoor()
            run_door(door, door.send, args.examples, args.seed, result)
        elif name in ("fn", "fn-plain"):
            door = FunctionDoor()
            plain = name == "fn-plain"
            run_door(door, lambda r, d=door, p=plain: d.send(r, plain=p), args.examples, args.seed, result)
        else:
            door = LocalGatewayDoor()
            run_door(door, door.send, args.examples, args.seed, result)
        results.append(result)
        print(
            f"{name}: {result.cases} cases, {result.violations} violations "
            f"({len(result.kinds)} distinct), {result.seconds:.0f} s; statuses "
            + ", ".join(f"{status}: {n}" for status, n in sorted(result.statuses.items())),
            flush=True,
        )
        for kind, count in result.kinds.most_common():
            method, path, headers, body = result.examples[kind]
            print(
                f"  {count:6d}  {kind}\n          e.g. {method} {path} {json.dumps(headers)} {body[:200]!r}"
            )
    total = sum(r.cases for r in results)
    bad = sum(r.violations for r in results)
    print(f"total: {total} cases, {bad} violations")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
