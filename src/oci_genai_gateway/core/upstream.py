"""Call OCI through LiteLLM: map its exceptions by class/status, refresh on 401, retry 5xx."""

from __future__ import annotations

import asyncio
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
from oci_genai_gateway.core.llm import error_headers
from oci_genai_gateway.core.signers import RefreshingSigner

log = logging.getLogger(__name__)
T = TypeVar("T")

_RETRY_BACKOFF_SECONDS = 0.25
_PARAM = re.compile(r"param `(\w+)`")
_PARAMS = re.compile(r"parameters: \[([^\]]*)\]")


class _IdentityRejected(Exception):
    """OCI refused the gateway's own credentials (401/403)."""


async def call_upstream(
    make_call: Callable[[], Awaitable[T]],
    *,
    model: str,
    signer: RefreshingSigner,
    retries: int,
    deadline: float,
) -> T:
    """Run `make_call` with 401-refresh-once, `retries` retries of upstream 5xx, and a deadline."""
    refreshed = False
    attempt = 0
    while True:
        sink: dict[str, str] = {}
        error_headers.set(sink)
        try:
            return await asyncio.wait_for(make_call(), deadline)
        except TimeoutError:
            raise UpstreamTimeout(f"OCI Generative AI did not answer within {deadline:g} s.") from None
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
            await asyncio.to_thread(signer.force_refresh)
            continue
        if isinstance(mapped, UpstreamError) and attempt < retries:
            attempt += 1
            await asyncio.sleep(_RETRY_BACKOFF_SECONDS * attempt)
            continue
        raise mapped


def map_exception(
    exc: BaseException, model: str, headers: dict[str, str] | None = None
) -> GatewayError | _IdentityRejected:
    """Translate a LiteLLM/OCI exception into our hierarchy (DESIGN.md's mapping)."""
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
