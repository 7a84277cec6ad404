"""OCI Generative AI through LiteLLM: call arguments, per-call timeout, retries, token refresh, errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from oci_genai_gateway.core.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    ModelNotFound,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from oci_genai_gateway.core.llm import LLM, error_headers
from oci_genai_gateway.core.settings import Settings, Target
from oci_genai_gateway.core.signers import RefreshingSigner

log = logging.getLogger(__name__)
T = TypeVar("T")

_RETRY_BACKOFF_SECONDS = 0.25
_PARAM = re.compile(r"param `(\w+)`")
_PARAMS = re.compile(r"parameters: \[([^\]]*)\]")


class _IdentityRejected(Exception):
    """OCI refused the gateway's own credentials (401/403)."""


class Upstream:
    """The one way the routes reach OCI: every call and every stream event goes through here."""

    def __init__(self, settings: Settings, signer: RefreshingSigner, llm: LLM | None) -> None:
        self.settings = settings
        self.signer = signer
        self._llm = llm

    @property
    def llm(self) -> LLM:
        """LiteLLM (or a stand-in); absent in the models function, which never calls it."""
        if self._llm is None:
            raise InternalError("This function was built without LiteLLM.")
        return self._llm

    def arguments(self, target: Target) -> dict[str, Any]:
        """LiteLLM arguments that route a call to `target` on OCI with our signer."""
        kwargs: dict[str, Any] = {
            "model": f"oci/{target.model}",
            "oci_signer": self.signer,
            # LiteLLM ignores the signer's region and would default to us-ashburn-1 (its get_oci_base_url).
            "oci_region": self.settings.region,
            "oci_compartment_id": self.settings.compartment_id,
        }
        if self.settings.inference_endpoint:
            kwargs["api_base"] = self.settings.inference_endpoint
        if target.endpoint_id:
            kwargs["oci_serving_mode"] = "DEDICATED"
            kwargs["oci_endpoint_id"] = target.endpoint_id
        return kwargs

    async def complete(self, model: str, target: Target, params: dict[str, Any]) -> Any:
        """One non-streamed chat completion (a LiteLLM ModelResponse)."""
        kwargs = {**self.arguments(target), **params}
        return await self._call(lambda: self.llm.acompletion(**kwargs), model)

    async def stream(self, model: str, target: Target, params: dict[str, Any]) -> UpstreamStream:
        """Open a chat stream; errors before the first event surface here, mapped."""
        kwargs = {**self.arguments(target), **params, "stream": True}
        raw = await self._call(lambda: self.llm.acompletion(**kwargs), model)
        return UpstreamStream(raw, model, self.settings.upstream_timeout)

    async def embed(self, model: str, target: Target, params: dict[str, Any]) -> Any:
        """One embedText call (a LiteLLM EmbeddingResponse)."""
        kwargs = {**self.arguments(target), **params}
        return await self._call(lambda: self.llm.aembedding(**kwargs), model)

    async def _call(self, make_call: Callable[[], Awaitable[T]], model: str) -> T:
        """Run `make_call` with a timeout, 401-refresh-once and `upstream_retries` retries of 5xx."""
        refreshed = False
        attempt = 0
        while True:
            sink: dict[str, str] = {}
            error_headers.set(sink)
            try:
                async with asyncio.timeout(self.settings.upstream_timeout):
                    return await make_call()
            except TimeoutError:
                raise UpstreamTimeout(
                    f"OCI Generative AI did not answer within {self.settings.upstream_timeout:g} s."
                ) from None
            except Exception as exc:
                mapped = map_exception(exc, model, sink)
            if isinstance(mapped, _IdentityRejected):
                if refreshed:
                    log.error(
                        "oci rejected the gateway identity after a token refresh", extra={"event": "oci_401"}
                    )
                    raise UpstreamError(
                        "OCI Generative AI rejected the gateway's own credentials; check its IAM policy."
                    ) from None
                refreshed = True
                await asyncio.to_thread(self.signer.force_refresh)
                continue
            if isinstance(mapped, UpstreamError) and attempt < self.settings.upstream_retries:
                attempt += 1
                await asyncio.sleep(_RETRY_BACKOFF_SECONDS * attempt)
                continue
            raise mapped


