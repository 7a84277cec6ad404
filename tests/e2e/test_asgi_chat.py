"""Chat completions end to end: the real OpenAI SDK -> ASGI gateway -> LiteLLM -> OCI emulator."""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonschema
import openai
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import DEDICATED_ENDPOINT
from tests.openapi import validate

LLAMA = "meta.llama-3.3-70b-instruct"
COHERE = "cohere.command-r-08-2024"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}
PNG_1PX = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


def chat_body(response: Any) -> dict[str, Any]:
    """The JSON body as the client received it, validated against OpenAI's schema."""
    body: dict[str, Any] = json.loads(response.model_dump_json(exclude_unset=True))
    validate(body, "CreateChatCompletionResponse")
    return body


def stream_chunks(stream: Any) -> list[dict[str, Any]]:
    """Every chunk of a stream, each validated against OpenAI's chunk schema."""
    chunks = []
    for chunk in stream:
        body = json.loads(chunk.model_dump_json(exclude_unset=True))
        validate(body, "CreateChatCompletionStreamResponse")
        chunks.append(body)
    return chunks


def last_chat_request(emulator: Emulator) -> dict[str, Any]:
    """The chatRequest the gateway sent to OCI last."""
    requests = emulator.requests("/actions/chat")
    assert requests, "the gateway sent nothing to OCI"
    body: dict[str, Any] = requests[-1]["body"]
    return body


@pytest.mark.parametrize("model", [LLAMA, COHERE])
def test_chat_answers_in_openai_shape(client: openai.OpenAI, model: str) -> None:
    response = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hello there"}]
    )
    body = chat_body(response)
    assert body["object"] == "chat.completion"
    assert body["model"] == model
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert model in choice["message"]["content"]
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.parametrize("model", [LLAMA, COHERE])
def test_truncation_reports_length(client: openai.OpenAI, model: str) -> None:
    """LiteLLM reports `stop` for GENERIC truncation; the gateway must say `length` like OpenAI."""
    response = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Tell me a long story"}], max_tokens=3
    )
    body = chat_body(response)
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3


def test_parameters_reach_oci_mapped(client: openai.OpenAI, emulator: Emulator) -> None:
    client.chat.completions.create(
        model=LLAMA,
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": "hi"},
        ],
        temperature=0.3,
        top_p=0.8,
        max_completion_tokens=42,
        stop=["END"],
        seed=11,
        frequency_penalty=0.5,
        presence_penalty=0.25,
        user="end-user-1",
    )
    sent = last_chat_request(emulator)
    request = sent["chatRequest"]
    assert sent["servingMode"] == {"servingType": "ON_DEMAND", "modelId": LLAMA}
    assert request["apiFormat"] == "GENERIC"
    assert request["temperature"] == 0.3
    assert request["topP"] == 0.8
    assert request["maxTokens"] == 42
    assert request["stop"] == ["END"]
    assert request["seed"] == 11
    assert request["frequencyPenalty"] == 0.5
    assert request["presencePenalty"] == 0.25
    assert request["messages"][0]["role"] == "SYSTEM"


def test_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=LLAMA,
        messages=[{"role": "user", "content": "Hello stream"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = stream_chunks(stream)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert LLAMA in text
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop"
    assert finishes.count("stop") == 1
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] > 0
    assert usage_chunk["usage"]["prompt_tokens"] > 0


def test_stream_matches_the_non_streamed_answer(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Same words either way"}]
    whole = client.chat.completions.create(model=COHERE, messages=messages)  # type: ignore[arg-type]
    chunks = stream_chunks(client.chat.completions.create(model=COHERE, messages=messages, stream=True))  # type: ignore[arg-type]
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert streamed == whole.choices[0].message.content
    assert all("usage" not in c or c["usage"] is None for c in chunks)


@pytest.mark.parametrize("model", [LLAMA, COHERE])
def test_tool_call_round_trip(client: openai.OpenAI, model: str) -> None:
    messages: list[Any] = [{"role": "user", "content": "Call get_weather for Paris"}]
    first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])  # type: ignore[list-item]
    body = chat_body(first)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    arguments = json.loads(call["function"]["arguments"])
    if model == COHERE:
        # OCI's Cohere tool format has no enums (typed parameter definitions only).
        assert arguments["city"]
    else:
        jsonschema.validate(arguments, WEATHER_TOOL["function"]["parameters"])  # type: ignore[index]
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temp_c": 21}'},
    ]
    second = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])  # type: ignore[list-item]
    answer = chat_body(second)["choices"][0]
    assert answer["finish_reason"] == "stop"
    assert "get_weather" in answer["message"]["content"]


