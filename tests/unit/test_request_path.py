"""The request path in process over a scripted OCI: routing, keys, limits, deadline, retries, error
mapping, streaming and usage, with no process spawned (the process tiers prove fdk, emulator, SDKs)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from oci_genai_gateway.core.upstream.quirks import Quirk
from tests.fakes import (
    Events,
    Hang,
    ScriptedOci,
    embedding_answer,
    gateway,
    generic_answer,
    oci_error,
    read_stream,
    send,
    sse_payloads,
    text_event,
)
from tests.openapi import validate

KEY = "sk-inprocess-key-0001"
CHAT = "/v1/chat/completions"


def chat_body(**extra: Any) -> bytes:
    body = {"model": "xai.grok-4", "messages": [{"role": "user", "content": "hi"}], **extra}
    return json.dumps(body).encode()


async def test_a_completion_is_openai_shaped_and_the_outgoing_call_is_a_signed_oci_chat() -> None:
    oci = ScriptedOci().enqueue(
        generic_answer("Hello", usage={"promptTokens": 5, "completionTokens": 2, "totalTokens": 7})
    )
    gw, signer = gateway(oci)
    reply = await send(gw, "POST", CHAT, chat_body(max_completion_tokens=50, temperature=0.2))
    assert reply.status == 200
    assert reply.body is not None
    validate(reply.body, "CreateChatCompletionResponse")
    assert reply.body["choices"][0]["message"]["content"] == "Hello"
    assert reply.body["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    (sent,) = oci.sent
    assert sent.url == "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/actions/chat"
    assert sent.headers["authorization"].startswith("Signature ")
    assert (
        'headers="date (request-target) host content-length content-type x-content-sha256"'
        in (sent.headers["authorization"])
    )
    assert "zstd" not in sent.headers["accept-encoding"]
    assert sent.body["compartmentId"] == "ocid1.compartment.oc1..fake"
    assert sent.body["servingMode"] == {"servingType": "ON_DEMAND", "modelId": "xai.grok-4"}
    chat = sent.body["chatRequest"]
    assert (chat["apiFormat"], chat["maxTokens"], chat["temperature"]) == ("GENERIC", 50, 0.2)
    assert chat["messages"] == [{"role": "USER", "content": [{"type": "TEXT", "text": "hi"}]}]
    assert "isStream" not in chat
    assert signer.signed == 1


async def test_n_fans_out_and_reports_the_prompt_once() -> None:
    first = generic_answer("a", usage={"promptTokens": 4, "completionTokens": 1, "totalTokens": 5})
    second = generic_answer("b", usage={"promptTokens": 4, "completionTokens": 3, "totalTokens": 7})
    oci = ScriptedOci().enqueue(first, second)
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", CHAT, chat_body(n=2))
    assert reply.body is not None
    assert [c["index"] for c in reply.body["choices"]] == [0, 1]
    assert reply.body["usage"] == {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8}
    assert len(oci.sent) == 2


async def test_a_stream_asks_oci_for_usage_rejoins_tool_calls_and_ends_on_the_usage_event() -> None:
    events = [
        text_event("Let me look."),
        {
            "index": 0,
            "message": {
                "role": "ASSISTANT",
                "toolCalls": [{"type": "FUNCTION", "id": "call_1", "name": "lookup"}],
            },
        },
        {
            "index": 0,
            "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", "arguments": '{"q": '}]},
        },
        {"index": 0, "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", "arguments": ""}]}},
        {
            "index": 0,
            "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", "arguments": '"x"}'}]},
        },
        {"finishReason": "tool_calls"},
        {"usage": {"promptTokens": 9, "completionTokens": 6, "totalTokens": 15}},
    ]
    oci = ScriptedOci().enqueue(Events(events, then=Hang()))  # OCI holds the connection open
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", CHAT, chat_body(stream=True, stream_options={"include_usage": True}))
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/event-stream"
    payloads = sse_payloads(await asyncio.wait_for(read_stream(reply), 30))
    assert payloads[-1] == "[DONE]"
    chunks = payloads[:-1]
    for item in chunks:
        validate(item, "CreateChatCompletionStreamResponse")
    calls = [tc for c in chunks for ch in c["choices"] for tc in ch["delta"].get("tool_calls", [])]
    assert [(tc["index"], tc.get("id")) for tc in calls] == [(0, "call_1"), (0, None), (0, None)]
    assert "".join(tc["function"]["arguments"] for tc in calls) == '{"q": "x"}'
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"] == {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15}
    assert oci.sent[0].body["chatRequest"]["isStream"] is True
    assert oci.sent[0].body["chatRequest"]["streamOptions"] == {"isIncludeUsage": True}
    assert oci.bodies[0].closed


async def test_a_model_that_never_sends_stream_usage_is_waited_for_once_then_ends_at_its_finish() -> None:
    stream = [text_event("hi"), {"finishReason": "stop"}]
    oci = ScriptedOci().enqueue(Events(stream, then=Hang()), Events(stream, then=Hang()))
    gw, _ = gateway(oci, GATEWAY_UPSTREAM_TIMEOUT="300")
    first = sse_payloads(
        await asyncio.wait_for(read_stream(await send(gw, "POST", CHAT, chat_body(stream=True))), 30)
    )
    assert first[-2]["choices"][0]["finish_reason"] == "stop"
    assert gw.services.quirks.has("xai.grok-4", Quirk.NO_STREAM_USAGE)
    second = await send(gw, "POST", CHAT, chat_body(stream=True, stream_options={"include_usage": True}))
    payloads = sse_payloads(await asyncio.wait_for(read_stream(second), 30))
    assert payloads[-1] == "[DONE]"
    assert all("usage" not in p for p in payloads[:-1]), "no usage was sent, so none is reported"


async def test_parallel_tool_calls_false_keeps_only_the_first_call() -> None:
    calls = [{"id": "c1", "name": "a", "arguments": "{}"}, {"id": "c2", "name": "b", "arguments": "{}"}]
    oci = ScriptedOci().enqueue(generic_answer(None, finish="tool_calls", tool_calls=calls))
    gw, _ = gateway(oci)
    tools = [{"type": "function", "function": {"name": n}} for n in ("a", "b")]
    reply = await send(gw, "POST", CHAT, chat_body(tools=tools, parallel_tool_calls=False))
    assert reply.body is not None
    assert [tc["id"] for tc in reply.body["choices"][0]["message"]["tool_calls"]] == ["c1"]
    assert reply.body["choices"][0]["finish_reason"] == "tool_calls"


async def test_a_failure_mid_stream_becomes_an_error_event_then_done() -> None:
    oci = ScriptedOci().enqueue(Events([text_event("par")], then=httpx.ReadError("connection reset")))
    gw, _ = gateway(oci)
    payloads = sse_payloads(await read_stream(await send(gw, "POST", CHAT, chat_body(stream=True))))
    assert payloads[0]["choices"][0]["delta"]["content"] == "par"
    assert payloads[-2]["error"]["code"] == "upstream_error"
    assert payloads[-1] == "[DONE]"


async def test_a_lone_surrogate_from_oci_is_escaped_in_the_stream_not_a_failure() -> None:
    # OCI's JSON may carry "\\ud800" (half of a pair a tokenizer split): valid JSON, no UTF-8 form.
    events = [text_event("a\ud800"), text_event("é"), {"finishReason": "stop"}]
    oci = ScriptedOci().enqueue(Events(events, done=True))
    gw, _ = gateway(oci)
    raw = await read_stream(await send(gw, "POST", CHAT, chat_body(stream=True)))
    payloads = sse_payloads(raw)
    assert [p["choices"][0]["delta"].get("content") for p in payloads[:2]] == ["a\ud800", "é"]
    assert payloads[-2]["choices"][0]["finish_reason"] == "stop"
    assert payloads[-1] == "[DONE]"
    assert "é".encode() in raw  # other events stay UTF-8, unescaped


async def test_a_buffered_stream_is_collected_into_one_body() -> None:
    oci = ScriptedOci().enqueue(
        Events([text_event("a"), text_event("b"), {"finishReason": "stop"}], done=True)
    )
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", CHAT, chat_body(stream=True), buffered=True)
    assert reply.stream is None
    assert reply.content is not None
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in sse_payloads(reply.content)[:-1])
    assert text == "ab"


@pytest.mark.parametrize(
    ("answer", "status", "code", "calls"),
    [
        (oci_error(400, "Invalid 'maxTokens'"), 400, None, 1),
        (oci_error(404, "Entity with key ocid1.generativeaimodel.x not found"), 404, "model_not_found", 1),
        (
            oci_error(429, "Too many requests", "TooManyRequests", **{"retry-after": "3"}),
            429,
            "rate_limit_exceeded",
            1,
        ),
        (oci_error(500, "Internal error"), 502, "upstream_error", 3),
        (oci_error(503, "Unavailable"), 502, "upstream_error", 3),
    ],
)
async def test_oci_errors_map_by_status_and_only_server_failures_are_retried(
    answer: Any, status: int, code: str | None, calls: int
) -> None:
    oci = ScriptedOci().enqueue(*[answer] * calls)
    gw, _ = gateway(oci, GATEWAY_UPSTREAM_RETRIES="2")
    reply = await send(gw, "POST", CHAT, chat_body())
    assert reply.status == status
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")
    assert reply.body["error"]["code"] == code
    assert len(oci.sent) == calls
    if status == 429:
        assert reply.headers["Retry-After"] == "3"


async def test_a_double_encoded_openai_error_becomes_a_proper_openai_error() -> None:
    inner = {
        "error": {
            "message": "Unsupported value: 'temperature' does not support 0.2 with this model.",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "unsupported_value",
        }
    }
    oci = ScriptedOci().enqueue(oci_error(400, json.dumps(inner)))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", CHAT, chat_body(temperature=0.2))
    assert reply.status == 400
    assert reply.body == {"error": {**inner["error"]}}


async def test_a_connection_failure_is_retried_and_the_retry_answers() -> None:
    oci = ScriptedOci().enqueue(httpx.ConnectError("refused"), generic_answer("second time"))
    gw, _ = gateway(oci, GATEWAY_UPSTREAM_RETRIES="1")
    reply = await send(gw, "POST", CHAT, chat_body())
    assert reply.status == 200
    assert len(oci.sent) == 2


async def test_an_oci_401_refreshes_the_token_once_then_blames_the_gateway_not_the_client() -> None:
    oci = ScriptedOci().enqueue(oci_error(401, "NotAuthenticated"), generic_answer("ok"))
    gw, signer = gateway(oci)
    assert (await send(gw, "POST", CHAT, chat_body())).status == 200
    assert signer.refreshed == 1
    oci.enqueue(oci_error(401, "NotAuthenticated"), oci_error(401, "NotAuthenticated"))
    reply = await send(gw, "POST", CHAT, chat_body())
    assert reply.status == 502
    assert signer.refreshed == 2


async def test_an_upstream_that_never_answers_is_a_504_after_the_upstream_timeout() -> None:
    gw, _ = gateway(ScriptedOci().enqueue(Hang()), upstream_timeout=0.02)
    reply = await send(gw, "POST", CHAT, chat_body())
    assert reply.status == 504
    assert reply.body is not None
    assert reply.body["error"]["code"] == "upstream_timeout"


async def test_the_transport_deadline_bounds_the_whole_request() -> None:
    gw, _ = gateway(ScriptedOci().enqueue(Hang()))
    reply = await send(gw, "POST", CHAT, chat_body(), deadline=time.monotonic() + 0.02)
    assert reply.status == 504


async def test_keys_are_required_when_configured_except_on_health_routes() -> None:
    gw, _ = gateway(ScriptedOci().enqueue(generic_answer()), GATEWAY_API_KEYS=f"team:{KEY}")
    missing = await send(gw, "POST", CHAT, chat_body())
    wrong = await send(gw, "POST", CHAT, chat_body(), {"authorization": "Bearer sk-wrong-key-000000"})
    right = await send(gw, "POST", CHAT, chat_body(), {"authorization": f"Bearer {KEY}"})
    health = await send(gw, "GET", "/health/readiness")
    assert (missing.status, wrong.status, right.status, health.status) == (401, 401, 200, 200)
    assert right.principal == "team"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert KEY not in json.dumps(wrong.body)


async def test_bodies_over_the_limit_are_refused_declared_or_streamed() -> None:
    gw, _ = gateway(ScriptedOci(), GATEWAY_MAX_BODY_BYTES="2048")

    async def pieces() -> Any:
        for _ in range(10):
            yield b"x" * 512

    declared = await send(gw, "POST", CHAT, b"{}", {"content-length": "4096"})
    streamed = await send(gw, "POST", CHAT, pieces())
    assert (declared.status, streamed.status) == (413, 413)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", CHAT, 405), ("POST", "/v1/assistants", 404), ("GET", "/deploy/v1/nothing", 404)],
)
async def test_unknown_routes_and_methods(method: str, path: str, status: int) -> None:
    gw, _ = gateway(ScriptedOci())
    reply = await send(gw, method, path)
    assert reply.status == status
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")


async def test_a_function_serves_only_its_own_routes_behind_any_deployment_prefix() -> None:
    gw, _ = gateway(ScriptedOci().enqueue(embedding_answer([[0.5, 0.25]])), serves="/v1/embeddings")
    body = json.dumps({"model": "cohere.embed-v4.0", "input": "a"}).encode()
    assert (await send(gw, "POST", "/genai/v1/embeddings", body)).status == 200
    assert (await send(gw, "POST", f"/genai{CHAT}", chat_body())).status == 404


async def test_embeddings_are_batched_by_96_keep_the_input_order_and_send_ocis_fields() -> None:
    first, second = (
        embedding_answer([[float(i)] for i in range(96)], 96),
        embedding_answer([[96.0], [97.0]], 2),
    )
    oci = ScriptedOci().enqueue(first, second)
    gw, _ = gateway(oci)
    inputs = [f"t{i}" for i in range(98)]
    body = {"model": "cohere.embed-v4.0", "input": inputs, "dimensions": 256, "input_type": "search_query"}
    reply = await send(gw, "POST", "/v1/embeddings", json.dumps(body).encode())
    assert reply.body is not None
    validate(reply.body, "CreateEmbeddingResponse")
    assert [d["embedding"][0] for d in reply.body["data"]] == [float(i) for i in range(98)]
    assert reply.body["usage"] == {"prompt_tokens": 98, "total_tokens": 98}
    assert [s.body["inputs"] for s in sorted(oci.sent, key=lambda s: len(s.body["inputs"]))] == [
        inputs[96:],
        inputs[:96],
    ]
    sent = oci.sent[0].body
    assert sent["servingMode"] == {"servingType": "ON_DEMAND", "modelId": "cohere.embed-v4.0"}
    assert (sent["outputDimensions"], sent["inputType"], sent["truncate"]) == (256, "SEARCH_QUERY", "END")
    assert oci.sent[0].url.endswith("/20231130/actions/embedText")


@pytest.mark.parametrize(
    ("path", "body", "error_of"),
    [
        (
            CHAT,
            {"model": "xai.grok-4", "messages": [{"role": "user", "content": "hi"}]},
            lambda b: b["error"]["code"],
        ),
        ("/v1/responses", {"model": "xai.grok-4", "input": "hi"}, lambda b: b["error"]["code"]),
        (
            "/v1/messages",
            {"model": "xai.grok-4", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]},
            lambda b: b["error"]["type"],
        ),
    ],
)
async def test_a_buffered_stream_that_fails_midway_answers_with_the_failure_status(
    path: str, body: dict[str, Any], error_of: Any
) -> None:
    oci = ScriptedOci().enqueue(Events([text_event("par")], then=httpx.ReadError("connection reset")))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", path, json.dumps({**body, "stream": True}).encode(), buffered=True)
    assert reply.status == 502
    assert reply.body is not None
    assert error_of(reply.body) in ("upstream_error", "api_error")  # each API's own error shape
    assert reply.content is None
