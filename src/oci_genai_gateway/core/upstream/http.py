"""OCI Generative AI over HTTP: signed requests, per-call timeout, retries, token refresh, OCI errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urlparse

import httpx

from oci_genai_gateway.core.errors import GatewayError, UpstreamError, UpstreamTimeout
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.telemetry import NO_TELEMETRY, Telemetry
from oci_genai_gateway.core.upstream.error_map import OciFailure, log_failure, map_failure, read_failure
from oci_genai_gateway.core.upstream.pool import PooledTransport
from oci_genai_gateway.core.upstream.signers import RefreshingSigner

T = TypeVar("T")

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


class OciHttp:
    """One connection pool to OCI per process; every call signed with the injected signer."""

    def __init__(
        self,
        settings: Settings,
        signer: RefreshingSigner,
        transport: httpx.AsyncBaseTransport | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self.settings = settings
        self.signer = signer
        self.telemetry = telemetry
        region = settings.region
        inference = (
            settings.inference_endpoint or f"https://inference.generativeai.{region}.oci.oraclecloud.com"
        )
        management = settings.management_endpoint or f"https://generativeai.{region}.oci.oraclecloud.com"
        self.base_url = f"{inference}/{API_VERSION}"
        self.management_url = f"{management}/{API_VERSION}"
        # Our own deadlines bound every wait; httpx's pool must not cap concurrent streams.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=200)
        # Mounted for every URL rather than passed as `transport`, so proxies from the environment
        # (more specific mounts) still win as they did.
        mounts = None if transport else {"all://": PooledTransport()}
        self._client = httpx.AsyncClient(
            transport=transport, mounts=mounts, limits=limits, timeout=httpx.Timeout(None, connect=10.0)
        )

    async def post_json(self, action: str, body: dict[str, Any], model: str) -> dict[str, Any]:
        """POST /actions/{action} and return its JSON answer."""
        url = f"{self.base_url}/actions/{action}"
        with self.telemetry.oci_call(action, body, url) as span:

            async def call() -> dict[str, Any]:
                request = self._signed("POST", url, body)
                request.headers.update(span.headers())  # unsigned: OCI signs a fixed set of headers
                response = await self._client.send(request)
                span.response(response.status_code, response.headers.get("opc-request-id"))
                if response.status_code >= 400:
                    raise read_failure(response, await response.aread())
                answer: dict[str, Any] = response.json()
                return answer

            answer = await self.call(call, model)
            span.answer(answer)
            return answer

    async def open_stream(self, action: str, body: dict[str, Any], model: str) -> httpx.Response:
        """POST a streaming request; the response is open, its status 200 (errors raise, mapped)."""

        url = f"{self.base_url}/actions/{action}"
        # The span ends when OCI's stream opens; its usage lands on the request's span (Meter.record).
        with self.telemetry.oci_call(action, body, url) as span:

            async def call() -> httpx.Response:
                request = self._signed("POST", url, body)
                request.headers.update(span.headers())
                response = await self._client.send(request, stream=True)
                span.response(response.status_code, response.headers.get("opc-request-id"))
                if response.status_code >= 400:
                    content = await response.aread()
                    await response.aclose()
                    raise read_failure(response, content)
                return response

            return await self.call(call, model)

    async def list_all(self, resource: str, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every item of a management-API list call (GET /{resource}), following OCI's page tokens."""
        items: list[dict[str, Any]] = []
        page: str | None = None
        for _ in range(_MAX_PAGES):
            params = {**query, "page": page} if page else dict(query)
            url = f"{self.management_url}/{resource}?{urlencode(params)}"

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

    async def call(self, attempt_call: Callable[[], Awaitable[T]], model: str | None) -> T:
        """Run one OCI call with a timeout, one token refresh after a 401, and retries of 5xx."""
        settings = self.settings
        refreshed = False
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(settings.upstream_timeout):
                    return await attempt_call()
            except TimeoutError:
                log_failure("timeout", model)
                raise UpstreamTimeout(
                    f"OCI Generative AI did not answer within {settings.upstream_timeout:g} s."
                ) from None
            except OciFailure as failure:
                log_failure("status", model, failure=failure)
                if failure.status in (401, 403) and not refreshed:
                    refreshed = True
                    await asyncio.to_thread(self.signer.force_refresh)
                    continue
                error: GatewayError = map_failure(failure, model or "")
            except httpx.TransportError as exc:
                log_failure("transport", model, exc=exc)
                error = UpstreamError("OCI Generative AI could not be reached.")
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
