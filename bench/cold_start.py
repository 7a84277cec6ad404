"""Functions cold start: process spawn to first response, and peak RSS, under the real fdk server.

Run from the repository root (numbers go to docs/PERFORMANCE.md, "Functions cold start"):

    .venv/bin/python -m bench.cold_start --runs 5

Each run spawns a fresh fdk process exactly as the platform does (FN_FORMAT=http-stream,
FN_LISTENER=unix:...), waits for its socket, sends the function's first request (gateway form) and
stops the clock at the complete response. The RSS peak (VmHWM) is read after a working set of
requests near the platform's 6 MB body cap: chat adds a streamed and a ~5 MB request, embeddings
96 inputs and ~4.8 MB of them, models one model.
The baseline is a trivial fdk "hello" function measured in the same run, and every function runs
twice: with the installed bytecode (as the image built by functions/*/Dockerfile has) and without it
for the installed packages (the stdlib keeps its bytecode, as in the base image), which is what a
read-only function filesystem without precompiled .pyc files costs.
The import floor of each function is measured beside it, in the same mode: spawn to exit of a
process that imports only what the first call needs (the fdk server, the oci SDK, the gateway and,
for chat, LiteLLM's OCI transform); a cold start cannot go below it without importing less.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
_FDK_MAIN = "from fdk.scripts.fdk import main; main()"
_HELLO = """from fdk.response import Response


def handler(ctx, data=None):
    return Response(ctx, response_data='{"hello":"world"}', headers={"Content-Type": "application/json"})
"""
_50K = "word " * 10_000  # 96 of these: a ~4.8 MB embeddings request
_CHAT = {"model": "meta.llama-3.3-70b-instruct", "messages": [{"role": "user", "content": "Say hello"}]}


@dataclass(frozen=True)
class Call:
    """One request in the gateway form: method, URL (with a deployment prefix) and body."""

    method: str
    url: str
    body: Mapping[str, object] | None = None


@dataclass(frozen=True)
class Subject:
    """A function to measure: its func.py, its first request and its working set after that."""

    name: str
    func: Path
    first: Call
    more: tuple[Call, ...] = ()
    floor: str = "import fdk.scripts.fdk"  # what its first call must import, as Python code
    src: Path | None = None  # another tree's src/ to import the gateway from (a baseline)


# The import floor: the fdk server, the function's module and what its first call builds the
# gateway with (the oci SDK for the signer; chat also LiteLLM's OCI transform), and nothing else.
_FLOOR = "import fdk.scripts.fdk, oci, oci_genai_gateway.adapters.fn, oci_genai_gateway.bootstrap"
# LiteLLM's loader moved in issue 19: a baseline tree (--baseline-src) may have it at core/llm.py.
_FLOOR_CHAT = (
    _FLOOR
    + "\ntry:\n    from oci_genai_gateway.core.upstream.llm import chat_config\n"
    + "except ImportError:\n    from oci_genai_gateway.core.llm import chat_config\nchat_config()"
)


@dataclass(frozen=True)
class Sample:
    """One cold start."""

    listen_s: float
    first_response_s: float
    peak_rss_mib: float
    floor_s: float = 0.0


def subjects(hello: Path) -> list[Subject]:
    """The baseline and the three route functions."""
    big = {**_CHAT, "messages": [{"role": "user", "content": "x" * (5 * 1024 * 1024)}], "max_tokens": 8}
    return [
        Subject("hello (fdk baseline)", hello, Call("POST", "/genai/hello")),
        Subject(
            "chat",
            ROOT / "functions" / "chat" / "func.py",
            Call("POST", "/genai/v1/chat/completions", _CHAT),
            (
                Call("POST", "/genai/v1/chat/completions", {**_CHAT, "stream": True}),
                Call("POST", "/genai/v1/chat/completions", big),
            ),
            _FLOOR_CHAT,
        ),
        Subject(
            "embeddings",
            ROOT / "functions" / "embeddings" / "func.py",
            Call("POST", "/genai/v1/embeddings", {"model": "cohere.embed-english-v3.0", "input": ["hello"]}),
            (
                Call("POST", "/genai/v1/embeddings", {"model": "cohere.embed-v4.0", "input": ["a"] * 96}),
                Call("POST", "/genai/v1/embeddings", {"model": "cohere.embed-v4.0", "input": [_50K] * 96}),
            ),
            _FLOOR,
        ),
        Subject(
            "models",
            ROOT / "functions" / "models" / "func.py",
            Call("GET", "/genai/v1/models"),
            (Call("GET", "/genai/v1/models/xai.grok-4"),),
            _FLOOR,
        ),
    ]


def invoke(client: httpx.Client, call: Call) -> httpx.Response:
    """POST /call with the headers API Gateway's function backend sends."""
    deadline = datetime.now(UTC) + timedelta(seconds=300)
    headers = {
        "Fn-Call-Id": uuid.uuid4().hex,
        "Fn-Deadline": deadline.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "Fn-Intent": "httprequest",
        "Fn-Http-Method": call.method,
        "Fn-Http-Request-Url": call.url,
        "Content-Type": "application/json",
    }
    content = json.dumps(call.body).encode() if call.body is not None else b""
    response = client.post("/call", content=content, headers=headers)
    status = response.headers.get("fn-http-status", str(response.status_code))
    if response.status_code != 200 or status != "200":
        raise RuntimeError(f"{call.url} answered {status}: {response.text[:300]}")
    return response


