"""OCI's error answers: read, logged (status and request id, never the prompt) and mapped to ours."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from oci_genai_gateway.core.errors import (
    GatewayError,
    InvalidRequest,
    ModelNotFound,
    RateLimited,
    UpstreamError,
)

log = logging.getLogger(__name__)


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


def read_failure(response: httpx.Response, content: bytes) -> OciFailure:
    try:
        body = json.loads(content) if content else {}
    except ValueError:
        body = {"message": content[:500].decode(errors="replace")}
    headers = {k.lower(): v for k, v in response.headers.items()}
    return OciFailure(
        response.status_code, body if isinstance(body, dict) else {"message": str(body)}, headers
    )


def log_failure(
    kind: str, model: str | None, *, failure: OciFailure | None = None, exc: BaseException | None = None
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
