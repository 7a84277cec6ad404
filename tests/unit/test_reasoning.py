"""Reasoning text out on every API (chat, responses, messages; streamed and not), counted once in usage,
turned off by GATEWAY_REASONING_TEXT, and reasoning and the text of tool-calling turns back in to OCI."""

from __future__ import annotations

import json
from typing import Any

import anthropic.types
import pydantic
import pytest

from oci_genai_gateway.core.chat.sealed import seal, unseal
from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.settings import Settings
from tests.fakes import (
    BASE_ENV,
    Events,
    ScriptedOci,
    cohere_answer,
    gateway,
    generic_answer,
    read_stream,
    send,
    sse_payloads,
    text_event,
)
from tests.openapi import validate
from tests.unit.test_messages_route import events as message_events
from tests.unit.test_responses_route import events as response_events

# xAI's recorded style: completionTokens leaves the reasoning out, totalTokens holds it.
USAGE = {
    "promptTokens": 9,
    "completionTokens": 6,
    "totalTokens": 27,
    "completionTokensDetails": {"reasoningTokens": 12},
}
THOUGHT = "The user greets me; answer in kind."
MESSAGE: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(anthropic.types.Message)
WEATHER_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
}
CHAT_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
GENERIC_MODELS = [
    "meta.llama-3.3-70b-instruct",
    "xai.grok-4",
    "google.gemini-2.5-flash",
    "openai.gpt-oss-120b",
]


def reasoning_stream() -> Events:
    """A reasoning model's stream: two pieces of reasoning, then the answer, then usage."""
    think = [
        {"index": 0, "message": {"role": "ASSISTANT", "reasoningContent": t}}
        for t in ("The user ", "greets me; answer in kind.")
    ]
    return Events([*think, text_event("Hello"), {"index": 0, "finishReason": "stop"}, {"usage": USAGE}])


async def post(oci: ScriptedOci, route: str, fields: dict[str, Any], **env: Any) -> Any:
    gw, _ = gateway(oci, **env)
    reply = await send(gw, "POST", route, json.dumps(fields).encode())
    assert reply.status == 200, reply.body
    return reply


def chat_body(**extra: Any) -> dict[str, Any]:
    return {"model": "xai.grok-4", "messages": [{"role": "user", "content": "hi"}], **extra}


def messages_body(**extra: Any) -> dict[str, Any]:
    fields = {"model": "xai.grok-4", "max_tokens": 2048, "messages": [{"role": "user", "content": "hi"}]}
    return {**fields, **extra}


# --- out: chat ---------------------------------------------------------------------------------------


async def test_chat_returns_reasoning_on_the_message_and_counts_it_once() -> None:
    reply = await post(
        ScriptedOci().enqueue(generic_answer("Hello", reasoning=THOUGHT, usage=USAGE)),
        "/v1/chat/completions",
        chat_body(),
    )
    message = reply.body["choices"][0]["message"]
    assert (message["content"], message["reasoning_content"]) == ("Hello", THOUGHT)
    # OpenAI counts reasoning inside completion_tokens, once: prompt + completion is OCI's total.
    assert reply.body["usage"] == {
        "prompt_tokens": 9,
        "completion_tokens": 18,
        "total_tokens": 27,
        "completion_tokens_details": {"reasoning_tokens": 12},
    }


async def test_chat_streams_reasoning_as_deltas_before_the_text() -> None:
    reply = await post(
        ScriptedOci().enqueue(reasoning_stream()), "/v1/chat/completions", chat_body(stream=True)
    )
    deltas = [c["choices"][0]["delta"] for c in sse_payloads(await read_stream(reply))[:-1] if c["choices"]]
    assert "".join(d.get("reasoning_content", "") for d in deltas) == THOUGHT
    assert [d.get("content") for d in deltas if d.get("content")] == ["Hello"]


# --- out: responses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("summary", ["auto", "concise", "detailed"])
async def test_responses_returns_a_reasoning_item_with_a_summary_when_asked(summary: str) -> None:
    oci = ScriptedOci().enqueue(generic_answer("Hello", reasoning=THOUGHT, usage=USAGE))
    reply = await post(
        oci, "/v1/responses", {"model": "xai.grok-4", "input": "hi", "reasoning": {"summary": summary}}
    )
    validate(reply.body, "Response")
    thought, message = reply.body["output"]
    assert (thought["type"], thought["summary"]) == ("reasoning", [{"type": "summary_text", "text": THOUGHT}])
    assert message["content"][0]["text"] == "Hello"
    assert reply.body["usage"]["output_tokens"] == 18  # reasoning inside, once
    assert reply.body["usage"]["output_tokens_details"] == {"reasoning_tokens": 12}
    assert reply.body["usage"]["total_tokens"] == 27


