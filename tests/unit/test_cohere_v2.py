"""COHEREV2 for the Command A family: which models speak it, the OpenAI -> CohereChatRequestV2
transform (checked against the oci SDK's own models), and v2 answers read back, in process over a
scripted OCI on the three generation APIs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oci_genai_emulator.validation import validate as oci_validate
from oci_genai_gateway.core.chat import cohere_v2
from oci_genai_gateway.core.chat.answers import choices
from oci_genai_gateway.core.chat.body import api_format
from oci_genai_gateway.core.chat.deltas import StreamTranslator
from tests.fakes import Events, Json, ScriptedOci, gateway, read_stream, send, sse_payloads

COMMAND_A = "cohere.command-a-03-2025"
REASONING = "cohere.command-a-reasoning-08-2025"
USAGE = {"promptTokens": 9, "completionTokens": 4, "totalTokens": 13}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
PNG = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("cohere.command-a-03-2025", "COHEREV2"),
        ("cohere.command-a-vision-07-2025", "COHEREV2"),
        ("cohere.command-a-reasoning-08-2025", "COHEREV2"),
        ("cohere.command-r-08-2024", "COHERE"),
        ("cohere.command-r-plus-08-2024", "COHERE"),
        ("meta.llama-3.3-70b-instruct", "GENERIC"),
        ("xai.grok-4", "GENERIC"),
    ],
)
def test_the_command_a_family_speaks_v2_and_older_cohere_models_keep_v1(model: str, expected: str) -> None:
    assert api_format(model) == expected


def sdk_valid(chat: dict[str, Any]) -> dict[str, Any]:
    """`chat` passes the SDK's strict model validation (as the emulator and OCI check it)."""
    serving = {"servingType": "ON_DEMAND", "modelId": COMMAND_A}
    oci_validate(
        {"compartmentId": "ocid1.compartment.oc1..x", "servingMode": serving, "chatRequest": chat},
        "ChatDetails",
    )
    return chat


def test_a_tool_conversation_maps_role_by_role_with_ids_plan_and_images() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look"},
                {"type": "image_url", "image_url": {"url": PNG, "detail": "high"}},
            ],
        },
        {
            "role": "assistant",
            "content": "I will check the weather.",
            "reasoning_content": "The user wants weather.",
            "tool_calls": [
                {
                    "id": "get_weather_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "get_weather_1", "content": "Sunny"},
        {"role": "assistant", "content": "It is sunny."},
    ]
    chat = sdk_valid(cohere_v2.chat_request(COMMAND_A, messages, {"tools": [WEATHER]}))
    system, user, calling, tool, answer = chat["messages"]
    assert system == {"role": "SYSTEM", "content": [{"type": "TEXT", "text": "Be brief."}]}
    assert user["content"][1] == {"type": "IMAGE_URL", "imageUrl": {"url": PNG, "detail": "HIGH"}}
    # The reasoning of a tool-calling turn goes back as its tool plan; its text stays text.
    assert calling == {
        "role": "ASSISTANT",
        "toolPlan": "The user wants weather.",
        "toolCalls": [
            {
                "id": "get_weather_1",
                "type": "FUNCTION",
                "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
            }
        ],
        "content": [{"type": "TEXT", "text": "I will check the weather."}],
    }
    assert tool == {
        "role": "TOOL",
        "toolCallId": "get_weather_1",
        "content": [{"type": "TEXT", "text": "Sunny"}],
    }
    assert answer == {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "It is sunny."}]}
    assert chat["tools"] == [
        {
            "type": "FUNCTION",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": WEATHER["function"]["parameters"],
            },
        }
    ]
    assert "toolsChoice" not in chat  # auto: the model is free to choose


