"""What the request path tells OpenTelemetry; this no-op is what runs unless it is switched on.

`oci_genai_gateway/otel.py` implements it with the OpenTelemetry SDK, imported only when
`OTEL_EXPORTER_OTLP_ENDPOINT` is set (bootstrap.py): a function's cold start imports nothing more.
Only names, numbers and ids are ever passed here: never a prompt, a completion or a key.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

PROVIDER = "oci.generative_ai"  # gen_ai.provider.name (OCI has no well-known value in the conventions)
# OCI actions -> gen_ai.operation.name (https://opentelemetry.io/docs/specs/semconv/gen-ai/).
OPERATIONS = {"chat": "chat", "embedText": "embeddings", "applyGuardrails": "apply_guardrails"}


class RequestSpan:
    """The server span of one request (no-op)."""

    def identify(self, route: str, key_name: str | None) -> None:
        """Name the span by its route, and label what follows with the route and the key name."""

    def finish(self, route: str, key_name: str | None, status: int) -> None:
        """Name the span by its route; set the key name and the status."""

    def streaming(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The reply's stream, inside this request's span until it ends (the span ends with it)."""
        return stream


class CallSpan:
    """The client span of one OCI call (no-op)."""

    def headers(self) -> dict[str, str]:
        """The W3C trace headers to send OCI (`traceparent`, `tracestate`)."""
        return {}

    def response(self, status: int, opc_request_id: str | None) -> None:
        """OCI's HTTP status and its request id."""

    def answer(self, answer: Mapping[str, Any]) -> None:
        """The response model, token usage and finish reasons of a non-streamed answer."""


class Telemetry:
    """Spans and GenAI metrics for the request path; this base records nothing."""

    enabled = False

    @contextlib.contextmanager
    def request(self, method: str, headers: Mapping[str, str]) -> Iterator[RequestSpan]:
        """The server span of one request, continuing the client's `traceparent`."""
        yield _REQUEST

    @contextlib.contextmanager
    def oci_call(self, action: str, body: Mapping[str, Any] | None, url: str) -> Iterator[CallSpan]:
        """A client span around one OCI call (its retries included) and its duration metric."""
        yield _CALL

    def tokens(self, key_name: str | None, route: str, model: str, prompt: int, completion: int) -> None:
        """gen_ai.client.token.usage for one generation (and the usage on the current span)."""

    def first_token(self, model: str, seconds: float) -> None:
        """gen_ai.server.time_to_first_token of one stream."""

    def per_output_token(self, model: str, seconds: float) -> None:
        """gen_ai.server.time_per_output_token of one stream."""

    async def aclose(self) -> None:
        """Send what is buffered (on shutdown)."""


_REQUEST = RequestSpan()
_CALL = CallSpan()
NO_TELEMETRY = Telemetry()


def request_model(body: Mapping[str, Any] | None) -> str | None:
    """The OCI model (or dedicated endpoint) a request body names."""
    mode = body.get("servingMode") if body is not None else None
    if not isinstance(mode, Mapping):
        return None
    value = mode.get("modelId") or mode.get("endpointId")
    return str(value) if value else None
