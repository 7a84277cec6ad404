"""Peers: this gateway next to LiteLLM Proxy, a sync-LiteLLM FastAPI shim and direct signed calls to OCI.

Run from the repository root (numbers go to docs/PERFORMANCE.md, "Peers"):

    .venv/bin/python -m bench.peers --repeats 3

One emulator stands in for OCI; every contender signs with the same API key registered with it.
Contenders: this gateway (`serve --workers N`, API-key signer from an OCI config file), LiteLLM
Proxy 1.110.2 in its own venv (no DB, no callbacks, one worker, the OCI provider with the key file
and `api_base` at the emulator), `bench/litellm_shim.py` (sync `litellm.completion` behind FastAPI)
in that venv, and direct OCI requests to the emulator, signed before the clock starts (the wire
alone). Streams are ~25 events 40 ms apart (the emulator's `token-delay=40`, queued per batch).
The load runs in its own process (`bench/loadgen.py`, raw HTTP/1.1, one connection per stream or
worker). Workloads run interleaved, contenders in a rotating order; each cell is the median over
the repeats, with its ratio to direct calls. CPU per call: utime+stime deltas of each server's
process tree (/proc/<pid>/stat) over its batch, divided by the calls completed.

LiteLLM Proxy's venv: /work/venvs/litellm-proxy, or --proxy-venv; with --install-proxy the bench
builds it from bench/litellm_proxy_requirements.txt (downloads from the package index).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MODEL = "meta.llama-3.3-70b-instruct"  # ~25 events a stream; Llama streams end with [DONE] and close
MAX_TOKENS = 64
TOKEN_DELAY_MS = 40
GATEWAY_KEY = "sk-bench-peers-000001"
PROXY_KEY = "sk-bench-peers-proxy-0001"
CHAT_PATH = "/20231130/actions/chat"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def prompt(index: int) -> str:
    """A distinct 16-word prompt per call (the emulator echoes up to 16 words): 23 answer tokens."""
    return f"Call {index} says hello to every reader of this benchmark and wishes them a good day"


@dataclass(frozen=True)
class Workload:
    """A batch shape: N streams at once, or N JSON calls from `concurrency` keep-alive workers."""

    name: str
    mode: str  # "stream" or "json"
    count: int
    concurrency: int


WORKLOADS = {
    "s50": Workload("50 concurrent streams", "stream", 50, 50),
    "s200": Workload("200 concurrent streams", "stream", 200, 200),
    "s1000": Workload("1000 concurrent streams", "stream", 1000, 1000),
    "j200": Workload("non-streamed, 200 concurrent", "json", 1000, 200),
    "j1": Workload("non-streamed, one at a time", "json", 200, 1),
}


@dataclass
class Contender:
    """A server under test (or direct calls): how to address it and how to start it again."""

    name: str
    port: int
    fmt: str  # "openai" or "oci": the wire the load client checks
    start: Callable[[], subprocess.Popen[bytes] | None]
    headers: Callable[[int, str, bytes], dict[str, str]]
    path: str = "/v1/chat/completions"
    max_streams: int | None = None  # skipped above this (a contender known to wedge)
    process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        """Start (or restart) its process and wait until it answers a chat call."""
        self.stop()
        self.process = self.start()
        if self.process is not None:
            _wait_answering(self, self.process)

    def stop(self) -> None:
        """SIGTERM its process (and let uvicorn's supervisor stop its workers)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@dataclass
class Batch:
    """One workload on one contender."""

    completed: int
    count: int
    rate: float  # completed calls per second of wall time
    ttft_p50: float | None
    latency_p50: float | None
    server_cpu_ms: float | None  # per completed call
    upstream_cpu_ms: float  # the emulator's, per completed call
    client_cpu_ms: float  # the load client's, per call
    peak_rss_mib: float | None
    errors: list[str] = field(default_factory=list)
    ttft_p99: float | None = None
    latency_p99: float | None = None


def _p99(values: Sequence[float]) -> float | None:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else None


def tree_pids(pid: int) -> list[int]:
    """`pid` and every process below it (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [pid], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime of the processes, in seconds (fields 14 and 15 of /proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def peak_rss_mib(pids: Sequence[int]) -> float:
    """The sum of VmHWM over the processes, in MiB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def openai_body(index: int, stream: bool) -> bytes:
    """The OpenAI chat request of call `index`."""
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": prompt(index)}],
        "max_tokens": MAX_TOKENS,
        "stream": stream,
    }
    return json.dumps(body).encode()