@pytest.mark.parametrize(
    ("choice", "choice_field", "offered"),
    [
        ("auto", None, ["get_weather", "get_time"]),
        ("required", "REQUIRED", ["get_weather", "get_time"]),
        ("none", "NONE", ["get_weather", "get_time"]),
        ({"type": "function", "function": {"name": "get_time"}}, "REQUIRED", ["get_time"]),
    ],
)
def test_tool_choice_maps_to_tools_choice_and_a_named_function_is_the_only_tool_offered(
    choice: Any, choice_field: str | None, offered: list[str]
) -> None:
    chat = sdk_valid(
        cohere_v2.chat_request(
            COMMAND_A, [{"role": "user", "content": "hi"}], {"tools": [WEATHER, TIME], "tool_choice": choice}
        )
    )
    assert chat.get("toolsChoice") == choice_field
    assert [t["function"]["name"] for t in chat["tools"]] == offered


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ({"type": "json_object"}, {"type": "JSON_OBJECT"}),
        (
            {"type": "json_schema", "json_schema": {"name": "City", "schema": {"type": "object"}}},
            {"type": "JSON_OBJECT", "schema": {"type": "object"}},
        ),
        ({"type": "text"}, None),
    ],
)
def test_response_format_maps_to_cohere_json_format(fmt: dict[str, Any], expected: Any) -> None:
    chat = sdk_valid(
        cohere_v2.chat_request(COMMAND_A, [{"role": "user", "content": "hi"}], {"response_format": fmt})
    )
    assert chat.get("responseFormat") == expected


@pytest.mark.parametrize(
    ("effort", "thinking"),
    [
        ("none", {"type": "DISABLED"}),
        ("minimal", {"type": "ENABLED", "tokenBudget": 512}),
        ("low", {"type": "ENABLED", "tokenBudget": 1024}),
        ("medium", {"type": "ENABLED", "tokenBudget": 3072}),
        ("high", {"type": "ENABLED"}),
    ],
)
def test_reasoning_effort_is_thinking_with_a_budget(effort: str, thinking: dict[str, Any]) -> None:
    chat = sdk_valid(
        cohere_v2.chat_request(REASONING, [{"role": "user", "content": "hi"}], {"reasoning_effort": effort})
    )
    assert chat["thinking"] == thinking


def test_sampling_parameters_and_limits_take_their_v2_names() -> None:
    params = {
        "temperature": 0.3,
        "top_p": 0.9,
        "seed": 7,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "max_tokens": 99,
        "stop": ["END"],
    }
    chat = sdk_valid(cohere_v2.chat_request(COMMAND_A, [{"role": "user", "content": "hi"}], params))
    assert {
        k: chat[k]
        for k in (
            "temperature",
            "topP",
            "seed",
            "frequencyPenalty",
            "presencePenalty",
            "maxTokens",
            "stopSequences",
        )
    } == {
        "temperature": 0.3,
        "topP": 0.9,
        "seed": 7,
        "frequencyPenalty": 0.1,
        "presencePenalty": 0.2,
        "maxTokens": 99,
        "stopSequences": ["END"],
    }


