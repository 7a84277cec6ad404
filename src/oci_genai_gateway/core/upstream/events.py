"""OCI's server-sent events, read line by line into JSON objects."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from oci_genai_gateway.core.errors import UpstreamError


async def sse_events(response: httpx.Response) -> AsyncGenerator[dict[str, Any] | None, None]:
    """OCI's server-sent events as JSON objects; None for `data: [DONE]` (Meta Llama ends with it).

    Events may be separated by a single newline, or split across reads (litellm's OCI provider
    notes both, litellm/llms/oci/chat/transformation.py `_iter_sse_events`).
    """
    buffer = b""
    async for piece in response.aiter_bytes():
        buffer += piece
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                yield _event(line)
    if buffer.startswith(b"data:"):
        yield _event(buffer)


def _event(line: bytes) -> dict[str, Any] | None:
    data = line[5:].strip()
    if data == b"[DONE]":
        return None
    try:
        value = json.loads(data)
    except ValueError:
        raise UpstreamError("OCI Generative AI sent an unreadable stream event.") from None
    if not isinstance(value, dict):
        raise UpstreamError("OCI Generative AI sent an unexpected stream event.")
    return value
