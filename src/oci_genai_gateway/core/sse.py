"""Server-sent events: chat chunks and named events, shared by the streaming and buffered adapters."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from oci_genai_gateway.core.errors import GatewayError, InternalError

log = logging.getLogger(__name__)

DONE = b"data: [DONE]\n\n"


def event(payload: Any) -> bytes:
    """One `data:` event."""
    return b"data: " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def named_event(kind: str, payload: Any) -> bytes:
    """One `event: <kind>` event: the Responses and Anthropic Messages streams name every event."""
    return f"event: {kind}\n".encode() + event(payload)


async def frame(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """Frame chunks as SSE ending in [DONE]; a failure after the first byte becomes an error event."""
    try:
        async for chunk in chunks:
            yield event(chunk)
    except GatewayError as exc:
        log.warning("stream ended by upstream error", extra={"event": "stream_error", "status": exc.status})
        yield event(exc.to_body())
    except Exception:
        log.exception("stream failed", extra={"event": "stream_bug"})
        yield event(InternalError("The gateway failed while streaming.").to_body())
    yield DONE
