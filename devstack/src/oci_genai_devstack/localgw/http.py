"""Small raw-ASGI helpers: an ordered header list, reading a bounded body, sending a response."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# C0 controls and DEL; HTAB is allowed inside a header value.
# https://www.rfc-editor.org/rfc/rfc9110#section-5.5
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_VALUE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Optional whitespace around a field value is not part of it (RFC 9110 section 5.5, above).
_OWS = " \t"

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
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


def openai_error(status: int, message: str, code: str) -> Response:
    """An error the deployed product answers itself, in OpenAI's `{"error": {...}}` envelope."""
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    body = json.dumps({"error": error}, separators=(",", ":")).encode()
    return Response(status, body, Headers([("content-type", "application/json")]))


def request_headers(scope: Scope) -> Headers:
    """The client's headers, decoded as latin-1 (what HTTP/1.1 carries), values without their OWS."""
    # A server may hand over trailing whitespace (httptools does), which the function's
    # connection then refuses; HTTP parsing drops it from the value (RFC 9110 section 5.5).
    return Headers(
        (bytes(n).decode("latin-1"), bytes(v).decode("latin-1").strip(_OWS)) for n, v in scope["headers"]
    )


def has_control_characters(raw_path: str) -> bool:
    """Whether a raw request path carries a control character, as sent or percent-encoded."""
    return bool(_CONTROL.search(raw_path) or _CONTROL.search(unquote(raw_path)))


def has_bad_header_value(headers: Headers) -> bool:
    """Whether a header value holds a control character (one no HTTP/1.1 client may forward)."""
    return any(_VALUE_CONTROL.search(value) for _, value in headers)


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