def oci_body(compartment: str, index: int, stream: bool) -> bytes:
    """The OCI GENERIC chat request the gateway sends for call `index`."""
    chat: dict[str, Any] = {
        "apiFormat": "GENERIC",
        "messages": [{"role": "USER", "content": [{"type": "TEXT", "text": prompt(index)}]}],
        "maxTokens": MAX_TOKENS,
    }
    if stream:
        chat.update(isStream=True, streamOptions={"isIncludeUsage": True})
    body = {
        "compartmentId": compartment,
        "servingMode": {"servingType": "ON_DEMAND", "modelId": MODEL},
        "chatRequest": chat,
    }
    return json.dumps(body).encode()


def run_batch(contender: Contender, workload: Workload, emulator: Any, compartment: str) -> Batch:
    """Queue the stream pacing, run the load client, and read every process's CPU around it."""
    emulator.reset()  # also empties its request log, which would otherwise grow with every call
    stream = workload.mode == "stream"
    if stream:
        emulator.inject_fault(f"token-delay={TOKEN_DELAY_MS}", path=CHAT_PATH, count=workload.count)
    requests = []
    for i in range(workload.count):
        body = oci_body(compartment, i, stream) if contender.fmt == "oci" else openai_body(i, stream)
        headers = {"Content-Type": "application/json", **contender.headers(i, contender.path, body)}
        requests.append(
            {"path": contender.path, "headers": headers, "body": body.decode(), "expect": prompt(i)}
        )
    spec = {
        "host": "127.0.0.1",
        "port": contender.port,
        "mode": workload.mode,
        "concurrency": workload.concurrency,
        "format": contender.fmt,
        "timeout": 150.0,
        "requests": requests,
    }
    server = tree_pids(contender.process.pid) if contender.process else []
    upstream = tree_pids(emulator.process.pid)
    server_cpu, upstream_cpu = cpu_seconds(server), cpu_seconds(upstream)
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=json.dumps(spec).encode(),
        capture_output=True,
        cwd=ROOT,
        check=True,
    )
    server_cpu, upstream_cpu = cpu_seconds(server) - server_cpu, cpu_seconds(upstream) - upstream_cpu
    out = json.loads(done.stdout)
    results = out["results"]
    ok = [r for r in results if r["ok"]]
    per_call = len(ok) or len(results)  # a batch where nothing completed: per call sent
    ttfts = [r["ttft"] for r in ok if r["ttft"] is not None]
    latencies = [r["latency"] for r in ok]
    return Batch(
        completed=len(ok),
        count=len(results),
        rate=len(ok) / out["wall"],
        ttft_p50=statistics.median(ttfts) if ttfts else None,
        latency_p50=statistics.median(latencies) if latencies else None,
        server_cpu_ms=server_cpu * 1000 / per_call if contender.process else None,
        upstream_cpu_ms=upstream_cpu * 1000 / per_call,
        client_cpu_ms=out["cpu"] * 1000 / len(results),
        peak_rss_mib=peak_rss_mib(server) if contender.process else None,
        errors=[r["error"] for r in results if not r["ok"]][:3],
        ttft_p99=_p99(ttfts),
        latency_p99=_p99(latencies),
    )


def _wait_answering(contender: Contender, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    body = openai_body(0, False)
    url = f"http://127.0.0.1:{contender.port}{contender.path}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{contender.name} exited with {process.returncode}")
        try:
            headers = {"Content-Type": "application/json", **contender.headers(0, contender.path, body)}
            if httpx.post(url, content=body, headers=headers, timeout=30).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{contender.name} did not answer within {timeout:.0f} s")


