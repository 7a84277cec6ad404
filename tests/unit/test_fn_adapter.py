"""The fn adapter's small pieces: plain-invoke paths, deadlines, and what it hands the FDK."""

from __future__ import annotations

import importlib
import io
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from oci_genai_gateway.adapters.fn import Invocation, _budget, _deadline, describe, plain_invoke_path, respond
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


def test_describe_a_gateway_call() -> None:
    call = describe(context(GATEWAY_HEADERS), io.BytesIO(b"{}"), "/v1/models", "GET")
    assert call.via_gateway is True
    assert (call.method, call.url, call.body) == ("POST", "/genai/v1/models/a/b", b"{}")
    assert call.request_id == "client-id-1"
    assert call.deadline is not None


def test_describe_a_plain_invoke_takes_the_platform_request_id() -> None:
    headers = {"opc-request-id": "/ABC/DEF", "fn-call-id": "call1"}
    call = describe(context(headers), None, "/v1/chat/completions", "POST")
    assert call.via_gateway is False
    assert (call.method, call.url, call.body, call.request_id) == (
        "POST",
        "/v1/chat/completions",
        b"",
        "/ABC/DEF",
    )


def test_a_client_request_id_that_is_not_safe_is_not_echoed() -> None:
    headers = {**GATEWAY_HEADERS, "fn-http-h-x-request-id": "evil\r\nSet-Cookie: x"}
    assert describe(context(headers), None, "/v1/models", "GET").request_id == "/ABC/DEF"


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


def test_deadlines() -> None:
    assert _deadline("not a date") is None
    past = Invocation(False, "POST", "/", b"", "r", time.monotonic() - 5)
    assert _budget(past) == 0.0
    assert _budget(Invocation(False, "POST", "/", b"", "r", None)) is None
    future = _budget(Invocation(False, "POST", "/", b"", "r", _deadline("2099-01-01T00:00:00Z")))
    assert future is not None
    assert future > 0


def test_through_api_gateway_the_status_travels_in_a_header_and_the_fdk_says_200() -> None:
    ctx = context(GATEWAY_HEADERS)
    call = describe(ctx, None, "/v1/models", "GET")
    reply = error_reply(RateLimited("slow down", retry_after="7"))
    response = respond(ctx, call, reply, b"{}")
    sent = ctx.GetResponseHeaders()
    assert response.status() == 200
    assert sent["fn-http-status"] == "429"
    assert sent["fn-http-h-retry-after"] == "7"
    assert sent["fn-http-h-x-request-id"] == "client-id-1"
    assert sent["content-type"] == "application/json"


def test_a_plain_invoke_gets_200_and_the_error_in_the_body() -> None:
    ctx = context({"fn-call-id": "call1"})
    call = describe(ctx, None, "/v1/chat/completions", "POST")
    response = respond(ctx, call, error_reply(UpstreamError("OCI failed")), b'{"error": {}}')
    assert response.status() == 200
    assert "fn-http-status" not in ctx.GetResponseHeaders()
    assert response.body_bytes() == b'{"error": {}}'
