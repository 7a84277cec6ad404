"""A request and its reply as every transport hands them to the core and takes them back."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

JSON_HEADERS = {"Content-Type": "application/json"}
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass(frozen=True)
class Request:
    """One client request as any transport delivers it."""

    method: str
    path: str  # the URL path (API Gateway puts the deployment prefix in front)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes | AsyncIterable[bytes] = b""
    deadline: float | None = None  # time.monotonic() by which the transport must answer
    buffered: bool = False  # the transport cannot stream (OCI Functions): collect SSE bodies here


@dataclass(frozen=True)
class Reply:
    """A transport-neutral response: a JSON body, an SSE byte stream, or bytes already rendered."""

    status: int
    body: dict[str, Any] | None = None
    stream: AsyncIterator[bytes] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    route: str = ""  # the matched route path, for the access log
    principal: str | None = None  # the name of the key that authenticated the request


def json_reply(body: dict[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON reply."""
    return Reply(status, body, headers={**JSON_HEADERS, **(headers or {})})


def stream_reply(stream: AsyncIterator[bytes]) -> Reply:
    """A 200 event stream."""
    return Reply(200, stream=stream, headers=dict(SSE_HEADERS))
