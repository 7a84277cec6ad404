"""One error hierarchy, rendered once as OpenAI's error envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class GatewayError(Exception):
    """An error with an HTTP status and an OpenAI-shaped body; never carries secrets."""

    status: ClassVar[int] = 500
    error_type: ClassVar[str] = "server_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.headers: dict[str, str] = dict(headers or {})

    def to_body(self) -> dict[str, Any]:
        """Render as `{"error": {"message", "type", "param", "code"}}`."""
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(GatewayError):
    """The client sent something we cannot honour (400)."""

    status = 400
    error_type = "invalid_request_error"


class Unauthorized(GatewayError):
    """Missing or wrong bearer key (401); the key is never echoed."""

    status = 401
    error_type = "invalid_request_error"
    default_code = "invalid_api_key"

    def __init__(self, message: str = "Incorrect API key provided.") -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="oci-genai-gateway"'})


class NotFound(GatewayError):
    """Unknown route or model (404)."""

    status = 404
    error_type = "invalid_request_error"


class ModelNotFound(NotFound):
    """The model does not exist or this gateway's identity may not use it (404)."""

    default_code = "model_not_found"

    def __init__(self, model: str, detail: str | None = None) -> None:
        message = f"The model `{model}` does not exist or you do not have access to it."
        if detail:
            message = f"{message} {detail}"
        super().__init__(message, param="model")


class MethodNotAllowed(GatewayError):
    """Route exists but not for this method (405)."""

    status = 405
    error_type = "invalid_request_error"
    default_code = "method_not_allowed"


class PayloadTooLarge(GatewayError):
    """Request body over the limit (413)."""

    status = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


class RateLimited(GatewayError):
    """OCI throttled the call (429); Retry-After is passed on when OCI sent one."""

    status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": retry_after} if retry_after else None)


class UpstreamError(GatewayError):
    """OCI failed, or the gateway's own identity was refused (502)."""

    status = 502
    error_type = "api_error"
    default_code = "upstream_error"


class UpstreamTimeout(GatewayError):
    """OCI did not answer in time (504)."""

    status = 504
    error_type = "api_error"
    default_code = "upstream_timeout"


class RegionNotAllowed(GatewayError):
    """The key's data-residency policy keeps it out of every region that serves the model (403)."""

    status = 403
    error_type = "invalid_request_error"
    default_code = "region_not_allowed"

    def __init__(self, model: str, allowed: tuple[str, ...], served: tuple[str, ...]) -> None:
        where = f"served in {', '.join(served)}" if served else "not served in any of them"
        super().__init__(
            f"This API key is restricted to the regions {', '.join(allowed)} (its data-residency "
            f"policy); the model `{model}` is {where}.",
            param="model",
        )


class InternalError(GatewayError):
    """A bug or misconfiguration on our side (500); details go to logs, not clients."""

    status = 500
    error_type = "server_error"
    default_code = "internal_error"


class ConfigError(Exception):
    """Invalid settings; raised at start-up with one clear line."""