def peak_rss_mib(pid: int) -> float:
    """VmHWM (the peak resident set) of a process, in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def spawn_fdk(func: Path, env: Mapping[str, str], workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """An fdk server for func.py's `handler` on a fresh unix socket, as the platform starts a container."""
    sock = workdir / f"{uuid.uuid4().hex[:8]}.sock"
    child_env = {**env, "FN_FORMAT": "http-stream", "FN_LISTENER": f"unix:{sock}"}
    process = subprocess.Popen(
        [sys.executable, "-c", _FDK_MAIN, str(func), "handler"],
        cwd=func.parent,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, sock


def wait_listening(process: subprocess.Popen[bytes], sock: Path, name: str) -> None:
    """Until the fdk's socket exists; an fdk that exits first is an error naming `name`."""
    while not sock.exists():
        if process.poll() is not None:
            raise RuntimeError(f"{name}: fdk exited with {process.returncode}")
        time.sleep(0.002)


def fdk_client(sock: Path) -> httpx.Client:
    """An HTTP client on the fdk's unix socket."""
    return httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), base_url="http://fdk", timeout=300)


def _env(subject: Subject, env: Mapping[str, str]) -> dict[str, str]:
    """A baseline imports the gateway from its own tree: PYTHONPATH wins over the editable install."""
    return {**env, "PYTHONPATH": str(subject.src)} if subject.src else dict(env)


