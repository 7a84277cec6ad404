"""Issue 21's matrix in process: model families (meta, xai, google, openai, cohere v1, cohere v2) x APIs
(chat, responses, messages) x features (tool_choice auto, none, required and named; images; reasoning
out and back in; structured output), streamed and not, over the scripted OCI. Each cell checks the OCI
request the gateway sends in the family's format (GENERIC, COHERE, COHEREV2) and the answer it renders
in the API's words, or the 400 in the API's dialect where the format cannot do it (README, "What each
model family gets"). The end-to-end twin over the emulator is tests/e2e/test_family_matrix.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from oci_genai_gateway.core.gateway import Gateway
from tests.fakes import Events, Json, ScriptedOci, gateway, read_stream, send, sse_payloads
from tests.matrix import (
    APIS,
    CITY,
    FAMILIES,
    IMAGE_URL,
    NAMES,
    PATHS,
    body,
    calls,
    mode,
    reasoning,
    reasoning_options,
    streamed_calls,
    streamed_reasoning,
    streamed_text,
    structured,
    text,
    tools,
)
from tests.unit.test_messages_route import events as message_events
from tests.unit.test_responses_route import events as response_events

# One gateway and one scripted OCI for the whole module (built once: the matrix stays fast), on one
# event loop, as the gateway's HTTP client belongs to the loop that first used it.
pytestmark = pytest.mark.asyncio(loop_scope="module")

FORMAT = dict.fromkeys(FAMILIES, "GENERIC") | {"cohere-v1": "COHERE", "cohere-v2": "COHEREV2"}
# Command A Vision and Command A Reasoning take the images and the thinking (the format follows the name).
VISION = FAMILIES | {"cohere-v2": "cohere.command-a-vision-07-2025"}
THINKER = FAMILIES | {"cohere-v2": "cohere.command-a-reasoning-08-2025"}
USAGE = {"promptTokens": 9, "completionTokens": 6, "totalTokens": 15}
THOUGHT = "The user wants the time; call get_time."
STREAMED = pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
CHOICES = ["auto", "none", "required", "named"]


@pytest.fixture(scope="module")
def oci() -> ScriptedOci:
    return ScriptedOci()


@pytest.fixture(scope="module")
def gw(oci: ScriptedOci) -> Gateway:
    return gateway(oci)[0]


@pytest.fixture(autouse=True)
def _fresh(oci: ScriptedOci) -> Iterator[None]:
    """Each cell sees only its own requests, and uses every answer it scripted."""
    oci.sent.clear()
    yield
    assert not oci._replies, "a scripted answer was left unused"


# --- what OCI answers, in each format --------------------------------------------------------------


def answer(
    fmt: str, stream: bool, text: str | None, thought: str | None = None, call: str | None = None
) -> Any:
    """`fmt`'s answer (or stream) with `text`, reasoning `thought` and a call to `call` where given."""
    if fmt == "COHERE":
        return _cohere(stream, text, call)
    if fmt == "COHEREV2":
        return _v2(stream, text, thought, call)
    return _generic(stream, text, thought, call)


def _generic(stream: bool, text: str | None, thought: str | None, call: str | None) -> Json | Events:
    calls = (
        [{"type": "FUNCTION", "id": "call_1", "name": call, "arguments": '{"city":"Oslo"}'}] if call else []
    )
    finish = "tool_calls" if call else "stop"
    if not stream:
        message: dict[str, Any] = {"role": "ASSISTANT"}
        if text is not None:
            message["content"] = [{"type": "TEXT", "text": text}]
        if calls:
            message["toolCalls"] = calls
        if thought is not None:
            message["reasoningContent"] = thought
        chat = {
            "apiFormat": "GENERIC",
            "choices": [{"index": 0, "message": message, "finishReason": finish}],
            "usage": USAGE,
        }
        return Json({"modelId": "m", "modelVersion": "1", "chatResponse": chat})
    pieces: list[dict[str, Any]] = []
    if thought is not None:
        pieces.append({"reasoningContent": thought})
    if text is not None:
        pieces.append({"content": [{"type": "TEXT", "text": text}]})
    if calls:
        pieces.append({"toolCalls": calls})
    events = [{"index": 0, "message": {"role": "ASSISTANT", **p}} for p in pieces]
    return Events([*events, {"index": 0, "finishReason": finish}, {"usage": USAGE}])


