"""Hostile HTTP against the real servers (the ASGI gateway and the local API Gateway), over raw sockets:
oversized and slow request heads, malformed requests, control characters in paths, stalled bodies."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import KEY, GatewayProcess, start_gateway, stop
from tests.fixtures.localgw import LocalGw
from tests.openapi import validate

CLIENT_TIMEOUT = "1"  # GATEWAY_CLIENT_TIMEOUT for the server these tests start


@pytest.fixture(scope="module")
def strict_gateway(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """An ASGI gateway with a one-second client timeout, so slow-client tests finish quickly."""
    proc = start_gateway(emulator, tmp_path_factory.mktemp("strict"), GATEWAY_CLIENT_TIMEOUT=CLIENT_TIMEOUT)
    try:
        yield proc
    finally:
        stop(proc.process)


@pytest.fixture(params=["asgi", "localgw"])
def server(request: pytest.FixtureRequest, gateway: GatewayProcess, localgw: LocalGw) -> tuple[str, int]:
    """(host, port) of each real server."""
    url = gateway.url if request.param == "asgi" else localgw.url
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    return host, int(port)


def exchange(
    address: tuple[str, int], raw: bytes, *, timeout: float = 30.0
) -> tuple[int, dict[str, str], Any]:
    """Send raw bytes, read the answer until the server closes or sends a whole response."""
    with socket.create_connection(address, timeout=timeout) as sock:
        # The server may answer and close before reading everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], Any]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return status, headers, json.loads(body) if body else None


def request_bytes(method: str, path: str, *headers: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {KEY}", *headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def openai_error(body: Any, code: str) -> None:
    validate(body, "ErrorResponse")
    assert body["error"]["code"] == code


def test_an_oversized_request_head_is_431_before_the_head_is_read(server: tuple[str, int]) -> None:
    huge = "X-Filler: " + "a" * (4 * 1024 * 1024)
    status, headers, body = exchange(server, request_bytes("GET", "/v1/models", huge))
    assert status == 431
    assert headers["content-type"] == "application/json"
    openai_error(body, "request_header_fields_too_large")


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Evil: a\x00b\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
    ],
)
def test_malformed_http_gets_openais_envelope(server: tuple[str, int], raw: bytes) -> None:
    status, headers, body = exchange(server, raw)
    assert status == 400
    assert headers["content-type"] == "application/json"
    openai_error(body, "invalid_request")


@pytest.mark.parametrize(
    "path", ["/v1/chat/comp%0Aletions", "/v1/models/%0A", "/v1/mod%00els", "/v1/models%7F"]
)
def test_control_characters_in_the_path_are_refused_not_routed(server: tuple[str, int], path: str) -> None:
    body = json.dumps({"model": "xai.grok-4", "messages": [{"role": "user", "content": "hi"}]}).encode()
    status, _, answer = exchange(
        server, request_bytes("POST", path, "Content-Type: application/json", body=body)
    )
    assert status == 400
    openai_error(answer, "invalid_url")


def test_a_wrong_method_names_the_allowed_ones(server: tuple[str, int]) -> None:
    status, headers, body = exchange(server, request_bytes("GET", "/v1/chat/completions"))
    assert status == 405
    assert headers["allow"] == "POST"
    openai_error(body, "method_not_allowed")


def test_a_trailing_space_in_a_header_is_tolerated(server: tuple[str, int]) -> None:
    raw = f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY} \r\n\r\n".encode()
    status, _, body = exchange(server, raw)
    assert status == 200
    assert body["object"] == "list"


def test_a_head_that_never_completes_is_closed_with_a_408(strict_gateway: GatewayProcess) -> None:
    host, port = strict_gateway.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        status, _, body = read_response(sock)
        assert sock.recv(1) == b"", "the server closed the connection"
    assert status == 408
    openai_error(body, "request_timeout")


def test_a_connection_that_sends_nothing_is_closed(strict_gateway: GatewayProcess) -> None:
    host, port = strict_gateway.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        status, _, _ = read_response(sock)
        assert sock.recv(1) == b""
    assert status == 408


def test_a_body_that_stalls_is_a_408(strict_gateway: GatewayProcess) -> None:
    host, port = strict_gateway.url.removeprefix("http://").split(":")
    head = request_bytes(
        "POST", "/v1/chat/completions", "Content-Length: 500", "Content-Type: application/json"
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + b'{"model": "x", ')
        status, _, body = read_response(sock)
    assert status == 408
    openai_error(body, "request_timeout")


def test_many_slow_clients_are_all_let_go(strict_gateway: GatewayProcess, tmp_path: Path) -> None:
    """Slowloris: every half-sent request is closed, and the server still serves."""
    host, port = strict_gateway.url.removeprefix("http://").split(":")
    socks = [socket.create_connection((host, int(port)), timeout=30) for _ in range(200)]
    try:
        for sock in socks:
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n")
        closed = 0
        for sock in socks:
            read_response(sock)
            closed += sock.recv(1) == b""
        assert closed == len(socks)
    finally:
        for sock in socks:
            sock.close()
    status, _, body = exchange((host, int(port)), request_bytes("GET", "/v1/models"))
    assert status == 200
    assert body["object"] == "list"


def test_the_strict_server_still_serves_a_normal_client_promptly(strict_gateway: GatewayProcess) -> None:
    host, port = strict_gateway.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        for _ in range(3):  # kept alive between requests, each within the client timeout
            sock.sendall(request_bytes("GET", "/v1/models"))
            status, _, _ = read_response(sock)
            assert status == 200
            time.sleep(0.1)
