"""The request path every transport shares: keys, routing, body limit, deadline, and the one catch-all."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
import urllib.parse
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from oci_genai_gateway.core.access import limits
from oci_genai_gateway.core.access import policy as key_policy
from oci_genai_gateway.core.access.keys import match_key, read_key
from oci_genai_gateway.core.apis import embeddings
from oci_genai_gateway.core.apis.messages import render as messages
from oci_genai_gateway.core.apis.messages import request as messages_request
from oci_genai_gateway.core.apis.responses import render as responses
from oci_genai_gateway.core.apis.responses import request as responses_request
from oci_genai_gateway.core.chat import pipeline as chat
from oci_genai_gateway.core.chat import request as chat_request
from oci_genai_gateway.core.chat.request import ChatRequest
from oci_genai_gateway.core.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UpstreamTimeout,
)
from oci_genai_gateway.core.input import images
from oci_genai_gateway.core.input.validate import parse_json_object
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.sse import EventStream, frame
from oci_genai_gateway.core.upstream.catalog import ModelCatalog, oci_fetcher
from oci_genai_gateway.core.upstream.http import OciHttp
from oci_genai_gateway.core.upstream.monitoring import Monitoring
from oci_genai_gateway.core.upstream.signers import RefreshingSigner

log = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json"}
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# Routes under these prefixes answer without a key (load balancers and container health checks).
PUBLIC_PREFIXES = ("/health/",)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


ErrorDialect = Callable[[GatewayError], dict[str, Any]]
# Routes whose clients expect another API's error body (same statuses); all others get OpenAI's envelope.
ERROR_DIALECTS: Mapping[str, ErrorDialect] = {"/v1/messages": messages.error_body}


def error_reply(exc: GatewayError, route: str = "") -> Reply:
    """Render any GatewayError the same way for every transport, in the route's error dialect."""
    render = ERROR_DIALECTS.get(route)
    body = render(exc) if render is not None else exc.to_body()
    return Reply(exc.status, body, headers={**JSON_HEADERS, **exc.headers})


def route_path(path: str) -> str:
    """The OpenAI route inside a raw URL path (API Gateway prefixes it with the deployment path)."""
    path = urllib.parse.unquote(path.split("?", 1)[0])
    if _CONTROL.search(path):
        # ASGI servers drop some of these while parsing; refuse them rather than route around them.
        raise InvalidRequest("The URL path contains control characters.", code="invalid_url")
    for marker in ("/v1/", "/health/"):
        at = path.find(marker)
        if at >= 0:
            return path[at:].rstrip("/") or "/"
    return path


Handler = Callable[["Gateway", str, bytes], Awaitable[Reply]]


async def _with_images(gateway: Gateway, request: ChatRequest) -> ChatRequest:
    """`request` with every remote image URL fetched and inlined as a data URL."""
    inlined = await images.inline_images(request.messages, gateway.image_fetcher)
    return request if inlined is request.messages else dataclasses.replace(request, messages=inlined)


async def _chat(gateway: Gateway, _param: str, body: bytes) -> Reply:
    settings = gateway.settings
    request = chat_request.parse(
        parse_json_object(body), settings.resolve, fetch_images=settings.fetch_image_urls
    )
    request = await _with_images(gateway, request)
    if request.stream:
        chunks = await chat.stream(request, gateway.oci)
        return Reply(200, stream=frame(chunks), headers=dict(SSE_HEADERS))
    return Reply(200, await chat.create(request, gateway.oci), headers=dict(JSON_HEADERS))


async def _responses(gateway: Gateway, _param: str, body: bytes) -> Reply:
    settings = gateway.settings
    request = responses_request.parse(
        parse_json_object(body), settings.resolve, fetch_images=settings.fetch_image_urls
    )
    request = dataclasses.replace(request, chat=await _with_images(gateway, request.chat))
    if request.chat.stream:
        return Reply(200, stream=await responses.stream(request, gateway.oci), headers=dict(SSE_HEADERS))
    return Reply(200, await responses.create(request, gateway.oci), headers=dict(JSON_HEADERS))