@pytest.mark.parametrize("model", [LLAMA, COHERE])
def test_streamed_tool_call_keeps_one_id_and_index(client: openai.OpenAI, model: str) -> None:
    chunks = stream_chunks(
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Call get_weather for Oslo"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
            stream=True,
        )
    )
    fragments = [
        tc for c in chunks if c["choices"] for tc in c["choices"][0]["delta"].get("tool_calls") or []
    ]
    assert fragments
    assert {f["index"] for f in fragments} == {0}
    ids = [f["id"] for f in fragments if "id" in f]
    assert len(ids) == 1
    arguments = "".join(f["function"].get("arguments", "") for f in fragments)
    assert json.loads(arguments)["city"]
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"


def test_tool_choice_forces_a_named_tool(client: openai.OpenAI, emulator: Emulator) -> None:
    response = client.chat.completions.create(
        model=LLAMA,
        messages=[{"role": "user", "content": "No tool mentioned here"}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assert chat_body(response)["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert last_chat_request(emulator)["chatRequest"]["toolChoice"] == {
        "type": "FUNCTION",
        "name": "get_weather",
    }


def test_json_schema_response_format(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    response = client.chat.completions.create(
        model=LLAMA,
        messages=[{"role": "user", "content": "Describe a person"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": schema, "strict": True},
        },
    )
    content = chat_body(response)["choices"][0]["message"]["content"]
    jsonschema.validate(json.loads(content), schema)


def test_image_data_url_is_accepted(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="meta.llama-4-maverick-17b-128e-instruct-fp8",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}},
                ],
            }
        ],
    )
    assert "I see 1 image" in chat_body(response)["choices"][0]["message"]["content"]


def test_n_fans_out_into_indexed_choices(client: openai.OpenAI, emulator: Emulator) -> None:
    response = client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "hi"}], n=3)
    body = chat_body(response)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len(emulator.requests("/actions/chat")) == 3


def test_alias_and_dedicated_endpoint(client: openai.OpenAI, emulator: Emulator) -> None:
    fast = client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "hi"}])
    assert chat_body(fast)["model"] == "fast"
    assert last_chat_request(emulator)["servingMode"]["modelId"] == "xai.grok-3-mini"
    tuned = client.chat.completions.create(model="tuned", messages=[{"role": "user", "content": "hi"}])
    assert chat_body(tuned)["model"] == "tuned"
    assert last_chat_request(emulator)["servingMode"] == {
        "servingType": "DEDICATED",
        "endpointId": DEDICATED_ENDPOINT,
    }


@pytest.mark.parametrize("model", [LLAMA, COHERE])
def test_stream_ends_when_oci_keeps_the_connection_open(
    client: openai.OpenAI, emulator: Emulator, model: str
) -> None:
    """OCI sends no [DONE] and may leave the connection open after its usage event."""
    emulator.inject_fault("hold=999", path="/20231130/actions/chat")
    chunks = stream_chunks(
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert emulator.requests("/actions/chat")[-1]["fault"], "the emulator held the connection open"
    assert emulator.held() == 0, "the gateway closed the upstream connection once it had everything"


def test_reasoning_effort_reaches_oci_or_is_a_named_400(client: openai.OpenAI, emulator: Emulator) -> None:
    client.chat.completions.create(
        model="openai.gpt-oss-120b", messages=[{"role": "user", "content": "think"}], reasoning_effort="low"
    )
    assert last_chat_request(emulator)["chatRequest"]["reasoningEffort"] == "LOW"
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=COHERE, messages=[{"role": "user", "content": "think"}], reasoning_effort="low"
        )
    assert info.value.body["param"] == "reasoning_effort"  # type: ignore[index]
