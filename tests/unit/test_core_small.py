"""Small core pieces: key matching, error rendering, SSE framing, route paths."""

import json
import logging
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from oci_genai_gateway.core.access.keys import Credential, match_key, read_bearer
from oci_genai_gateway.core.apis.chat_completions import ChunkEvents
from oci_genai_gateway.core.errors import (
    InvalidRequest,
    ModelNotFound,
    RateLimited,
    Unauthorized,
    UpstreamError,
)
from oci_genai_gateway.core.gateway import route_path
from oci_genai_gateway.core.logs import JsonFormatter
from oci_genai_gateway.core.sse import DONE, EventStream
from tests.openapi import validate


def test_bearer_parsing() -> None:
    assert read_bearer("Bearer sk-1") == Credential("sk-1")
    assert read_bearer("bearer   sk-1 ") == Credential("sk-1")
    assert read_bearer("Basic abc") == Credential(None, "scheme")
    assert read_bearer("Bearer ") == Credential(None, "malformed")
    assert read_bearer("Bearer sk 1") == Credential(None, "malformed")
    assert read_bearer(None) == Credential(None, "missing")


def test_match_key_returns_the_name_of_the_matching_key_only() -> None:
    keys = {"old": "sk-old", "new": "sk-new"}
    assert match_key("sk-new", keys) == "new"
    assert match_key("sk-old", keys) == "old"
    assert match_key("sk-ol", keys) is None
    assert match_key("sk-new", {}) is None


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidRequest("bad", param="x"), 400, None),
        (Unauthorized(), 401, "invalid_api_key"),
        (ModelNotFound("m"), 404, "model_not_found"),
        (RateLimited("slow down", retry_after="3"), 429, "rate_limit_exceeded"),
        (UpstreamError("oci failed"), 502, "upstream_error"),
    ],
)
def test_errors_render_as_openai_envelopes(error: Any, status: int, code: str | None) -> None:
    body = error.to_body()
    validate(body, "ErrorResponse")
    assert error.status == status
    assert body["error"]["code"] == code


def test_rate_limit_keeps_retry_after_and_unauthorized_asks_for_bearer() -> None:
    assert RateLimited("x", retry_after="7").headers == {"Retry-After": "7"}
    assert RateLimited("x").headers == {}
    assert Unauthorized().headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v1/chat/completions", "/v1/chat/completions"),
        ("/genai/v1/chat/completions?x=1", "/v1/chat/completions"),
        ("/deploy/v1/models/xai.grok-4", "/v1/models/xai.grok-4"),
        ("/v1/models/", "/v1/models"),
        ("/p/health/readiness", "/health/readiness"),
    ],
)
def test_route_path_strips_deployment_prefixes(path: str, route: str) -> None:
    assert route_path(path) == route


async def test_sse_frames_chunks_then_done_and_errors_as_events() -> None:
    async def chunks() -> AsyncGenerator[dict[str, Any], None]:
        yield {"a": 1}
        raise UpstreamError("gone")

    stream = EventStream(chunks(), ChunkEvents(None))  # type: ignore[arg-type]
    events = [e async for e in stream]
    assert isinstance(stream.failure, UpstreamError)
    assert events[0] == b'data: {"a":1}\n\n'
    assert json.loads(events[1][6:])["error"]["code"] == "upstream_error"
    assert events[-1] == DONE


def test_json_logs_carry_extras_but_not_litellms_redaction_stamp() -> None:
    record = logging.makeLogRecord(
        {
            "name": "uvicorn.error",
            "levelname": "INFO",
            "msg": "Started",
            "event": "boot",
            "litellm_redacted": object(),
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["event"]) == ("Started", "boot")
    assert "litellm_redacted" not in line