V2_ANSWER = {
    "chatResponse": {
        "apiFormat": "COHEREV2",
        "id": "resp-1",
        "message": {
            "role": "ASSISTANT",
            "content": [{"type": "THINKING", "thinking": "Weather needs the tool."}],
            "toolPlan": "I will check the weather.",
            "toolCalls": [
                {
                    "id": "get_weather_k88p",
                    "type": "FUNCTION",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
            "citations": [
                {
                    "start": 0,
                    "end": 6,
                    "text": "I will",
                    "type": "PLAN",
                    "sources": [{"type": "TOOL", "id": "x"}],
                }
            ],
        },
        "finishReason": "TOOL_CALL",
        "usage": USAGE,
    }
}


def test_a_v2_answer_reads_into_reasoning_with_the_tool_plan_tool_calls_with_ids_and_citations() -> None:
    (choice,) = choices(V2_ANSWER, single_tool_call=False)
    message = choice["message"]
    assert choice["finish_reason"] == "tool_calls"
    assert message["content"] is None  # no TEXT part: the plan is reasoning, not the answer
    assert message["reasoning_content"] == "Weather needs the tool.\n\nI will check the weather."
    assert message["tool_calls"] == [
        {
            "id": "get_weather_k88p",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
        }
    ]
    assert message["citations"] == [
        {"start": 0, "end": 6, "text": "I will", "type": "PLAN", "sources": [{"type": "TOOL", "id": "x"}]}
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("COMPLETE", "stop"), ("STOP_SEQUENCE", "stop"), ("MAX_TOKENS", "length"), ("TOOL_CALL", "tool_calls")],
)
def test_v2_finish_reasons(raw: str, reason: str) -> None:
    answer = {
        "chatResponse": {
            "apiFormat": "COHEREV2",
            "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "x"}]},
            "finishReason": raw,
        }
    }
    assert choices(answer, single_tool_call=False)[0]["finish_reason"] == reason


def piece(**message: Any) -> dict[str, Any]:
    return {"apiFormat": "COHEREV2", "message": {"role": "ASSISTANT", **message}}


def test_a_v2_stream_gives_thinking_and_plan_as_reasoning_and_calls_once_even_when_restated() -> None:
    call = {
        "id": "get_weather_1",
        "type": "FUNCTION",
        "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
    }
    translator = StreamTranslator()
    deltas = [
        d
        for event in [
            piece(content=[{"type": "THINKING", "thinking": "Think"}]),
            piece(toolPlan="I will"),
            piece(toolPlan=" check."),
            piece(toolCalls=[call]),
            {**piece(toolCalls=[call]), "finishReason": "TOOL_CALL", "usage": USAGE},
        ]
        for _, d in translator.feed(event)
    ]
    assert deltas[0] == {"role": "assistant", "reasoning_content": "Think"}
    assert [d.get("reasoning_content") for d in deltas[1:3]] == ["\n\nI will", " check."]
    assert not any("content" in d for d in deltas)
    assert deltas[3]["tool_calls"] == [
        {
            "index": 0,
            "id": "get_weather_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
        }
    ]
    assert len(deltas) == 4
    assert translator.finishes() == [(0, "tool_calls")]
    assert translator.usage == {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}


def test_v2_argument_pieces_after_a_call_head_are_joined_to_that_call() -> None:
    translator = StreamTranslator()
    head = {"id": "c1", "type": "FUNCTION", "function": {"name": "get_weather", "arguments": ""}}
    tail = {"type": "FUNCTION", "function": {"arguments": '{"city":"Oslo"}'}}
    deltas = [d for e in (piece(toolCalls=[head]), piece(toolCalls=[tail])) for _, d in translator.feed(e)]
    assert deltas[1]["tool_calls"] == [{"index": 0, "function": {"arguments": '{"city":"Oslo"}'}}]


KEY = "sk-inprocess-key-0001"


def v2_text(text: str = "Hello", thinking: str | None = None) -> Json:
    content = ([{"type": "THINKING", "thinking": thinking}] if thinking else []) + [
        {"type": "TEXT", "text": text}
    ]
    return Json(
        {
            "chatResponse": {
                "apiFormat": "COHEREV2",
                "id": "r",
                "message": {"role": "ASSISTANT", "content": content},
                "finishReason": "COMPLETE",
                "usage": USAGE,
            }
        }
    )


async def test_chat_completions_sends_v2_and_returns_reasoning_content() -> None:
    oci = ScriptedOci().enqueue(v2_text("Hi", thinking="Greet back."))
    gw, _ = gateway(oci)
    body = {
        "model": REASONING,
        "messages": [{"role": "user", "content": "hi"}],
        "reasoning_effort": "low",
        "tools": [WEATHER],
        "tool_choice": "required",
    }
    reply = await send(gw, "POST", "/v1/chat/completions", json.dumps(body).encode())
    assert reply.status == 200, reply.body
    assert reply.body is not None
    message = reply.body["choices"][0]["message"]
    assert (message["content"], message["reasoning_content"]) == ("Hi", "Greet back.")
    chat = oci.sent[0].body["chatRequest"]
    assert (chat["apiFormat"], chat["toolsChoice"], chat["thinking"]) == (
        "COHEREV2",
        "REQUIRED",
        {"type": "ENABLED", "tokenBudget": 1024},
    )
    assert oci.sent[0].body["servingMode"] == {"servingType": "ON_DEMAND", "modelId": REASONING}


async def test_a_streamed_chat_completion_carries_reasoning_deltas_and_usage() -> None:
    events = [
        piece(content=[{"type": "THINKING", "thinking": "Hmm."}]),
        piece(content=[{"type": "TEXT", "text": "Hi"}]),
        {**piece(), "finishReason": "COMPLETE", "usage": USAGE},
    ]
    oci = ScriptedOci().enqueue(Events(events))
    gw, _ = gateway(oci)
    body = {
        "model": REASONING,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    reply = await send(gw, "POST", "/v1/chat/completions", json.dumps(body).encode())
    chunks = [p for p in sse_payloads(await read_stream(reply)) if p != "[DONE]"]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert [d.get("reasoning_content") for d in deltas][:1] == ["Hmm."]
    assert "".join(d.get("content") or "" for d in deltas) == "Hi"
    assert chunks[-1]["usage"]["total_tokens"] == 13
    chat = oci.sent[0].body["chatRequest"]
    assert (chat["isStream"], chat["streamOptions"]) == (True, {"isIncludeUsage": True})


async def test_a_reasoning_effort_hint_is_left_out_for_a_command_a_model_that_does_not_think() -> None:
    oci = ScriptedOci().enqueue(v2_text("Hi"))
    gw, _ = gateway(oci)
    body = {"model": COMMAND_A, "input": "hi", "reasoning": {"effort": "high"}}
    reply = await send(gw, "POST", "/v1/responses", json.dumps(body).encode())
    assert reply.status == 200, reply.body
    chat = oci.sent[0].body["chatRequest"]
    assert chat["apiFormat"] == "COHEREV2"
    assert "thinking" not in chat


async def test_responses_with_a_required_named_tool_offers_only_that_tool() -> None:
    call = {"id": "get_time_1", "type": "FUNCTION", "function": {"name": "get_time", "arguments": "{}"}}
    answer = {
        "chatResponse": {
            "apiFormat": "COHEREV2",
            "id": "r",
            "message": {"role": "ASSISTANT", "toolCalls": [call]},
            "finishReason": "TOOL_CALL",
            "usage": USAGE,
        }
    }
    oci = ScriptedOci().enqueue(Json(answer))
    gw, _ = gateway(oci)
    tools = [
        {"type": "function", "name": t["function"]["name"], "parameters": t["function"]["parameters"]}
        for t in (WEATHER, TIME)
    ]
    body = {
        "model": COMMAND_A,
        "input": "what time",
        "tools": tools,
        "tool_choice": {"type": "function", "name": "get_time"},
    }
    reply = await send(gw, "POST", "/v1/responses", json.dumps(body).encode())
    assert reply.status == 200, reply.body
    assert reply.body is not None
    (item,) = reply.body["output"]
    assert (item["type"], item["name"], item["call_id"]) == ("function_call", "get_time", "get_time_1")
    chat = oci.sent[0].body["chatRequest"]
    assert (chat["toolsChoice"], [t["function"]["name"] for t in chat["tools"]]) == ("REQUIRED", ["get_time"])


async def test_messages_with_tool_choice_any_and_an_image_reach_v2() -> None:
    call = {
        "id": "get_weather_1",
        "type": "FUNCTION",
        "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
    }
    answer = {
        "chatResponse": {
            "apiFormat": "COHEREV2",
            "id": "r",
            "message": {"role": "ASSISTANT", "toolPlan": "Checking.", "toolCalls": [call]},
            "finishReason": "TOOL_CALL",
            "usage": USAGE,
        }
    }
    oci = ScriptedOci().enqueue(Json(answer))
    gw, _ = gateway(oci)
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG.split(",")[1]},
    }
    body = {
        "model": COMMAND_A,
        "max_tokens": 100,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Weather here?"}, image]}],
        "tools": [{"name": "get_weather", "input_schema": WEATHER["function"]["parameters"]}],
        "tool_choice": {"type": "any"},
    }
    reply = await send(gw, "POST", "/v1/messages", json.dumps(body).encode())
    assert reply.status == 200, reply.body
    assert reply.body is not None
    uses = [b for b in reply.body["content"] if b["type"] == "tool_use"]
    assert [b["id"] for b in uses] == ["get_weather_1"]
    assert not [b for b in reply.body["content"] if b["type"] == "text"]  # the plan is not text
    assert reply.body["stop_reason"] == "tool_use"
    chat = oci.sent[0].body["chatRequest"]
    assert chat["toolsChoice"] == "REQUIRED"
    assert chat["messages"][0]["content"][1]["type"] == "IMAGE_URL"


