"""POST /v1/responses in process over a scripted OCI: translation to OCI, the Response body, the event
sequence (each event validated against OpenAI's schema of its type), and every refusal."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
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
from tests.openapi import EVENT_SCHEMAS, validate

ROUTE = "/v1/responses"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": True,
}
# The schema of each event type the gateway emits (tests/data/extract_openai_schemas.py ROOTS).
USAGE = {"promptTokens": 9, "completionTokens": 6, "totalTokens": 15}


def body(**extra: Any) -> bytes:
    return json.dumps({"model": "xai.grok-4", "input": "hi", **extra}).encode()


def events(raw: bytes) -> list[dict[str, Any]]:
    """Named SSE events, each checked: `event:` equals the payload's type, the schema of that type."""
    out = []
    for block in raw.decode().split("\n\n"):
        if not block:
            continue
        name, data = block.split("\n")
        assert name.startswith("event: ")
        payload = json.loads(data.removeprefix("data: "))
        assert payload["type"] == name.removeprefix("event: ")
        validate(payload, EVENT_SCHEMAS[payload["type"]])
        out.append(payload)
    assert [e["sequence_number"] for e in out] == list(range(len(out)))
    return out


async def test_a_text_answer_is_a_valid_response_and_oci_gets_the_instructions_first() -> None:
    used = {
        **USAGE,
        "promptTokensDetails": {"cachedTokens": 4},
        "completionTokensDetails": {"reasoningTokens": 2},
    }
    oci = ScriptedOci().enqueue(generic_answer("Hello", usage=used))
    gw, _ = gateway(oci)
    reply = await send(
        gw, "POST", ROUTE, body(instructions="Be brief.", max_output_tokens=40, temperature=0.3)
    )
    assert reply.status == 200
    assert reply.body is not None
    validate(reply.body, "Response")
    assert (reply.body["status"], reply.body["model"], reply.body["instructions"]) == (
        "completed",
        "xai.grok-4",
        "Be brief.",
    )
    (message,) = reply.body["output"]
    assert message["content"][0]["text"] == "Hello"
    assert reply.body["usage"] == {
        "input_tokens": 9,
        "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
        "output_tokens": 6,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": 15,
    }
    assert (reply.body["store"], reply.body["temperature"], reply.body["max_output_tokens"]) == (
        False,
        0.3,
        40,
    )
    chat = oci.sent[0].body["chatRequest"]
    assert [m["role"] for m in chat["messages"]] == ["SYSTEM", "USER"]
    assert chat["messages"][0]["content"][0]["text"] == "Be brief."
    assert (chat["maxTokens"], chat["temperature"]) == (40, 0.3)