class UpstreamStream:
    """OCI's stream, one LiteLLM chunk at a time: each wait bounded, every failure a GatewayError."""

    def __init__(self, raw: Any, model: str, idle_timeout: float) -> None:
        self._raw = raw
        self._events = raw.__aiter__()
        self._model = model
        self.idle_timeout = idle_timeout

    @property
    def oci_usage(self) -> dict[str, int] | None:
        """The usage event OCI sent, once it arrived (captured by core/llm.py's patch)."""
        usage: dict[str, int] | None = getattr(self._raw, "gateway_oci_usage", None)
        return usage

    async def next(self, wait: float | None = None) -> Any | None:
        """The next chunk, or None at the end; `wait` (at most the idle timeout) bounds the wait."""
        try:
            async with asyncio.timeout(self.idle_timeout if wait is None else min(wait, self.idle_timeout)):
                return await anext(self._events)
        except StopAsyncIteration:
            return None
        except TimeoutError:
            raise UpstreamTimeout("OCI Generative AI stopped sending the stream.") from None
        except Exception as exc:
            mapped = map_exception(exc, self._model)
            if isinstance(mapped, GatewayError):
                raise mapped from None
            raise UpstreamError("OCI Generative AI failed mid-stream.") from None

    async def aclose(self) -> None:
        """Release the upstream HTTP response when the client goes away or the stream ends."""
        for target in (self._raw, getattr(self._raw, "completion_stream", None)):
            closer = getattr(target, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):  # best effort on teardown; nothing to tell the client
                    await closer()


def map_exception(
    exc: BaseException, model: str, headers: dict[str, str] | None = None
) -> GatewayError | _IdentityRejected:
    """Translate a LiteLLM/OCI exception into our hierarchy (docs/ARCHITECTURE.md's mapping)."""
    if isinstance(exc, GatewayError):
        return exc
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    detail = oci_message(str(getattr(exc, "message", exc)))
    if name == "Timeout" or status in (408, 504):
        return UpstreamTimeout("OCI Generative AI timed out.")
    if status in (401, 403):
        return _IdentityRejected()
    if status == 404:
        return ModelNotFound(model, "(OCI: NotAuthorizedOrNotFound; check the name and the IAM policy.)")
    if status == 429:
        return RateLimited(
            "OCI Generative AI is rate limiting requests; retry later.",
            retry_after=(headers or {}).get("retry-after") or _retry_after(exc),
        )
    if name == "UnsupportedParamsError":
        # LiteLLM's text tells operators to set drop_params; clients need the parameter's name.
        names = _PARAMS.search(str(exc))
        unsupported = [n.strip(" '\"") for n in names[1].split(",")] if names else []
        return InvalidRequest(
            f"Unsupported parameter(s) for model '{model}' on OCI Generative AI: {', '.join(unsupported)}.",
            param=unsupported[0] if unsupported else None,
        )
    if status in (400, 413, 422):
        code = "context_length_exceeded" if name == "ContextWindowExceededError" else None
        # LiteLLM names a parameter OCI cannot take as "param `x`"; hand it on as OpenAI's `param`.
        named = _PARAM.search(detail)
        return InvalidRequest(
            detail or "OCI Generative AI rejected the request.", code=code, param=named[1] if named else None
        )
    if (isinstance(status, int) and status >= 500) or name in ("APIConnectionError", "APIError"):
        return UpstreamError(f"OCI Generative AI failed ({status or 'connection error'}).")
    log.error("unexpected upstream exception", extra={"event": "upstream_bug", "exc_type": name})
    return InternalError("The gateway failed to process the request.")


def oci_message(text: str) -> str:
    """Pull OCI's `message` out of LiteLLM's `... OciException - {json}` text."""
    start = text.find("{")
    if start >= 0:
        try:
            body = json.loads(text[start:])
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return str(body["message"])
    return text.removeprefix("litellm.").split(" - ", 1)[-1].strip()


def _retry_after(exc: BaseException) -> str | None:
    for holder in (getattr(exc, "response", None), exc):
        headers: Any = getattr(holder, "headers", None) or getattr(holder, "litellm_response_headers", None)
        if headers is not None:
            value = headers.get("retry-after") or headers.get("Retry-After")
            if value:
                return str(value)
    return None