async def test_responses_streams_the_summary_events_in_openais_order() -> None:
    fields = {"model": "xai.grok-4", "input": "hi", "stream": True, "reasoning": {"summary": "auto"}}
    reply = await post(ScriptedOci().enqueue(reasoning_stream()), "/v1/responses", fields)
    seen = response_events(await read_stream(reply))  # each validated against OpenAI's schema
    kinds = [e["type"] for e in seen]
    assert kinds[:6] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
    ]
    done = kinds.index("response.reasoning_summary_text.done")
    assert kinds[done : done + 3] == [
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
    ]
    assert seen[done]["text"] == THOUGHT
    assert seen[2]["item"]["type"] == "reasoning"
    final = seen[-1]["response"]
    assert final["output"][0]["summary"] == [{"type": "summary_text", "text": THOUGHT}]
    assert final["usage"]["output_tokens"] == 18


# --- out: messages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("thinking", [{"type": "enabled", "budget_tokens": 1024}, {"type": "adaptive"}])
async def test_messages_returns_a_thinking_block_first_when_thinking_is_on(thinking: dict[str, Any]) -> None:
    oci = ScriptedOci().enqueue(generic_answer("Hello", reasoning=THOUGHT, usage=USAGE))
    reply = await post(oci, "/v1/messages", messages_body(thinking=thinking))
    message = MESSAGE.validate_python(reply.body)
    block, text = message.content
    assert isinstance(block, anthropic.types.ThinkingBlock)
    assert (block.thinking, text.text) == (THOUGHT, "Hello")
    sealed = unseal(block.signature)  # the gateway's readable seal (core/chat/sealed.py)
    assert sealed is not None
    assert (sealed.model, sealed.text) == ("xai.grok-4", THOUGHT)
    # Anthropic counts thinking inside output_tokens: OCI's reasoning once, with the visible answer.
    assert (message.usage.input_tokens, message.usage.output_tokens) == (9, 18)


@pytest.mark.parametrize("thinking", [None, {"type": "disabled"}])
async def test_messages_returns_no_thinking_unless_asked(thinking: dict[str, Any] | None) -> None:
    extra = {"thinking": thinking} if thinking else {}
    oci = ScriptedOci().enqueue(generic_answer("Hello", reasoning=THOUGHT, usage=USAGE))
    reply = await post(oci, "/v1/messages", messages_body(**extra))
    assert [b["type"] for b in reply.body["content"]] == ["text"]
    assert reply.body["usage"]["output_tokens"] == 18  # the model reasoned all the same


async def test_messages_display_omitted_gives_an_empty_thinking_whose_signature_carries_it() -> None:
    oci = ScriptedOci().enqueue(generic_answer("Hello", reasoning=THOUGHT))
    thinking = {"type": "adaptive", "display": "omitted"}
    reply = await post(oci, "/v1/messages", messages_body(thinking=thinking))
    block = reply.body["content"][0]
    assert (block["type"], block["thinking"]) == ("thinking", "")
    sealed = unseal(block["signature"])
    assert sealed is not None
    assert sealed.text == THOUGHT


async def test_messages_streams_thinking_deltas_then_the_signature_then_text() -> None:
    fields = messages_body(stream=True, thinking={"type": "enabled", "budget_tokens": 2048})
    reply = await post(ScriptedOci().enqueue(reasoning_stream()), "/v1/messages", fields)
    seen = message_events(await read_stream(reply))  # each validated with the anthropic SDK's types
    blocks = [(e["type"], e.get("delta", e.get("content_block", {})).get("type")) for e in seen[2:-2]]
    assert blocks == [
        ("content_block_start", "thinking"),
        ("content_block_delta", "thinking_delta"),
        ("content_block_delta", "thinking_delta"),
        ("content_block_delta", "signature_delta"),
        ("content_block_stop", None),
        ("content_block_start", "text"),
        ("content_block_delta", "text_delta"),
        ("content_block_stop", None),
    ]
    assert (
        "".join(e["delta"].get("thinking", "") for e in seen if e["type"] == "content_block_delta") == THOUGHT
    )
    signature = next(
        e["delta"]["signature"] for e in seen if e.get("delta", {}).get("type") == "signature_delta"
    )
    assert signature == seal("xai.grok-4", THOUGHT)
    assert seen[-2]["usage"]["output_tokens"] == 18


async def test_messages_stream_with_display_omitted_sends_the_signature_alone() -> None:
    fields = messages_body(stream=True, thinking={"type": "adaptive", "display": "omitted"})
    reply = await post(ScriptedOci().enqueue(reasoning_stream()), "/v1/messages", fields)
    deltas = [
        e["delta"]["type"]
        for e in message_events(await read_stream(reply))
        if e["type"] == "content_block_delta"
    ]
    assert deltas == ["signature_delta", "text_delta"]


# --- the deployment setting --------------------------------------------------------------------------


