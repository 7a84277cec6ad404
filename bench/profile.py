"""Where the gateway's CPU goes under load: py-spy on `serve --workers 1` while bench.peers' load runs.

Run from the repository root (py-spy: `.venv/bin/pip install py-spy`; numbers go to
docs/PERFORMANCE.md, "Profile"):

    .venv/bin/python -m bench.profile --workload j200 --seconds 20 --out /tmp/gateway.txt

py-spy samples the gateway process (`record --format raw`, folded stacks, idle frames left out)
while batches of the workload run against it; the report sums the samples by function, both
self (leaf) and inclusive, and by the gateway's own stages.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench.peers import WORKLOADS, Contender, contenders, run_batch

# Inclusive stages named by a frame that marks them (first match wins, most specific first).
STAGES = (
    ("LiteLLM request transform", ("transform_request", "map_openai_params")),
    ("OCI signing", ("do_request_sign",)),
    ("stream: OCI events to chunks", ("_chunks",)),
    ("httpx send/receive", ("httpx/_client.py",)),
    ("uvicorn HTTP protocol", ("uvicorn/protocols",)),
    ("access log", ("log_request",)),
    # Every stack on the loop passes through base_events: this is the loop's remaining work.
    ("rest of the event loop (select, callbacks, our other code)", ("asyncio/base_events.py",)),
)


def fold(raw: Path) -> tuple[collections.Counter[str], collections.Counter[str], int]:
    """Self and inclusive sample counts by function from py-spy's folded stacks."""
    self_counts: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        self_counts[_short(frames[-1])] += n
        for frame in set(map(_short, frames)):
            inclusive[frame] += n
    return self_counts, inclusive, total


def stages(raw: Path) -> collections.Counter[str]:
    """Samples by the gateway's stages (see STAGES); stacks py-spy cut short are "unattributed"."""
    out: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        name = next((n for n, marks in STAGES if any(m in stack for m in marks)), "unattributed")
        out[name] += int(count)
    return out


def _short(frame: str) -> str:
    # "function (path/to/module.py:123)" -> "function (module.py)"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = path.split("/site-packages/")[-1].split("/src/")[-1]
    return f"{name} ({parts})"


def report(raw: Path, top: int) -> str:
    """The top frames by share, self and inclusive, and the stage split."""
    self_counts, inclusive, total = fold(raw)
    lines = [f"{total} samples", "", "| stage (inclusive) | share |", "| --- | ---: |"]
    for name, n in stages(raw).most_common():
        lines.append(f"| {name} | {n / total:.0%} |")
    lines += ["", "| top self frames | share |", "| --- | ---: |"]
    lines += [f"| `{f}` | {n / total:.1%} |" for f, n in self_counts.most_common(top)]
    lines += ["", "| top inclusive frames | share |", "| --- | ---: |"]
    lines += [f"| `{f}` | {n / total:.1%} |" for f, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Start emulator and gateway, load it, record with py-spy, print the report."""
    parser = argparse.ArgumentParser(prog="bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="j200", choices=sorted(WORKLOADS))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, help="keep py-spy's folded stacks here")
    args = parser.parse_args(argv)
    from oci_genai_emulator import DEFAULT_COMPARTMENT, EmulatorProcess
    from oci_genai_emulator.credentials import generate_api_key

    pyspy = Path(sys.executable).parent / "py-spy"
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        workdir = Path(tmp)
        emulator = EmulatorProcess.start(workdir / "emulator", options=("--log-level", "error"))
        gateway: Contender | None = None
        try:
            key = generate_api_key(workdir / "api-key")
            emulator.register_api_key(key.key_id, key.public_pem)
            (gateway,) = contenders(emulator, key, workdir, Path(sys.executable), [1], ["gateway"])
            gateway.launch()
            assert gateway.process is not None
            workload = WORKLOADS[args.workload]
            run_batch(gateway, workload, emulator, DEFAULT_COMPARTMENT)  # warm
            raw = args.out or workdir / "folded.txt"
            command = [str(pyspy), "record", "--format", "raw", "--rate", "200", "--nonblocking"]
            command += ["--duration", str(args.seconds), "--pid", str(gateway.process.pid), "-o", str(raw)]
            spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stop = threading.Event()

            def load(target: Contender) -> None:
                while not stop.is_set() and spy.poll() is None:
                    run_batch(target, workload, emulator, DEFAULT_COMPARTMENT)

            loader = threading.Thread(target=load, args=(gateway,))
            loader.start()
            spy.wait()
            stop.set()
            loader.join()
            print(f"workload: {workload.name}; py-spy {args.seconds} s at 200 Hz, idle frames excluded")
            print(report(raw, args.top))
        finally:
            if gateway is not None:
                gateway.stop()
            emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
