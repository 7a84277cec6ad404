"""The request path in process, over a scripted LLM: routing, keys, limits, deadline, retries, error
mapping, streaming and usage, with no process spawned (the process tiers prove fdk, emulator, SDKs)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.fakes import (
    Hang,
    ScriptedLLM,
    ScriptedStream,
    chunk,
    embedding,
    gateway,
    oci_error,
    read_stream,
    reply_to,
    send,
)
from tests.openapi import validate

KEY = "sk-inprocess-key-0001"
CHAT = "/v1/chat/completions"


def chat_body(**extra: Any) -> bytes:
    return json.dumps(
        {"model": "xai.grok-4", "messages": [{"role": "user", "content": "hi"}], **extra}
    ).encode()


def events(raw: bytes) -> list[Any]:
    """The SSE data payloads, [DONE] as the string."""
    out = []
    for block in raw.decode().split("\n\n"):
        if block.startswith("data: "):
            data = block[len("data: ") :]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


async def test_a_completion_is_openai_shaped_and_the_outgoing_call_targets_oci() -> None:
    llm = ScriptedLLM().enqueue(reply_to("Hello", prompt=5, completion=2))
    gw, _ = gateway(llm)
    reply = await send(gw, "POST", CHAT, chat_body(max_completion_tokens=50, temperature=0.2))
    assert reply.status == 200
    assert reply.body is not None
    validate(reply.body, "CreateChatCompletionResponse")
    assert reply.body["choices"][0]["message"]["content"] == "Hello"
    assert reply.body["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    (sent,) = llm.calls
    assert sent["model"] == "oci/xai.grok-4"
    assert (sent["oci_region"], sent["oci_compartment_id"]) == ("us-chicago-1", "ocid1.compartment.oc1..fake")
    assert (sent["max_tokens"], sent["temperature"]) == (50, 0.2)
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert "stream" not in sent


async def test_n_fans_out_and_reports_the_prompt_once() -> None:
    llm = ScriptedLLM().enqueue(reply_to("a", prompt=4, completion=1), reply_to("b", prompt=4, completion=3))
    gw, _ = gateway(llm)
    reply = await send(gw, "POST", CHAT, chat_body(n=2))
    assert reply.body is not None
    assert [c["index"] for c in reply.body["choices"]] == [0, 1]
    assert reply.body["usage"] == {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8}
    assert len(llm.calls) == 2


async def test_a_stream_rejoins_tool_call_fragments_under_one_id_and_reports_ocis_usage() -> None:
    stream = ScriptedStream(
        [
            chunk("Let me look."),
            chunk(tool=("call_1", "lookup", '{"q": ')),
            chunk(tool=("litellm-invented-1", None, '"x"}')),  # LiteLLM gives each fragment a new id
            chunk(finish="tool_calls"),
        ],
        oci_usage={"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15},
    )
    gw, _ = gateway(ScriptedLLM().enqueue(stream))
    reply = await send(gw, "POST", CHAT, chat_body(stream=True, stream_options={"include_usage": True}))
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/event-stream"
    payloads = events(await read_stream(reply))
    assert payloads[-1] == "[DONE]"
    chunks = payloads[:-1]
    for item in chunks:
        validate(item, "CreateChatCompletionStreamResponse")
    calls = [tc for c in chunks for ch in c["choices"] for tc in ch["delta"].get("tool_calls", [])]
    assert [tc.get("id") for tc in calls] == ["call_1", None]
    assert "".join(tc["function"]["arguments"] for tc in calls) == '{"q": "x"}'
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"] == {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15}
    assert stream.closed


async def test_parallel_tool_calls_false_keeps_only_the_first_call() -> None:
    calls = [("c1", "a", "{}"), ("c2", "b", "{}")]
    llm = ScriptedLLM().enqueue(reply_to(None, finish="tool_calls", tool_calls=calls))
    gw, _ = gateway(llm)
    tools = [{"type": "function", "function": {"name": n}} for n in ("a", "b")]
    reply = await send(gw, "POST", CHAT, chat_body(tools=tools, parallel_tool_calls=False))
    assert reply.body is not None
    assert [tc["id"] for tc in reply.body["choices"][0]["message"]["tool_calls"]] == ["c1"]


async def test_a_failure_mid_stream_becomes_an_error_event_then_done() -> None:
    stream = ScriptedStream([chunk("par")], then=oci_error("InternalServerError"))
    gw, _ = gateway(ScriptedLLM().enqueue(stream))
    payloads = events(await read_stream(await send(gw, "POST", CHAT, chat_body(stream=True))))
    assert payloads[0]["choices"][0]["delta"]["content"] == "par"
    assert payloads[-2]["error"]["code"] == "upstream_error"
    assert payloads[-1] == "[DONE]"
    assert stream.closed


async def test_a_buffered_stream_is_collected_into_one_body() -> None:
    stream = ScriptedStream([chunk("a"), chunk("b"), chunk(finish="stop")])
    gw, _ = gateway(ScriptedLLM().enqueue(stream))
    reply = await send(gw, "POST", CHAT, chat_body(stream=True), buffered=True)
    assert reply.stream is None
    assert reply.content is not None
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in events(reply.content)[:-1])
    assert text == "ab"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (oci_error("BadRequestError", 'OciException - {"code": "400", "message": "bad max"}'), 400, None),
        (oci_error("NotFoundError"), 404, "model_not_found"),
        (oci_error("RateLimitError"), 429, "rate_limit_exceeded"),
        (oci_error("InternalServerError"), 502, "upstream_error"),
        (oci_error("ServiceUnavailableError"), 502, "upstream_error"),
        (oci_error("Timeout"), 504, "upstream_timeout"),
        (TypeError("a bug"), 500, "internal_error"),
    ],
)
async def test_upstream_errors_map_by_class_and_are_not_retried_when_the_request_is_at_fault(
    error: Exception, status: int, code: str | None
) -> None:
    llm = ScriptedLLM().enqueue(error)
    gw, _ = gateway(llm, GATEWAY_UPSTREAM_RETRIES="2")
    if status == 502:
        llm.enqueue(error, error)  # retried twice, then given up
    reply = await send(gw, "POST", CHAT, chat_body())
    assert reply.status == status
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")
    assert reply.body["error"]["code"] == code
    assert len(llm.calls) == (3 if status == 502 else 1)


async def test_a_5xx_is_retried_and_the_retry_answers() -> None:
    llm = ScriptedLLM().enqueue(oci_error("InternalServerError"), reply_to("second time"))
    gw, _ = gateway(llm, GATEWAY_UPSTREAM_RETRIES="1")
    reply = await send(gw, "POST", CHAT, chat_body())
    assert reply.status == 200
    assert len(llm.calls) == 2


async def test_an_oci_401_refreshes_the_token_once_then_blames_the_gateway_not_the_client() -> None:
    llm = ScriptedLLM().enqueue(oci_error("AuthenticationError"), reply_to("ok"))
    gw, signer = gateway(llm)
    assert (await send(gw, "POST", CHAT, chat_body())).status == 200
    assert signer.refreshed == 1
    llm.enqueue(oci_error("AuthenticationError"), oci_error("AuthenticationError"))
    reply = await send(gw, "POST", CHAT, chat_body())
    assert reply.status == 502
    assert signer.refreshed == 2


async def test_an_upstream_that_never_answers_is_a_504_after_the_upstream_timeout() -> None:
    gw, _ = gateway(ScriptedLLM().enqueue(Hang()), GATEWAY_UPSTREAM_TIMEOUT="1")
    reply = await send(gw, "POST", CHAT, chat_body())
    assert reply.status == 504
    assert reply.body is not None
    assert reply.body["error"]["code"] == "upstream_timeout"


async def test_the_transport_deadline_bounds_the_whole_request() -> None:
    gw, _ = gateway(ScriptedLLM().enqueue(Hang()))
    reply = await send(gw, "POST", CHAT, chat_body(), deadline=time.monotonic() + 0.2)
    assert reply.status == 504


async def test_keys_are_required_when_configured_except_on_health_routes() -> None:
    llm = ScriptedLLM().enqueue(reply_to())
    gw, _ = gateway(llm, GATEWAY_API_KEYS=f"team:{KEY}")
    missing = await send(gw, "POST", CHAT, chat_body())
    wrong = await send(gw, "POST", CHAT, chat_body(), {"authorization": "Bearer sk-wrong-key-000000"})
    right = await send(gw, "POST", CHAT, chat_body(), {"authorization": f"Bearer {KEY}"})
    health = await send(gw, "GET", "/health/readiness")
    assert (missing.status, wrong.status, right.status, health.status) == (401, 401, 200, 200)
    assert right.principal == "team"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert KEY not in json.dumps(wrong.body)


async def test_bodies_over_the_limit_are_refused_declared_or_streamed() -> None:
    gw, _ = gateway(ScriptedLLM(), GATEWAY_MAX_BODY_BYTES="2048")

    async def pieces() -> Any:
        for _ in range(10):
            yield b"x" * 512

    declared = await send(gw, "POST", CHAT, b"{}", {"content-length": "4096"})
    streamed = await send(gw, "POST", CHAT, pieces())
    assert (declared.status, streamed.status) == (413, 413)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", CHAT, 405), ("POST", "/v1/responses", 404), ("GET", "/deploy/v1/nothing", 404)],
)
async def test_unknown_routes_and_methods(method: str, path: str, status: int) -> None:
    gw, _ = gateway(ScriptedLLM())
    reply = await send(gw, method, path)
    assert reply.status == status
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")


async def test_a_function_serves_only_its_own_routes_behind_any_deployment_prefix() -> None:
    llm = ScriptedLLM().enqueue(embedding([[0.5, 0.25]]))
    gw, _ = gateway(llm)
    gw.serves = "/v1/embeddings"
    body = json.dumps({"model": "cohere.embed-v4.0", "input": "a"}).encode()
    assert (await send(gw, "POST", "/genai/v1/embeddings", body)).status == 200
    assert (await send(gw, "POST", f"/genai{CHAT}", chat_body())).status == 404


async def test_embeddings_are_batched_by_96_and_keep_the_input_order() -> None:
    llm = ScriptedLLM().enqueue(
        embedding([[float(i)] for i in range(96)], 96), embedding([[96.0], [97.0]], 2)
    )
    gw, _ = gateway(llm)
    body = json.dumps({"model": "cohere.embed-v4.0", "input": [f"t{i}" for i in range(98)]}).encode()
    reply = await send(gw, "POST", "/v1/embeddings", body)
    assert reply.body is not None
    validate(reply.body, "CreateEmbeddingResponse")
    assert [d["embedding"][0] for d in reply.body["data"]] == [float(i) for i in range(98)]
    assert reply.body["usage"] == {"prompt_tokens": 98, "total_tokens": 98}
    assert [len(call["input"]) for call in llm.calls] == [96, 2]
