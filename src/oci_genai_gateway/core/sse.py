"""Server-sent events: chat chunks and named events, shared by the streaming and buffered adapters."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from oci_genai_gateway.core.errors import GatewayError, InternalError

log = logging.getLogger(__name__)

DONE = b"data: [DONE]\n\n"


def json_bytes(payload: Any) -> bytes:
    """Compact UTF-8 JSON, the encoding of every reply body and event."""
    try:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        # A lone surrogate (OCI's JSON may escape one) has no UTF-8 form: JSON's \u escape writes it.
        return json.dumps(payload, separators=(",", ":")).encode()


def event(payload: Any) -> bytes:
    """One `data:` event."""
    return b"data: " + json_bytes(payload) + b"\n\n"


def named_event(kind: str, payload: Any) -> bytes:
    """One `event: <kind>` event: the Responses and Anthropic Messages streams name every event."""
    return f"event: {kind}\n".encode() + event(payload)


class EventStream:
    """An event stream's bytes; `failure` is the error it ended with after its first byte, if any.

    A transport that buffers the whole body (Functions) answers such a failure with its own status
    instead of a 200 carrying an error event; a streaming transport has sent bytes and cannot.
    """

    def __init__(
        self, frames: AsyncGenerator[bytes, None], failure: Callable[[], GatewayError | None] = lambda: None
    ) -> None:
        self._frames = frames
        self._failure = failure

    @property
    def failure(self) -> GatewayError | None:
        """The error the stream ended with, once it ended."""
        return self._failure()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._frames.__anext__()

    async def aclose(self) -> None:
        """Stop early (client gone, deadline): the chunk source's cleanup runs now."""
        await self._frames.aclose()


class SseStream(EventStream):
    """Chunks framed as `data:` events; a failure after the first byte becomes an error event."""

    def __init__(
        self,
        chunks: AsyncIterator[dict[str, Any]],
        *,
        render: Callable[[dict[str, Any]], bytes] = event,
        end: bytes = DONE,
        render_error: Callable[[GatewayError], bytes] = lambda exc: event(exc.to_body()),
    ) -> None:
        self._failed: GatewayError | None = None
        self._render, self._end, self._render_error = render, end, render_error
        super().__init__(self._generate(chunks), lambda: self._failed)

    async def _generate(self, chunks: AsyncIterator[dict[str, Any]]) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in chunks:
                yield self._render(chunk)
        except GatewayError as exc:
            log.warning(
                "stream ended by upstream error", extra={"event": "stream_error", "status": exc.status}
            )
            self._failed = exc
            yield self._render_error(exc)
        except Exception:
            log.exception("stream failed", extra={"event": "stream_bug"})
            self._failed = InternalError("The gateway failed while streaming.")
            yield self._render_error(self._failed)
        if self._end:
            yield self._end


def frame(chunks: AsyncIterator[dict[str, Any]]) -> SseStream:
    """Chat chunks as OpenAI's stream: `data:` events ending in `data: [DONE]`."""
    return SseStream(chunks)
