"""OCI Functions transport: an fdk handler per route, over the same core as the ASGI server."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Awaitable, Callable
from typing import Any

from oci_genai_gateway.core.errors import ConfigError, GatewayError, InternalError
from oci_genai_gateway.core.gateway import Gateway, Reply, error_reply
from oci_genai_gateway.core.logs import request_id

Handler = Callable[[Any, io.BytesIO | None], Awaitable[Any]]


class FunctionRuntime:
    """Builds the gateway once per container (cold start) and serves every invoke with it."""

    def __init__(self, build: Callable[[], Gateway]) -> None:
        self._build = build
        self._gateway: Gateway | None = None
        self._lock = asyncio.Lock()

    async def gateway(self) -> Gateway:
        """The container's gateway, built on the first invoke (so the FDK listens at once)."""
        if self._gateway is None:
            async with self._lock:
                if self._gateway is None:
                    # Importing LiteLLM and reading the RP token take seconds: keep the loop free.
                    self._gateway = await asyncio.to_thread(self._build)
        return self._gateway

    def handler(self, path: str, method: str) -> Handler:
        """An fdk handler serving `method path`; plain `fn invoke` calls get that route too."""

        async def handle(ctx: Any, data: io.BytesIO | None = None) -> Any:
            from fdk.response import Response

            headers = _lower(ctx.Headers())
            rid = headers.get("opc-request-id") or ctx.CallID() or ""
            token = request_id.set(rid)
            try:
                reply = await self._serve(ctx, data, path, method)
                body = await _body(reply)
            finally:
                request_id.reset(token)
            out = {**reply.headers, "X-Request-Id": rid}
            return Response(ctx, response_data=body, headers=out, status_code=reply.status)

        return handle

    async def _serve(self, ctx: Any, data: io.BytesIO | None, path: str, method: str) -> Reply:
        try:
            gateway = await self.gateway()
            raw = data.getvalue() if data is not None else b""
            # Through API Gateway the FDK hands us the client's method and URL; `fn invoke` has none.
            return await gateway.handle(ctx.Method() or method, ctx.RequestURL() or path, raw)
        except GatewayError as exc:
            return error_reply(exc)
        except ConfigError as exc:
            # Settings errors name the variable, never a secret value; the operator needs them.
            return error_reply(InternalError(f"The gateway function is misconfigured: {exc}"))
        except Exception:
            # Never let an exception reach the FDK: it would answer 502 with the exception text.
            import logging

            logging.getLogger(__name__).exception("function failed", extra={"event": "bug"})
            return error_reply(InternalError("The gateway failed to process the request."))


async def _body(reply: Reply) -> bytes:
    """Functions cannot stream: a streamed reply is buffered into one complete SSE body."""
    if reply.stream is not None:
        return b"".join([chunk async for chunk in reply.stream])
    import json

    return json.dumps(reply.body, separators=(",", ":"), ensure_ascii=False).encode()


def _lower(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in dict(headers or {}).items():
        out[str(key).lower()] = value[0] if isinstance(value, list) and value else str(value)
    return out


def _build_from_environment() -> Gateway:
    from oci_genai_gateway.bootstrap import build_gateway

    return build_gateway(os.environ)


runtime = FunctionRuntime(_build_from_environment)
