"""Reasoning text reaches the real SDKs on every API (chat and responses with the openai SDK, messages with
the anthropic SDK), streamed and not, through the ASGI server and `make run`'s stack; and what a client
sends back (a turn's reasoning, the text beside its tool calls) reaches the emulator's OCI.

xAI's models are the emulator's reasoning models that return their reasoning text (`reasoningContent`,
as recorded: emulator/README.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_responses_messages_sdks import ANTHROPIC_TOOLS, RESPONSES_TOOLS, Target
from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import start_gateway, stop

MODEL = "xai.grok-3-mini"
THINKING = {"type": "enabled", "budget_tokens": 1024}
CHAT_TOOLS: list[Any] = [
    {"type": "function", "function": {k: v for k, v in tool.items() if k != "type"}}
    for tool in RESPONSES_TOOLS
]


@pytest.fixture
def target(api_base_url: str) -> Target:
    """The ASGI server, and the serverless stack `make run` starts."""
    return Target(api_base_url)


def sent_assistant_turns(emulator: Emulator) -> list[dict[str, Any]]:
    """The ASSISTANT messages of the last chat request OCI received."""
    body = emulator.requests("/actions/chat")[-1]["body"]
    return [m for m in body["chatRequest"]["messages"] if m["role"] == "ASSISTANT"]


@pytest.mark.parametrize("streamed", [False, True])
def test_chat_reasoning_content_reaches_the_openai_sdk(target: Target, streamed: bool) -> None:
    asked: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "Say hello"}]}
    with target.openai() as client:
        if streamed:
            chunks = list(client.chat.completions.create(**asked, stream=True))
            deltas = [c.choices[0].delta for c in chunks if c.choices]
            thought = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
            text = "".join(d.content or "" for d in deltas)
        else:
            message = client.chat.completions.create(**asked).choices[0].message
            thought, text = (message.model_extra or {})["reasoning_content"], message.content or ""
    assert thought
    assert MODEL in text


@pytest.mark.parametrize("streamed", [False, True])
def test_responses_reasoning_summary_reaches_the_openai_sdk(target: Target, streamed: bool) -> None:
    asked: dict[str, Any] = {"model": MODEL, "input": "Say hello", "reasoning": {"summary": "auto"}}
    with target.openai() as client:
        if streamed:
            with client.responses.stream(**asked) as stream:
                pieces = [e.delta for e in stream if e.type == "response.reasoning_summary_text.delta"]
                response = stream.get_final_response()
            assert "".join(pieces) == response.output[0].summary[0].text  # type: ignore[union-attr]
        else:
            response = client.responses.create(**asked)
    thought, answer = response.output
    assert thought.type == "reasoning"
    assert thought.summary[0].text
    assert answer.type == "message"
    assert MODEL in response.output_text
    assert response.usage is not None
    assert response.usage.output_tokens_details.reasoning_tokens > 0


@pytest.mark.parametrize("streamed", [False, True])
def test_messages_thinking_reaches_the_anthropic_sdk(target: Target, streamed: bool) -> None:
    asked: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 2048,
        "thinking": THINKING,
        "messages": [{"role": "user", "content": "Say hello"}],
    }
    with target.anthropic() as client:
        if streamed:
            with client.messages.stream(**asked) as stream:
                pieces = [e.thinking for e in stream if e.type == "thinking"]
                message = stream.get_final_message()
            assert "".join(pieces) == message.content[0].thinking  # type: ignore[union-attr]
        else:
            message = client.messages.create(**asked)
    block, text = message.content
    assert block.type == "thinking"
    assert block.thinking
    assert block.signature.startswith("ocigw.r1.")
    assert text.type == "text"
    assert MODEL in text.text


def test_chat_tool_loop_sends_the_turns_text_and_reasoning_back(target: Target, emulator: Emulator) -> None:
    question: Any = {"role": "user", "content": "Call get_weather and get_time for Oslo"}
    with target.openai() as client:
        first = client.chat.completions.create(model=MODEL, messages=[question], tools=CHAT_TOOLS)
        message = first.choices[0].message
        thought = (message.model_extra or {})["reasoning_content"]
        assert message.tool_calls
        turn: Any = {**message.model_dump(exclude_none=True), "content": "Checking both."}
        results: list[Any] = [
            {"role": "tool", "tool_call_id": c.id, "content": "20C"} for c in message.tool_calls
        ]
        second = client.chat.completions.create(
            model=MODEL,
            messages=[question, turn, *results],
            tools=CHAT_TOOLS,
        )
    assert "result" in (second.choices[0].message.content or "")
    (sent,) = sent_assistant_turns(emulator)
    assert sent["content"] == [{"type": "TEXT", "text": "Checking both."}]
    assert sent["reasoningContent"] == thought
    assert [c["id"] for c in sent["toolCalls"]] == [c.id for c in message.tool_calls]


def test_responses_tool_loop_sends_the_reasoning_item_back(target: Target, emulator: Emulator) -> None:
    asked: dict[str, Any] = {
        "model": MODEL,
        "tools": RESPONSES_TOOLS,
        "reasoning": {"summary": "auto"},
        "include": ["reasoning.encrypted_content"],
        "store": False,
    }
    question: Any = {"role": "user", "content": "Call get_weather and get_time for Oslo"}
    with target.openai() as client:
        first = client.responses.create(**asked, input=[question])
        thought = first.output[0]
        assert thought.type == "reasoning"
        calls = [item for item in first.output if item.type == "function_call"]
        # As Codex sends it back: no id or status, the item's text dropped, its encrypted_content kept.
        history: list[Any] = [
            question,
            {"type": "reasoning", "summary": [], "encrypted_content": thought.encrypted_content},
        ]
        history += [c.model_dump(exclude_none=True, exclude={"id", "status"}) for c in calls]
        history += [{"type": "function_call_output", "call_id": c.call_id, "output": "20C"} for c in calls]
        second = client.responses.create(**asked, input=history)
    assert "result" in second.output_text
    (sent,) = sent_assistant_turns(emulator)
    assert sent["reasoningContent"] == thought.summary[0].text
    assert len(sent["toolCalls"]) == len(calls)


@pytest.mark.parametrize("streamed", [False, True])
def test_messages_tool_loop_sends_thinking_and_text_back(
    target: Target, emulator: Emulator, streamed: bool
) -> None:
    asked: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 2048,
        "thinking": THINKING,
        "tools": ANTHROPIC_TOOLS,
    }
    question: Any = {"role": "user", "content": "Call get_weather and get_time for Oslo"}
    first: Any
    with target.anthropic() as client:
        if streamed:
            with client.messages.stream(**asked, messages=[question]) as stream:
                first = stream.get_final_message()
        else:
            first = client.messages.create(**asked, messages=[question])
        assert first.stop_reason == "tool_use"
        block = first.content[0]
        assert block.type == "thinking"
        uses = [b for b in first.content if b.type == "tool_use"]
        # The assistant turn as the SDK returned it, with a text block beside the calls.
        content = [b.model_dump() for b in first.content if b.type != "text"]
        content.insert(1, {"type": "text", "text": "Checking both."})
        results = [{"type": "tool_result", "tool_use_id": u.id, "content": "20C"} for u in uses]
        history: list[Any] = [
            question,
            {"role": "assistant", "content": content},
            {"role": "user", "content": results},
        ]
        second = client.messages.create(**asked, messages=history)
    assert second.stop_reason == "end_turn"
    (sent,) = sent_assistant_turns(emulator)
    assert sent["reasoningContent"] == block.thinking
    assert sent["content"] == [{"type": "TEXT", "text": "Checking both."}]
    assert [c["id"] for c in sent["toolCalls"]] == [u.id for u in uses]


def test_a_deployment_with_reasoning_text_off_shows_none(tmp_path: Any, emulator: Emulator) -> None:
    """GATEWAY_REASONING_TEXT=false in the server's environment: no API returns reasoning text."""
    proc = start_gateway(emulator, tmp_path, GATEWAY_REASONING_TEXT="false")
    try:
        target = Target(proc.base_url)
        prompt: Any = [{"role": "user", "content": "Say hello"}]
        with target.openai() as client:
            message = client.chat.completions.create(model=MODEL, messages=prompt).choices[0].message
            assert "reasoning_content" not in (message.model_extra or {})
            chunks = list(client.chat.completions.create(model=MODEL, messages=prompt, stream=True))
            assert not any(
                (c.choices[0].delta.model_extra or {}).get("reasoning_content") for c in chunks if c.choices
            )
            response = client.responses.create(model=MODEL, input="Say hello", reasoning={"summary": "auto"})
            assert [item.type for item in response.output] == ["message"]
            assert response.usage is not None
            assert response.usage.output_tokens_details.reasoning_tokens > 0  # still counted
        with target.anthropic() as anthropic_client:
            answer = anthropic_client.messages.create(
                model=MODEL, max_tokens=2048, thinking=THINKING, messages=prompt
            )  # type: ignore[arg-type]
            assert [block.type for block in answer.content] == ["text"]
    finally:
        stop(proc.process)
