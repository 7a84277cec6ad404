"""uvicorn with bounds on what a client may send before the app sees it, answered in OpenAI's envelope.

uvicorn reads a request head of any size, waits forever for one that never completes, and answers
malformed requests in plain text. This protocol class caps the head, times it out, and speaks JSON.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Request line plus headers; a bearer key and the OpenAI SDKs' headers take under 2 KiB.
MAX_HEAD_BYTES = 16 * 1024
# From a connection's first byte (or its opening) to the end of the request head.
HEAD_TIMEOUT_SECONDS = 10.0
# Idle keep-alive: longer than the pools of proxies in front, so the server never closes a connection
# a proxy is about to reuse: Caddy keeps idle ones 2 min; OCI's Load Balancer (the scaled target)
# 300 s, and asks backends not to close them in under 310 s to avoid 502s
# (https://docs.oracle.com/en-us/iaas/Content/Balance/Reference/connectionreuse.htm).
KEEP_ALIVE_SECONDS = 320

_REASONS = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large"}


class _Refused(Exception):
    """Stops the parser after the protocol answered the request itself."""


class ServerConfig(uvicorn.Config):
    """uvicorn's settings plus the request-head timeout; a module-level class, so workers unpickle it."""

    def __init__(self, app: Any, *, head_timeout: float = HEAD_TIMEOUT_SECONDS, **options: Any) -> None:
        super().__init__(app, **options)
        self.head_timeout = head_timeout


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a capped, timed request head and JSON error answers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = getattr(self.config, "head_timeout", HEAD_TIMEOUT_SECONDS)
        self._awaiting_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A connection that never sends a whole head is closed after HEAD_TIMEOUT_SECONDS."""
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the head timer with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; refuse a head that grows past MAX_HEAD_BYTES before it completes."""
        if self._refused:
            return
        if self._awaiting_head and self._head_timer is None:
            self._arm()
        awaiting = self._awaiting_head
        super().data_received(data)
        if awaiting and self._awaiting_head and not self._refused:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(
                    431, "request_header_fields_too_large", f"Request headers exceed {MAX_HEAD_BYTES} bytes."
                )

    def on_headers_complete(self) -> None:
        """The head is whole: check its size once more (it may have come in one read)."""
        self._awaiting_head = False
        self._head_bytes = 0
        self._disarm()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > MAX_HEAD_BYTES:
            self._refuse(
                431, "request_header_fields_too_large", f"Request headers exceed {MAX_HEAD_BYTES} bytes."
            )
            raise _Refused
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        """The next request on a kept-alive connection gets its own head budget and timer."""
        super().on_response_complete()
        self._awaiting_head = True
        self._head_bytes = 0

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse, in OpenAI's envelope."""
        if not self._refused:
            self._refuse(400, "invalid_request", "The HTTP request is malformed.")

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._awaiting_head and not self._refused and not self.transport.is_closing():
            self._refuse(
                408, "request_timeout", f"The request head did not arrive within {self.head_timeout:g} s."
            )

    def _refuse(self, status: int, code: str, message: str) -> None:
        self._refused = True
        self._disarm()
        body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(payload)}\r\nconnection: close\r\n\r\n"
        ).encode()
        if not self.transport.is_closing():
            self.transport.write(head + payload)
            self.transport.close()


def server_config(
    app: Any, host: str, port: int, *, head_timeout: float = HEAD_TIMEOUT_SECONDS, **options: Any
) -> uvicorn.Config:
    """uvicorn settings every server of this project shares (the gateway and the local API Gateway)."""
    return ServerConfig(
        app,
        head_timeout=head_timeout,
        host=host,
        port=port,
        http=GuardedHttpProtocol,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        server_header=False,
        log_config=None,  # our JSON logging is configured by the entry point
        access_log=False,  # the app logs one structured line per request
        **options,
    )
