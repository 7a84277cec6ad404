"""OCI Functions transport: one fdk handler per route, one small class per kind of invoke (as Mangum does)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from oci_genai_gateway.adapters.fdk_clock import keep_fdk_clock, set_fdk_clock
from oci_genai_gateway.adapters.http import log_request, lower_headers, reply_bytes, request_id
from oci_genai_gateway.core.errors import ConfigError, GatewayError, InternalError, InvalidRequest
from oci_genai_gateway.core.exchange import Reply, Request
from oci_genai_gateway.core.gateway import Gateway, error_reply
from oci_genai_gateway.core.logs import request_id as request_id_var

log = logging.getLogger(__name__)

MODELS_ROUTE = "/v1/models"
CHAT_ROUTE = "/v1/chat/completions"
# The chat function also serves the Responses and Messages APIs: the same pipeline and the same
# LiteLLM import, so one warm pool serves all three (docs/PERFORMANCE.md, "One function, three APIs").
ROUTE_FAMILIES = {CHAT_ROUTE: (CHAT_ROUTE, "/v1/responses", "/v1/messages")}
# Answer a little before the platform's deadline, so the client gets an OpenAI 504 and not a bare kill.
_DEADLINE_MARGIN_SECONDS = 1.0


@dataclass(frozen=True)
class Invoke:
    """What one kind of invoke turned into: the core request, or a reply for a body it cannot take."""

    request: Request
    request_id: str
    refused: GatewayError | None = None


class InvokeKind(Protocol):
    """How one kind of invoke reads its request and carries its reply."""

    name: ClassVar[str]

    def read(self, ctx: Any, headers: Mapping[str, str], body: bytes, route: str) -> Invoke: ...

    def status(self, reply: Reply) -> int: ...


class ApiGatewayInvoke:
    """An "http request" invoke from API Gateway: the client's method, URL and headers in Fn-Http-*."""

    name: ClassVar[str] = "api_gateway"

    def read(self, ctx: Any, headers: Mapping[str, str], body: bytes, route: str) -> Invoke:
        """The client's request, as API Gateway forwarded it."""
        client = lower_headers(ctx.HTTPHeaders())
        rid = request_id([client.get("x-request-id"), headers.get("opc-request-id"), str(ctx.CallID() or "")])
        path = str(ctx.RequestURL() or route)
        request = Request(
            str(ctx.Method() or "GET").upper(), path, client, body, _deadline(ctx.Deadline()), True
        )
        return Invoke(request, rid)

    def status(self, reply: Reply) -> int:
        """The FDK encodes it as Fn-Http-Status for API Gateway to send."""
        return reply.status


class PlainInvoke:
    """A plain `fn invoke`: no URL or method, the body is the request, the caller sees no status."""

    name: ClassVar[str] = "invoke"

    def __init__(self, method: str) -> None:
        self._method = method

    def read(self, ctx: Any, headers: Mapping[str, str], body: bytes, route: str) -> Invoke:
        """The route's own request; the models function reads `{"model": id}` as one model's path."""
        rid = request_id([headers.get("opc-request-id"), str(ctx.CallID() or "")])
        deadline = _deadline(ctx.Deadline())
        try:
            path = plain_invoke_path(route, body)
        except InvalidRequest as exc:
            return Invoke(Request(self._method, route, {}, b"", deadline, True), rid, refused=exc)
        if self._method == "GET":
            body = b""
        return Invoke(Request(self._method, path, {}, body, deadline, True), rid)

    def status(self, reply: Reply) -> int:
        """The FDK turns most statuses into 200 on a plain invoke, so the envelope in the body tells."""
        return 200


class FunctionRuntime:
    """Serves one route family; builds the gateway once per container, on the first invoke."""

    def __init__(self, build: Callable[[], Gateway], route: str, method: str) -> None:
        self._build = build
        self._route = route
        self._kinds: dict[bool, InvokeKind] = {True: ApiGatewayInvoke(), False: PlainInvoke(method)}
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
        """The fdk handler; answers every invoke (the FDK would turn an exception into a 502)."""
        started = time.perf_counter()
        keep_fdk_clock()
        headers = lower_headers(ctx.Headers())
        kind = self._kinds[headers.get("fn-intent") == "httprequest"]
        invoke = kind.read(ctx, headers, data.getvalue() if data is not None else b"", self._route)
        token = request_id_var.set(invoke.request_id)
        try:
            reply = await self._reply(invoke)
            log_request(invoke.request.method, reply, started, via=kind.name)
        finally:
            request_id_var.reset(token)
        return respond(ctx, reply, kind.status(reply), invoke.request_id)

    async def _reply(self, invoke: Invoke) -> Reply:
        if invoke.refused is not None:
            return error_reply(invoke.refused)
        try:
            gateway = await self.gateway()
        except ConfigError as exc:
            # Settings errors name the variable, never a secret value; the operator needs them.
            log.error("function misconfigured: %s", exc, extra={"event": "config_error"})
            return error_reply(InternalError(f"The gateway function is misconfigured: {exc}"))
        except Exception:
            log.exception("function failed to start", extra={"event": "bug"})
            return error_reply(InternalError("The gateway function failed to start."))
        return await gateway.handle(invoke.request)


def plain_invoke_path(route: str, body: bytes) -> str:
    """A plain `fn invoke` has no URL: the function's route, or `{"model": id}` for one model."""
    if route != MODELS_ROUTE or not body.strip():
        return route
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # a body nested thousands deep must be refused, not raised
        parsed = None
    if parsed == {}:
        return route
    if isinstance(parsed, dict) and set(parsed) == {"model"} and isinstance(parsed["model"], str):
        return f"{route}/{parsed['model']}"
    raise InvalidRequest(
        'The models function takes an empty body (list the models) or {"model": "<id>"} (one model).'
    )


def respond(ctx: Any, reply: Reply, status: int, rid: str) -> Any:
    """The fdk Response carrying the client's status, headers and body."""
    from fdk.response import Response

    headers = {**reply.headers, "X-Request-Id": rid}
    response = Response(ctx, response_data=reply_bytes(reply), headers=headers, status_code=status)
    # The container's own status must be 200 whatever the client status: the Fn platform treats 502
    # and 504 from the FDK as a failed or timed-out function and drops our OpenAI error body.
    response.status_code = 200
    return response


def fdk_handler(route: str, method: str) -> Callable[[Any, io.BytesIO | None], Any]:
    """The fdk handler of the function serving `method route` and its family (models: `route/{id}`)."""
    # Only chat builds requests with LiteLLM: the other functions skip its ~2 s, ~175 MB import.
    with_llm = route == CHAT_ROUTE
    serves = ROUTE_FAMILIES.get(route, (route,))

    set_fdk_clock()  # before the first connection: its timers read this clock too

    def build() -> Gateway:
        from oci_genai_gateway.bootstrap import build_gateway

        return build_gateway(os.environ, with_llm=with_llm, serves=serves)

    return FunctionRuntime(build, route, method).handle


def _deadline(fn_deadline: object) -> float | None:
    """Fn-Deadline (RFC 3339) as a time.monotonic() answer-by time, or None when it cannot be read."""
    try:
        when = dt.datetime.fromisoformat(str(fn_deadline))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    remaining = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return time.monotonic() + remaining - _DEADLINE_MARGIN_SECONDS
