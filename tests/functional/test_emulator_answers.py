"""Scripted answers (`POST /_emulator/answers`): a test makes the model call a given tool, in any wire style.

The answer is queued through the control plane and taken by the next chat request that offers the
tool; it comes back as that model's vendor sends tool calls (GENERIC streamed and not, per vendor;
COHERE), and the request that carries the tool's result is answered from the result as always.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from oci_genai_emulator import generation
from tests.fixtures.emulator import Emulator
from tests.functional.test_emulator_variants import (
    COMMAND_A,
    GEMINI,
    GPT_OSS,
    GROK_MINI,
    LLAMA,
    call,
    cohere,
    events,
    generic,
    has,
    streamed,
    text_part,
    tool_calls,
    wire,
)

SHELL = {
    "type": "FUNCTION",
    "name": "run_shell",
    "description": "Run a shell command",
    "parameters": {
        "type": "object",
        "properties": {"command": {"type": "string"}, "timeout": {"type": "number"}},
        "required": ["command"],
    },
}
COHERE_SHELL = {
    "name": "run_shell",
    "description": "Run a shell command",
    "parameterDefinitions": {"command": {"type": "str", "isRequired": True}},
}
ARGUMENTS = {"command": "echo agent-tool-ok", "timeout": 5}
SCRIPTED = [{"name": "run_shell", "arguments": ARGUMENTS}]
PROMPT = "Say hello"  # names no tool: unscripted, every model would answer with text
SEPARATORS = {LLAMA: "\n\n", GROK_MINI: "\n\n", GPT_OSS: "\n\n", GEMINI: "\n"}


def assembled(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The calls of a GENERIC stream, whatever the vendor's fragmenting: name, id, parsed arguments."""
    calls: list[dict[str, Any]] = []
    pieces: list[str] = []
    for fragment in tool_calls(received):
        if "name" in fragment:
            calls.append({"name": fragment["name"], "id": fragment.get("id")})
            pieces.append("")
        if calls:
            pieces[-1] += fragment.get("arguments", "")
    return [{**c, "arguments": json.loads(p)} for c, p in zip(calls, pieces, strict=True)]


def read_stream(emu: Emulator, signer: Any, body: dict[str, Any], model: str) -> list[dict[str, Any]]:
    separator = SEPARATORS[model]
    with wire(emu, signer, streamed(body)) as w:
        return events(w.read_until(has("finishReason", separator)), separator)


@pytest.mark.parametrize("model", list(SEPARATORS))
def test_a_scripted_call_comes_back_as_each_generic_vendor_sends_calls(
    model: str, emu: Emulator, rp_signer: Any
) -> None:
    emu.script_answer(tool_calls=SCRIPTED, count=2)
    body = generic(model, PROMPT, tools=[SHELL])

    status, result = call(emu, rp_signer, body)
    assert status == 200
    choice = result["chatResponse"]["choices"][0]
    assert choice["finishReason"] == "tool_calls"
    [json_call] = choice["message"]["toolCalls"]
    assert json_call["name"] == "run_shell"
    assert json.loads(json_call["arguments"]) == ARGUMENTS

    [streamed_call] = assembled(read_stream(emu, rp_signer, body, model))
    assert streamed_call["arguments"] == ARGUMENTS
    assert streamed_call["name"] == "run_shell"
    # Ids in the vendor's style, the same on both (Gemini sends none).
    assert streamed_call["id"] == json_call.get("id")
    assert emu.scripted_answers() == []
    assert [e["scripted"] for e in emu.requests("/actions/chat")] == [{"tool_calls": SCRIPTED}] * 2


def test_a_scripted_call_in_the_cohere_format(emu: Emulator, rp_signer: Any) -> None:
    emu.script_answer(tool_calls=SCRIPTED, count=2)
    body = cohere(PROMPT, tools=[COHERE_SHELL])
    chat = call(emu, rp_signer, body)[1]["chatResponse"]
    assert chat["toolCalls"] == [{"name": "run_shell", "parameters": ARGUMENTS}]
    assert chat["text"] == "I will use run_shell to answer this."
    assert chat["finishReason"] == "COMPLETE"

    with wire(emu, rp_signer, streamed(body)) as w:
        *_, tool_event, final = events(w.read_until(has("finishReason")))
    assert tool_event["toolCalls"] == final["toolCalls"] == chat["toolCalls"]
    assert final["chatHistory"][-1]["toolCalls"] == chat["toolCalls"]


