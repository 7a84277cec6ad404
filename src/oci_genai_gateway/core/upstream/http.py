"""OCI Generative AI over HTTP: signed requests, per-call timeout, retries, token refresh, OCI errors."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode, urlparse

import httpx

from oci_genai_gateway.core.errors import GatewayError, RateLimited, UpstreamError, UpstreamTimeout
from oci_genai_gateway.core.realms import REGION_FIELD
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.targets import Target
from oci_genai_gateway.core.telemetry import NO_TELEMETRY, CallSpan, Telemetry
from oci_genai_gateway.core.upstream.error_map import OciFailure, log_failure, map_failure, read_failure
from oci_genai_gateway.core.upstream.pool import PooledTransport
from oci_genai_gateway.core.upstream.regions import ABSENT_SECONDS, Cooldowns, Locate, Router
from oci_genai_gateway.core.upstream.signers import RefreshingSigner

T = TypeVar("T")
log = logging.getLogger(__name__)

API_VERSION = "20231130"
# Offer only what httpx decodes without optional packages: with `zstandard` installed httpx would
# offer zstd, and OCI's one-frame-per-event zstd streams break its decoder (litellm PR #40028).
_ACCEPT_ENCODING = "gzip, deflate"
# OCI's list calls page with this response header, sent back as `page` (oci.pagination does the same).
_NEXT_PAGE = "opc-next-page"
_MAX_PAGES = 100  # a safety stop: OCI's model catalogue is a few pages of 100


@dataclass
class SignableRequest:
    """What an oci SDK signer needs: method, url, headers, body and the path it signs."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path_url(self) -> str:
        """Path and query, the `(request-target)` of the signature."""
        parsed = urlparse(self.url)
        return parsed.path + (f"?{parsed.query}" if parsed.query else "")


@dataclass(frozen=True)
class Served(Generic[T]):
    """An OCI answer and the region that gave it."""

    value: T
    region: str


class _TryNextRegion(Exception):
    """This region failed in a way another region may not (429, 5xx, unreachable, timeout)."""

    def __init__(self, error: GatewayError, retry_after: str | None, *, absent: bool = False) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after
        self.absent = absent  # a 404: listed there, not served on demand there


def endpoints(settings: Settings, region: str) -> tuple[str, str]:
    """The inference and management base URLs of one region (an endpoint template names `{region}`)."""
    inference = settings.inference_endpoint or f"https://inference.generativeai.{region}.oci.oraclecloud.com"
    management = settings.management_endpoint or f"https://generativeai.{region}.oci.oraclecloud.com"
    return (
        f"{inference.replace(REGION_FIELD, region)}/{API_VERSION}",
        f"{management.replace(REGION_FIELD, region)}/{API_VERSION}",
    )


