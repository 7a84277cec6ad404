"""Server-sent events framing of chat chunks, shared by the streaming and buffered adapters."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from oci_genai_gateway.core.errors import GatewayError, InternalError

log = logging.getLogger(__name__)

DONE = b"data: [DONE]\n\n"


def event(payload: Any) -> bytes:
    """One `data:` event."""
    return b"data: " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


class SseStream:
    """Chunks framed as server-sent events; a failure after the first byte becomes an error event.

    The failure is also kept in `failure`, so a transport that buffers the whole body (Functions)
    can answer with the failure's status instead of a 200 carrying an error event.
    """

    def __init__(
        self,
        chunks: AsyncIterator[dict[str, Any]],
        *,
        render: Callable[[dict[str, Any]], bytes] = event,
        end: bytes = DONE,
        render_error: Callable[[GatewayError], bytes] = lambda exc: event(exc.to_body()),
    ) -> None:
        self.failure: GatewayError | None = None
        self._render, self._end, self._render_error = render, end, render_error
        self._frames = self._generate(chunks)

    def __aiter__(self) -> SseStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._frames.__anext__()

    async def aclose(self) -> None:
        """Stop early (client gone, deadline): the chunk source's cleanup runs now."""
        await self._frames.aclose()

    async def _generate(self, chunks: AsyncIterator[dict[str, Any]]) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in chunks:
                yield self._render(chunk)
        except GatewayError as exc:
            log.warning(
                "stream ended by upstream error", extra={"event": "stream_error", "status": exc.status}
            )
            self.failure = exc
            yield self._render_error(exc)
        except Exception:
            log.exception("stream failed", extra={"event": "stream_bug"})
            self.failure = InternalError("The gateway failed while streaming.")
            yield self._render_error(self.failure)
        if self._end:
            yield self._end


def frame(chunks: AsyncIterator[dict[str, Any]]) -> SseStream:
    """Chat chunks as OpenAI's stream: `data:` events ending in `data: [DONE]`."""
    return SseStream(chunks)