def test_the_tool_result_is_answered_from_the_result(emu: Emulator, rp_signer: Any) -> None:
    emu.script_answer(tool_calls=SCRIPTED)
    first = call(emu, rp_signer, generic(LLAMA, PROMPT, tools=[SHELL]))[1]
    [made] = first["chatResponse"]["choices"][0]["message"]["toolCalls"]

    follow_up = generic(LLAMA, PROMPT, tools=[SHELL])
    follow_up["chatRequest"]["messages"] += [
        {"role": "ASSISTANT", "toolCalls": [made]},
        {"role": "TOOL", "toolCallId": made["id"], "content": [text_part("agent-tool-ok")]},
    ]
    answer = call(emu, rp_signer, follow_up)[1]["chatResponse"]["choices"][0]
    assert answer["finishReason"] == "stop"
    assert answer["message"]["content"][0]["text"] == generation.tool_result_text(
        LLAMA, "run_shell", "agent-tool-ok"
    )
    assert "scripted" not in emu.requests("/actions/chat")[-1]


def test_an_answer_waits_for_a_request_that_offers_its_tool_and_model(emu: Emulator, rp_signer: Any) -> None:
    emu.script_answer(tool_calls=SCRIPTED, model=COMMAND_A)
    # Another model, and the right model without the tool: both answered as usual.
    other = call(emu, rp_signer, generic(LLAMA, PROMPT, tools=[SHELL]))[1]["chatResponse"]["choices"][0]
    assert other["finishReason"] == "stop"
    plain = call(emu, rp_signer, cohere(PROMPT))[1]["chatResponse"]
    assert "toolCalls" not in plain
    assert emu.scripted_answers() == [{"tool_calls": SCRIPTED, "model": COMMAND_A, "remaining": 1}]

    taken = call(emu, rp_signer, cohere(PROMPT, tools=[COHERE_SHELL]))[1]["chatResponse"]
    assert taken["toolCalls"][0]["name"] == "run_shell"
    assert emu.scripted_answers() == []


def test_a_scripted_text_answers_streams_and_obeys_limits(emu: Emulator, rp_signer: Any) -> None:
    emu.script_answer(text="The build is green and the tests pass", count=3)
    status, result = call(emu, rp_signer, generic(GROK_MINI, PROMPT))
    assert status == 200
    message = result["chatResponse"]["choices"][0]["message"]
    assert message["content"] == [text_part("The build is green and the tests pass")]
    assert message["reasoningContent"]  # still a reasoning model

    received = read_stream(emu, rp_signer, generic(GROK_MINI, PROMPT), GROK_MINI)
    text = "".join(e["message"]["content"][0]["text"] for e in received if "content" in e.get("message", {}))
    assert text == "The build is green and the tests pass"

    limited = call(emu, rp_signer, generic(GROK_MINI, PROMPT, maxTokens=3))[1]["chatResponse"]["choices"][0]
    assert limited["message"]["content"] == [text_part("The build is")]
    assert limited["finishReason"] == "length"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": "hi", "tool_calls": SCRIPTED},
        {"tool_calls": []},
        {"tool_calls": [{"name": "run_shell", "arguments": "echo"}]},
        {"tool_calls": [{"arguments": {}}]},
        {"tool_calls": [{"name": "x", "id": "call_1"}]},
        {"text": 3},
        {"text": "hi", "count": 0},
    ],
)
def test_the_control_plane_refuses_malformed_answers(body: dict[str, Any], emu: Emulator) -> None:
    response = httpx.post(f"{emu.url}/_emulator/answers", json=body, timeout=10)
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameter"
    assert emu.scripted_answers() == []


def test_answers_are_listed_cleared_and_reset(emu: Emulator) -> None:
    emu.script_answer(text="one")
    emu.script_answer(tool_calls=[{"name": "run_shell"}], count=2)
    assert emu.scripted_answers() == [
        {"text": "one", "model": None, "remaining": 1},
        {"tool_calls": [{"name": "run_shell", "arguments": {}}], "model": None, "remaining": 2},
    ]
    assert emu.control("DELETE", "/answers") == {"queued": []}
    emu.script_answer(text="two")
    emu.reset()
    assert emu.scripted_answers() == []
