"""OCI Generative AI over HTTP: signed requests, per-call timeout, retries, token refresh, OCI errors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlparse

import httpx

from oci_genai_gateway.core.errors import (
    GatewayError,
    InvalidRequest,
    ModelNotFound,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.upstream.pool import PooledTransport
from oci_genai_gateway.core.upstream.signers import RefreshingSigner

log = logging.getLogger(__name__)
T = TypeVar("T")

API_VERSION = "20231130"
_RETRY_BACKOFF_SECONDS = 0.25
# Offer only what httpx decodes without optional packages: with `zstandard` installed httpx would
# offer zstd, and OCI's one-frame-per-event zstd streams break its decoder (litellm PR #40028).
_ACCEPT_ENCODING = "gzip, deflate"


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


@dataclass
class OciFailure(Exception):
    """OCI answered with an error status; the body and headers as OCI sent them."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """OCI's `message`, or the raw body when it has none."""
        message = self.body.get("message")
        return message if isinstance(message, str) else json.dumps(self.body)


@dataclass
class ModelQuirks:
    """What OCI showed about particular models at run time, remembered for the process's life."""

    no_stream_usage: set[str] = field(default_factory=set)  # finished streams without usage
    no_stream_options: set[str] = field(default_factory=set)  # refused `streamOptions`
    not_on_demand: set[str] = field(default_factory=set)  # listed by OCI, refused on demand (404)


class OciHttp:
    """One connection pool to OCI per process; every call signed with the injected signer."""

    def __init__(
        self,
        settings: Settings,
        signer: RefreshingSigner,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.signer = signer
        self.quirks = ModelQuirks()
        base = settings.inference_endpoint or (
            f"https://inference.generativeai.{settings.region}.oci.oraclecloud.com"
        )
        self.base_url = f"{base}/{API_VERSION}"
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

        async def call() -> dict[str, Any]:
            response = await self._client.send(self._signed(action, body))
            if response.status_code >= 400:
                raise _failure(response, await response.aread())
            answer: dict[str, Any] = response.json()
            return answer

        return await self.call(call, model)

    async def open_stream(self, action: str, body: dict[str, Any], model: str) -> httpx.Response:
        """POST a streaming request; the response is open, its status 200 (errors raise, mapped)."""

        async def call() -> httpx.Response:
            response = await self._client.send(self._signed(action, body), stream=True)
            if response.status_code >= 400:
                content = await response.aread()
                await response.aclose()
                raise _failure(response, content)
            return response

        return await self.call(call, model)

    async def call(self, attempt_call: Callable[[], Awaitable[T]], model: str) -> T:
        """Run one OCI call with a timeout, one token refresh after a 401, and retries of 5xx."""
        refreshed = False
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(self.settings.upstream_timeout):
                    return await attempt_call()
            except TimeoutError:
                log_failure("timeout", model)
                raise UpstreamTimeout(
                    f"OCI Generative AI did not answer within {self.settings.upstream_timeout:g} s."
                ) from None
            except OciFailure as failure:
                log_failure("status", model, failure=failure)
                if failure.status in (401, 403) and not refreshed:
                    refreshed = True
                    await asyncio.to_thread(self.signer.force_refresh)
                    continue
                error = map_failure(failure, model)
            except httpx.TransportError as exc:
                log_failure("transport", model, exc=exc)
                error = UpstreamError("OCI Generative AI could not be reached.")
            if isinstance(error, UpstreamError) and attempt < self.settings.upstream_retries:
                attempt += 1
                await asyncio.sleep(_RETRY_BACKOFF_SECONDS * attempt)
                continue
            raise error

    def _signed(self, action: str, body: dict[str, Any]) -> httpx.Request:
        url = f"{self.base_url}/actions/{action}"
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "content-length": str(len(data))}
        request = SignableRequest("POST", url, headers, data)
        self.signer.do_request_sign(request, enforce_content_headers=True)
        headers = {**request.headers, "accept-encoding": _ACCEPT_ENCODING}
        return self._client.build_request("POST", url, headers=headers, content=data)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def map_failure(failure: OciFailure, model: str) -> GatewayError:
    """OCI's error answer in our hierarchy; what the client did wrong stays a 4xx."""
    status = failure.status
    if status in (401, 403):
        return UpstreamError(
            "OCI Generative AI rejected the gateway's own credentials; check its IAM policy."
        )
    if status == 404:
        return ModelNotFound(model, f"(OCI: {failure.message})")
    if status == 429:
        retry_after = failure.headers.get("retry-after")
        return RateLimited(
            "OCI Generative AI is rate limiting requests; retry later.", retry_after=retry_after
        )
    if status in (400, 413, 422):
        return _invalid_request(failure)
    return UpstreamError(f"OCI Generative AI failed ({status}).")


def _invalid_request(failure: OciFailure) -> InvalidRequest:
    # OpenAI models on OCI put a JSON-encoded OpenAI error inside OCI's `message`: unwrap it.
    inner = _json_object(failure.message)
    error = inner.get("error") if inner else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        param, code = error.get("param"), error.get("code")
        return InvalidRequest(
            error["message"],
            param=param if isinstance(param, str) else None,
            code=code if isinstance(code, str) else None,
        )
    return InvalidRequest(failure.message or "OCI Generative AI rejected the request.")


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _failure(response: httpx.Response, content: bytes) -> OciFailure:
    try:
        body = json.loads(content) if content else {}
    except ValueError:
        body = {"message": content[:500].decode(errors="replace")}
    headers = {k.lower(): v for k, v in response.headers.items()}
    return OciFailure(
        response.status_code, body if isinstance(body, dict) else {"message": str(body)}, headers
    )


def log_failure(
    kind: str, model: str, *, failure: OciFailure | None = None, exc: BaseException | None = None
) -> None:
    """One line per failed OCI call: status, OCI's request id and code, the exception class; no prompt."""
    extra: dict[str, Any] = {"event": "upstream_failure", "kind": kind, "model": model}
    if failure is not None:
        extra.update(
            status=failure.status,
            oci_code=failure.body.get("code"),
            opc_request_id=failure.headers.get("opc-request-id"),
        )
    if exc is not None:
        extra["exc_type"] = type(exc).__name__
    log.warning("oci call failed", extra=extra)


async def sse_events(response: httpx.Response) -> AsyncGenerator[dict[str, Any] | None, None]:
    """OCI's server-sent events as JSON objects; None for `data: [DONE]` (Meta Llama ends with it).

    Events may be separated by a single newline, or split across reads (litellm's OCI provider
    notes both, litellm/llms/oci/chat/transformation.py `_iter_sse_events`).
    """
    buffer = b""
    async for piece in response.aiter_bytes():
        buffer += piece
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                yield _event(line)
    if buffer.startswith(b"data:"):
        yield _event(buffer)


def _event(line: bytes) -> dict[str, Any] | None:
    data = line[5:].strip()
    if data == b"[DONE]":
        return None
    try:
        value = json.loads(data)
    except ValueError:
        raise UpstreamError("OCI Generative AI sent an unreadable stream event.") from None
    if not isinstance(value, dict):
        raise UpstreamError("OCI Generative AI sent an unexpected stream event.")
    return value
