"""Run the emulator as a child process and drive its /_emulator control plane (for tests and dev tools)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from .constants import DEFAULT_REGION

_START_TIMEOUT_SECONDS = 30.0


class EmulatorClient:
    """The unsigned control plane of a running emulator: credentials, faults, request log."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def control(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """Call `/_emulator{path}`; raise on any non-2xx answer."""
        response = httpx.request(method, f"{self.url}/_emulator{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def mint_resource_principal(
        self, out_dir: Path, *, ttl_seconds: int = 3600, region: str = DEFAULT_REGION, **claims: str
    ) -> dict[str, str]:
        """Write an RPST and its session key into `out_dir`; return the OCI_RESOURCE_PRINCIPAL_* env.

        This is the one way to mint them: the files are what OCI Functions hands a function, so the
        code under test runs its real resource-principal signer (`tenancy`/`compartment` override claims).
        """
        body = {"out_dir": str(Path(out_dir).resolve()), "ttl_seconds": ttl_seconds, "region": region}
        env: dict[str, str] = self.control("POST", "/resource-principal", {**body, **claims})["env"]
        return env

    def resource_principal_signer(self, out_dir: Path, ttl_seconds: int = 3600) -> Any:
        """A real oci resource-principal signer (v2.2, file based) over freshly minted credentials."""
        import oci

        env = self.mint_resource_principal(out_dir, ttl_seconds=ttl_seconds)
        return oci.auth.signers.EphemeralResourcePrincipalSigner(
            session_token=env["OCI_RESOURCE_PRINCIPAL_RPST"],
            private_key=env["OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM"],
            region=env["OCI_RESOURCE_PRINCIPAL_REGION"],
        )

    def register_api_key(self, key_id: str, public_key_pem: str) -> None:
        """Trust an API signing key (keyId tenancy/user/fingerprint)."""
        self.control("POST", "/api-keys", {"key_id": key_id, "public_key_pem": public_key_pem})

    def inject_fault(
        self,
        fault: str,
        *,
        path: str | None = None,
        model: str | None = None,
        count: int = 1,
        region: str | None = None,
    ) -> None:
        """Queue a fault (header syntax, e.g. "status=429,retry-after=2") for matching requests."""
        body = {"fault": fault, "path": path, "model": model, "count": count, "region": region}
        self.control("POST", "/faults", body)

    def throttle(self, region: str, share: float) -> None:
        """Answer `share` (0..1) of `region`'s inference calls with 429 from now on."""
        self.control("POST", "/throttle", {"region": region, "share": share})

    def region_url(self, region: str) -> str:
        """Where this emulator serves `region` (every region it serves lives under its own prefix)."""
        return f"{self.url}/{region}"

    def script_answer(
        self,
        *,
        tool_calls: Sequence[Mapping[str, Any]] | None = None,
        text: str | None = None,
        model: str | None = None,
        count: int = 1,
    ) -> None:
        """Queue what the model answers next: tool calls (`{"name", "arguments"}` each) or a text.

        Taken by the next `count` chat requests for `model` (any model when None) that offer every
        tool the answer calls; rendered in the model's API format and vendor style, streamed or not.
        """
        body = {"tool_calls": tool_calls, "text": text, "model": model, "count": count}
        self.control("POST", "/answers", body)

    def scripted_answers(self) -> list[dict[str, Any]]:
        """The answers still queued (each with its `model` and `remaining` count)."""
        queued: list[dict[str, Any]] = self.control("GET", "/answers")["queued"]
        return queued

    def release(self) -> int:
        """Release every held request; returns how many were held."""
        released: int = self.control("POST", "/release")["released"]
        return released

    def held(self) -> int:
        """How many requests a hold fault is parking right now."""
        held: int = self.control("GET", "/holds")["held"]
        return held

    def lingering(self) -> int:
        """How many streams are past their last event with the connection still open."""
        lingering: int = self.control("GET", "/holds")["lingering"]
        return lingering

    def wait_held(self, count: int, timeout: float = 20.0) -> None:
        """Block until at least `count` requests are parked by a hold fault."""
        deadline = time.monotonic() + timeout
        while self.held() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.held()} of {count} requests got held")
            time.sleep(0.02)

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The OCI requests received (method, path, query, body, principal, fault, status)."""
        entries: list[dict[str, Any]] = self.control("GET", "/requests")["requests"]
        return [e for e in entries if path is None or e["path"].endswith(path)]

    def metrics(self) -> list[dict[str, Any]]:
        """The Monitoring metric objects accepted so far (MetricDataDetails JSON, as posted)."""
        records: list[dict[str, Any]] = self.control("GET", "/metrics")["metrics"]
        return records

    def reset(self) -> None:
        """Clear queued faults, scripted answers and the request log; release held requests."""
        self.control("POST", "/reset")


class EmulatorProcess(EmulatorClient):
    """An emulator child process (`python -m oci_genai_emulator --port 0`) and its control plane."""

    def __init__(self, url: str, state_dir: Path, process: subprocess.Popen[str]) -> None:
        super().__init__(url)
        self.state_dir = state_dir
        self.process = process

    @classmethod
    def start(
        cls, state_dir: Path, *, port: int = 0, stderr: IO[Any] | None = None, options: tuple[str, ...] = ()
    ) -> EmulatorProcess:
        """Start it and wait for its "listening" line; `options` are extra command-line flags."""
        args = [
            sys.executable,
            "-m",
            "oci_genai_emulator",
            "--port",
            str(port),
            "--state-dir",
            str(state_dir),
        ]
        process = subprocess.Popen([*args, *options], stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            line = _listening_line(process)
        except BaseException:
            process.kill()
            process.wait()
            raise
        return cls(str(line["url"]), Path(line["state_dir"]), process)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running_emulator(state_dir: Path, **options: Any) -> Iterator[EmulatorProcess]:
    """`with running_emulator(tmp) as emu:` an emulator for the block's duration."""
    emulator = EmulatorProcess.start(state_dir, **options)
    try:
        yield emulator
    finally:
        emulator.stop()


def _listening_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    """The JSON line the emulator prints once it accepts connections; stdout is drained after it."""
    found: dict[str, Any] = {}

    def read(stream: IO[str]) -> None:
        for line in stream:  # keep draining so the child never blocks on a full pipe
            if not found:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("event") == "listening":
                    found.update(event)

    assert process.stdout is not None
    threading.Thread(target=read, args=(process.stdout,), daemon=True).start()
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while not found:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with {process.returncode} before listening")
        if time.monotonic() > deadline:
            raise TimeoutError("the emulator did not listen in time")
        time.sleep(0.02)
    return found
