"""ASGI transport (compose target, `make run`): bearer keys, CORS, request ids, true SSE streaming."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from oci_genai_gateway.core.errors import GatewayError, PayloadTooLarge, Unauthorized
from oci_genai_gateway.core.gateway import Gateway, Reply, error_reply, route_path
from oci_genai_gateway.core.keys import bearer_token, match_key
from oci_genai_gateway.core.logs import request_id

log = logging.getLogger("oci_genai_gateway.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_PUBLIC = ("/health/",)


class GatewayApp:
    """One ASGI callable in front of `Gateway.handle`."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.settings = gateway.deps.settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if _REQUEST_ID.match(incoming) else f"req_{uuid.uuid4().hex}"
        token = request_id.set(rid)
        started = time.perf_counter()
        principal: str | None = None
        status = 500
        try:
            try:
                principal = self._authenticate(request)
                body = await self._read_body(request)
                reply = await self.gateway.handle(request.method, request.url.path, body)
            except GatewayError as exc:
                reply = error_reply(exc)
            except ClientDisconnect:
                return
            status = reply.status
            response = _to_response(reply)
            response.headers["X-Request-Id"] = rid
            await response(scope, receive, send)
        finally:
            log.info(
                "request",
                extra={
                    "event": "request",
                    "method": request.method,
                    "path": request.url.path,
                    "status": status,
                    "key_name": principal,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id.reset(token)

    def _authenticate(self, request: Request) -> str | None:
        if route_path(request.url.path).startswith(_PUBLIC):
            return None
        token = bearer_token(request.headers.get("authorization"))
        name = match_key(token, self.settings.api_keys) if token else None
        if name is None:
            raise Unauthorized(
                "Incorrect API key provided."
                if token
                else "Missing bearer key: send 'Authorization: Bearer <key>'."
            )
        return name

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)


def _to_response(reply: Reply) -> Response:
    if reply.stream is not None:
        return StreamingResponse(reply.stream, status_code=reply.status, headers=reply.headers)
    headers = {k: v for k, v in reply.headers.items() if k.lower() != "content-type"}
    return JSONResponse(reply.body, status_code=reply.status, headers=headers)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(gateway: Gateway) -> ASGIApp:
    """The ASGI app: CORS (origins from settings; none by default) around the gateway."""
    app: Any = GatewayApp(gateway)
    origins = list(gateway.deps.settings.cors_origins)
    if origins:
        app = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            # "*" mirrors the requested headers, which covers Authorization and the x-stainless-*
            # headers the OpenAI JS SDK sends from a browser.
            allow_headers=["*"],
            expose_headers=["X-Request-Id", "Retry-After"],
            max_age=600,
        )
    return app  # type: ignore[no-any-return]
