"""The Command A family over COHEREV2, end to end: the openai SDK on /v1/chat/completions and
/v1/responses and the anthropic SDK on /v1/messages, through the ASGI server and `make run`'s stack,
OCI being the emulator (which validates every COHEREV2 request with the SDK's models). Tool choice
modes, images (Command A Vision), reasoning (Command A Reasoning), structured output, streaming."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import KEY

COMMAND_A = "cohere.command-a-03-2025"
VISION = "command-a-vision"  # aliases of dedicated endpoints (tests/fixtures/gateway.py)
REASONING = "command-a-reasoning"
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
CHAT_TOOLS: list[Any] = [
    {"type": "function", "function": {"name": name, "description": f"{name} of a city", "parameters": CITY}}
    for name in ("get_weather", "get_time")
]
PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
    "AAAABJRU5ErkJggg=="
)


@pytest.fixture
def client(api_base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=api_base_url, api_key=KEY, max_retries=0)


@pytest.fixture
def claude(api_base_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=api_base_url.removesuffix("/v1"), api_key=KEY, max_retries=0)


def last_chat(emulator: Emulator) -> dict[str, Any]:
    body: dict[str, Any] = emulator.requests("/actions/chat")[-1]["body"]["chatRequest"]
    return body


@pytest.mark.parametrize(
    ("tool_choice", "called"),
    [
        ("required", ["get_weather"]),
        ({"type": "function", "function": {"name": "get_time"}}, ["get_time"]),
        ("none", []),
    ],
    ids=["required", "named", "none"],
)
def test_chat_tool_choice_modes(
    client: openai.OpenAI, emulator: Emulator, tool_choice: Any, called: list[str]
) -> None:
    answer = client.chat.completions.create(
        model=COMMAND_A,
        messages=[{"role": "user", "content": "Hello there"}],
        tools=CHAT_TOOLS,
        tool_choice=tool_choice,
    )
    calls = answer.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == called
    assert all(c.id for c in calls)
    assert answer.choices[0].finish_reason == ("tool_calls" if called else "stop")
    assert last_chat(emulator)["apiFormat"] == "COHEREV2"


def test_chat_streams_a_tool_call_and_then_answers_from_its_result(client: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "Use get_weather for Oslo"}]
    stream = client.chat.completions.create(model=COMMAND_A, messages=messages, tools=CHAT_TOOLS, stream=True)
    calls: dict[int, dict[str, str]] = {}
    for chunk in stream:
        for piece in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += piece.id or ""
            call["name"] += (piece.function and piece.function.name) or ""
            call["arguments"] += (piece.function and piece.function.arguments) or ""
    (call,) = calls.values()
    assert call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "Oslo"}
    function = {"name": call["name"], "arguments": call["arguments"]}
    messages += [
        {"role": "assistant", "tool_calls": [{"id": call["id"], "type": "function", "function": function}]},
        {"role": "tool", "tool_call_id": call["id"], "content": "Sunny, 21 C"},
    ]
    final = client.chat.completions.create(model=COMMAND_A, messages=messages, tools=CHAT_TOOLS)
    assert "Sunny, 21 C" in (final.choices[0].message.content or "")


def test_chat_structured_output_follows_the_schema(client: openai.OpenAI, emulator: Emulator) -> None:
    answer = client.chat.completions.create(
        model=COMMAND_A,
        messages=[{"role": "user", "content": "Where is Oslo"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "City", "schema": CITY, "strict": True},
        },
    )
    assert set(json.loads(answer.choices[0].message.content or "")) == {"city"}
    assert last_chat(emulator)["responseFormat"] == {"type": "JSON_OBJECT", "schema": CITY}


def test_command_a_vision_sees_an_image(client: openai.OpenAI, emulator: Emulator) -> None:
    content: Any = [
        {"type": "text", "text": "What is this"},
        {"type": "image_url", "image_url": {"url": PNG}},
    ]
    answer = client.chat.completions.create(model=VISION, messages=[{"role": "user", "content": content}])
    assert "I see 1 image" in (answer.choices[0].message.content or "")
    sent = emulator.requests("/actions/chat")[-1]["body"]
    assert sent["servingMode"]["servingType"] == "DEDICATED"
    assert sent["chatRequest"]["messages"][0]["content"][1]["type"] == "IMAGE_URL"


@pytest.mark.parametrize("streamed", [False, True], ids=["invoked", "streamed"])
def test_command_a_reasoning_returns_its_thinking_as_reasoning_content(
    client: openai.OpenAI, emulator: Emulator, streamed: bool
) -> None:
    messages: Any = [{"role": "user", "content": "Why is the sky blue"}]
    if streamed:
        stream = client.chat.completions.create(
            model=REASONING,
            messages=messages,
            reasoning_effort="low",
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        deltas = [c.choices[0].delta for c in chunks if c.choices]
        reasoning = "".join(getattr(d, "reasoning_content", None) or "" for d in deltas)
        text = "".join(d.content or "" for d in deltas)
        usage = chunks[-1].usage
    else:
        answer = client.chat.completions.create(model=REASONING, messages=messages, reasoning_effort="low")
        reasoning = getattr(answer.choices[0].message, "reasoning_content", "")
        text = answer.choices[0].message.content or ""
        usage = answer.usage
    assert reasoning.startswith("The user said")
    assert "Why is the sky blue" in text
    assert usage is not None
    assert usage.completion_tokens_details is not None
    assert (usage.completion_tokens_details.reasoning_tokens or 0) > 0
    assert last_chat(emulator)["thinking"] == {"type": "ENABLED", "tokenBudget": 1024}


def test_responses_named_tool_choice_and_structured_output(client: openai.OpenAI, emulator: Emulator) -> None:
    tools: Any = [
        {
            "type": "function",
            "name": name,
            "description": f"{name} of a city",
            "parameters": CITY,
            "strict": True,
        }
        for name in ("get_weather", "get_time")
    ]
    called = client.responses.create(
        model=COMMAND_A, input="Hello", tools=tools, tool_choice={"type": "function", "name": "get_time"}
    )
    (item,) = [o for o in called.output if o.type == "function_call"]
    assert item.name == "get_time"
    chat = last_chat(emulator)
    assert (chat["toolsChoice"], [t["function"]["name"] for t in chat["tools"]]) == ("REQUIRED", ["get_time"])
    structured = client.responses.create(
        model=COMMAND_A,
        input="Where is Oslo",
        text={"format": {"type": "json_schema", "name": "City", "schema": CITY}},
    )
    assert set(json.loads(structured.output_text)) == {"city"}


def test_responses_stream_with_required_tools(client: openai.OpenAI) -> None:
    tools: Any = [{"type": "function", "name": "get_weather", "description": "weather", "parameters": CITY}]
    with client.responses.stream(
        model=COMMAND_A, input="Hello", tools=tools, tool_choice="required"
    ) as stream:
        final = stream.get_final_response()
    (item,) = [o for o in final.output if o.type == "function_call"]
    assert item.name == "get_weather"
    assert item.call_id


def test_messages_tool_choice_any_and_tool(claude: anthropic.Anthropic, emulator: Emulator) -> None:
    tools: Any = [
        {"name": n, "description": f"{n} of a city", "input_schema": CITY}
        for n in ("get_weather", "get_time")
    ]
    for choice, name in (
        ({"type": "any"}, "get_weather"),
        ({"type": "tool", "name": "get_time"}, "get_time"),
    ):
        message = claude.messages.create(
            model=COMMAND_A,
            max_tokens=200,
            messages=[{"role": "user", "content": "Hello"}],
            tools=tools,
            tool_choice=choice,
        )
        uses = [b for b in message.content if b.type == "tool_use"]
        assert [u.name for u in uses] == [name]
        assert message.stop_reason == "tool_use"
        assert last_chat(emulator)["toolsChoice"] == "REQUIRED"


def test_messages_stream_an_image_on_command_a_vision(claude: anthropic.Anthropic) -> None:
    image: Any = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG.split(",")[1]},
    }
    with claude.messages.stream(
        model=VISION,
        max_tokens=200,
        messages=[{"role": "user", "content": [{"type": "text", "text": "What is this"}, image]}],
    ) as stream:
        text = "".join(stream.text_stream)
    assert "I see 1 image" in text


@pytest.mark.parametrize("streamed", [False, True], ids=["created", "streamed"])
def test_responses_on_command_a_reasoning_carry_a_reasoning_item(
    client: openai.OpenAI, streamed: bool
) -> None:
    options: Any = {"model": REASONING, "input": "Why is the sky blue", "reasoning": {"effort": "medium"}}
    if streamed:
        with client.responses.stream(**options) as stream:
            response = stream.get_final_response()
    else:
        response = client.responses.create(**options)
    kinds = [o.type for o in response.output]
    assert kinds[0] == "reasoning"
    assert "Why is the sky blue" in response.output_text


def test_messages_on_command_a_reasoning_answer_a_thinking_block_and_send_it_back(
    claude: anthropic.Anthropic, emulator: Emulator
) -> None:
    ask: Any = {"role": "user", "content": "Why is the sky blue"}
    first = claude.messages.create(
        model=REASONING, max_tokens=2000, messages=[ask], thinking={"type": "enabled", "budget_tokens": 1024}
    )
    assert [b.type for b in first.content] == ["thinking", "text"]
    assert last_chat(emulator)["thinking"]["type"] == "ENABLED"
    again: Any = [
        ask,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": "And at dusk"},
    ]
    claude.messages.create(
        model=REASONING, max_tokens=2000, messages=again, thinking={"type": "enabled", "budget_tokens": 1024}
    )
    assistant = last_chat(emulator)["messages"][1]
    thinking = first.content[0]
    assert thinking.type == "thinking"
    assert assistant["content"][0] == {"type": "THINKING", "thinking": thinking.thinking}
