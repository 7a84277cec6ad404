"""The request path every transport shares: routing, admission, body limit, deadline, one catch-all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import urllib.parse
from dataclasses import replace
from datetime import datetime

import httpx

from oci_genai_gateway.core.access.admission import Admission, MonitoringLike
from oci_genai_gateway.core.access.limits import Budget, Clock, Limiter, Limits
from oci_genai_gateway.core.access.metering import Meter, MetricsSender
from oci_genai_gateway.core.apis.surfaces import error_body
from oci_genai_gateway.core.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    UpstreamTimeout,
)
from oci_genai_gateway.core.exchange import JSON_HEADERS, Reply, Request
from oci_genai_gateway.core.input.images import ImageFetcher
from oci_genai_gateway.core.routes import Call, Services, match
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.sse import EventStream
from oci_genai_gateway.core.telemetry import NO_TELEMETRY, RequestSpan, Telemetry
from oci_genai_gateway.core.upstream.catalog import ModelCatalog, oci_fetcher
from oci_genai_gateway.core.upstream.http import OciHttp
from oci_genai_gateway.core.upstream.monitoring import Monitoring
from oci_genai_gateway.core.upstream.quirks import ModelQuirks
from oci_genai_gateway.core.upstream.signers import RefreshingSigner

log = logging.getLogger(__name__)

# Routes under these prefixes answer without a key (load balancers and container health checks).
PUBLIC_PREFIXES = ("/health/",)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def error_reply(exc: GatewayError, route: str = "") -> Reply:
    """Render any GatewayError the same way for every transport, in the route's error dialect."""
    return Reply(exc.status, error_body(route, exc), headers={**JSON_HEADERS, **exc.headers})


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


class Gateway:
    """The services and the admission of one process (or function container), behind one catch-all."""

    def __init__(
        self, services: Services, admission: Admission, *, serves: str | tuple[str, ...] | None = None
    ) -> None:
        self.services = services
        self.admission = admission
        # A function serves its route families; API Gateway sends it nothing else.
        self.serves = (serves,) if isinstance(serves, str) else serves

    @property
    def settings(self) -> Settings:
        """The settings the gateway was built with."""
        return self.services.settings

    @classmethod
    def build(
        cls,
        settings: Settings,
        signer: RefreshingSigner,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        serves: str | tuple[str, ...] | None = None,
        authenticate: bool = False,
        monitoring: MonitoringLike | None = None,
        images: ImageFetcher | None = None,
        clock: Clock = time.time,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> Gateway:
        """Wire the gateway from explicit parts (entry points build them; tests pass transport and clock)."""
        oci = OciHttp(settings, signer, transport, telemetry=telemetry)
        fetches = {r: oci_fetcher(oci, settings.compartment_id, r) for r in settings.regions}
        catalog = ModelCatalog(settings, fetches)
        if settings.multi_region:
            oci.locate_with(catalog.regions_serving)
        services = Services(settings, oci, ModelQuirks(), catalog, images or ImageFetcher())
        monitoring = monitoring or Monitoring(settings, signer)
        admission = _admission(settings, monitoring, authenticate, clock, telemetry)
        return cls(services, admission, serves=serves)

    async def handle(self, request: Request) -> Reply:
        """Serve one request; every failure becomes an error reply in the route's dialect, never a raise."""
        with self.services.oci.telemetry.request(request.method, request.headers) as span:
            reply = await self._handle(request, span)
            span.finish(reply.route or "", reply.principal, reply.status)
            if reply.stream is not None:  # an SSE stream sent as it comes (ASGI): traced to its end
                reply = replace(reply, stream=span.streaming(reply.stream))
        return reply

    async def _handle(self, request: Request, span: RequestSpan) -> Reply:
        path = ""
        principal: str | None = None
        try:
            async with asyncio.timeout(_remaining(request.deadline)):
                path = route_path(request.path)
                grant = self.admission.admit(request.headers, public=path.startswith(PUBLIC_PREFIXES))
                principal = grant.key_name
                span.identify(path, principal)
                method = request.method.upper()
                await grant.enforce(method)
                if not self._serves(path):
                    raise NotFound(f"Unknown route: {path}", code="unknown_url")
                handler, param = match(method, path)
                reply = await handler(self.services, Call(param, await self._read_body(request), grant))
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

    async def aclose(self) -> None:
        """Post the usage still queued, and the telemetry (on shutdown)."""
        await self.admission.meter.aclose()
        await self.services.oci.telemetry.aclose()

    def _serves(self, path: str) -> bool:
        if not self.serves:
            return True
        return any(path == family or path.startswith(family + "/") for family in self.serves)

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


def _admission(
    settings: Settings, monitoring: MonitoringLike, authenticate: bool, clock: Clock, telemetry: Telemetry
) -> Admission:
    """The meter, the budget (from Monitoring when metrics are on) and, on the HTTP server, the limiter."""
    metrics_on = settings.metrics
    reader = monitoring.tokens_spent

    async def spent(team: str, start: datetime, end: datetime) -> float:
        # Without metrics nothing reaches Monitoring: count what this process metered only.
        return await asyncio.to_thread(reader, team, start, end) if metrics_on else 0.0

    budget = Budget(spent, ttl=settings.budget_cache_seconds, clock=clock)
    sender = None
    if metrics_on:
        sender = MetricsSender(
            monitoring.post,
            namespace=settings.metrics_namespace,
            compartment_id=settings.compartment_id,
            flush_seconds=settings.metrics_flush_seconds,
        )
    meter = Meter(sender, spent=budget.add, clock=clock, tokens=telemetry.tokens)
    limiter = Limiter(clock=clock, workers=settings.workers)
    if not authenticate:
        # On Functions each instance is its own process: rates and quotas are API Gateway's usage
        # plans, unless the deployment has none (then each instance counts them, an upper bound).
        local = limiter if settings.limits_in_process else None
        return Admission(None, {}, settings.target_of, meter, Limits(local, budget, clock))
    limits = Limits(limiter, budget, clock)
    return Admission(settings.api_keys, settings.key_policies, settings.target_of, meter, limits)


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