async def test_reasoning_text_off_returns_none_on_any_api_and_still_counts_its_tokens() -> None:
    off = {"GATEWAY_REASONING_TEXT": "false"}
    answer = generic_answer("Hello", reasoning=THOUGHT, usage=USAGE)
    chat = await post(ScriptedOci().enqueue(answer), "/v1/chat/completions", chat_body(), **off)
    assert "reasoning_content" not in chat.body["choices"][0]["message"]
    assert chat.body["usage"]["completion_tokens_details"] == {"reasoning_tokens": 12}
    summarized = {
        "model": "xai.grok-4",
        "input": "hi",
        "reasoning": {"summary": "auto"},
        "include": ["reasoning.encrypted_content"],
    }
    responses = await post(ScriptedOci().enqueue(answer), "/v1/responses", summarized, **off)
    assert [item["type"] for item in responses.body["output"]] == ["message"]
    assert responses.body["usage"]["output_tokens_details"] == {"reasoning_tokens": 12}
    thinking = {"type": "enabled", "budget_tokens": 1024}
    messages = await post(
        ScriptedOci().enqueue(answer), "/v1/messages", messages_body(thinking=thinking), **off
    )
    assert [b["type"] for b in messages.body["content"]] == ["text"]
    for route, fields in (
        ("/v1/chat/completions", chat_body(stream=True)),
        ("/v1/responses", {**summarized, "stream": True}),
        ("/v1/messages", messages_body(stream=True, thinking=thinking)),
    ):
        streamed = await read_stream(
            await post(ScriptedOci().enqueue(reasoning_stream()), route, fields, **off)
        )
        assert b"greets me" not in streamed
        assert b"reasoning_summary" not in streamed
        assert b"thinking" not in streamed
        assert b"Hello" in streamed


# --- back in -----------------------------------------------------------------------------------------


def assistant_turns(oci: ScriptedOci) -> list[dict[str, Any]]:
    return [m for m in oci.sent[0].body["chatRequest"]["messages"] if m["role"] == "ASSISTANT"]


@pytest.mark.parametrize("model", GENERIC_MODELS)
async def test_chat_sends_a_tool_calling_turns_text_and_reasoning_to_every_generic_model(model: str) -> None:
    turn = {
        "role": "assistant",
        "content": "Let me look it up.",
        "tool_calls": [WEATHER_CALL],
        "reasoning_content": THOUGHT,
    }
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Oslo?"},
        turn,
        {"role": "tool", "tool_call_id": "call_1", "content": "12C"},
    ]
    oci = ScriptedOci().enqueue(generic_answer("It is 12C."))
    await post(oci, "/v1/chat/completions", {"model": model, "messages": messages, "tools": [CHAT_TOOL]})
    (sent,) = assistant_turns(oci)
    assert sent["content"] == [{"type": "TEXT", "text": "Let me look it up."}]
    assert [c["id"] for c in sent["toolCalls"]] == ["call_1"]
    assert sent["reasoningContent"] == THOUGHT


async def test_a_plain_assistant_turns_reasoning_goes_back_too_and_a_bad_one_is_a_400() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello", "reasoning_content": THOUGHT},
        {"role": "user", "content": "again", "reasoning_content": "not a turn's reasoning"},
    ]
    oci = ScriptedOci().enqueue(generic_answer("Hello again"))
    await post(oci, "/v1/chat/completions", chat_body(messages=messages))
    assert [m.get("reasoningContent") for m in assistant_turns(oci)] == [THOUGHT]
    assert "not a turn's" not in json.dumps(oci.sent[0].body)  # only an assistant turn's reasoning
    gw, _ = gateway(ScriptedOci())
    bad = chat_body(
        messages=[
            {"role": "assistant", "content": "x", "reasoning_content": 3},
            {"role": "user", "content": "y"},
        ]
    )
    reply = await send(gw, "POST", "/v1/chat/completions", json.dumps(bad).encode())
    assert reply.status == 400
    assert reply.body is not None
    assert reply.body["error"]["param"] == "messages[0].reasoning_content"


async def test_cohere_keeps_the_text_beside_calls_and_drops_reasoning_it_has_no_field_for() -> None:
    messages = [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": "Let me look it up.",
            "tool_calls": [WEATHER_CALL],
            "reasoning_content": THOUGHT,
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "12C"},
    ]
    oci = ScriptedOci().enqueue(cohere_answer("It is 12C."))
    await post(
        oci,
        "/v1/chat/completions",
        {"model": "cohere.command-r-08-2024", "messages": messages, "tools": [CHAT_TOOL]},
    )
    history = oci.sent[0].body["chatRequest"]["chatHistory"]
    bot = next(m for m in history if m["role"] == "CHATBOT")
    assert bot["message"] == "Let me look it up."
    assert THOUGHT not in json.dumps(oci.sent[0].body)


RESPONSES_TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {}},
}


