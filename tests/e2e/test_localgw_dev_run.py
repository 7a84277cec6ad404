"""`make run` (python -m oci_genai_devstack.run): the serverless stack and --asgi as a user runs them."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from oci_genai_devstack.localgw.stack import ROUTE_FUNCTIONS
from oci_genai_devstack.run import DEMO_KEY
from tests.fixtures.gateway import free_port, stop

pytestmark = pytest.mark.slow
Starter = Callable[..., subprocess.Popen[str]]


class Output:
    """A child's stdout read on a thread, so waiting for a line can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(process,), daemon=True).start()

    def _pump(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 90.0) -> re.Match[str]:
        """The first line matching `pattern`; fail with everything read so far otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        pytest.fail(f"no line matching {pattern!r}:\n{''.join(self.lines)[-4000:]}")


def child_processes(pid: int) -> list[int]:
    """The direct children of `pid`, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


@pytest.fixture
def run_dev() -> Iterator[Starter]:
    """Start `python -m oci_genai_devstack.run ...` processes; any left running are stopped after."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "OCI_RESOURCE_"))}
        process = subprocess.Popen(
            [sys.executable, "-m", "oci_genai_devstack.run", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            stop(process)


def test_make_run_serves_the_serverless_stack_and_cleans_up_on_sigterm(run_dev: Starter) -> None:
    port = free_port()
    process = run_dev("--port", str(port))
    output = Output(process)
    base = output.wait_for(r"OpenAI base URL:\s+(\S+)").group(1)
    assert base == f"http://127.0.0.1:{port}/v1"
    assert output.wait_for(r"API key:\s+(\S+)").group(1) == DEMO_KEY
    logs = [Path(output.wait_for(rf"{name}: (\S+function\.log)").group(1)) for name in ("chat", "authorizer")]
    output.wait_for(r"curl ")

    with openai.OpenAI(base_url=base, api_key=DEMO_KEY, max_retries=0) as client:
        reply = client.chat.completions.create(
            model="xai.grok-3-mini", messages=[{"role": "user", "content": "hi"}]
        )
        assert "xai.grok-3-mini" in (reply.choices[0].message.content or "")
        with pytest.raises(openai.AuthenticationError):
            client.with_options(api_key="sk-wrong-key-000000000").models.list()
        response = client.responses.create(model="xai.grok-3-mini", input="hi")
        assert "xai.grok-3-mini" in response.output_text
    with anthropic.Anthropic(base_url=base.removesuffix("/v1"), api_key=DEMO_KEY, max_retries=0) as claude:
        message = claude.messages.create(
            model="xai.grok-3-mini", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        )
        assert "xai.grok-3-mini" in message.content[0].text  # type: ignore[union-attr]
    assert httpx.get(f"http://127.0.0.1:{port}/health/readiness", timeout=10).status_code == 200

    children = child_processes(process.pid)
    assert len(children) == 2 + len(ROUTE_FUNCTIONS), "the emulator, the authorizer and each route's function"
    key_dirs = [Path(arg) for pid in children for arg in cmdline(pid) if "oci-genai-devstack-" in arg]
    assert key_dirs, "the emulator's state dir (issuer key, minted keys) is the runner's temp dir"
    process.send_signal(signal.SIGTERM)  # as a service manager or `kill` stops it
    assert process.wait(timeout=60) == 0
    # Every child is gone, every function's socket directory and every key file with them.
    assert [pid for pid in children if Path(f"/proc/{pid}").exists() and not zombie(pid)] == []
    for log in logs:
        assert not log.parent.exists(), log.parent
    for directory in key_dirs:
        assert not directory.exists(), directory
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/health/readiness", timeout=2)


def test_make_run_asgi_keeps_the_asgi_server(run_dev: Starter) -> None:
    port = free_port()
    process = run_dev("--asgi", "--port", str(port))
    output = Output(process)
    base = output.wait_for(r"OpenAI base URL:\s+(\S+)").group(1)
    key = output.wait_for(r"API key:\s+(\S+)").group(1)
    # The URL is printed once the server answers: no retry loop, a refused connection is a failure.
    response = httpx.get(f"{base}/models", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
