"""The local gateway's function protocol against the real fdk server: what a function sees and returns."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from oci_genai_devstack.localgw import LocalGateway, ThreadedServer
from oci_genai_devstack.localgw.functions import start_function
from tests.paths import FIXTURES_DIR

ECHO_DIR = FIXTURES_DIR / "fdk_functions" / "echo"
SPEC: dict[str, Any] = {
    "routes": [
        {
            "path": "/echo/{rest*}",
            "methods": ["GET", "POST"],
            "backend": {"type": "ORACLE_FUNCTIONS_BACKEND", "functionId": "echo"},
        },
        {
            "path": "/items/{id}",
            "methods": ["GET"],
            "backend": {"type": "ORACLE_FUNCTIONS_BACKEND", "functionId": "echo"},
        },
    ]
}


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    """The echo function under fdk behind a local gateway with deployment prefix /api; its base URL."""
    function = start_function("echo", {}, ECHO_DIR)
    try:
        function.wait_listening()
        app = LocalGateway(SPEC, {"echo": function.target}, path_prefix="/api")
        with ThreadedServer(app) as server:
            yield server.url
    finally:
        function.stop()


def test_the_function_sees_the_client_request_as_oci_hands_it_over(echo: str) -> None:
    response = httpx.get(
        f"{echo}/echo/a%20b/c?x=1&y=two",
        headers=[("X-Custom", "value"), ("X-Multi", "one"), ("X-Multi", "two")],
        timeout=30,
    )
    assert response.status_code == 200
    seen = response.json()
    assert seen["method"] == "GET"
    # Path and query exactly as sent, deployment prefix included (the adapter strips it).
    assert seen["url"] == "/api/echo/a%20b/c?x=1&y=two"
    http_headers = seen["http_headers"]
    assert http_headers["x-custom"] == "value"
    assert http_headers["x-multi"] == "one, two"
    assert http_headers["x-real-ip"] == "127.0.0.1"
    assert http_headers["x-forwarded-for"] == "127.0.0.1"
    assert http_headers["host"].startswith("127.0.0.1:")
    assert "connection" not in http_headers
    platform = seen["headers"]
    assert platform["fn-intent"] == "httprequest"
    assert platform["fn-invoke-type"] == "sync"
    assert platform["fn-http-method"] == "GET"
    assert platform["fn-deadline"].endswith("Z")
    assert platform["opc-request-id"] == response.headers["opc-request-id"]


def test_body_status_and_headers_come_back_decapsulated(echo: str) -> None:
    response = httpx.post(f"{echo}/echo/created", content=b'{"hello": 1}', timeout=30)
    assert response.status_code == 201  # from Fn-Http-Status
    assert response.headers["x-echo"] == "yes"  # from Fn-Http-H-X-Echo
    assert response.headers["content-type"] == "application/json"
    assert not any(name.startswith("fn-") for name in response.headers)
    assert response.json()["body"] == '{"hello": 1}'


def test_path_templates_match_one_segment(echo: str) -> None:
    assert httpx.get(f"{echo}/items/42", timeout=30).json()["url"] == "/api/items/42"
    assert httpx.get(f"{echo}/items/42/more", timeout=30).status_code == 404
    assert httpx.get(f"{echo}/items", timeout=30).status_code == 404


def test_an_exception_in_the_function_is_a_bare_502(echo: str) -> None:
    response = httpx.get(f"{echo}/echo/raise", timeout=30)
    assert response.status_code == 502
    assert response.json() == {"code": 502, "message": "Bad Gateway"}
    assert "internal detail" not in response.text


def test_requests_outside_the_deployment_prefix_are_404(echo: str) -> None:
    outside = echo.removesuffix("/api") + "/echo/x"
    assert httpx.get(outside, timeout=30).status_code == 404


def test_header_values_reach_the_function_without_surrounding_whitespace(echo: str) -> None:
    # httpx refuses to send such values; http.client sends them as given, as curl does.
    url = urlsplit(echo)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        connection.putrequest("GET", f"{url.path}/echo/ws")
        connection.putheader("X-Trailing", "value ")
        connection.putheader("X-Tabs", "\tinner\tvalue\t")
        connection.endheaders()
        response = connection.getresponse()
        status, body = response.status, response.read()
    finally:
        connection.close()
    # Before the fix the trailing space reached the fdk connection, which refused it: a 502.
    assert status == 200, body
    seen = json.loads(body)["http_headers"]
    assert seen["x-trailing"] == "value"
    assert seen["x-tabs"] == "inner\tvalue"  # whitespace inside a value is kept
