"""OCI error envelope: every failure is `{"code", "message"}` with OCI's status codes."""

from __future__ import annotations

import json
from collections.abc import Mapping


class OciError(Exception):
    """An OCI service error; rendered once by the app as JSON with `opc-request-id`."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, str]:
        """The JSON body OCI sends."""
        return {"code": self.code, "message": self.message}


def invalid(message: str) -> OciError:
    """400 InvalidParameter."""
    return OciError(400, "InvalidParameter", message)


def not_found(message: str) -> OciError:
    """404 NotAuthorizedOrNotFound (OCI does not tell a missing resource from a forbidden one)."""
    return OciError(404, "NotAuthorizedOrNotFound", message)


def not_authenticated(
    message: str = "The required information to complete authentication was not provided or was incorrect.",
) -> OciError:
    """401 NotAuthenticated."""
    return OciError(401, "NotAuthenticated", message)


def inference_error(status: int, message: str) -> OciError:
    """A model-level error as OCI Generative AI inference sends it: the status as a numeric-string code.

    Recorded as `{"code": "400", "message": ...}` (https://github.com/oracle/ai-optimizer issue 513,
    https://github.com/oracle/langchain-oracle issues 41 and 45) and `{"code": "404", ...}`
    (https://github.com/oracle/langchain-oracle issue 154).
    """
    return OciError(status, str(status), message)


def openai_error(
    message: str, *, param: str | None, code: str, error_type: str = "invalid_request_error"
) -> OciError:
    """A 400 from an OpenAI model: OCI's envelope around the JSON-encoded OpenAI error object.

    The double encoding is described by https://github.com/oracle/langchain-oracle
    libs/oci/langchain_oci/common/param_compat.py ("the OpenAI-style error is double-encoded inside
    the message string"); the exact bytes are not recorded, so the inner JSON's spacing is emulated.
    """
    error = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return inference_error(400, json.dumps(error, separators=(",", ":")))
