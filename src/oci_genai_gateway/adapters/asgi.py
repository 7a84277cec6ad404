"""ASGI transport (compose target, `make run --asgi`): CORS, request ids and true SSE streaming."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect
from starlette.requests import Request as HttpRequest
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from oci_genai_gateway.adapters.http import log_request, lower_headers, reply_bytes, request_id
from oci_genai_gateway.core.errors import GatewayError
from oci_genai_gateway.core.exchange import Reply, Request
from oci_genai_gateway.core.gateway import Gateway
from oci_genai_gateway.core.logs import request_id as request_id_var


class ClientClosed(GatewayError):
    """The client went away while sending its body (nginx's 499); nobody reads the answer."""

    status = 499
    error_type = "invalid_request_error"
    default_code = "client_closed_request"


class RequestTimeout(GatewayError):
    """The client stopped sending its body (408)."""

    status = 408
    error_type = "invalid_request_error"
    default_code = "request_timeout"


class GatewayApp:
    """One ASGI callable in front of `Gateway.handle`."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self.gateway.aclose)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        http = HttpRequest(scope, receive)
        headers = lower_headers(http.headers)
        rid = request_id([headers.get("x-request-id")])
        token = request_id_var.set(rid)
        reply = Reply(500)
        try:
            # The raw path, as sent: Starlette's parsed one has some control characters dropped.
            raw_path = scope.get("raw_path") or http.url.path.encode()
            body = _body(http, self.gateway.settings.client_timeout)
            request = Request(http.method, raw_path.decode("latin-1"), headers, body)
            reply = await self.gateway.handle(request)
            response = _to_response(reply)
            response.headers["X-Request-Id"] = rid
            await response(scope, receive, send)
        finally:
            log_request(http.method, reply, started)
            request_id_var.reset(token)


async def _body(request: HttpRequest, idle: float) -> AsyncIterator[bytes]:
    """The body as it arrives, each piece within `idle` seconds; a client that leaves is a 499."""
    pieces = request.stream()
    try:
        while True:
            # A slow body is a slow client, not a slow model: bound the wait for each piece.
            async with asyncio.timeout(idle):
                chunk = await anext(pieces, None)
            if chunk is None:
                return
            yield chunk
    except ClientDisconnect:
        raise ClientClosed("The client closed the connection.") from None
    except TimeoutError:
        raise RequestTimeout(f"The request body stalled for {idle:g} s.") from None


def _to_response(reply: Reply) -> Response:
    if reply.stream is not None:
        return StreamingResponse(reply.stream, status_code=reply.status, headers=reply.headers)
    return Response(reply_bytes(reply), status_code=reply.status, headers=reply.headers)


async def _lifespan(receive: Receive, send: Send, on_shutdown: Callable[[], Awaitable[None]]) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await on_shutdown()  # the usage metrics still queued
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(gateway: Gateway) -> ASGIApp:
    """The ASGI app: CORS (origins from settings; none by default) around the gateway."""
    app: Any = GatewayApp(gateway)
    origins = list(gateway.settings.cors_origins)
    if origins:
        app = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            # "*" mirrors the requested headers, which covers Authorization and the x-stainless-*
            # headers the OpenAI JS SDK sends from a browser.
            allow_headers=["*"],
            expose_headers=[
                "X-Request-Id",
                "Retry-After",
                "X-Gateway-Ignored-Fields",
                "X-Gateway-Omitted-Tools",
                "X-Gateway-Region",
            ],
            max_age=600,
        )
    return app  # type: ignore[no-any-return]
