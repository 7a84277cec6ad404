"""OCI Functions transport: one fdk handler per route family, over the same core as the ASGI server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import io
import json
import logging
import os
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.errors import (
    ConfigError,
    GatewayError,
    InternalError,
    InvalidRequest,
    NotFound,
    UpstreamTimeout,
)
from oci_genai_gateway.core.gateway import Gateway, Reply, error_reply, route_path
from oci_genai_gateway.core.logs import request_id

log = logging.getLogger("oci_genai_gateway.access")

Handler = Callable[[Any, io.BytesIO | None], Awaitable[Any]]

MODELS_ROUTE = "/v1/models"
_HTTP_REQUEST = "httprequest"
# OCI request ids look like "/HEX/HEX"; anything else a client sends is replaced, not echoed.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,200}$")
# Answer a little before the platform's deadline, so the client gets an OpenAI 504 and not a bare kill.
_DEADLINE_MARGIN_SECONDS = 1.0


@dataclass(frozen=True)
class Invocation:
    """One call as the platform delivered it, reduced to what the gateway needs."""

    via_gateway: bool
    method: str
    url: str
    body: bytes
    request_id: str
    deadline: float | None  # time.monotonic() value; None when Fn-Deadline is unreadable


class FunctionRuntime:
    """Serves one route family; builds the gateway once per container, on the first invoke."""

    def __init__(self, build: Callable[[], Gateway], route: str, method: str) -> None:
        self._build = build
        self._route = route
        self._method = method
        self._gateway: Gateway | None = None
        self._lock = asyncio.Lock()

    async def gateway(self) -> Gateway:
        """The container's gateway; a failed build is retried on the next invoke."""
        if self._gateway is None:
            async with self._lock:
                if self._gateway is None:
                    # Importing LiteLLM and reading the RP token take seconds: keep the loop free.
                    self._gateway = await asyncio.to_thread(self._build)
        return self._gateway

    async def handle(self, ctx: Any, data: io.BytesIO | None = None) -> Any:
        """The fdk handler; never raises (the FDK would answer 502 with the exception text)."""
        started = time.perf_counter()
        call = describe(ctx, data, self._route, self._method)
        token = request_id.set(call.request_id)
        try:
            reply, body = await self._answer(call)
        except Exception:
            log.exception("function failed", extra={"event": "bug"})
            reply = error_reply(InternalError("The gateway failed to process the request."))
            body = _json(reply.body)
        finally:
            request_id.reset(token)
        _log(call, reply.status, started)
        return respond(ctx, call, reply, body)

    async def _answer(self, call: Invocation) -> tuple[Reply, bytes]:
        reply = await self._reply(call)
        if reply.stream is None:
            return reply, _json(reply.body)
        try:
            async with asyncio.timeout(_budget(call)):
                return reply, await _collect(reply)
        except TimeoutError:
            # Headers are not sent yet: a late stream can still become a clean 504.
            reply = _timeout_reply()
            return reply, _json(reply.body)

    async def _reply(self, call: Invocation) -> Reply:
        try:
            url = call.url if call.via_gateway else plain_invoke_path(self._route, call.body)
            path = route_path(url)
            if path != self._route and not path.startswith(self._route + "/"):
                # Each function serves its own routes only; API Gateway sends the others elsewhere.
                raise NotFound(f"Unknown route: {path}", code="unknown_url")
            gateway = await self.gateway()
            async with asyncio.timeout(_budget(call)):
                return await gateway.handle(call.method, url, call.body)
        except TimeoutError:
            return _timeout_reply()
        except GatewayError as exc:
            return error_reply(exc)
        except ConfigError as exc:
            # Settings errors name the variable, never a secret value; the operator needs them.
            log.error("function misconfigured: %s", exc, extra={"event": "config_error"})
            return error_reply(InternalError(f"The gateway function is misconfigured: {exc}"))


