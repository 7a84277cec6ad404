"""OpenTelemetry end to end: the ASGI server exports its spans and GenAI metrics over OTLP/HTTP to a
local receiver (decoded with opentelemetry-proto); without an endpoint nothing is even imported."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import gateway_env, start_gateway, stop

LLAMA = "meta.llama-3.3-70b-instruct"
KEY = "sk-otlp-team-000000000000000"
PROMPT = "a prompt that must never be exported"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


class Receiver(http.server.ThreadingHTTPServer):
    """An OTLP/HTTP (protobuf) receiver on 127.0.0.1: /v1/traces and /v1/metrics, kept decoded."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[Any] = []
        self.metrics: list[Any] = []
        self.raw: list[bytes] = []
        self.authorization: set[str] = set()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.server.raw.append(body)
        self.server.authorization.add(self.headers.get("authorization", ""))
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    self.server.spans.extend(scope.spans)
        elif self.path == "/v1/metrics":
            metrics = ExportMetricsServiceRequest.FromString(body)
            for resource in metrics.resource_metrics:
                for scope in resource.scope_metrics:
                    self.server.metrics.extend(scope.metrics)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def attributes(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in span.attributes:
        value = kv.value
        kind = value.WhichOneof("value")
        out[kv.key] = (
            [v.string_value for v in value.array_value.values]
            if kind == "array_value"
            else getattr(value, kind)
        )
    return out


def test_a_requests_trace_reaches_an_otlp_receiver_with_gateway_and_oci_spans(
    emulator: Emulator, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory
) -> None:
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    process = start_gateway(
        emulator,
        tmp_path_factory.mktemp("otlp"),
        GATEWAY_API_KEYS=json.dumps({"team-otlp": {"key": KEY, "guardrails": {"pii": "redact"}}}),
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_EXPORTER_OTLP_HEADERS="Authorization=dataKey%20TESTDATAKEY",
        OTEL_BSP_SCHEDULE_DELAY="100",
        OTEL_METRIC_EXPORT_INTERVAL="300",
    )
    try:
        import httpx

        reply = httpx.post(
            f"{process.base_url}/chat/completions",
            json={"model": LLAMA, "messages": [{"role": "user", "content": f"{PROMPT} jane@example.com"}]},
            headers={"Authorization": f"Bearer {KEY}", "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"},
            timeout=60,
        )
        assert reply.status_code == 200
        streamed = httpx.post(
            f"{process.base_url}/chat/completions",
            json={"model": LLAMA, "stream": True, "messages": [{"role": "user", "content": "stream it"}]},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=60,
        )
        assert streamed.text.endswith("data: [DONE]\n\n")
        deadline = time.monotonic() + 20
        names = {"gen_ai.server.time_to_first_token", "gen_ai.client.token.usage"}
        while time.monotonic() < deadline and (
            len(receiver.spans) < 6 or not names <= {metric.name for metric in receiver.metrics}
        ):
            time.sleep(0.1)
    finally:
        stop(process.process)
    traced = [s for s in receiver.spans if s.trace_id.hex() == TRACE_ID]
    spans = {span.name: span for span in traced}
    server = spans["POST /v1/chat/completions"]
    chat = spans[f"chat {LLAMA}"]
    guard = spans["apply_guardrails"]
    assert server.trace_id.hex() == TRACE_ID
    assert chat.parent_span_id == server.span_id
    assert guard.parent_span_id == server.span_id
    attrs = attributes(chat)
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == LLAMA
    assert attrs["gen_ai.usage.output_tokens"] > 0
    assert attrs["gen_ai.response.finish_reasons"]
    assert attrs["oci.opc_request_id"]
    assert attributes(server)["gateway.key.name"] == "team-otlp"
    names = {metric.name for metric in receiver.metrics}
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration"} <= names
    assert "gen_ai.server.time_to_first_token" in names
    # The streamed request's span ended after its last event, with the usage metered there.
    (stream_server,) = [
        s for s in receiver.spans if s.name == "POST /v1/chat/completions" and s.trace_id.hex() != TRACE_ID
    ]
    assert attributes(stream_server)["gen_ai.usage.output_tokens"] > 0
    assert receiver.authorization == {"dataKey TESTDATAKEY"}
    exported = b"".join(receiver.raw)
    for secret in (PROMPT.encode(), KEY.encode(), b"jane@example.com"):
        assert secret not in exported


def test_without_an_endpoint_opentelemetry_is_not_imported(emulator: Emulator, tmp_path: Any) -> None:
    env = gateway_env(emulator, emulator.mint_resource_principal(tmp_path))
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    script = (
        "import os, sys\n"
        "from oci_genai_gateway.bootstrap import build_gateway\n"
        "build_gateway(os.environ, with_llm=False, serves='/v1/chat/completions')\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
