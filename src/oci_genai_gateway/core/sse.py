"""Server-sent events: their encoding, and the one stream that turns a chat stream into an API's events."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Protocol

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


Chunk = dict[str, Any]


class ChunkSource(Protocol):
    """Chat chunks from an open OCI stream; `aclose` releases it, whether or not reading began."""

    def __aiter__(self) -> AsyncIterator[Chunk]: ...

    async def aclose(self) -> None: ...


class StreamRenderer(Protocol):
    """How one API writes a chat stream as its events (core/apis/*); EventStream runs it."""

    trailer: bytes  # sent last, after a failure too (chat's `data: [DONE]`); b"" for none

    def start(self) -> list[bytes]:
        """The events before the first chunk."""

    def feed(self, chunk: Chunk) -> list[bytes]:
        """The events one chat chunk adds."""

    def finish(self) -> list[bytes]:
        """The events after the last chunk."""

    def error(self, exc: GatewayError) -> bytes:
        """The event that ends a stream which failed after its first byte."""


class EventStream:
    """A chat stream written by a renderer: the one place a failure mid-stream is caught and told.

    A transport that buffers the whole body (Functions) answers `failure` with its own status
    instead of a 200 carrying an error event; a streaming transport has sent bytes and cannot.
    """

    def __init__(self, chunks: ChunkSource, renderer: StreamRenderer) -> None:
        self.failure: GatewayError | None = None  # what ended the stream after its first byte
        self._frames = self._generate(chunks, renderer)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._frames.__anext__()

    async def aclose(self) -> None:
        """Stop early (client gone, deadline): the OCI stream is closed now."""
        await self._frames.aclose()

    async def _generate(self, chunks: ChunkSource, renderer: StreamRenderer) -> AsyncGenerator[bytes, None]:
        # aclosing: a client that leaves closes the OCI stream at once, even before its first chunk.
        async with contextlib.aclosing(chunks):
            try:
                for piece in renderer.start():
                    yield piece
                async for chunk in chunks:
                    for piece in renderer.feed(chunk):
                        yield piece
                for piece in renderer.finish():
                    yield piece
            except GatewayError as exc:
                log.warning(
                    "stream ended by upstream error", extra={"event": "stream_error", "status": exc.status}
                )
                self.failure = exc
                yield renderer.error(exc)
            except Exception:
                log.exception("stream failed", extra={"event": "stream_bug"})
                self.failure = InternalError("The gateway failed while streaming.")
                yield renderer.error(self.failure)
            if renderer.trailer:
                yield renderer.trailer