def _cohere(stream: bool, text: str | None, call: str | None) -> Json | Events:
    final: dict[str, Any] = {
        "apiFormat": "COHERE",
        "text": text or "",
        "finishReason": "COMPLETE",
        "usage": USAGE,
    }
    if call:
        final["toolCalls"] = [{"name": call, "parameters": {"city": "Oslo"}}]
    if not stream:
        return Json({"modelId": "cohere.command-r-08-2024", "modelVersion": "1", "chatResponse": final})
    return Events([*([{"apiFormat": "COHERE", "text": text}] if text else []), final])


def _v2(stream: bool, text: str | None, thought: str | None, call: str | None) -> Json | Events:
    content = ([{"type": "THINKING", "thinking": thought}] if thought else []) + (
        [{"type": "TEXT", "text": text}] if text is not None else []
    )
    calls = [{"id": "call_1", "type": "FUNCTION", "function": {"name": call, "arguments": '{"city":"Oslo"}'}}]
    finish = "TOOL_CALL" if call else "COMPLETE"
    if not stream:
        message: dict[str, Any] = {"role": "ASSISTANT", "content": content}
        if call:
            message["toolCalls"] = calls
        chat = {
            "apiFormat": "COHEREV2",
            "id": "r",
            "message": message,
            "finishReason": finish,
            "usage": USAGE,
        }
        return Json({"modelId": "cohere.command-a-03-2025", "modelVersion": "1", "chatResponse": chat})
    pieces = [{"content": [part]} for part in content] + ([{"toolCalls": calls}] if call else [])
    events = [{"apiFormat": "COHEREV2", "message": {"role": "ASSISTANT", **p}} for p in pieces]
    end = {"apiFormat": "COHEREV2", "message": {"role": "ASSISTANT"}, "finishReason": finish, "usage": USAGE}
    return Events([*events, end])


# --- what the client gets, in each API ------------------------------------------------------------


async def ask(gw: Gateway, api: str, request: dict[str, Any], stream: bool) -> tuple[int, dict[str, Any]]:
    """The status and the rendered answer: (text, reasoning, calls) whole or gathered from the stream."""
    headers = {"anthropic-version": "2023-06-01"} if api == "messages" else {}
    fields = {**request, "stream": True} if stream else request
    reply = await send(gw, "POST", PATHS[api], json.dumps(fields).encode(), headers)
    if reply.status != 200 or not stream:
        assert reply.body is not None
        if reply.status != 200:
            return reply.status, reply.body
        got = reply.body
        return 200, {"text": text(api, got), "reasoning": reasoning(api, got), "calls": calls(api, got)}
    raw = await read_stream(reply)
    if api == "chat":
        seen = [p for p in sse_payloads(raw) if p != "[DONE]"]
    else:
        seen = (response_events if api == "responses" else message_events)(raw)  # schema-checked
    found = {
        "text": streamed_text(api, seen),
        "reasoning": streamed_reasoning(api, seen),
        "calls": streamed_calls(api, seen),
    }
    return 200, found


def sent(oci: ScriptedOci, stream: bool) -> dict[str, Any]:
    """The one chatRequest the cell sent to OCI (a stream's asked as one)."""
    (request,) = oci.sent
    chat: dict[str, Any] = request.body["chatRequest"]
    assert chat.get("isStream", False) is stream
    return chat


def refused(api: str, status: int, answer: dict[str, Any], param: str) -> str:
    """The 400's message, checked to be in the API's own error envelope (and naming `param` there)."""
    assert status == 400, answer
    if api == "messages":
        assert answer["type"] == "error"
        assert answer["error"]["type"] == "invalid_request_error"
        return str(answer["error"]["message"])
    assert answer["error"]["type"] == "invalid_request_error"
    assert answer["error"]["param"].startswith(param)
    return str(answer["error"]["message"])


def offered(fmt: str, chat: dict[str, Any]) -> list[str]:
    """The names of the tools in an OCI chatRequest."""
    if fmt == "COHEREV2":
        return [t["function"]["name"] for t in chat.get("tools") or []]
    return [t["name"] for t in chat.get("tools") or []]


