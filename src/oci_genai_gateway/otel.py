"""OpenTelemetry for the request path: spans and GenAI metrics with the SDK, exported over OTLP/HTTP.

Imported by bootstrap.py only when OTEL_EXPORTER_OTLP_ENDPOINT is set. The exporters read the
standard variables themselves (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, ...);
OCI APM takes `Authorization=dataKey <key>` there (README, "Observability"). Attribute names
follow https://opentelemetry.io/docs/specs/semconv/gen-ai/ ; no prompt, completion or key is set.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

from opentelemetry import context, trace
from opentelemetry.metrics import Histogram
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from oci_genai_gateway.core.telemetry import (
    OPERATIONS,
    PROVIDER,
    CallSpan,
    RequestSpan,
    Telemetry,
    request_model,
)

_PROPAGATOR = TraceContextTextMapPropagator()  # W3C traceparent / tracestate only
_LABELS = context.create_key("oci-genai-gateway.request")  # the request's route and key name
# Bucket advice of the GenAI metric conventions.
_TOKEN_BUCKETS = [4**i for i in range(14)]
_DURATION_BUCKETS = [0.01 * 2**i for i in range(14)]
_TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
_TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5]


class _Request(RequestSpan):
    def __init__(self, span: trace.Span, name: str, labels: dict[str, str]) -> None:
        self.span, self.name, self.labels = span, name, labels
        self.context: context.Context | None = None  # the request's context, for a stream sent later
        self.deferred = False

    def streaming(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        self.deferred = True
        return self._traced(stream, self.context)

    async def _traced(
        self, stream: AsyncIterator[bytes], ctx: context.Context | None
    ) -> AsyncIterator[bytes]:
        # Sent by the transport after handle() returned: the chunks (and the usage metered at the
        # end) are made inside the request's span and labels, and the span ends with the stream.
        token = context.attach(ctx) if ctx is not None else None
        try:
            async for chunk in stream:
                yield chunk
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
            self.span.end()
            if token is not None:
                with contextlib.suppress(ValueError):  # a generator finalised in another context
                    context.detach(token)

    def identify(self, route: str, key_name: str | None) -> None:
        if route:
            self.labels["http.route"] = route
            self.span.update_name(f"{self.name} {route}")
        if key_name:
            self.labels["gateway.key.name"] = key_name.split("~", 1)[0]  # rotated-out keys: the team

    def finish(self, route: str, key_name: str | None, status: int) -> None:
        self.identify(route, key_name)
        self.span.set_attributes({**self.labels, "http.response.status_code": status})
        if status >= 500:
            self.span.set_status(Status(StatusCode.ERROR))


class _Call(CallSpan):
    def __init__(self, span: trace.Span) -> None:
        self.span = span
        self.status = 0

    def headers(self) -> dict[str, str]:
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(self.span))
        return carrier

    def response(self, status: int, opc_request_id: str | None) -> None:
        self.status = status
        self.span.set_attribute("http.response.status_code", status)
        if opc_request_id:
            self.span.set_attribute("oci.opc_request_id", opc_request_id)

    def answer(self, answer: Mapping[str, Any]) -> None:
        model = answer.get("modelId")
        if isinstance(model, str):
            self.span.set_attribute("gen_ai.response.model", model)
        chat = answer.get("chatResponse")
        body = chat if isinstance(chat, Mapping) else answer
        usage = body.get("usage")
        if isinstance(usage, Mapping):
            for name, key in (("input_tokens", "promptTokens"), ("output_tokens", "completionTokens")):
                if isinstance(usage.get(key), int):
                    self.span.set_attribute(f"gen_ai.usage.{name}", usage[key])
        reasons = [c.get("finishReason") for c in body.get("choices") or [] if isinstance(c, Mapping)]
        reasons += [body["finishReason"]] if isinstance(body.get("finishReason"), str) else []
        if any(isinstance(r, str) for r in reasons):
            self.span.set_attribute("gen_ai.response.finish_reasons", [str(r) for r in reasons if r])


class OtelTelemetry(Telemetry):
    """Telemetry with the OpenTelemetry SDK: one tracer and meter provider per process, not global."""

    enabled = True

    def __init__(self, tracer_provider: TracerProvider, meter_provider: MeterProvider) -> None:
        self.tracer_provider, self.meter_provider = tracer_provider, meter_provider
        self.tracer = tracer_provider.get_tracer("oci_genai_gateway")
        meter = meter_provider.get_meter("oci_genai_gateway")
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage", "{token}", "Tokens per generation, by type",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )  # fmt: skip
        self.duration: Histogram = meter.create_histogram(
            "gen_ai.client.operation.duration", "s", "Duration of each OCI Generative AI call",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )  # fmt: skip
        self.ttft = meter.create_histogram(
            "gen_ai.server.time_to_first_token", "s", "Time to the first streamed token",
            explicit_bucket_boundaries_advisory=_TTFT_BUCKETS,
        )  # fmt: skip
        self.tpot = meter.create_histogram(
            "gen_ai.server.time_per_output_token", "s", "Time per streamed output token after the first",
            explicit_bucket_boundaries_advisory=_TPOT_BUCKETS,
        )  # fmt: skip

    @contextlib.contextmanager
    def request(self, method: str, headers: Mapping[str, str]) -> Iterator[RequestSpan]:
        parent = _PROPAGATOR.extract({k.lower(): v for k, v in headers.items()})
        labels: dict[str, str] = {}
        span = self.tracer.start_span(method.upper(), context=parent, kind=SpanKind.SERVER)
        span.set_attribute("http.request.method", method.upper())
        ctx = context.set_value(_LABELS, labels, trace.set_span_in_context(span, parent))
        token = context.attach(ctx)
        request = _Request(span, method.upper(), labels)
        request.context = ctx
        try:
            yield request
        finally:
            context.detach(token)
            if not request.deferred:
                span.end()

    @contextlib.contextmanager
    def oci_call(self, action: str, body: Mapping[str, Any] | None, url: str) -> Iterator[CallSpan]:
        operation = OPERATIONS.get(action, action)
        model = request_model(body)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": PROVIDER,
            "server.address": urlparse(url).hostname or "",
        }
        if model:
            attributes["gen_ai.request.model"] = model
        name = f"{operation} {model}" if model else operation
        started = time.monotonic()
        error: str | None = None
        with self.tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes) as span:
            call = _Call(span)
            try:
                yield call
            except Exception as exc:
                error = type(exc).__name__
                span.set_attribute("error.type", error)
                raise
            finally:
                labels = {**self._labels(), **attributes}
                labels.pop("server.address", None)
                if error:
                    labels["error.type"] = error
                self.duration.record(time.monotonic() - started, labels)

    def tokens(self, key_name: str | None, route: str, model: str, prompt: int, completion: int) -> None:
        labels = {**self._labels(), "gen_ai.provider.name": PROVIDER, "gen_ai.request.model": model}
        labels["gen_ai.operation.name"] = "embeddings" if route == "embeddings" else "chat"
        if key_name:
            labels["gateway.key.name"] = key_name
        self.token_usage.record(prompt, {**labels, "gen_ai.token.type": "input"})
        if route != "embeddings":
            self.token_usage.record(completion, {**labels, "gen_ai.token.type": "output"})
        span = trace.get_current_span()
        span.set_attribute("gen_ai.usage.input_tokens", prompt)
        span.set_attribute("gen_ai.usage.output_tokens", completion)

    def first_token(self, model: str, seconds: float) -> None:
        self.ttft.record(seconds, self._model_labels(model))

    def per_output_token(self, model: str, seconds: float) -> None:
        self.tpot.record(seconds, self._model_labels(model))

    async def aclose(self) -> None:
        self.tracer_provider.force_flush()
        self.meter_provider.force_flush()

    def _labels(self) -> dict[str, str]:
        labels = context.get_value(_LABELS)
        return dict(labels) if isinstance(labels, dict) else {}

    def _model_labels(self, model: str) -> dict[str, str]:
        return {**self._labels(), "gen_ai.provider.name": PROVIDER, "gen_ai.request.model": model}


def build(
    service_name: str = "oci-genai-gateway",
    *,
    span_processor: SpanProcessor | None = None,
    metric_reader: MetricReader | None = None,
) -> OtelTelemetry:
    """OTLP/HTTP exporters configured by the OTEL_EXPORTER_OTLP_* variables (tests pass in-memory ones)."""
    resource = Resource.create({"service.name": service_name})
    if span_processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter: SpanExporter = OTLPSpanExporter()
        span_processor = BatchSpanProcessor(exporter)
    if metric_reader is None:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        metric_reader = PeriodicExportingMetricReader(OTLPMetricExporter())
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(span_processor)
    meter_provider = MeterProvider(resource=resource, metric_readers=[metric_reader])
    return OtelTelemetry(tracer_provider, meter_provider)
