"""`serve --workers 2`: several processes answer on one port, and SIGTERM stops every one of them."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import start_gateway, stop


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) follows the command name, which is in parentheses and may hold spaces.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for its parent."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def workers_of(pid: int) -> set[int]:
    """The uvicorn worker processes (multiprocessing spawn children) below `pid`."""
    out = set()
    for child in descendants(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            out.add(child)
    return out


@pytest.mark.timeout(180)
def test_two_workers_serve_and_sigterm_stops_them_all(emulator: Emulator, tmp_path: Path) -> None:
    gateway = start_gateway(emulator, tmp_path, workers=2, GATEWAY_CLIENT_TIMEOUT="1")
    try:
        workers = workers_of(gateway.process.pid)
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            workers = workers_of(gateway.process.pid)
        assert len(workers) == 2, f"expected 2 workers, found {workers}"
        # Each worker enforces 1/N of every key limit (core/access/limits.py), so each must know N.
        for pid in workers:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert b"GATEWAY_WORKERS=2" in environ

        # The workers' server settings crossed the process boundary: a stalled head meets the
        # configured 1 s timeout, not the 10 s default, in the workers' JSON envelope.
        address = urlsplit(gateway.url)
        with socket.create_connection((address.hostname, address.port), timeout=20) as raw:
            raw.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
            answer = b""
            while chunk := raw.recv(4096):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408")
        assert json.loads(body)["error"]["message"] == "The request head did not arrive within 1 s."

        with gateway.client() as client:
            for i in range(6):
                answer = client.chat.completions.create(
                    model="meta.llama-3.3-70b-instruct",
                    messages=[{"role": "user", "content": f"Worker check {i}"}],
                    max_tokens=32,
                )
                assert f"Worker check {i}" in (answer.choices[0].message.content or "")
            streamed = client.chat.completions.create(
                model="meta.llama-3.3-70b-instruct",
                messages=[{"role": "user", "content": "Streamed worker check"}],
                stream=True,
            )
            text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
            assert "Streamed worker check" in text
            assert [m.id for m in client.models.list()]

        everyone = descendants(gateway.process.pid)
        os.kill(gateway.process.pid, signal.SIGTERM)
        assert gateway.process.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(alive(p) for p in everyone) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in everyone if alive(p)], "orphaned worker processes after SIGTERM"
    finally:
        stop(gateway.process)