# --- the matrix ------------------------------------------------------------------------------------

TOOL_CHOICE: dict[
    str, dict[str, tuple[Any, list[str]]]
] = {  # what each format sends for each choice: (its choice field, the tools offered)
    "GENERIC": {
        "auto": ({"type": "AUTO"}, list(NAMES)),
        "none": ({"type": "NONE"}, list(NAMES)),
        "required": ({"type": "REQUIRED"}, list(NAMES)),
        "named": ({"type": "FUNCTION", "name": "get_time"}, list(NAMES)),
    },
    "COHEREV2": {
        "auto": (None, list(NAMES)),
        "none": ("NONE", list(NAMES)),
        "required": ("REQUIRED", list(NAMES)),
        "named": ("REQUIRED", ["get_time"]),  # only that tool, required: the choice is exact
    },
    "COHERE": {"auto": (None, list(NAMES)), "none": (None, [])},  # none: the tools withheld
}
CHOICE_FIELD = {"GENERIC": "toolChoice", "COHEREV2": "toolsChoice", "COHERE": "toolChoice"}


@STREAMED
@pytest.mark.parametrize("which", CHOICES)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", FAMILIES)
async def test_tool_choice(
    oci: ScriptedOci, gw: Gateway, family: str, api: str, which: str, stream: bool
) -> None:
    fmt = FORMAT[family]
    request = body(api, FAMILIES[family], "What time is it", tools=tools(api), tool_choice=mode(api, which))
    if which not in TOOL_CHOICE[fmt]:
        status, got = await ask(gw, api, request, stream)
        message = refused(api, status, got, "tool_choice")
        assert "'tool_choice' other than 'auto' or 'none' is not supported by COHERE-format" in message
        assert not oci.sent
        return
    calling = None if which == "none" else "get_time"
    oci.enqueue(answer(fmt, stream, None if calling else "It is noon.", call=calling))
    status, got = await ask(gw, api, request, stream)
    assert status == 200, got
    chat = sent(oci, stream)
    assert chat["apiFormat"] == fmt
    field, names = TOOL_CHOICE[fmt][which]
    assert chat.get(CHOICE_FIELD[fmt]) == field
    assert offered(fmt, chat) == names
    assert got["calls"] == ([calling] if calling else [])
    assert got["text"] == ("" if calling else "It is noon.")


@STREAMED
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", FAMILIES)
async def test_images(oci: ScriptedOci, gw: Gateway, family: str, api: str, stream: bool) -> None:
    fmt = FORMAT[family]
    request = body(api, VISION[family], "What is this", image=True)
    if fmt == "COHERE":  # v1 has no image content: dropping it would answer another question
        status, got = await ask(gw, api, request, stream)
        assert "Image content is not supported by COHERE-format" in refused(api, status, got, "messages")
        assert not oci.sent
        return
    oci.enqueue(answer(fmt, stream, "A red pixel."))
    status, got = await ask(gw, api, request, stream)
    assert status == 200, got
    (turn,) = sent(oci, stream)["messages"]
    kind, image = turn["content"][1]["type"], turn["content"][1]["imageUrl"]
    assert (kind, image["url"]) == ("IMAGE_URL" if fmt == "COHEREV2" else "IMAGE", IMAGE_URL)
    assert got["text"] == "A red pixel."


@STREAMED
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", FAMILIES)
async def test_reasoning_out(oci: ScriptedOci, gw: Gateway, family: str, api: str, stream: bool) -> None:
    fmt = FORMAT[family]
    request = body(api, THINKER[family], "What time is it", **reasoning_options(api))
    if fmt == "COHERE" and api == "chat":  # chat's reasoning_effort is asked for, not a hint: refused
        status, got = await ask(gw, api, request, stream)
        assert "reasoning_effort" in refused(api, status, got, "reasoning_effort")
        assert not oci.sent
        return
    oci.enqueue(answer(fmt, stream, "It is noon.", thought=None if fmt == "COHERE" else THOUGHT))
    status, got = await ask(gw, api, request, stream)
    assert status == 200, got
    chat = sent(oci, stream)
    effort = {
        "GENERIC": ("reasoningEffort", "LOW"),
        "COHEREV2": ("thinking", {"type": "ENABLED", "tokenBudget": 1024}),
        "COHERE": ("reasoningEffort", None),  # Responses' effort and Messages' thinking: hints, left out
    }[fmt]
    assert chat.get(effort[0]) == effort[1]
    assert "thinking" not in chat or fmt == "COHEREV2"
    assert (got["text"], got["reasoning"]) == ("It is noon.", "" if fmt == "COHERE" else THOUGHT)