def write_oci_config(key: Any, path: Path, region: str) -> Path:
    """An OCI config file for the emulator's API key (`GATEWAY_AUTH=config_file`), at `path`."""
    path.write_text(
        f"[DEFAULT]\nuser={key.user}\nfingerprint={key.fingerprint}\ntenancy={key.tenancy}\n"
        f"region={region}\nkey_file={key.private_key_path}\n"
    )
    return path


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def _base_env() -> dict[str, str]:
    drop = ("GATEWAY_", "OCI_", "LITELLM_", "SHIM_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def contenders(
    emulator: Any,
    key: Any,
    workdir: Path,
    proxy_python: Path,
    workers: Sequence[int],
    names: Sequence[str],
    variant: tuple[str, Path] | None = None,
) -> list[Contender]:
    """The contenders named (their processes not started yet); a gateway per worker count."""
    from oci_genai_emulator import DEFAULT_COMPARTMENT, DEFAULT_REGION

    creds = {
        "oci_user": key.user,
        "oci_fingerprint": key.fingerprint,
        "oci_tenancy": key.tenancy,
        "oci_key_file": str(key.private_key_path),
    }
    config = write_oci_config(key, workdir / "oci-config", DEFAULT_REGION)
    gateway_port, proxy_port, shim_port, variant_port = (_free_port() for _ in range(4))

    def gateway(port: int, src: Path | None, workers: int) -> subprocess.Popen[bytes]:
        # `src` first on the path (--variant): an older src/, or a directory of extra packages.
        path = {"PYTHONPATH": str(src)} if src else {}
        env = (
            _base_env()
            | path
            | {
                "GATEWAY_AUTH": "config_file",
                "GATEWAY_OCI_CONFIG_FILE": str(config),
                "GATEWAY_OCI_ENDPOINT": emulator.url,
                "GATEWAY_REGION": DEFAULT_REGION,
                "GATEWAY_COMPARTMENT_ID": DEFAULT_COMPARTMENT,
                "GATEWAY_API_KEYS": f"bench:{GATEWAY_KEY}",
            }
        )
        command = [sys.executable, "-m", "oci_genai_gateway", "serve", "--port", str(port)]
        return _spawn([*command, "--workers", str(workers)], env, workdir / f"gateway-{port}.log")

    def proxy() -> subprocess.Popen[bytes]:
        params = {
            "model": f"oci/{MODEL}",
            "oci_region": DEFAULT_REGION,
            "oci_compartment_id": DEFAULT_COMPARTMENT,
        }
        settings = {"drop_params": True, "callbacks": [], "success_callback": [], "failure_callback": []}
        yaml = {
            "model_list": [
                {"model_name": MODEL, "litellm_params": {**params, "api_base": emulator.url, **creds}}
            ],
            "litellm_settings": settings,
            # A master key and no DB: it checks the bearer key against it, as the gateway does.
            "general_settings": {
                "master_key": PROXY_KEY,
                "disable_spend_logs": True,
                "disable_error_logs": True,
            },
        }
        path = workdir / "litellm-proxy.yaml"
        path.write_text(json.dumps(yaml))  # JSON is YAML
        env = _base_env() | {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
        litellm = proxy_python.parent / "litellm"
        command = [str(litellm), "--config", str(path), "--host", "127.0.0.1", "--port", str(proxy_port)]
        return _spawn([*command, "--num_workers", "1"], env, workdir / "litellm-proxy.log")

    def shim() -> subprocess.Popen[bytes]:
        env = _base_env() | {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_LOG": "ERROR",
            "SHIM_API_BASE": emulator.url,
            "SHIM_REGION": DEFAULT_REGION,
            "SHIM_COMPARTMENT": DEFAULT_COMPARTMENT,
            "SHIM_USER": key.user,
            "SHIM_FINGERPRINT": key.fingerprint,
            "SHIM_TENANCY": key.tenancy,
            "SHIM_KEY_FILE": str(key.private_key_path),
        }
        command = [str(proxy_python), "-m", "uvicorn", "litellm_shim:app", "--app-dir", str(BENCH)]
        command += [
            "--host",
            "127.0.0.1",
            "--port",
            str(shim_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        return _spawn(command, env, workdir / "shim.log")

    signer = _api_key_signer(key)
    emulator_port = int(emulator.url.rsplit(":", 1)[1])

    def signed(_i: int, path: str, body: bytes) -> dict[str, str]:
        return _sign(signer, f"{emulator.url}{path}", body)

    bearer = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    proxy_bearer = {"Authorization": f"Bearer {PROXY_KEY}"}
    gateways = []
    if "gateway" in names:
        for count in workers:
            port = gateway_port if count == workers[0] else _free_port()
            name = (
                "this gateway" if len(workers) == 1 else f"this gateway ({count} worker{'s' * (count > 1)})"
            )
            start = partial(gateway, port, None, count)
            gateways.append(Contender(name, port, "openai", start, lambda *_: bearer))
    if variant is not None:
        label, src = variant
        start = partial(gateway, variant_port, src, workers[0])
        gateways.append(
            Contender(f"this gateway ({label})", variant_port, "openai", start, lambda *_: bearer)
        )
    peers = [
        Contender("LiteLLM Proxy", proxy_port, "openai", proxy, lambda *_: proxy_bearer),
        Contender("sync-LiteLLM shim", shim_port, "openai", shim, lambda *_: {}, max_streams=200),
        Contender("direct", emulator_port, "oci", lambda: None, signed, path=CHAT_PATH),
    ]
    short = {"LiteLLM Proxy": "proxy", "sync-LiteLLM shim": "shim", "direct": "direct"}
    return gateways + [c for c in peers if short[c.name] in names]


def _api_key_signer(key: Any) -> Any:
    import oci

    return oci.signer.Signer(key.tenancy, key.user, key.fingerprint, str(key.private_key_path))


def _sign(signer: Any, url: str, body: bytes) -> dict[str, str]:
    """The OCI signature headers of a POST (the load client adds Host and Content-Length itself)."""
    import requests

    prepared = requests.Request(
        "POST", url, data=body, headers={"content-type": "application/json"}
    ).prepare()
    signer(prepared)
    skip = {"host", "content-length", "content-type"}
    return {k: str(v) for k, v in prepared.headers.items() if k.lower() not in skip}


def measure(
    workloads: Sequence[Workload],
    names: Sequence[str],
    repeats: int,
    workers: Sequence[int],
    proxy_python: Path,
    workdir: Path,
    log: Callable[[str], None],
    variant: tuple[str, Path] | None = None,
) -> tuple[list[Contender], dict[tuple[str, str], list[Batch]], str]:
    """Start everything, run every workload on every contender `repeats` times, interleaved."""
    from oci_genai_emulator import DEFAULT_COMPARTMENT, EmulatorProcess
    from oci_genai_emulator.credentials import generate_api_key

    emulator = EmulatorProcess.start(workdir / "emulator", options=("--log-level", "error"))
    everyone: list[Contender] = []
    try:
        key = generate_api_key(workdir / "api-key")
        emulator.register_api_key(key.key_id, key.public_pem)
        everyone = contenders(emulator, key, workdir, proxy_python, workers, names, variant)
        for contender in everyone:
            contender.launch()
            log(f"{contender.name}: answering on port {contender.port}")
        load = [Path("/proc/loadavg").read_text().split()[:3]]
        results: dict[tuple[str, str], list[Batch]] = {}
        warm = Workload("warm-up", "stream", 10, 10)
        for contender in everyone:
            run_batch(contender, warm, emulator, DEFAULT_COMPARTMENT)
            run_batch(contender, Workload("warm-up", "json", 20, 5), emulator, DEFAULT_COMPARTMENT)
        for repeat in range(repeats):
            for workload in workloads:
                shift = repeat % len(everyone)
                for contender in everyone[shift:] + everyone[:shift]:  # rotate who goes first
                    if (
                        workload.mode == "stream"
                        and contender.max_streams
                        and workload.count > contender.max_streams
                    ):
                        continue
                    batch = run_batch(contender, workload, emulator, DEFAULT_COMPARTMENT)
                    results.setdefault((workload.name, contender.name), []).append(batch)
                    log(f"run {repeat + 1} {workload.name} {contender.name}: {batch}")
                    if batch.completed < batch.count and contender.process is not None:
                        contender.launch()  # a wedged server must not spoil the next batch
        load.append(Path("/proc/loadavg").read_text().split()[:3])
        return (
            everyone,
            results,
            f"load average (1/5/15 min) before {' '.join(load[0])}, after {' '.join(load[1])}",
        )
    finally:
        for contender in everyone:
            contender.stop()
        emulator.stop()


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _ratio(value: float | None, base: float | None) -> str:
    return f" ({value / base:.2f}x)" if value is not None and base else ""


def report(
    workloads: Sequence[Workload],
    everyone: Sequence[Contender],
    results: dict[tuple[str, str], list[Batch]],
    repeats: int,
    note: str,
) -> str:
    """The issue's table: throughput and TTFT (or latency) per cell, ratios to direct; then CPU per call."""
    names = [c.name for c in everyone]
    lines = [
        f"Median of {repeats} interleaved runs; `(x)`: against direct calls in the same runs. {note}.",
        "",
        "| workload | " + " | ".join(names) + " |",
        "| --- |" + " ---: |" * len(names),
    ]
    for workload in workloads:
        base = results.get((workload.name, "direct"), [])
        base_rate = _median([b.rate for b in base])
        base_time = _median([b.ttft_p50 if workload.mode == "stream" else b.latency_p50 for b in base])
        cells = []
        for name in names:
            batches = results.get((workload.name, name))
            if not batches:
                cells.append("—")
                continue
            rate = _median([b.rate for b in batches])
            when = _median([b.ttft_p50 if workload.mode == "stream" else b.latency_p50 for b in batches])
            unit = "/s" if workload.mode == "stream" else " req/s"
            what = "TTFT p50" if workload.mode == "stream" else "p50"
            cell = f"{rate:.1f}{unit}{_ratio(rate, base_rate)}, {what} "
            cell += f"{when * 1000:.0f} ms{_ratio(when, base_time)}" if when is not None else "n/a"
            failed = [b for b in batches if b.completed < b.count]
            if failed:
                cell += f"; {min(b.completed for b in batches)}-{max(b.completed for b in batches)}"
                cell += f"/{batches[0].count} completed"
            cells.append(cell)
        lines.append(f"| {workload.name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "CPU per call (ms): server process tree / emulator / load client; peak RSS of the server.",
        "",
    ]
    lines += ["| workload | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for workload in workloads:
        cells = []
        for name in names:
            batches = results.get((workload.name, name))
            if not batches:
                cells.append("—")
                continue
            server = _median([b.server_cpu_ms for b in batches])
            upstream = _median([b.upstream_cpu_ms for b in batches])
            client = _median([b.client_cpu_ms for b in batches])
            rss = max((b.peak_rss_mib or 0) for b in batches)
            head = f"**{server:.1f}**" if server is not None else "—"
            cells.append(f"{head} / {upstream:.1f} / {client:.2f}" + (f"; {rss:.0f} MiB" if rss else ""))
        lines.append(f"| {workload.name} | " + " | ".join(cells) + " |")
    errors = {f"{w} / {n}": b.errors[0] for (w, n), batches in results.items() for b in batches if b.errors}
    if errors:
        lines += ["", "First failure per cell:"] + [f"- {k}: {v[:240]}" for k, v in errors.items()]
    return "\n".join(lines)


def _variant(text: str) -> tuple[str, Path]:
    label, _, path = text.partition("=")
    return label, Path(path).resolve()


def install_proxy(venv: Path) -> None:
    """Build LiteLLM Proxy's own venv from bench/litellm_proxy_requirements.txt (downloads)."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q", "-r", str(BENCH / "litellm_proxy_requirements.txt")]
    subprocess.run(pip, check=True)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the report."""
    parser = argparse.ArgumentParser(prog="bench.peers", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workloads", default="s50,s200,s1000,j200", help=f"of {','.join(WORKLOADS)}")
    parser.add_argument("--contenders", default="gateway,proxy,shim,direct")
    parser.add_argument("--workers", default="1", help="the gateway's `serve --workers`; 1,2: a gateway each")
    parser.add_argument("--proxy-venv", type=Path, default=Path("/work/venvs/litellm-proxy"))
    parser.add_argument("--install-proxy", action="store_true", help="build the proxy venv if it is missing")
    parser.add_argument(
        "--variant",
        metavar="LABEL=PATH",
        help="also run the gateway with PATH first on PYTHONPATH (an older src/, or extra packages)",
    )
    args = parser.parse_args(argv)
    workloads = [WORKLOADS[w] for w in args.workloads.split(",")]
    names = args.contenders.split(",")
    proxy_python = args.proxy_venv / "bin" / "python"
    if ({"proxy", "shim"} & set(names)) and not proxy_python.exists():
        if not args.install_proxy:
            parser.error(f"no LiteLLM Proxy venv at {args.proxy_venv}: pass --install-proxy to build it")
        install_proxy(args.proxy_venv)
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        everyone, results, note = measure(
            workloads,
            names,
            args.repeats,
            [int(n) for n in args.workers.split(",")],
            proxy_python,
            Path(tmp),
            lambda s: print(s, file=sys.stderr),
            _variant(args.variant) if args.variant else None,
        )
    print(report(workloads, everyone, results, args.repeats, note))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
