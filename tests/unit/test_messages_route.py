"""POST /v1/messages in process over a scripted OCI: translation to OCI, the Message, the event sequence
(each parsed by the anthropic SDK's own types), Anthropic's error shape, and the x-api-key header."""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic.types
import httpx
import pydantic
import pytest

from tests.fakes import (
    Events,
    Hang,
    ScriptedOci,
    cohere_answer,
    gateway,
    generic_answer,
    oci_error,
    read_stream,
    send,
    text_event,
)

ROUTE = "/v1/messages"
KEY = "sk-inprocess-key-0001"
WEATHER = {
    "name": "get_weather",
    "description": "Weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
USAGE = {
    "promptTokens": 9,
    "completionTokens": 6,
    "totalTokens": 15,
    "promptTokensDetails": {"cachedTokens": 4},
}
STREAM_EVENT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(anthropic.types.RawMessageStreamEvent)
ERROR: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(anthropic.types.ErrorResponse)


def body(**extra: Any) -> bytes:
    base = {"model": "xai.grok-4", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    return json.dumps({**base, **extra}).encode()


def events(raw: bytes) -> list[dict[str, Any]]:
    """Named SSE events, each checked: `event:` is the payload's type, and the SDK's types accept it."""
    out = []
    for block in raw.decode().split("\n\n"):
        if not block:
            continue
        name, data = block.split("\n")
        payload = json.loads(data.removeprefix("data: "))
        assert payload["type"] == name.removeprefix("event: ")
        if payload["type"] == "error":
            ERROR.validate_python(payload)
        elif payload["type"] != "ping":
            STREAM_EVENT.validate_python(payload)
        out.append(payload)
    return out


def anthropic_error(reply: Any, status: int, kind: str) -> str:
    assert reply.status == status
    assert reply.body["type"] == "error"
    assert reply.body["error"]["type"] == kind
    assert set(reply.body["error"]) == {"type", "message"}
    return str(reply.body["error"]["message"])


async def test_a_text_answer_is_a_message_and_oci_gets_system_stops_and_limits() -> None:
    oci = ScriptedOci().enqueue(generic_answer("Hello", usage=USAGE))
    gw, _ = gateway(oci)
    system = [{"type": "text", "text": "Be brief."}]
    reply = await send(gw, "POST", ROUTE, body(system=system, stop_sequences=["END"], temperature=0.5))
    assert reply.status == 200
    message = anthropic.types.Message.model_validate(reply.body)
    assert (message.model, message.stop_reason, message.role) == ("xai.grok-4", "end_turn", "assistant")
    assert message.id.startswith("msg_")
    assert [b.model_dump() for b in message.content] == [{"type": "text", "text": "Hello", "citations": None}]
    assert (
        message.usage.input_tokens,
        message.usage.cache_read_input_tokens,
        message.usage.output_tokens,
    ) == (
        5,
        4,
        6,
    )
    chat = oci.sent[0].body["chatRequest"]
    assert [m["role"] for m in chat["messages"]] == ["SYSTEM", "USER"]
    assert (chat["maxTokens"], chat["stop"], chat["temperature"]) == (64, ["END"], 0.5)


async def test_tool_use_and_tool_results_become_ocis_calls_and_tool_messages() -> None:
    oci = ScriptedOci().enqueue(generic_answer("Warm."))
    gw, _ = gateway(oci)
    conversation = [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "...", "signature": "s"},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "20C"}],
                },
                {"type": "text", "text": "And a picture:"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
                },
            ],
        },
    ]
    reply = await send(gw, "POST", ROUTE, body(messages=conversation, tools=[WEATHER]))
    assert reply.status == 200, reply.body
    messages = oci.sent[0].body["chatRequest"]["messages"]
    assert [m["role"] for m in messages] == ["USER", "ASSISTANT", "TOOL", "USER"]
    (call,) = messages[1]["toolCalls"]
    assert (call["id"], call["name"], json.loads(call["arguments"])) == (
        "toolu_1",
        "get_weather",
        {"city": "Oslo"},
    )
    assert (messages[2]["toolCallId"], messages[2]["content"][0]["text"]) == ("toolu_1", "20C")
    image = messages[3]["content"][1]
    assert image == {"type": "IMAGE", "imageUrl": {"url": "data:image/png;base64,iVBORw0KGgo="}}