async def _stored_response(_gateway: Gateway, response_id: str, _body: bytes) -> Reply:
    raise responses.not_stored(response_id)


async def _messages(gateway: Gateway, _param: str, body: bytes) -> Reply:
    settings = gateway.settings
    request = messages_request.parse(
        parse_json_object(body), settings.resolve, fetch_images=settings.fetch_image_urls
    )
    request = dataclasses.replace(request, chat=await _with_images(gateway, request.chat))
    if request.chat.stream:
        return Reply(200, stream=await messages.stream(request, gateway.oci), headers=dict(SSE_HEADERS))
    return Reply(200, await messages.create(request, gateway.oci), headers=dict(JSON_HEADERS))


async def _embeddings(gateway: Gateway, _param: str, body: bytes) -> Reply:
    request = embeddings.parse(parse_json_object(body), gateway.settings.resolve)
    return Reply(200, await embeddings.create(request, gateway.oci), headers=dict(JSON_HEADERS))


async def _list_models(gateway: Gateway, _param: str, _body: bytes) -> Reply:
    refused = gateway.oci.quirks.not_on_demand  # listed by OCI, but it answered 404 when called
    allowed = gateway.settings.target_of  # a key limited to some models lists only those
    entries = [
        e
        for e in await gateway.catalog.entries()
        if e.id not in refused and key_policy.allowed(e.id, allowed)
    ]
    return Reply(200, {"object": "list", "data": [e.to_dict() for e in entries]}, headers=dict(JSON_HEADERS))


async def _get_model(gateway: Gateway, model: str, _body: bytes) -> Reply:
    gateway.settings.resolve(model)  # 403 for a model the key may not use
    return Reply(200, (await gateway.catalog.get(model)).to_dict(), headers=dict(JSON_HEADERS))


async def _readiness(_gateway: Gateway, _param: str, _body: bytes) -> Reply:
    """The process is up and configured (no upstream call)."""
    return Reply(200, {"status": "ok"}, headers=dict(JSON_HEADERS))


# Path -> method -> handler. A path ending in "/" takes one more segment, passed as the handler's param.
ROUTES: Mapping[str, Mapping[str, Handler]] = {
    "/v1/chat/completions": {"POST": _chat},
    "/v1/responses": {"POST": _responses},
    "/v1/responses/": {"GET": _stored_response, "DELETE": _stored_response},
    "/v1/messages": {"POST": _messages},
    "/v1/embeddings": {"POST": _embeddings},
    "/v1/models": {"GET": _list_models},
    "/v1/models/": {"GET": _get_model},
    "/health/readiness": {"GET": _readiness},
    "/health/liveness": {"GET": _readiness},
}


def match(method: str, path: str) -> tuple[Handler, str]:
    """The handler for `method path` and its path parameter; NotFound or MethodNotAllowed otherwise."""
    by_method, param = ROUTES.get(path), ""
    if by_method is None:
        base, _, param = path.rpartition("/")
        by_method = ROUTES.get(base + "/") if param else None
    if by_method is None:
        raise NotFound(f"Unknown route: {path}", code="unknown_url")
    handler = by_method.get(method)
    if handler is None:
        allowed = ", ".join(by_method)
        raise MethodNotAllowed(
            f"Method {method} is not allowed on {path}; use {allowed}.", headers={"Allow": allowed}
        )
    return handler, param