def two_turns(*, then_user: bool) -> list[dict[str, Any]]:
    """A tool-calling turn and the answer after it, as a client sends them back (a user turn after)."""
    items = [
        {"role": "user", "content": "Weather in Oslo?"},
        # Another server's item: no encrypted_content the gateway can read, its summary is the text.
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": THOUGHT}]},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Let me look it up."}],
        },
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "12C"},
        # Ours, as Codex returns it: no text, the seal in encrypted_content.
        {"type": "reasoning", "summary": [], "encrypted_content": seal("xai.grok-4", "It is 12C; say so.")},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "It is 12C."}]},
    ]
    return [*items, {"role": "user", "content": "Thanks"}] if then_user else items


async def test_responses_reasoning_items_and_assistant_text_go_back_with_their_turn() -> None:
    oci = ScriptedOci().enqueue(generic_answer("You're welcome."))
    fields = {"model": "xai.grok-4", "input": two_turns(then_user=False), "tools": [RESPONSES_TOOL]}
    await post(oci, "/v1/responses", fields)
    first, second = assistant_turns(oci)
    assert first["content"] == [{"type": "TEXT", "text": "Let me look it up."}]
    assert (first["toolCalls"][0]["id"], first["reasoningContent"]) == ("call_1", THOUGHT)
    assert second["reasoningContent"] == "It is 12C; say so."


@pytest.mark.parametrize(
    ("context", "kept"), [(None, False), ("auto", False), ("current_turn", False), ("all_turns", True)]
)
async def test_responses_reasoning_context_says_whether_earlier_turns_reasoning_goes_back(
    context: str | None, kept: bool
) -> None:
    oci = ScriptedOci().enqueue(generic_answer("You're welcome."))
    fields: dict[str, Any] = {
        "model": "xai.grok-4",
        "input": two_turns(then_user=True),
        "tools": [RESPONSES_TOOL],
    }
    if context is not None:
        fields["reasoning"] = {"context": context}
    await post(oci, "/v1/responses", fields)
    thoughts = [turn.get("reasoningContent") for turn in assistant_turns(oci)]
    assert thoughts == ([THOUGHT, "It is 12C; say so."] if kept else [None, None])
    assert assistant_turns(oci)[0]["content"] == [{"type": "TEXT", "text": "Let me look it up."}]


async def test_messages_thinking_blocks_go_back_with_their_turn() -> None:
    tool = {"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}
    ours = seal("xai.grok-4", "Sealed thought.")
    messages = [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "thinking",
                    "thinking": THOUGHT,
                    "signature": "EqQBCkYIARgCIkD",
                },  # Anthropic's: its text
                {"type": "text", "text": "Let me look it up."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "12C"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "", "signature": ours},  # display omitted: the seal's text
                {"type": "redacted_thinking", "data": "opaque"},  # another server's ciphertext: dropped
                {"type": "text", "text": "It is 12C."},
            ],
        },
        {"role": "user", "content": "Thanks"},
    ]
    oci = ScriptedOci().enqueue(generic_answer("You're welcome."))
    await post(oci, "/v1/messages", messages_body(messages=messages, tools=[tool]))
    first, second = assistant_turns(oci)
    assert first["content"] == [{"type": "TEXT", "text": "Let me look it up."}]
    assert (first["toolCalls"][0]["id"], first["reasoningContent"]) == ("call_1", THOUGHT)
    assert second["reasoningContent"] == "Sealed thought."
    assert "opaque" not in json.dumps(oci.sent[0].body)


def test_the_setting_is_read_once_from_the_environment() -> None:
    assert Settings.from_env(BASE_ENV).reasoning_text is True
    assert Settings.from_env({**BASE_ENV, "GATEWAY_REASONING_TEXT": " False"}).reasoning_text is False
    with pytest.raises(ConfigError, match="GATEWAY_REASONING_TEXT"):
        Settings.from_env({**BASE_ENV, "GATEWAY_REASONING_TEXT": "hidden"})


async def test_count_tokens_counts_the_thinking_that_goes_back() -> None:
    gw, _ = gateway(ScriptedOci())
    turn = {"role": "assistant", "content": [{"type": "thinking", "thinking": "t" * 400, "signature": "s"}]}
    fields = messages_body(
        messages=[{"role": "user", "content": "hi"}, turn, {"role": "user", "content": "?"}]
    )
    without = {
        **fields,
        "messages": [fields["messages"][0], {"role": "assistant", "content": []}, fields["messages"][2]],
    }
    counts = []
    for asked in (fields, without):
        reply = await send(gw, "POST", "/v1/messages/count_tokens", json.dumps(asked).encode())
        assert reply.status == 200, reply.body
        assert reply.body is not None
        counts.append(reply.body["input_tokens"])
    assert counts[0] - counts[1] == 100  # 400 characters / 4
