"""What every answer to a hostile request must be: no 5xx, OpenAI's envelope or a valid success, no leak."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.openapi import validate

# What a traceback, a file path or an exception's repr looks like in a body.
LEAKS = re.compile(
    r"Traceback|File \"|site-packages|\.py\b|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|object at 0x|pydantic",
)
# OCI API Gateway answers these itself, in its own {"code", "message"} shape (devstack README).
GATEWAY_OWN = frozenset({401, 404, 405, 413, 429})


class Violation(AssertionError):
    """An answer that breaks a property; its text says which and shows the answer."""


def check(
    status: int,
    content_type: str,
    body: bytes,
    *,
    api_gateway: bool = False,
    upstream_failed: bool = False,
) -> None:
    """Raise Violation unless (status, body) is a valid answer to some request.

    `api_gateway`: API Gateway's own 4xx shape is fine too; `upstream_failed`: OCI was told to fail,
    so a 502/504 envelope (or an error event ending a stream) is the right answer.
    """
    shown = f"{status} {content_type} {body[:300]!r}"
    if status >= 500 and not (upstream_failed and status in (502, 504)):
        raise Violation(f"5xx: {shown}")
    if LEAKS.search(body.decode("utf-8", "replace")):
        raise Violation(f"internal detail in the body: {shown}")
    try:
        if content_type.startswith("text/event-stream"):
            _check_stream(body, upstream_failed)
            return
        payload = json.loads(body)
        if status >= 400:
            if api_gateway and status in GATEWAY_OWN and set(payload) == {"code", "message"}:
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