class Gateway:
    """Settings, the OCI client and the model catalogue; one per process (or function container)."""

    def __init__(
        self,
        settings: Settings,
        oci: OciHttp,
        catalog: ModelCatalog,
        *,
        serves: str | tuple[str, ...] | None = None,
        authenticate: bool = False,
        admission: limits.Admission | None = None,
    ) -> None:
        self.settings = settings
        self.oci = oci
        self.catalog = catalog
        self.serves = serves  # a function serves its route families; API Gateway sends it nothing else
        self.image_fetcher = images.ImageFetcher()  # no network until a request names a remote image
        # The HTTP server checks bearer keys itself; on Functions the API Gateway authorizer does.
        self.authenticate = authenticate
        # The key's policy, limits and budget, and its usage metering (core/access/limits.py).
        self.admission = admission or limits.build_admission(settings, None, authenticate=authenticate)

    @classmethod
    def build(
        cls,
        settings: Settings,
        signer: RefreshingSigner,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        serves: str | tuple[str, ...] | None = None,
        authenticate: bool = False,
        monitoring: limits.MonitoringLike | None = None,
    ) -> Gateway:
        """Wire the gateway from explicit parts (entry points build them; tests pass a transport)."""
        catalog = ModelCatalog(settings, oci_fetcher(settings, signer))
        oci = OciHttp(settings, signer, transport)
        admission = limits.build_admission(
            settings, monitoring or Monitoring(settings, signer), authenticate=authenticate
        )
        return cls(settings, oci, catalog, serves=serves, authenticate=authenticate, admission=admission)

    async def handle(self, request: Request) -> Reply:
        """Serve one request; every failure becomes an OpenAI error reply, never an exception."""
        path = ""
        principal: str | None = None
        try:
            async with asyncio.timeout(_remaining(request.deadline)):
                path = route_path(request.path)
                principal = self._authenticate(path, request.headers)
                principal = await self.admission.admit(request.method.upper(), request.headers, principal)
                if not self._serves(path):
                    raise NotFound(f"Unknown route: {path}", code="unknown_url")
                handler, param = match(request.method.upper(), path)
                reply = await handler(self, param, await self._read_body(request))
                if request.buffered and reply.stream is not None:
                    reply = await _buffer(reply)
        except TimeoutError:
            reply = error_reply(
                UpstreamTimeout("The request did not complete within the function's timeout."), path
            )
        except GatewayError as exc:
            reply = error_reply(exc, path)
        except Exception:
            log.exception("unhandled error", extra={"event": "bug"})
            reply = error_reply(InternalError("The gateway failed to process the request."), path)
        return replace(reply, route=path, principal=principal)

    def _serves(self, path: str) -> bool:
        if not self.serves:
            return True
        families = (self.serves,) if isinstance(self.serves, str) else self.serves
        return any(path == family or path.startswith(family + "/") for family in families)

    def _authenticate(self, path: str, headers: Mapping[str, str]) -> str | None:
        """The name of the key the request carries; every route but the public ones needs one."""
        if not self.authenticate or path.startswith(PUBLIC_PREFIXES):
            return None
        credential = read_key(headers.get("authorization"), headers.get("x-api-key"))
        if credential.token is None:
            if credential.problem == "malformed":
                raise Unauthorized()
            raise Unauthorized(
                "Missing bearer key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'."
            )
        name = match_key(credential.token, self.settings.api_keys)
        if name is None:
            raise Unauthorized()
        return name

    async def _read_body(self, request: Request) -> bytes:
        """The whole body, refused as soon as it is known to exceed the limit."""
        limit = self.settings.max_body_bytes
        too_large = PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        if isinstance(request.body, bytes):
            if len(request.body) > limit:
                raise too_large
            return request.body
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.body:
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)


async def _buffer(reply: Reply) -> Reply:
    """Functions cannot stream: collect the whole SSE body (every chunk, usage, [DONE]).

    A failure after the stream began is answered with its own status and error body: nothing was
    sent yet, so the client gets a 502 or 504, not a 200 with an error event inside.
    """
    stream = reply.stream
    assert isinstance(stream, EventStream)
    # aclosing: on the deadline the stream is closed at once, releasing the upstream connection.
    async with contextlib.aclosing(stream):
        content = b"".join([chunk async for chunk in stream])
    if stream.failure is not None:
        raise stream.failure  # rendered by the catch-all, in the route's error dialect
    return replace(reply, stream=None, content=content)


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)