def cold_start(subject: Subject, env: Mapping[str, str], workdir: Path) -> Sample:
    """Spawn fdk, time socket and first response, run the working set, read the RSS peak."""
    started = time.perf_counter()
    process, sock = spawn_fdk(subject.func, _env(subject, env), workdir)
    try:
        wait_listening(process, sock, subject.name)
        listening = time.perf_counter()
        with fdk_client(sock) as client:
            invoke(client, subject.first)
            first = time.perf_counter()
            for call in subject.more:
                invoke(client, call)
        return Sample(listening - started, first - started, peak_rss_mib(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=10)


def import_floor(subject: Subject, env: Mapping[str, str]) -> float:
    """Seconds from spawn to exit of a process that only imports what the function's first call needs."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", subject.floor], cwd=subject.func.parent, env=_env(subject, env), check=True
    )
    return time.perf_counter() - started


def stdlib_only_cache(prefix: Path) -> None:
    """Compile the stdlib (not site-packages) into a PYTHONPYCACHEPREFIX tree."""
    stdlib = sysconfig.get_paths()["stdlib"]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", "-x", "site-packages", stdlib],
        env={**os.environ, "PYTHONPYCACHEPREFIX": str(prefix)},
        check=False,  # a few stdlib test files do not compile on purpose
        stdout=subprocess.DEVNULL,
    )


def function_env(
    emulator_url: str, rp_env: Mapping[str, str], *, bytecode: bool, prefix: Path
) -> dict[str, str]:
    """The function configuration, resource principal minted by the emulator, OCI = the emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FN_", "GATEWAY_", "OCI_RESOURCE_"))}
    env.update(rp_env)
    env.update(
        {
            "GATEWAY_AUTH": "resource_principal",
            "GATEWAY_OCI_ENDPOINT": emulator_url,
            "GATEWAY_REGION": "us-chicago-1",
            "GATEWAY_COMPARTMENT_ID": _compartment(),
            "GATEWAY_LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",  # the function filesystem is read-only
        }
    )
    if not bytecode:
        # Python then looks for .pyc files only under the prefix, which holds the stdlib's alone.
        env["PYTHONPYCACHEPREFIX"] = str(prefix)
    return env


def _compartment() -> str:
    from oci_genai_emulator import DEFAULT_COMPARTMENT

    return DEFAULT_COMPARTMENT


def measure(
    runs: int,
    workdir: Path,
    log: Callable[[str], None],
    *,
    only: tuple[str, ...] = (),
    baseline: Path | None = None,
    modes: tuple[bool, ...] = (True, False),
) -> list[tuple[str, bool, list[Sample]]]:
    """Every subject (or `only` those, beside hello), in each bytecode mode, `runs` times each
    (interleaved); with `baseline`, each route function again from that tree's src/."""
    from oci_genai_emulator import EmulatorProcess

    hello = workdir / "hello" / "func.py"
    hello.parent.mkdir()
    hello.write_text(_HELLO)
    prefix = workdir / "pycache-stdlib-only"
    stdlib_only_cache(prefix)
    emulator = EmulatorProcess.start(workdir / "emulator")
    url = emulator.url
    try:
        rp_env = emulator.mint_resource_principal(workdir / "rp")
        envs = {mode: function_env(url, rp_env, bytecode=mode, prefix=prefix) for mode in modes}
        chosen = [s for s in subjects(hello) if not only or s.name in only or s.func == hello]
        if baseline is not None:
            twins = [replace(s, name=f"{s.name} (baseline)", src=baseline) for s in chosen if s.func != hello]
            chosen += twins
        results: dict[tuple[str, bool], list[Sample]] = {}
        for run in range(runs):
            # Interleaved, so drift in machine load hits every subject alike.
            for subject in chosen:
                for mode in modes:
                    sample = cold_start(subject, envs[mode], workdir)
                    sample = replace(sample, floor_s=import_floor(subject, envs[mode]))
                    results.setdefault((subject.name, mode), []).append(sample)
                    log(f"run {run + 1}: {subject.name} bytecode={mode} {sample}")
        return [(name, mode, samples) for (name, mode), samples in results.items()]
    finally:
        emulator.stop()


def report(results: list[tuple[str, bool, list[Sample]]], runs: int) -> str:
    """A markdown table of medians; ratios against hello (same bytecode mode) and against bytecode."""
    median = {(n, m): _medians(s) for n, m, s in results}
    lines = [
        f"Median of {runs} cold starts each. `x hello`: against the fdk hello function in the same mode;",
        "`x bytecode`: against the same function with precompiled bytecode.",
        "",
        "`import floor`: spawn to exit of a process importing only what the first call needs.",
        "",
        "`x baseline`: first response and peak RSS against the same function from the baseline tree.",
        "",
        "| function | bytecode | socket (s) | first response (s) | x hello | x bytecode | import floor (s) "
        "| x floor | peak RSS (MiB) | x hello | x baseline (first, RSS) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, mode, _ in results:
        listen, first, rss, floor = median[(name, mode)]
        _, base_first, base_rss, _ = median[("hello (fdk baseline)", mode)]
        _, compiled_first, _, _ = median.get((name, True), median[(name, mode)])
        twin = median.get((f"{name} (baseline)", mode))
        against = f"{first / twin[1]:.2f}, {rss / twin[2]:.2f}" if twin else ""
        lines.append(
            f"| {name} | {'precompiled' if mode else 'none'} | {listen:.2f} | {first:.2f} | "
            f"{first / base_first:.1f} | {first / compiled_first:.2f} | {floor:.2f} | {first / floor:.2f} | "
            f"{rss:.0f} | {rss / base_rss:.1f} | {against} |"
        )
    return "\n".join(lines)


def _medians(samples: list[Sample]) -> tuple[float, float, float, float]:
    return (
        statistics.median(s.listen_s for s in samples),
        statistics.median(s.first_response_s for s in samples),
        statistics.median(s.peak_rss_mib for s in samples),
        statistics.median(s.floor_s for s in samples),
    )


def main(argv: list[str] | None = None) -> int:
    """Measure and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--only", nargs="*", default=(), help="route functions to measure (chat, embeddings, models)"
    )
    parser.add_argument("--baseline-src", type=Path, help="also measure each function from this tree's src/")
    parser.add_argument("--precompiled-only", action="store_true", help="skip the runs without bytecode")
    args = parser.parse_args(argv)
    modes = (True,) if args.precompiled_only else (True, False)
    with tempfile.TemporaryDirectory(prefix="cold-", dir="/tmp") as tmp:
        results = measure(
            args.runs,
            Path(tmp),
            lambda line: print(line, file=sys.stderr),
            only=tuple(args.only),
            baseline=args.baseline_src,
            modes=modes,
        )
    print(report(results, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
