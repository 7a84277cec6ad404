"""What every answer to a hostile request must be: no 5xx, OpenAI's envelope or a valid success, no leak.

/v1/messages answers in Anthropic's dialect: its errors, Message and stream events are checked with
the anthropic SDK's own types.
"""

from __future__ import annotations

import json
import re
from typing import Any

import anthropic.types
import anthropic.types.beta
import pydantic

from tests.openapi import EVENT_SCHEMAS, validate

# What a traceback, a file path or an exception's repr looks like in a body.
LEAKS = re.compile(
    r"Traceback|File \"|site-packages|\.py\b|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|object at 0x|pydantic",
)
# OCI API Gateway answers these itself, in its own {"code", "message"} shape (devstack README).
GATEWAY_OWN = frozenset({401, 404, 405, 413, 429})
ANTHROPIC_ERROR: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(anthropic.types.ErrorResponse)
ANTHROPIC_MESSAGE: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(anthropic.types.Message)
ANTHROPIC_EVENT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(anthropic.types.RawMessageStreamEvent)
ANTHROPIC_BETA_MESSAGE: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(anthropic.types.beta.BetaMessage)
ANTHROPIC_TOKEN_COUNT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(
    anthropic.types.beta.BetaMessageTokensCount
)


class Violation(AssertionError):
    """An answer that breaks a property; its text says which and shows the answer."""


def check(
    status: int,
    content_type: str,
    body: bytes,
    *,
    api_gateway: bool = False,
    upstream_failed: bool = False,
    path: str = "",
) -> None:
    """Raise Violation unless (status, body) is a valid answer to some request to `path`.

    `api_gateway`: API Gateway's own 4xx shape is fine too; `upstream_failed`: OCI was told to fail,
    so a 502/504 envelope (or an error event ending a stream) is the right answer.
    """
    anthropic_route = "/v1/messages" in path
    shown = f"{status} {content_type} {body[:300]!r}"
    if status >= 500 and not (upstream_failed and status in (502, 504)):
        raise Violation(f"5xx: {shown}")
    if LEAKS.search(body.decode("utf-8", "replace")):
        raise Violation(f"internal detail in the body: {shown}")
    try:
        if content_type.startswith("text/event-stream"):
            if body.startswith(b"event: "):
                _check_named_stream(body, upstream_failed)
            else:
                _check_stream(body, upstream_failed)
            return
        payload = json.loads(body)
        if status >= 400:
            if api_gateway and status in GATEWAY_OWN and set(payload) == {"code", "message"}:
                return
            if anthropic_route and payload.get("type") == "error":
                ANTHROPIC_ERROR.validate_python(payload)
                if set(payload["error"]) != {"type", "message"}:
                    raise Violation(f"not Anthropic's error envelope: {shown}")
                return
            validate(payload, "ErrorResponse")
            return
        _check_success(payload)
    except Violation:
        raise
    except Exception as exc:
        raise Violation(f"{type(exc).__name__}: {str(exc)[:300]} in {shown}") from None


def _check_success(payload: Any) -> None:
    kind = payload.get("object") if isinstance(payload, dict) else None
    if kind == "chat.completion":
        validate(payload, "CreateChatCompletionResponse")
    elif kind == "response":
        validate(payload, "Response")
    elif isinstance(payload, dict) and payload.get("type") == "message":
        ANTHROPIC_MESSAGE.validate_python(payload)
        if "context_management" in payload:
            ANTHROPIC_BETA_MESSAGE.validate_python(payload)
    elif isinstance(payload, dict) and "input_tokens" in payload:  # /v1/messages/count_tokens
        ANTHROPIC_TOKEN_COUNT.validate_python(payload)
    elif kind == "model":
        validate(payload, "Model")
    elif kind == "list" and payload["data"] and payload["data"][0].get("object") == "embedding":
        # OpenAI's schema types `embedding` as numbers only; encoding_format=base64 answers a string.
        floats = [
            {**item, "embedding": []} if isinstance(item["embedding"], str) else item
            for item in payload["data"]
        ]
        validate({**payload, "data": floats}, "CreateEmbeddingResponse")
    elif kind == "list":
        validate(payload, "ListModelsResponse")
    elif payload != {"status": "ok"}:
        raise Violation(f"not a known success body: {payload!r:.300}")


def _check_stream(body: bytes, upstream_failed: bool) -> None:
    events = [block for block in body.decode().split("\n\n") if block]
    if not events or events[-1] != "data: [DONE]":
        raise Violation(f"a stream not ending in [DONE]: {body[-200:]!r}")
    for block in events[:-1]:
        if not block.startswith("data: "):
            raise Violation(f"not an SSE data event: {block[:200]!r}")
        chunk = json.loads(block[len("data: ") :])
        if "error" in chunk:
            validate(chunk, "ErrorResponse")
            if not upstream_failed:
                raise Violation(f"a stream ended by an error nobody caused: {chunk!r:.300}")
        else:
            validate(chunk, "CreateChatCompletionStreamResponse")


_STREAM_ENDS = {"response.completed", "response.incomplete", "message_stop", "error"}


def _check_named_stream(body: bytes, upstream_failed: bool) -> None:
    """A Responses or Messages stream: `event: <type>` then `data:` with the same type, every event
    valid for its type, ending in its API's last event (or an error event when OCI failed)."""
    kinds = []
    for block in [b for b in body.decode().split("\n\n") if b]:
        head, _, data = block.partition("\n")
        kind = head.removeprefix("event: ")
        if not head.startswith("event: ") or not data.startswith("data: "):
            raise Violation(f"not a named SSE event: {block[:200]!r}")
        payload = json.loads(data[len("data: ") :])
        if payload.get("type") != kind:
            raise Violation(f"event {kind!r} carries type {payload.get('type')!r}")
        if kind == "error" and not upstream_failed:
            raise Violation(f"a stream ended by an error nobody caused: {payload!r:.300}")
        if kind.startswith("response.") or (kind == "error" and "sequence_number" in payload):
            validate(payload, EVENT_SCHEMAS[kind])
        elif kind == "error":
            ANTHROPIC_ERROR.validate_python(payload)
        elif kind != "ping":
            ANTHROPIC_EVENT.validate_python(payload)
        kinds.append(kind)
    if not kinds or kinds[-1] not in _STREAM_ENDS:
        raise Violation(f"a stream that does not end with its last event: {kinds[-3:]!r}")
