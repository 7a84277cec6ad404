"""OpenTelemetry on the request path, read with the SDK's in-memory exporters: spans, GenAI metrics,
W3C trace context in and out, and no prompt, completion or key anywhere in them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from oci_genai_gateway import otel
from tests.fakes import (
    Events,
    Json,
    ScriptedOci,
    embedding_answer,
    gateway,
    generic_answer,
    read_stream,
    send,
    text_event,
)

KEY = "sk-otel-team-secret-0000000"
PROMPT = "my secret prompt text"
ANSWER = "the confidential completion"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
USAGE = {"promptTokens": 7, "completionTokens": 4, "totalTokens": 11}


class Recorded:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.metrics = InMemoryMetricReader()
        self.telemetry = otel.build(
            span_processor=SimpleSpanProcessor(self.spans), metric_reader=self.metrics
        )

    def span(self, kind: SpanKind) -> ReadableSpan:
        (found,) = [s for s in self.spans.get_finished_spans() if s.kind is kind]
        return found

    def points(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]

    def everything(self) -> str:
        """Every attribute of every span and metric point, as one string."""
        spans = [dict(s.attributes or {}) | {"name": s.name} for s in self.spans.get_finished_spans()]
        data = self.metrics.get_metrics_data()
        assert data is not None
        return json.dumps([spans, json.loads(data.to_json())], default=str)


@pytest.fixture
def rec() -> Iterator[Recorded]:
    recorded = Recorded()
    yield recorded
    recorded.telemetry.tracer_provider.shutdown()


def chat(stream: bool = False) -> bytes:
    return json.dumps(
        {"model": "xai.grok-4", "stream": stream, "messages": [{"role": "user", "content": PROMPT}]}
    ).encode()


async def test_a_chat_has_a_server_span_and_an_oci_client_span_with_genai_attributes(rec: Recorded) -> None:
    answer = generic_answer(ANSWER, usage=USAGE)
    answer.headers["opc-request-id"] = "OPC-123"
    oci = ScriptedOci().enqueue(answer)
    gw, _ = gateway(oci, telemetry=rec.telemetry, GATEWAY_API_KEYS=f"team-a:{KEY}")
    reply = await send(
        gw, "POST", "/v1/chat/completions", chat(), {"authorization": f"Bearer {KEY}", "traceparent": PARENT}
    )
    assert reply.status == 200
    server, client = rec.span(SpanKind.SERVER), rec.span(SpanKind.CLIENT)
    assert server.name == "POST /v1/chat/completions"
    assert format(server.context.trace_id, "032x") == TRACE_ID  # continues the client's trace
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == "b7ad6b7169203331"
    assert client.parent is not None
    assert client.parent.span_id == server.context.span_id
    attrs = dict(client.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "oci.generative_ai"
    assert attrs["gen_ai.request.model"] == "xai.grok-4"
    assert attrs["gen_ai.response.model"] == "m"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (7, 4)
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["oci.opc_request_id"] == "OPC-123"
    # The traceparent OCI received names the client span, in the client's trace.
    sent = oci.sent[0].headers["traceparent"]
    assert sent == f"00-{TRACE_ID}-{client.context.span_id:016x}-01"
    server_attrs = dict(server.attributes or {})
    assert server_attrs["http.route"] == "/v1/chat/completions"
    assert server_attrs["gateway.key.name"] == "team-a"
    assert server_attrs["http.response.status_code"] == 200


async def test_genai_metrics_by_key_model_and_route(rec: Recorded) -> None:
    oci = ScriptedOci().enqueue(
        generic_answer(ANSWER, usage=USAGE),
        Events([text_event("Hel"), text_event("lo", finishReason="stop"), {"usage": USAGE}]),
        embedding_answer([[0.1, 0.2]], tokens=3),
    )
    gw, _ = gateway(oci, telemetry=rec.telemetry, GATEWAY_API_KEYS=f"team-a:{KEY}")
    auth = {"authorization": f"Bearer {KEY}"}
    assert (await send(gw, "POST", "/v1/chat/completions", chat(), auth)).status == 200
    streamed = await send(gw, "POST", "/v1/chat/completions", chat(stream=True), auth)
    await read_stream(streamed)
    embed = json.dumps({"model": "cohere.embed-english-v3.0", "input": "x"}).encode()
    assert (await send(gw, "POST", "/v1/embeddings", embed, auth)).status == 200
    tokens = rec.points("gen_ai.client.token.usage")

    def total(kind: str, operation: str) -> int:
        return sum(
            p.sum
            for p in tokens
            if (dict(p.attributes)["gen_ai.token.type"], dict(p.attributes)["gen_ai.operation.name"])
            == (kind, operation)
        )

    assert (total("input", "chat"), total("output", "chat"), total("input", "embeddings")) == (14, 8, 3)
    by_type = {
        (dict(p.attributes)["gen_ai.token.type"], dict(p.attributes)["gen_ai.operation.name"]): p
        for p in tokens
    }
    first = dict(by_type[("input", "chat")].attributes)
    assert first["gateway.key.name"] == "team-a"
    assert first["gen_ai.request.model"] == "xai.grok-4"
    durations = rec.points("gen_ai.client.operation.duration")
    assert sum(p.count for p in durations) == 3
    assert {dict(p.attributes)["gen_ai.operation.name"] for p in durations} == {"chat", "embeddings"}
    assert all(dict(p.attributes).get("http.route") for p in durations)
    # The stream was read after handle() returned (as the ASGI server sends it): still the request's.
    assert all(dict(p.attributes)["http.route"] for p in tokens)
    (ttft,) = rec.points("gen_ai.server.time_to_first_token")
    assert dict(ttft.attributes)["http.route"] == "/v1/chat/completions"
    assert dict(ttft.attributes)["gateway.key.name"] == "team-a"
    servers = [s for s in rec.spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    # Each request's span carries its usage, the stream's too (metered at its end, after handle()).
    assert [dict(s.attributes or {}).get("gen_ai.usage.input_tokens") for s in servers] == [7, 7, 3]
    assert sum(p.count for p in rec.points("gen_ai.server.time_to_first_token")) == 1
    assert sum(p.count for p in rec.points("gen_ai.server.time_per_output_token")) == 1


async def test_no_prompt_completion_or_key_in_any_span_or_metric(rec: Recorded) -> None:
    oci = ScriptedOci().enqueue(
        generic_answer(ANSWER, usage=USAGE),
        Events([text_event(ANSWER, finishReason="stop"), {"usage": USAGE}]),
        Json({"code": "400", "message": f"bad: {PROMPT}"}, 400),
    )
    gw, _ = gateway(oci, telemetry=rec.telemetry, GATEWAY_API_KEYS=f"team-a:{KEY}")
    auth = {"authorization": f"Bearer {KEY}"}
    await send(gw, "POST", "/v1/chat/completions", chat(), auth)
    await read_stream(await send(gw, "POST", "/v1/chat/completions", chat(stream=True), auth))
    await send(gw, "POST", "/v1/chat/completions", chat(), auth)
    await send(gw, "POST", "/v1/chat/completions", chat(), {"authorization": "Bearer sk-wrong-key-000000000"})
    seen = rec.everything()
    assert "gen_ai.usage.input_tokens" in seen  # the check reads real data
    for secret in (PROMPT, ANSWER, KEY, "sk-wrong-key"):
        assert secret not in seen


async def test_a_failed_oci_call_sets_error_type(rec: Recorded) -> None:
    oci = ScriptedOci().enqueue(Json({"code": "404", "message": "no such model"}, 404))
    gw, _ = gateway(oci, telemetry=rec.telemetry)
    reply = await send(gw, "POST", "/v1/chat/completions", chat())
    assert reply.status == 404
    client = rec.span(SpanKind.CLIENT)
    assert dict(client.attributes or {})["error.type"] == "ModelNotFound"
    assert dict(client.attributes or {})["http.response.status_code"] == 404
    (duration,) = rec.points("gen_ai.client.operation.duration")
    assert dict(duration.attributes)["error.type"] == "ModelNotFound"