def history(api: str, model: str) -> dict[str, Any]:
    """A tool-calling turn with its reasoning and its text, and the tool's result, as `api` sends it back."""
    call = {"city": "Oslo"}
    if api == "chat":
        turn = {
            "role": "assistant",
            "content": "Let me look it up.",
            "reasoning_content": THOUGHT,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": json.dumps(call)},
                }
            ],
        }
        messages = [turn, {"role": "tool", "tool_call_id": "call_1", "content": "noon"}]
        return {
            "model": model,
            "tools": tools(api),
            "messages": [{"role": "user", "content": "Time?"}, *messages],
        }
    if api == "responses":
        items = [
            {"role": "user", "content": "Time?"},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": THOUGHT}]},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Let me look it up."}],
            },
            {"type": "function_call", "call_id": "call_1", "name": "get_time", "arguments": json.dumps(call)},
            {"type": "function_call_output", "call_id": "call_1", "output": "noon"},
        ]
        return {"model": model, "tools": tools(api), "input": items}
    blocks = [
        {"type": "thinking", "thinking": THOUGHT, "signature": "EqQBCkYIARgCIkD"},
        {"type": "text", "text": "Let me look it up."},
        {"type": "tool_use", "id": "call_1", "name": "get_time", "input": call},
    ]
    result = {"type": "tool_result", "tool_use_id": "call_1", "content": "noon"}
    messages = [
        {"role": "user", "content": "Time?"},
        {"role": "assistant", "content": blocks},
        {"role": "user", "content": [result]},
    ]
    return {"model": model, "max_tokens": 1000, "tools": tools(api), "messages": messages}


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", FAMILIES)
async def test_reasoning_and_text_back_in(oci: ScriptedOci, gw: Gateway, family: str, api: str) -> None:
    fmt = FORMAT[family]
    oci.enqueue(answer(fmt, False, "It is noon."))
    status, got = await ask(gw, api, history(api, FAMILIES[family]), False)
    assert status == 200, got
    assert got["text"] == "It is noon."
    chat = sent(oci, False)
    if fmt == "COHERE":  # CohereChatBotMessage has no reasoning field: the text goes back, the reasoning not
        (bot,) = [m for m in chat["chatHistory"] if m["role"] == "CHATBOT"]
        assert bot["message"] == "Let me look it up."
        assert [c["name"] for c in bot["toolCalls"]] == ["get_time"]
        assert THOUGHT not in json.dumps(chat)
        return
    (turn,) = [m for m in chat["messages"] if m["role"] == "ASSISTANT"]
    assert turn["content"] == [{"type": "TEXT", "text": "Let me look it up."}]
    assert [c["id"] for c in turn["toolCalls"]] == ["call_1"]
    # GENERIC's reasoningContent; COHEREV2's tool plan (Cohere's reflection before its calls).
    assert turn["toolPlan" if fmt == "COHEREV2" else "reasoningContent"] == THOUGHT


@STREAMED
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("family", FAMILIES)
async def test_structured_output(oci: ScriptedOci, gw: Gateway, family: str, api: str, stream: bool) -> None:
    fmt = FORMAT[family]
    schema: dict[str, Any] = {**CITY, "additionalProperties": False}
    oci.enqueue(answer(fmt, stream, '{"city": "Oslo"}'))
    status, got = await ask(
        gw, api, body(api, FAMILIES[family], "Where is Oslo", **structured(api, schema)), stream
    )
    assert status == 200, got
    chat = sent(oci, stream)
    if fmt == "GENERIC":
        assert chat["responseFormat"]["type"] == "JSON_SCHEMA"
        assert chat["responseFormat"]["jsonSchema"]["schema"] == schema
    else:  # Cohere's JSON mode with the schema, both formats
        assert chat["responseFormat"] == {"type": "JSON_OBJECT", "schema": schema}
    assert json.loads(got["text"]) == {"city": "Oslo"}