async def test_structured_output_on_every_api_is_a_json_object_with_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": False,
    }
    bodies = {
        "/v1/chat/completions": {
            "model": COMMAND_A,
            "messages": [{"role": "user", "content": "Oslo"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "City", "schema": schema}},
        },
        "/v1/responses": {
            "model": COMMAND_A,
            "input": "Oslo",
            "text": {"format": {"type": "json_schema", "name": "City", "schema": schema}},
        },
    }
    for path, body in bodies.items():
        oci = ScriptedOci().enqueue(v2_text('{"name": "Oslo"}'))
        gw, _ = gateway(oci)
        reply = await send(gw, "POST", path, json.dumps(body).encode())
        assert reply.status == 200, (path, reply.body)
        assert oci.sent[0].body["chatRequest"]["responseFormat"] == {"type": "JSON_OBJECT", "schema": schema}


def test_text_beside_tool_calls_stays_the_content_as_oci_sends_it() -> None:
    # The shape decoded from the live service (https://github.com/NVIDIA/NeMo-Relay
    # crates/core/tests/unit/codec/oci_genai_tests.rs, test_cohere_v2_chat_result).
    call = {"id": "call-v2-1", "type": "FUNCTION", "function": {"name": "get_weather", "arguments": "{}"}}
    message = {
        "role": "ASSISTANT",
        "content": [{"type": "TEXT", "text": "Checking the weather."}],
        "toolCalls": [call],
        "toolPlan": "I will check the weather.",
    }
    answer = {
        "chatResponse": {"apiFormat": "COHEREV2", "id": "r", "message": message, "finishReason": "TOOL_CALL"}
    }
    (choice,) = choices(answer, single_tool_call=False)
    assert choice["message"]["content"] == "Checking the weather."
    assert choice["message"]["reasoning_content"] == "I will check the weather."
    assert choice["message"]["tool_calls"][0]["id"] == "call-v2-1"


def test_earlier_thinking_goes_back_only_to_a_model_that_thinks() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello.", "reasoning_content": "Greet."},
        {"role": "user", "content": "again"},
    ]
    thinking = {"type": "THINKING", "thinking": "Greet."}
    to_reasoning = sdk_valid(cohere_v2.chat_request(REASONING, messages, {}))["messages"][1]["content"]
    to_command_a = sdk_valid(cohere_v2.chat_request(COMMAND_A, messages, {}))["messages"][1]["content"]
    assert to_reasoning == [thinking, {"type": "TEXT", "text": "Hello."}]
    assert to_command_a == [{"type": "TEXT", "text": "Hello."}]
