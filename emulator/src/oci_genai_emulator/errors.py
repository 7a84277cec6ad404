"""OCI error envelope: every failure is `{"code", "message"}` with OCI's status codes."""

from __future__ import annotations

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