async def test_input_items_become_one_conversation_with_the_calls_and_their_outputs() -> None:
    oci = ScriptedOci().enqueue(generic_answer("It is 20C."))
    gw, _ = gateway(oci)
    items = [
        {"role": "developer", "content": "Use tools."},
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Oslo?"}]},
        {
            "type": "message",
            "role": "assistant",
            "id": "msg_1",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Checking.", "annotations": []}],
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": "{}",
        },
        {"type": "function_call", "call_id": "call_2", "name": "get_weather", "arguments": '{"city":"X"}'},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "function_call_output", "call_id": "call_1", "output": "20C"},
        {
            "type": "function_call_output",
            "call_id": "call_2",
            "output": [{"type": "input_text", "text": "9C"}],
        },
        {
            "role": "user",
            "content": [{"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}],
        },
    ]
    reply = await send(gw, "POST", ROUTE, body(input=items, tools=[WEATHER]))
    assert reply.status == 200, reply.body
    messages = oci.sent[0].body["chatRequest"]["messages"]
    assert [m["role"] for m in messages] == ["SYSTEM", "USER", "ASSISTANT", "TOOL", "TOOL", "USER"]
    # The assistant's text and calls are one turn (LiteLLM's GENERIC transform sends the calls only).
    assistant = messages[2]
    assert [(c["id"], c["arguments"]) for c in assistant["toolCalls"]] == [
        ("call_1", "{}"),
        ("call_2", '{"city":"X"}'),
    ]
    assert [(m["toolCallId"], m["content"][0]["text"]) for m in messages[3:5]] == [
        ("call_1", "20C"),
        ("call_2", "9C"),
    ]
    assert messages[5]["content"][0]["type"] == "IMAGE"


async def test_tool_calls_are_function_call_items_with_the_models_call_ids() -> None:
    calls = [
        {"id": "call_a", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
        {"id": "call_b", "name": "get_weather", "arguments": '{"city":"Rome"}'},
    ]
    oci = ScriptedOci().enqueue(generic_answer(None, finish="tool_calls", tool_calls=calls))
    gw, _ = gateway(oci)
    reply = await send(
        gw, "POST", ROUTE, body(tools=[WEATHER], tool_choice={"type": "function", "name": "get_weather"})
    )
    assert reply.body is not None
    validate(reply.body, "Response")
    assert [(i["type"], i["call_id"], i["arguments"]) for i in reply.body["output"]] == [
        ("function_call", "call_a", '{"city":"Oslo"}'),
        ("function_call", "call_b", '{"city":"Rome"}'),
    ]
    assert reply.body["tools"] == [WEATHER]
    chat = oci.sent[0].body["chatRequest"]
    assert chat["toolChoice"] == {"type": "FUNCTION", "name": "get_weather"}
    assert chat["tools"][0]["name"] == "get_weather"


async def test_cohere_text_and_tool_call_are_a_message_and_a_function_call() -> None:
    answer = cohere_answer(
        "I will look.", tool_calls=[{"name": "get_weather", "parameters": {"city": "Oslo"}}]
    )
    oci = ScriptedOci().enqueue(answer)
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(model="cohere.command-a-03-2025", tools=[WEATHER]))
    assert reply.body is not None
    validate(reply.body, "Response")
    assert [i["type"] for i in reply.body["output"]] == ["message", "function_call"]
    assert json.loads(reply.body["output"][1]["arguments"]) == {"city": "Oslo"}


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            {
                "type": "json_schema",
                "name": "city",
                "description": "A city.",
                "schema": {"type": "object"},
                "strict": True,
            },
            {
                "type": "JSON_SCHEMA",
                "jsonSchema": {
                    "name": "city",
                    "description": "A city.",
                    "schema": {"type": "object"},
                    "isStrict": True,
                },
            },
        ),
        ({"type": "json_object"}, {"type": "JSON_OBJECT"}),
    ],
)
async def test_text_format_is_ocis_response_format(fmt: dict[str, Any], expected: dict[str, Any]) -> None:
    oci = ScriptedOci().enqueue(generic_answer('{"name": "Oslo"}'))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(text={"format": fmt}, reasoning={"effort": "low"}))
    assert reply.body is not None
    validate(reply.body, "Response")
    assert reply.body["text"] == {"format": fmt}
    chat = oci.sent[0].body["chatRequest"]
    assert chat["responseFormat"] == expected
    assert chat["reasoningEffort"] == "LOW"


async def test_a_cut_answer_is_incomplete_with_openais_reason() -> None:
    oci = ScriptedOci().enqueue(generic_answer("Hel", finish="length"))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(max_output_tokens=1))
    assert reply.body is not None
    validate(reply.body, "Response")
    assert (reply.body["status"], reply.body["incomplete_details"]) == (
        "incomplete",
        {"reason": "max_output_tokens"},
    )
    assert reply.body["completed_at"] is None


async def test_a_stream_is_openais_event_sequence_ending_in_completed_with_usage() -> None:
    stream = [text_event("Hel"), text_event("lo"), {"finishReason": "stop"}, {"usage": USAGE}]
    oci = ScriptedOci().enqueue(Events(stream, then=Hang()))  # OCI holds the connection open
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(stream=True))
    assert (reply.status, reply.headers["Content-Type"]) == (200, "text/event-stream")
    seen = events(await asyncio.wait_for(read_stream(reply), 30))
    assert [e["type"] for e in seen] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert "".join(e["delta"] for e in seen if e["type"] == "response.output_text.delta") == "Hello"
    final = seen[-1]["response"]
    assert final["id"] == seen[0]["response"]["id"]
    assert final["output"] == [seen[-2]["item"]]
    assert final["usage"]["total_tokens"] == 15
    assert oci.sent[0].body["chatRequest"]["streamOptions"] == {"isIncludeUsage": True}
    assert oci.bodies[0].closed


async def test_a_streamed_call_in_pieces_is_one_function_call_item() -> None:
    # Meta Llama's style: id and name, then argument pieces mixed with empty ones.
    def piece(**call: Any) -> dict[str, Any]:
        return {"index": 0, "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", **call}]}}

    stream = [
        piece(id="call_1", name="get_weather", arguments=""),
        piece(arguments='{"city": '),
        piece(arguments=""),
        piece(arguments='"Oslo"}'),
        {"finishReason": "tool_calls"},
        {"usage": USAGE},
    ]
    oci = ScriptedOci().enqueue(Events(stream, done=True))
    gw, _ = gateway(oci)
    reply = await send(
        gw, "POST", ROUTE, body(model="meta.llama-3.3-70b-instruct", stream=True, tools=[WEATHER])
    )
    seen = events(await read_stream(reply))
    added = [e for e in seen if e["type"] == "response.output_item.added"]
    assert [a["item"]["call_id"] for a in added] == ["call_1"]
    deltas = "".join(e["delta"] for e in seen if e["type"] == "response.function_call_arguments.delta")
    (done,) = [e for e in seen if e["type"] == "response.function_call_arguments.done"]
    assert deltas == done["arguments"] == '{"city": "Oslo"}'
    assert done["name"] == "get_weather"
    assert seen[-1]["type"] == "response.completed"
    assert [i["call_id"] for i in seen[-1]["response"]["output"]] == ["call_1"]