async def test_a_failed_tool_says_so_to_the_model() -> None:
    oci = ScriptedOci().enqueue(generic_answer("Sorry."))
    gw, _ = gateway(oci)
    conversation = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "down", "is_error": True}],
        },
    ]
    assert (await send(gw, "POST", ROUTE, body(messages=conversation, tools=[WEATHER]))).status == 200
    assert oci.sent[0].body["chatRequest"]["messages"][-1]["content"][0]["text"] == "Error: down"


async def test_a_cohere_tool_call_stops_for_tool_use_not_end_turn() -> None:
    answer = cohere_answer(
        "I will look.", tool_calls=[{"name": "get_weather", "parameters": {"city": "Oslo"}}]
    )
    oci = ScriptedOci().enqueue(answer)  # OCI's COHERE finish reason is COMPLETE either way
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(model="cohere.command-a-03-2025", tools=[WEATHER]))
    message = anthropic.types.Message.model_validate(reply.body)
    assert message.stop_reason == "tool_use"
    assert [b.type for b in message.content] == ["text", "tool_use"]
    assert message.content[1].input == {"city": "Oslo"}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "any"}, {"type": "REQUIRED"}),
        ({"type": "tool", "name": "get_weather"}, {"type": "FUNCTION", "name": "get_weather"}),
        ({"type": "none"}, {"type": "NONE"}),
    ],
)
async def test_tool_choice_is_ocis(choice: dict[str, Any], expected: dict[str, Any]) -> None:
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    assert (await send(gw, "POST", ROUTE, body(tools=[WEATHER], tool_choice=choice))).status == 200
    assert oci.sent[0].body["chatRequest"]["toolChoice"] == expected


async def test_disable_parallel_tool_use_keeps_the_first_call_and_thinking_sets_an_effort() -> None:
    calls = [
        {"id": "call_a", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
        {"id": "call_b", "name": "get_weather", "arguments": '{"city":"Rome"}'},
    ]
    oci = ScriptedOci().enqueue(generic_answer(None, finish="tool_calls", tool_calls=calls))
    gw, _ = gateway(oci)
    choice = {"type": "auto", "disable_parallel_tool_use": True}
    thinking = {"type": "enabled", "budget_tokens": 8000}
    reply = await send(gw, "POST", ROUTE, body(tools=[WEATHER], tool_choice=choice, thinking=thinking))
    message = anthropic.types.Message.model_validate(reply.body)
    assert [b.id for b in message.content] == ["call_a"]  # type: ignore[union-attr]
    assert oci.sent[0].body["chatRequest"]["reasoningEffort"] == "MEDIUM"


async def test_a_stream_is_anthropics_event_sequence_with_usage_at_the_end() -> None:
    def call(**fields: Any) -> dict[str, Any]:
        return {"index": 0, "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", **fields}]}}

    stream = [
        text_event("Let me "),
        text_event("look."),
        call(id="call_1", name="get_weather", arguments=""),
        call(arguments='{"city": '),
        call(arguments='"Oslo"}'),
        {"finishReason": "tool_calls"},
        {"usage": USAGE},
    ]
    oci = ScriptedOci().enqueue(Events(stream, then=Hang()))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(stream=True, tools=[WEATHER]))
    assert (reply.status, reply.headers["Content-Type"]) == (200, "text/event-stream")
    seen = events(await read_stream(reply))
    assert [e["type"] for e in seen] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert [e["index"] for e in seen if e["type"].startswith("content_block")] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert seen[6]["content_block"] == {
        "type": "tool_use",
        "id": "call_1",
        "name": "get_weather",
        "input": {},
    }
    arguments = "".join(
        e["delta"]["partial_json"] for e in seen if e["type"] == "content_block_delta" and e["index"] == 1
    )
    assert json.loads(arguments) == {"city": "Oslo"}
    assert seen[-2]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert (seen[-2]["usage"]["input_tokens"], seen[-2]["usage"]["output_tokens"]) == (5, 6)
    assert oci.bodies[0].closed