def describe(ctx: Any, data: io.BytesIO | None, route: str, method: str) -> Invocation:
    """Read method, URL, body, request id and deadline from the FDK context."""
    headers = _lower(ctx.Headers())
    via_gateway = headers.get("fn-intent") == _HTTP_REQUEST
    body = data.getvalue() if data is not None else b""
    url, verb, candidates = route, method, []
    if via_gateway:
        # Fn-Http-Request-Url is raw; decode the path as ASGI servers do, so both adapters agree.
        url = urllib.parse.unquote(str(ctx.RequestURL() or route).split("?", 1)[0])
        verb = str(ctx.Method() or method).upper()
        candidates.append(_lower(ctx.HTTPHeaders()).get("x-request-id", ""))
    candidates += [headers.get("opc-request-id", ""), str(ctx.CallID() or "")]
    rid = next((c for c in candidates if _REQUEST_ID.match(c)), "unknown")
    return Invocation(via_gateway, verb, url, body, rid, _deadline(ctx.Deadline()))


def plain_invoke_path(route: str, body: bytes) -> str:
    """A plain `fn invoke` has no URL: the function's route, or `{"model": id}` for one model."""
    if route != MODELS_ROUTE or not body.strip():
        return route
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if parsed == {}:
        return route
    if isinstance(parsed, dict) and set(parsed) == {"model"} and isinstance(parsed["model"], str):
        return f"{route}/{parsed['model']}"
    raise InvalidRequest(
        'The models function takes an empty body (list the models) or {"model": "<id>"} (one model).'
    )


def respond(ctx: Any, call: Invocation, reply: Reply, body: bytes) -> Any:
    """The fdk Response: real status and headers through API Gateway, the error body on `fn invoke`."""
    from fdk.response import Response

    headers = {**reply.headers, "X-Request-Id": call.request_id}
    # Through API Gateway the FDK encodes status_code as Fn-Http-Status; a plain invoke has no
    # status for the caller (the FDK turns most into 200), so the envelope in the body is the answer.
    response = Response(
        ctx, response_data=body, headers=headers, status_code=reply.status if call.via_gateway else 200
    )
    # The container's own status must be 200 whatever the client status: the Fn platform treats 502
    # and 504 from the FDK as a failed or timed-out function and drops our OpenAI error body.
    response.status_code = 200
    return response


def function(route: str, method: str) -> Handler:
    """The fdk handler of the function serving `method route` (and, for models, `route/{id}`)."""
    # /v1/models never calls LiteLLM: skipping its import saves ~2 s and ~100 MB of the cold start.
    build = functools.partial(build_from_environment, os.environ, with_llm=route != MODELS_ROUTE)
    return FunctionRuntime(build, route, method).handle


def build_from_environment(env: Mapping[str, str], *, with_llm: bool) -> Gateway:
    """Build the gateway from the function's configuration (its environment)."""
    from oci_genai_gateway.bootstrap import build_gateway

    return build_gateway(env, with_llm=with_llm)


async def _collect(reply: Reply) -> bytes:
    """Functions cannot stream: buffer the whole SSE body (every chunk, usage, [DONE])."""
    assert reply.stream is not None
    stream: Any = reply.stream
    # aclosing: on a deadline the generator is closed at once, releasing the upstream connection.
    async with contextlib.aclosing(stream) as chunks:
        return b"".join([chunk async for chunk in chunks])


def _timeout_reply() -> Reply:
    return error_reply(UpstreamTimeout("The request did not complete within the function's timeout."))


def _budget(call: Invocation) -> float | None:
    if call.deadline is None:
        return None
    return max(call.deadline - time.monotonic() - _DEADLINE_MARGIN_SECONDS, 0.0)


def _deadline(fn_deadline: object) -> float | None:
    """Fn-Deadline (RFC 3339) as a time.monotonic() value, or None when it cannot be read."""
    try:
        when = dt.datetime.fromisoformat(str(fn_deadline))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return time.monotonic() + (when - dt.datetime.now(dt.UTC)).total_seconds()


def _json(body: dict[str, Any] | None) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _lower(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in dict(headers or {}).items():
        out[str(key).lower()] = str(value[0]) if isinstance(value, list) and value else str(value)
    return out


def _log(call: Invocation, status: int, started: float) -> None:
    log.info(
        "request",
        extra={
            "event": "request",
            "method": call.method,
            "path": route_path(call.url),
            "status": status,
            "via": "api_gateway" if call.via_gateway else "invoke",
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