class OciHttp:
    """One connection pool to OCI per process; every call signed with the injected signer."""

    def __init__(
        self,
        settings: Settings,
        signer: RefreshingSigner,
        transport: httpx.AsyncBaseTransport | None = None,
        cooldowns: Cooldowns | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self.settings = settings
        self.signer = signer
        self.telemetry = telemetry
        self._urls = {region: endpoints(settings, region) for region in settings.regions}
        self.base_url, self.management_url = self._urls[settings.region]
        self.router = Router(settings, None, cooldowns or Cooldowns())
        # Our own deadlines bound every wait; httpx's pool must not cap concurrent streams.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=200)
        # Mounted for every URL rather than passed as `transport`, so proxies from the environment
        # (more specific mounts) still win as they did.
        mounts = None if transport else {"all://": PooledTransport()}
        self._client = httpx.AsyncClient(
            transport=transport, mounts=mounts, limits=limits, timeout=httpx.Timeout(None, connect=10.0)
        )

    def locate_with(self, locate: Locate) -> None:
        """Route on-demand models by where the live catalogue lists them (several regions only)."""
        self.router = Router(self.settings, locate, self.router.cooldowns)

    async def post_json(
        self, action: str, body: dict[str, Any], model: str, target: Target | None = None
    ) -> Served[dict[str, Any]]:
        """POST /actions/{action} to the first region that answers, and return its JSON answer."""
        # One client span for the call, its failovers and retries included (core/telemetry.py).
        with self.telemetry.oci_call(action, body, f"{self.base_url}/actions/{action}") as span:

            async def call(region: str) -> dict[str, Any]:
                response = await self._send(region, action, body, span, stream=False)
                answer: dict[str, Any] = response.json()
                return answer

            served = await self.routed(call, model, target or Target(model))
            span.answer(served.value)
            return served

    async def open_stream(
        self, action: str, body: dict[str, Any], model: str, target: Target | None = None
    ) -> Served[httpx.Response]:
        """POST a streaming request; the response is open, its status 200 (errors raise, mapped).

        Regions are tried until one answers 200: nothing has reached the client by then. Once the
        stream is open it stays in its region, whatever happens to it after.
        """
        # The span ends when OCI's stream opens; its usage lands on the request's span (Meter.record).
        with self.telemetry.oci_call(action, body, f"{self.base_url}/actions/{action}") as span:

            async def call(region: str) -> httpx.Response:
                return await self._send(region, action, body, span, stream=True)

            return await self.routed(call, model, target or Target(model))

    async def _send(
        self, region: str, action: str, body: dict[str, Any], span: CallSpan, *, stream: bool
    ) -> httpx.Response:
        """POST /actions/{action} in `region` under `span`; an answer of status >= 400 raises, mapped."""
        request = self._signed("POST", f"{self._urls[region][0]}/actions/{action}", body)
        request.headers.update(span.headers())  # unsigned: OCI signs a fixed set of headers
        response = await self._client.send(request, stream=stream)
        span.response(response.status_code, response.headers.get("opc-request-id"))
        if response.status_code >= 400:
            content = await response.aread()
            await response.aclose()
            raise read_failure(response, content)
        return response

    async def routed(self, attempt: Callable[[str], Awaitable[T]], model: str, target: Target) -> Served[T]:
        """`attempt(region)` in each region of the target's route until one answers; the last one's error."""
        route = await self.router.route(target)
        cooldowns = self.router.cooldowns
        pair_model = target.endpoint_id or target.model
        for index, region in enumerate(route):
            failover = index + 1 < len(route)
            try:
                value = await self.call(functools.partial(attempt, region), model, failover=failover)
            except _TryNextRegion as failed:
                if failed.absent:
                    cooldowns.absent(region, pair_model)
                    seconds = ABSENT_SECONDS
                else:
                    seconds = cooldowns.fail(region, pair_model, failed.retry_after)
                log.warning(
                    "region failed over",
                    extra={
                        "event": "region_failover",
                        "region": region,
                        "next_region": route[index + 1],
                        "model": model,
                        "status": failed.error.status,
                        "cooldown_seconds": seconds,
                    },
                )
                continue
            except (UpstreamError, UpstreamTimeout, RateLimited) as error:
                cooldowns.fail(region, pair_model, error.headers.get("Retry-After"))
                raise
            cooldowns.succeed(region, pair_model)
            return Served(value, region)
        raise AssertionError("unreachable: the last region raises")  # pragma: no cover

    async def list_all(
        self, resource: str, query: Mapping[str, str], region: str | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a management-API list call (GET /{resource}), following OCI's page tokens."""
        items: list[dict[str, Any]] = []
        page: str | None = None
        management = self._urls[region or self.settings.region][1]
        for _ in range(_MAX_PAGES):
            params = {**query, "page": page} if page else dict(query)
            url = f"{management}/{resource}?{urlencode(params)}"

            async def call(url: str = url) -> tuple[list[Any], str | None]:
                response = await self._client.send(self._signed("GET", url))
                content = await response.aread()
                if response.status_code >= 400:
                    raise read_failure(response, content)
                found = json.loads(content).get("items")
                return (found if isinstance(found, list) else []), response.headers.get(_NEXT_PAGE)

            found, page = await self.call(call, None)
            items += [item for item in found if isinstance(item, dict)]
            if not page:
                return items
        raise UpstreamError(f"OCI Generative AI listed {resource} across more than {_MAX_PAGES} pages.")

    async def call(
        self, attempt_call: Callable[[], Awaitable[T]], model: str | None, *, failover: bool = False
    ) -> T:
        """Run one OCI call with a timeout, one token refresh after a 401, and retries of 5xx.

        With `failover` (another region serves the model), a 429, 5xx, unreachable host or timeout
        raises _TryNextRegion at once instead: the next region is the retry. So does a 404: the
        region lists the model (routing asked only those) but serves it on dedicated clusters only.
        """
        settings = self.settings
        refreshed = False
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(settings.upstream_timeout):
                    return await attempt_call()
            except TimeoutError:
                log_failure("timeout", model)
                error: GatewayError = UpstreamTimeout(
                    f"OCI Generative AI did not answer within {settings.upstream_timeout:g} s."
                )
                if failover:
                    raise _TryNextRegion(error, None) from None
                raise error from None
            except OciFailure as failure:
                log_failure("status", model, failure=failure)
                if failure.status in (401, 403) and not refreshed:
                    refreshed = True
                    await asyncio.to_thread(self.signer.force_refresh)
                    continue
                error = map_failure(failure, model or "")
                if failover and (failure.status == 429 or failure.status >= 500):
                    raise _TryNextRegion(error, failure.headers.get("retry-after")) from None
                if failover and failure.status == 404:
                    raise _TryNextRegion(error, None, absent=True) from None
            except httpx.TransportError as exc:
                log_failure("transport", model, exc=exc)
                error = UpstreamError("OCI Generative AI could not be reached.")
                if failover:
                    raise _TryNextRegion(error, None) from None
            except ValueError:  # an answer that is not JSON
                log_failure("unreadable", model)
                error = UpstreamError("OCI Generative AI sent an unreadable answer.")
            if isinstance(error, UpstreamError) and attempt < settings.upstream_retries:
                attempt += 1
                await asyncio.sleep(settings.retry_backoff_seconds * attempt)
                continue
            raise error

    def _signed(self, method: str, url: str, body: dict[str, Any] | None = None) -> httpx.Request:
        headers = {"accept": "application/json"}
        data = b""
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers = {"content-type": "application/json", "content-length": str(len(data))}
        request = SignableRequest(method, url, headers, data)
        self.signer.do_request_sign(request, enforce_content_headers=body is not None)
        headers = {**request.headers, "accept-encoding": _ACCEPT_ENCODING}
        return self._client.build_request(method, url, headers=headers, content=data or None)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
