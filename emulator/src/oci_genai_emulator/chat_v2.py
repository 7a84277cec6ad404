"""COHEREV2 answers: the `CohereChatResponseV2` result and its SSE stream events.

Grounding. The result's shape is the SDK's (oci 2.189.0 `CohereChatResponseV2`,
`CohereAssistantMessageV2`: `message.content` TEXT and THINKING parts, `toolPlan`, `toolCalls`
with `id` and `function: {name, arguments}` where arguments is a JSON string, `finishReason`
COMPLETE / MAX_TOKENS / TOOL_CALL, `usage`), as others decoded it from the live service
(https://github.com/NVIDIA/NeMo-Relay crates/core/tests/unit/codec/oci_genai_tests.rs,
`test_cohere_v2_chat_result`). Cohere's tool-call ids look like `get_weather_k88p0m8504w5`
(https://docs.cohere.com/v2/docs/migrating-v1-to-v2). Stream events carry pieces of the assistant
message and end with an event whose message has only the role, plus `finishReason`
(https://github.com/oracle/langchain-oracle libs/oci/tests/unit_tests/chat_models/test_oci_generative_ai.py,
`test_cohere_v2_stream_to_text`).

Emulated without a recording (no published COHEREV2 stream has them): THINKING pieces before the
text, the tool plan streamed as `message.toolPlan` pieces, each tool call whole in one event, and
usage on the finish event when `streamOptions.isIncludeUsage` (where COHERE streams put it too).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import generation as gen
from .catalog import Model
from .chat import Call, Choice, Stream, padded, usage
from .chat_input import Turn
from .vendors import profile

_FINISH = {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool_calls": "TOOL_CALL"}


def result(model: Model, turn: Turn, choice: Choice) -> dict[str, Any]:
    """A COHEREV2 ChatResult."""
    return {
        "modelId": model.response_model_id(),
        "modelVersion": model.version,
        "chatResponse": {
            "apiFormat": "COHEREV2",
            "id": gen.digest("v2", model.display_name, turn.prompt)[:32],
            "message": _message(choice),
            "finishReason": _FINISH[choice.finish],
            "usage": _usage(model, turn, choice),
        },
    }


def stream(model: Model, turn: Turn, choice: Choice) -> Stream:
    """The SSE events of a streamed COHEREV2 answer."""
    return Stream([padded(e) for e in _events(model, turn, choice)], profile(model).separator, False)


def _usage(model: Model, turn: Turn, choice: Choice) -> dict[str, Any]:
    out = usage(model, turn, [choice])
    if choice.reasoning_tokens:
        out["completionTokensDetails"] = {"reasoningTokens": choice.reasoning_tokens}
    return out


def _message(choice: Choice) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if choice.reasoning:
        content.append({"type": "THINKING", "thinking": choice.reasoning})
    message: dict[str, Any] = {"role": "ASSISTANT"}
    if choice.calls:
        message["toolPlan"] = choice.text
        message["toolCalls"] = [_call(c, n) for n, c in enumerate(choice.calls)]
    else:
        content.append({"type": "TEXT", "text": choice.text})
    message["content"] = content
    return message


def _call(call: Call, position: int) -> dict[str, Any]:
    return {
        "id": call.id or f"{call.name}_{gen.digest(call.name, call.arguments_json, str(position))[:12]}",
        "type": "FUNCTION",
        "function": {"name": call.name, "arguments": call.arguments_json},
    }


def _piece(**message: Any) -> dict[str, Any]:
    return {"apiFormat": "COHEREV2", "message": {"role": "ASSISTANT", **message}}


def _events(model: Model, turn: Turn, choice: Choice) -> Iterator[dict[str, Any]]:
    for thought in gen.split_tokens(choice.reasoning or ""):
        yield _piece(content=[{"type": "THINKING", "thinking": thought}])
    for token in gen.split_tokens(choice.text):
        if choice.calls:
            yield _piece(toolPlan=token)
        else:
            yield _piece(content=[{"type": "TEXT", "text": token}])
    for n, call in enumerate(choice.calls):
        yield _piece(toolCalls=[_call(call, n)])
    final: dict[str, Any] = {**_piece(), "finishReason": _FINISH[choice.finish]}
    if turn.include_usage:
        final["usage"] = _usage(model, turn, choice)
    yield final
