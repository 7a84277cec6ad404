"""The one stream-failure path (core/sse.EventStream) under every API's renderer: order, failures, leaving."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from oci_genai_gateway.core.errors import GatewayError, InternalError, UpstreamTimeout
from oci_genai_gateway.core.sse import Chunk, EventStream
from tests.fakes import Events, Hang, ScriptedOci, gateway, send, text_event


class Recorder:
    """A StreamRenderer that writes what it was asked, and can fail on a chunk."""

    trailer = b"END"

    def __init__(self, fail_on: int | None = None) -> None:
        self.fail_on = fail_on

    def start(self) -> list[bytes]:
        return [b"start"]

    def feed(self, chunk: Chunk) -> list[bytes]:
        if chunk["n"] == self.fail_on:
            raise KeyError("a renderer bug")
        return [f"chunk {chunk['n']}".encode()]

    def finish(self) -> list[bytes]:
        return [b"finish"]

    def error(self, exc: GatewayError) -> bytes:
        return f"error {exc.code}".encode()


class Source:
    """Chunks 0..count-1, then `fail` if set; records whether it was closed."""

    def __init__(self, count: int, fail: Exception | None = None) -> None:
        self.count, self.fail, self.closed = count, fail, False

    async def chunks(self) -> AsyncGenerator[Chunk, None]:
        try:
            for n in range(self.count):
                yield {"n": n}
            if self.fail is not None:
                raise self.fail
        finally:
            self.closed = True


async def test_a_stream_is_start_chunks_finish_then_the_trailer() -> None:
    source = Source(2)
    stream = EventStream(source.chunks(), Recorder())
    assert [piece async for piece in stream] == [b"start", b"chunk 0", b"chunk 1", b"finish", b"END"]
    assert stream.failure is None
    assert source.closed


async def test_an_upstream_failure_ends_the_stream_with_the_renderers_error_then_the_trailer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = Source(1, UpstreamTimeout("OCI stopped"))
    stream = EventStream(source.chunks(), Recorder())
    assert [piece async for piece in stream] == [b"start", b"chunk 0", b"error upstream_timeout", b"END"]
    assert isinstance(stream.failure, UpstreamTimeout)
    assert [r.event for r in caplog.records] == ["stream_error"]  # type: ignore[attr-defined]


async def test_a_bug_mid_stream_is_an_internal_error_event_and_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = Source(3)
    stream = EventStream(source.chunks(), Recorder(fail_on=1))
    assert [piece async for piece in stream] == [b"start", b"chunk 0", b"error internal_error", b"END"]
    assert isinstance(stream.failure, InternalError)
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "stream_bug"]
    assert record.exc_info is not None
    assert record.exc_info[0] is KeyError
    assert source.closed  # the OCI stream is not left open behind a bug


async def test_a_client_that_leaves_closes_the_source_at_once() -> None:
    source = Source(5)
    stream = EventStream(source.chunks(), Recorder())
    assert [await anext(stream), await anext(stream)] == [b"start", b"chunk 0"]
    await stream.aclose()
    assert source.closed


def _body(path: str) -> bytes:
    body: dict[str, Any] = {"model": "xai.grok-4", "stream": True}
    if path == "/v1/responses":
        body["input"] = "hi"
    else:
        body["messages"] = [{"role": "user", "content": "hi"}]
    if path == "/v1/messages":
        body["max_tokens"] = 64
    return json.dumps(body).encode()


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/responses", "/v1/messages"])
async def test_every_api_closes_ocis_stream_when_its_client_leaves(path: str) -> None:
    oci = ScriptedOci().enqueue(Events([text_event("Hel"), text_event("lo")], then=Hang()))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", path, _body(path))
    assert reply.status == 200
    assert reply.stream is not None
    first = await anext(reply.stream)
    assert first  # the stream had begun
    await reply.stream.aclose()  # type: ignore[attr-defined]
    assert oci.bodies[0].closed
