"""Small raw-ASGI helpers: an ordered header list, reading a bounded body, sending a response."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

REASONS = {
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}


class Headers:
    """Ordered (name, value) pairs with case-insensitive lookups; repeats are kept."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = list(items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name`."""
        key = name.lower()
        return next((v for n, v in self._items if n.lower() == key), default)

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in order."""
        key = name.lower()
        return [v for n, v in self._items if n.lower() == key]

    def append(self, name: str, value: str) -> None:
        """Add one header line."""
        self._items.append((name, value))

    def remove(self, name: str) -> None:
        """Drop every `name` header."""
        key = name.lower()
        self._items = [(n, v) for n, v in self._items if n.lower() != key]

    def set(self, name: str, value: str) -> None:
        """Replace every `name` header by one."""
        self.remove(name)
        self._items.append((name, value))


class BodyTooLarge(Exception):
    """The request body passed the limit while it was being read."""


@dataclass
class Response:
    """A complete response: the local gateway buffers everything, as functions cannot stream."""

    status: int
    body: bytes = b""
    headers: Headers = field(default_factory=Headers)


def gateway_error(status: int, extra: Headers | None = None) -> Response:
    """One of the gateway's own errors, in OCI API Gateway's `{"code", "message"}` shape."""
    body = json.dumps({"code": status, "message": REASONS.get(status, "Error")}).encode()
    headers = Headers([("content-type", "application/json"), *(extra or ())])
    return Response(status, body, headers)


def request_headers(scope: Scope) -> Headers:
    """The client's headers, decoded as latin-1 (what HTTP/1.1 carries)."""
    return Headers((bytes(n).decode("latin-1"), bytes(v).decode("latin-1")) for n, v in scope["headers"])


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; raise BodyTooLarge as soon as it exceeds `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_response(send: Send, response: Response) -> None:
    """Send `response` with an exact Content-Length."""
    headers = Headers(response.headers)
    headers.set("content-length", str(len(response.body)))
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers],
        }
    )
    await send({"type": "http.response.body", "body": response.body})
