"""The fn adapter's small pieces: reading each kind of invoke, deadlines, and what it hands the FDK."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from oci_genai_gateway.adapters.fn import ApiGatewayInvoke, PlainInvoke, _deadline, plain_invoke_path, respond
from oci_genai_gateway.adapters.http import lower_headers
from oci_genai_gateway.core.errors import InvalidRequest, RateLimited, UpstreamError
from oci_genai_gateway.core.gateway import error_reply

GATEWAY_HEADERS = {
    "fn-intent": "httprequest",
    "fn-http-method": "POST",
    "fn-http-request-url": "/genai/v1/models/a%2Fb?x=1",
    "fn-http-h-x-request-id": "client-id-1",
    "opc-request-id": "/ABC/DEF",
    "fn-call-id": "call1",
    "fn-deadline": "2099-01-01T00:00:00.000Z",
}


@pytest.fixture(scope="module", autouse=True)
def _fdk_logging_undone() -> Iterator[None]:
    """`import fdk` sets the root logger to DEBUG with its own handler: undo that for other tests."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    importlib.import_module("fdk.response")
    yield
    root.setLevel(level)
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)


def context(headers: dict[str, str]) -> Any:
    """A real FDK context, built the way the FDK builds it from the request headers."""
    from fdk.context import InvokeContext

    return InvokeContext(
        "app",
        "app",
        "fn",
        "fn",
        headers.get("fn-call-id"),
        headers=headers,
        request_url=headers.get("fn-http-request-url"),
        method=headers.get("fn-http-method"),
        deadline=headers.get("fn-deadline"),
    )


def test_an_api_gateway_invoke_carries_the_client_request() -> None:
    ctx = context(GATEWAY_HEADERS)
    invoke = ApiGatewayInvoke().read(ctx, lower_headers(ctx.Headers()), b"{}", "/v1/models")
    request = invoke.request
    assert (request.method, request.path, request.body) == ("POST", "/genai/v1/models/a%2Fb?x=1", b"{}")
    assert request.headers["x-request-id"] == "client-id-1"
    assert request.buffered
    assert invoke.request_id == "client-id-1"
    assert request.deadline is not None
    assert request.deadline > time.monotonic()


def test_a_plain_invoke_takes_the_platform_request_id_and_the_function_route() -> None:
    ctx = context({"opc-request-id": "/ABC/DEF", "fn-call-id": "call1"})
    invoke = PlainInvoke("POST").read(ctx, lower_headers(ctx.Headers()), b'{"a": 1}', "/v1/chat/completions")
    assert (invoke.request.method, invoke.request.path, invoke.request.body) == (
        "POST",
        "/v1/chat/completions",
        b'{"a": 1}',
    )
    assert invoke.request_id == "/ABC/DEF"
    assert invoke.refused is None


def test_a_plain_models_invoke_with_a_bad_body_is_refused_not_raised() -> None:
    ctx = context({"fn-call-id": "call1"})
    invoke = PlainInvoke("GET").read(ctx, lower_headers(ctx.Headers()), b"[1]", "/v1/models")
    assert isinstance(invoke.refused, InvalidRequest)


def test_a_client_request_id_that_is_not_safe_is_not_echoed() -> None:
    headers = {**GATEWAY_HEADERS, "fn-http-h-x-request-id": "evil\r\nSet-Cookie: x"}
    ctx = context(headers)
    assert (
        ApiGatewayInvoke().read(ctx, lower_headers(ctx.Headers()), b"", "/v1/models").request_id == "/ABC/DEF"
    )


@pytest.mark.parametrize(
    ("body", "path"),
    [(b"", "/v1/models"), (b" {} ", "/v1/models"), (b'{"model": "xai.grok-4"}', "/v1/models/xai.grok-4")],
)
def test_models_plain_invoke_paths(body: bytes, path: str) -> None:
    assert plain_invoke_path("/v1/models", body) == path


@pytest.mark.parametrize("body", [b"{bad", b"[1]", b'{"model": 1}', b'{"model": "a", "x": 1}'])
def test_models_plain_invoke_rejects_other_bodies(body: bytes) -> None:
    with pytest.raises(InvalidRequest, match="empty body"):
        plain_invoke_path("/v1/models", body)


def test_other_functions_ignore_the_body_for_their_path() -> None:
    assert plain_invoke_path("/v1/chat/completions", b"{bad") == "/v1/chat/completions"


def test_deadlines_keep_a_margin_before_the_platform_kills_the_call() -> None:
    assert _deadline("not a date") is None
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
    deadline = _deadline(soon.isoformat())
    assert deadline is not None
    assert time.monotonic() + 8.0 < deadline < time.monotonic() + 9.5


def test_through_api_gateway_the_status_travels_in_a_header_and_the_fdk_says_200() -> None:
    ctx = context(GATEWAY_HEADERS)
    reply = error_reply(RateLimited("slow down", retry_after="7"))
    response = respond(ctx, reply, ApiGatewayInvoke().status(reply), "client-id-1")
    sent = ctx.GetResponseHeaders()
    assert response.status() == 200
    assert sent["fn-http-status"] == "429"
    assert sent["fn-http-h-retry-after"] == "7"
    assert sent["fn-http-h-x-request-id"] == "client-id-1"
    assert sent["content-type"] == "application/json"


def test_a_plain_invoke_gets_200_and_the_error_in_the_body() -> None:
    ctx = context({"fn-call-id": "call1"})
    reply = error_reply(UpstreamError("OCI failed"))
    response = respond(ctx, reply, PlainInvoke("POST").status(reply), "call1")
    assert response.status() == 200
    assert "fn-http-status" not in ctx.GetResponseHeaders()
    assert json.loads(response.body_bytes())["error"]["code"] == "upstream_error"