async def test_a_failure_mid_stream_is_an_anthropic_error_event() -> None:
    oci = ScriptedOci().enqueue(Events([text_event("Hel")], then=httpx.ReadError("reset")))
    gw, _ = gateway(oci)
    seen = events(await read_stream(await send(gw, "POST", ROUTE, body(stream=True))))
    assert seen[-1] == {
        "type": "error",
        "error": {"type": "api_error", "message": "OCI Generative AI failed mid-stream."},
    }


@pytest.mark.parametrize(
    ("answer", "status", "kind"),
    [
        (
            oci_error(404, "Entity with key xai.nope not found", "NotAuthorizedOrNotFound"),
            404,
            "not_found_error",
        ),
        (oci_error(429, "Too many requests"), 429, "rate_limit_error"),
        (oci_error(500, "boom"), 502, "api_error"),
    ],
)
async def test_upstream_failures_keep_their_status_in_anthropics_shape(
    answer: Any, status: int, kind: str
) -> None:
    gw, _ = gateway(ScriptedOci().enqueue(answer))
    reply = await send(gw, "POST", ROUTE, body())
    anthropic_error(reply, status, kind)
    ERROR.validate_python(reply.body)


async def test_the_deadline_is_anthropics_timeout_error() -> None:
    gw, _ = gateway(ScriptedOci().enqueue(Hang()))
    reply = await send(gw, "POST", ROUTE, body(), deadline=time.monotonic() + 0.02)
    anthropic_error(reply, 504, "timeout_error")
    ERROR.validate_python(reply.body)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"max_tokens": None}, "max_tokens"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "developer", "content": "x"}]}, "messages[0].role"),
        ({"container": "c-1"}, "container"),
        ({"tools": [{"type": "bash_20250124", "name": "bash"}]}, "tools[0]"),  # the client's, no schema
        ({"tools": [{"name": "f"}]}, "tools[0].input_schema"),
        ({"tool_choice": {"type": "sometimes"}}, "tool_choice"),
        ({"thinking": {"type": "enabled"}}, "thinking"),
        ({"stop_sequences": ["a", "b", "c", "d", "e"]}, "stop_sequences"),
        ({"temperature": 1.5}, "temperature"),
        (
            {"messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]},
            "messages[0].content[0]",
        ),
    ],
)
async def test_refusals_are_anthropic_invalid_request_errors(extra: dict[str, Any], named: str) -> None:
    gw, _ = gateway(ScriptedOci())
    message = anthropic_error(await send(gw, "POST", ROUTE, body(**extra)), 400, "invalid_request_error")
    assert named in message


async def test_routing_and_size_errors_on_messages_are_anthropic_shaped_too() -> None:
    gw, _ = gateway(ScriptedOci(), GATEWAY_MAX_BODY_BYTES="1024")
    anthropic_error(await send(gw, "GET", ROUTE), 405, "invalid_request_error")
    anthropic_error(await send(gw, "POST", ROUTE, b"x" * 2000), 413, "request_too_large")


async def test_either_header_carries_the_key() -> None:
    oci = ScriptedOci().enqueue(generic_answer("a"), generic_answer("b"))
    gw, _ = gateway(oci, GATEWAY_API_KEYS=f"primary:{KEY}")
    anthropic_error(await send(gw, "POST", ROUTE, body()), 401, "authentication_error")
    wrong = await send(gw, "POST", ROUTE, body(), {"x-api-key": "sk-wrong-key-000000"})
    anthropic_error(wrong, 401, "authentication_error")
    assert (await send(gw, "POST", ROUTE, body(), {"x-api-key": KEY})).principal == "primary"
    bearer = await send(
        gw,
        "POST",
        "/v1/responses",
        json.dumps({"model": "m", "input": "x"}).encode(),
        {"authorization": f"Bearer {KEY}"},
    )
    assert bearer.principal == "primary"
    # Where an Authorization header is sent, it is the one that counts.
    both = await send(
        gw, "POST", ROUTE, body(), {"authorization": "Bearer sk-wrong-key-000000", "x-api-key": KEY}
    )
    anthropic_error(both, 401, "authentication_error")
