"""No network but 127.0.0.1: each function imports and serves its first requests with egress blocked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.functions import PREFIX, function_env, gateway_call, start_function

# Cold starts of every function with no network.
pytestmark = pytest.mark.slow

BLOCKED = "NETWORK BLOCKED"
ACTIVE = "network guard active"
# Loaded by every Python process with this directory on PYTHONPATH: refuse (and report on stderr,
# so that even an attempt the caller swallows is seen) every name lookup or connection that is not
# local. A function on OCI may have no route to the internet at all.
GUARD = f"""
import socket, sys

_LOCAL = {{"127.0.0.1", "::1", "localhost", None}}


def _refuse(what):
    print("{BLOCKED}: " + what, file=sys.stderr, flush=True)
    raise OSError("network blocked by the test: " + what)


_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _check(sock, address):
    if sock.family != socket.AF_UNIX and not (isinstance(address, tuple) and address[0] in _LOCAL):
        _refuse("connect " + repr(address))


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name not in _LOCAL:
        _refuse("resolve " + repr(name))
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
print("{ACTIVE}", file=sys.stderr, flush=True)
"""
FIRST_REQUESTS: dict[str, list[tuple[str, str, dict[str, Any] | None]]] = {
    # A streamed llama-3 request is the one that made LiteLLM fetch a tokenizer from a model hub.
    "chat": [
        (
            "POST",
            "/v1/chat/completions",
            {
                "model": "meta.llama-3.3-70b-instruct",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": True,
                "stream_options": {"include_usage": True},
            },
        ),
        (
            "POST",
            "/v1/chat/completions",
            {"model": "cohere.command-r-08-2024", "messages": [{"role": "user", "content": "hi"}]},
        ),
    ],
    "embeddings": [("POST", "/v1/embeddings", {"model": "cohere.embed-english-v3.0", "input": ["hi"]})],
    "moderations": [("POST", "/v1/moderations", {"input": ["hi", "there"]})],
    "models": [("GET", "/v1/models", None), ("GET", "/v1/models/xai.grok-4", None)],
}


@pytest.fixture(scope="module")
def guard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the socket-guarding sitecustomize.py."""
    directory = tmp_path_factory.mktemp("no-network")
    (directory / "sitecustomize.py").write_text(GUARD)
    return directory


def test_the_guard_blocks_outside_lookups_and_connections(guard_dir: Path) -> None:
    probe = (
        "import socket, urllib.request\n"
        "for call in (lambda: urllib.request.urlopen('http://example.com', timeout=2),\n"
        "             lambda: socket.socket().connect(('192.0.2.1', 443))):\n"
        "    try: call()\n"
        "    except OSError: pass\n"
    )
    env = {**os.environ, "PYTHONPATH": str(guard_dir)}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=30)
    assert ACTIVE in done.stderr
    assert f"{BLOCKED}: resolve 'example.com'" in done.stderr
    assert f"{BLOCKED}: connect ('192.0.2.1', 443)" in done.stderr


@pytest.mark.parametrize("name", FIRST_REQUESTS)
def test_cold_function_needs_no_network_but_the_emulator(
    name: str, guard_dir: Path, emulator: Emulator, tmp_path: Path
) -> None:
    env = function_env(emulator, tmp_path / "rp", PYTHONPATH=str(guard_dir))
    assert not any(k.startswith("LITELLM_") for k in env), "the function must set LiteLLM's own variables"
    with start_function(name, env) as server:
        for method, path, body in FIRST_REQUESTS[name]:
            content = json.dumps(body) if body is not None else b""
            reply = gateway_call(server, method, PREFIX + path, content)
            assert reply.status == 200, reply.body
        logs = server.logs()
    assert ACTIVE in logs, "the guard was not loaded into the function process"
    assert BLOCKED not in logs, logs