async def test_a_stream_cut_by_the_limit_ends_incomplete() -> None:
    oci = ScriptedOci().enqueue(Events([text_event("Hel"), {"finishReason": "length"}, {"usage": USAGE}]))
    gw, _ = gateway(oci)
    seen = events(await read_stream(await send(gw, "POST", ROUTE, body(stream=True, max_output_tokens=1))))
    assert seen[-1]["type"] == "response.incomplete"
    assert seen[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert seen[-1]["response"]["output"][0]["status"] == "incomplete"


async def test_a_failure_after_the_first_byte_is_an_error_event() -> None:
    oci = ScriptedOci().enqueue(Events([text_event("Hel")], then=httpx.ReadError("reset")))
    gw, _ = gateway(oci)
    seen = events(await read_stream(await send(gw, "POST", ROUTE, body(stream=True))))
    assert seen[-1]["type"] == "error"
    assert seen[-1]["code"] == "upstream_error"
    assert "response.completed" not in [e["type"] for e in seen]


async def test_on_functions_the_stream_is_one_complete_body() -> None:
    oci = ScriptedOci().enqueue(Events([text_event("Hi"), {"finishReason": "stop"}, {"usage": USAGE}]))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(stream=True), buffered=True)
    assert reply.stream is None
    assert reply.content is not None
    assert events(reply.content)[-1]["type"] == "response.completed"


async def test_errors_before_the_first_byte_keep_openais_envelope_and_status() -> None:
    oci = ScriptedOci().enqueue(oci_error(429, "slow down", **{"retry-after": "3"}))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(stream=True))
    assert (reply.status, reply.headers["Retry-After"]) == (429, "3")
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"store": True}, "store"),
        ({"previous_response_id": "resp_1"}, "previous_response_id"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt"),
        ({"background": True}, "background"),
        ({"tools": [{"type": 7}]}, "tools[0].type"),
        ({"tool_choice": {"type": "allowed_tools", "mode": "any", "tools": []}}, "tool_choice"),
        ({"text": {"verbosity": "terse"}}, "text.verbosity"),
        ({"text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format"),
        ({"include": ["message.output_text.logprobs"]}, "include"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"reasoning": {"effort": "extreme"}}, "reasoning.effort"),
        ({"stream_options": {"include_obfuscation": False}}, "stream_options"),
        ({"input": []}, "input"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type"),
        (
            {"input": [{"type": "function_call_output", "call_id": "call_9", "output": "x"}]},
            "input[0].call_id",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
            "input[0].content[0].type",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
            "input[0].content[0].image_url",
        ),
        ({"input": [{"role": "tool", "content": "x"}]}, "input[0].role"),
        ({"max_output_tokens": 0}, "max_output_tokens"),
    ],
)
async def test_what_cannot_be_honoured_is_a_400_naming_the_parameter(
    extra: dict[str, Any], param: str
) -> None:
    gw, _ = gateway(ScriptedOci())
    reply = await send(gw, "POST", ROUTE, body(**extra))
    assert reply.status == 400
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")
    assert reply.body["error"]["param"] == param


async def test_harmless_parameters_clients_send_are_accepted() -> None:
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    extra = {
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "tools": [],
        "metadata": {"k": "v"},
        "user": "u-1",
        "truncation": "auto",
        "service_tier": "auto",
        "parallel_tool_calls": True,
        "reasoning": {"effort": None, "summary": "auto"},
    }
    reply = await send(gw, "POST", ROUTE, body(**extra))
    assert reply.status == 200, reply.body
    assert reply.body is not None
    validate(reply.body, "Response")
    assert (reply.body["metadata"], reply.body["user"]) == ({"k": "v"}, "u-1")
    assert "reasoningEffort" not in oci.sent[0].body["chatRequest"]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_stored_responses_do_not_exist_here(method: str) -> None:
    gw, _ = gateway(ScriptedOci())
    reply = await send(gw, method, "/genai/v1/responses/resp_123")
    assert reply.status == 404
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")
    assert reply.body["error"]["message"] == "Response with id 'resp_123' not found."


async def test_the_chat_function_serves_responses_and_messages_but_not_embeddings() -> None:
    gw, _ = gateway(ScriptedOci().enqueue(generic_answer("ok")))
    gw.serves = ("/v1/chat/completions", "/v1/responses", "/v1/messages")
    assert (await send(gw, "POST", "/genai/v1/responses", body())).status == 200
    assert (await send(gw, "POST", "/genai/v1/embeddings", b"{}")).status == 404
