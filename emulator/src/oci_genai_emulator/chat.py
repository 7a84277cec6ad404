"""Chat answers in OCI's wire shapes: GENERIC/COHERE results and their SSE stream events."""

# Stream shapes follow raw events others captured from the service (langchain4j's OCI streaming
# builder, Elasticsearch's OCI inference parser, langchain-oracle issue 316): GENERIC sends an
# empty-text opening event, one event per token, tool calls as fragments (the first with id and
# name, later ones only argument pieces), a final event with `finishReason` (and no `index` for a
# single generation) and, only when `streamOptions.isIncludeUsage`, a usage event after it. COHERE
# sends one event per token, a tool-call event restating the text, and a final event with the full
# text, `chatHistory` and `finishReason`. Every event carries a `pad`; there is no `[DONE]`.

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import generation as gen
from .catalog import Model
from .chat_input import Turn

_COHERE_FINISH = {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool_calls": "COMPLETE"}
_ARGUMENT_PIECES = 3


@dataclass(frozen=True)
class Call:
    """One tool call in a choice."""

    id: str
    name: str
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        """Arguments as the JSON string GENERIC carries."""
        return json.dumps(self.arguments)


@dataclass(frozen=True)
class Choice:
    """One generation: text, tool calls and the GENERIC-style finish reason."""

    index: int
    text: str
    finish: str
    calls: tuple[Call, ...] = ()

    @property
    def completion_tokens(self) -> int:
        """Tokens this generation produced."""
        return gen.count_tokens(self.text) + sum(gen.count_tokens(c.arguments_json) + 1 for c in self.calls)


def answer(turn: Turn, model: Model) -> list[Choice]:
    """Generate every choice for a turn, deterministically."""
    return [_choice(turn, model, i) for i in range(turn.generations)]


def _choice(turn: Turn, model: Model, index: int) -> Choice:
    name = model.display_name
    limit = min(turn.max_tokens or model.max_output_tokens, model.max_output_tokens)
    if turn.tool_result is None:
        picked = gen.choose_tools(
            turn.tools, turn.prompt, turn.tool_mode, turn.forced_tool, parallel=turn.parallel_tools
        )
        if picked:
            calls = tuple(
                Call(
                    gen.tool_call_id(model.vendor, name, turn.prompt, t.name, str(index)),
                    t.name,
                    gen.tool_arguments(t, turn.prompt),
                )
                for t in picked
            )
            # Cohere models say what they are about to do; GENERIC models return no text.
            text = (
                f"I will use {', '.join(c.name for c in calls)} to answer this."
                if turn.api_format == "COHERE"
                else ""
            )
            return Choice(index, text, "tool_calls", calls)
        text = _text(turn, name, index)
    else:
        text = gen.tool_result_text(name, *turn.tool_result, choice=index)
    limited, finish = gen.apply_limits(text, limit, turn.stops)
    return Choice(index, limited, finish)


def _text(turn: Turn, name: str, index: int) -> str:
    if turn.response_format == "JSON_OBJECT":
        return gen.json_object_text(name, turn.prompt)
    if turn.response_format == "JSON_SCHEMA":
        return gen.json_schema_text(turn.schema or {}, turn.prompt)
    return gen.reply_text(name, turn.prompt, images=turn.images, choice=index)


def usage(turn: Turn, choices: list[Choice]) -> dict[str, int]:
    """OCI's usage object."""
    completion = sum(c.completion_tokens for c in choices)
    return {
        "promptTokens": turn.prompt_tokens,
        "completionTokens": completion,
        "totalTokens": turn.prompt_tokens + completion,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _generic_message(choice: Choice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "ASSISTANT"}
    if choice.calls:
        message["toolCalls"] = [
            {"id": c.id, "type": "FUNCTION", "name": c.name, "arguments": c.arguments_json}
            for c in choice.calls
        ]
    else:
        message["content"] = [{"type": "TEXT", "text": choice.text}]
    return message


def generic_result(model: Model, turn: Turn, choices: list[Choice]) -> dict[str, Any]:
    """A GENERIC ChatResult."""
    return {
        "modelId": model.response_model_id(),
        "modelVersion": model.version,
        "chatResponse": {
            "apiFormat": "GENERIC",
            "timeCreated": _now(),
            "choices": [
                {"index": c.index, "message": _generic_message(c), "finishReason": c.finish} for c in choices
            ],
            "usage": usage(turn, choices),
        },
    }


def _cohere_calls(choice: Choice) -> list[dict[str, Any]]:
    return [{"name": c.name, "parameters": c.arguments} for c in choice.calls]


def _cohere_history(turn: Turn, choice: Choice) -> list[Mapping[str, Any]]:
    reply: dict[str, Any] = {"role": "CHATBOT", "message": choice.text}
    if choice.calls:
        reply["toolCalls"] = _cohere_calls(choice)
    return [*turn.history, {"role": "USER", "message": turn.prompt}, reply]


def cohere_result(model: Model, turn: Turn, choice: Choice) -> dict[str, Any]:
    """A COHERE ChatResult."""
    response = _cohere_final(turn, choice)
    response["usage"] = usage(turn, [choice])
    return {"modelId": model.response_model_id(), "modelVersion": model.version, "chatResponse": response}


def _cohere_final(turn: Turn, choice: Choice) -> dict[str, Any]:
    """The whole COHERE answer: the JSON response body and the last stream event share it."""
    final: dict[str, Any] = {
        "apiFormat": "COHERE",
        "text": choice.text,
        "chatHistory": _cohere_history(turn, choice),
        "finishReason": _COHERE_FINISH[choice.finish],
    }
    if choice.calls:
        final["toolCalls"] = _cohere_calls(choice)
    return final


def _padded(event: dict[str, Any]) -> dict[str, Any]:
    # OCI pads events with a run of "a" so their size does not reveal the token length.
    event["pad"] = "a" * (1 + len(json.dumps(event)) % 9)
    return event


def generic_events(turn: Turn, choices: list[Choice]) -> Iterator[dict[str, Any]]:
    """The SSE events of a GENERIC stream."""
    for c in choices:
        yield _padded({"index": c.index, "message": _content("")})
        for token in gen.split_tokens(c.text):
            yield _padded({"index": c.index, "message": _content(token)})
        for call in c.calls:
            yield from _call_fragments(c.index, call)
        final: dict[str, Any] = {"message": _content("")}
        if c.calls:
            final = {"message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", "arguments": ""}]}}
        if len(choices) > 1:
            final = {"index": c.index, **final}
        yield _padded({**final, "finishReason": c.finish})
    if turn.include_usage:
        yield _padded({"usage": usage(turn, choices)})


def _content(text: str) -> dict[str, Any]:
    return {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": text}]}


def _call_fragments(index: int, call: Call) -> Iterator[dict[str, Any]]:
    head = {"type": "FUNCTION", "id": call.id, "name": call.name}
    yield _padded({"index": index, "message": {"role": "ASSISTANT", "toolCalls": [head]}})
    args = call.arguments_json
    size = max(1, -(-len(args) // _ARGUMENT_PIECES))
    for start in range(0, len(args), size):
        piece = {"type": "FUNCTION", "arguments": args[start : start + size]}
        yield _padded({"index": index, "message": {"role": "ASSISTANT", "toolCalls": [piece]}})


def cohere_events(turn: Turn, choice: Choice) -> Iterator[dict[str, Any]]:
    """The SSE events of a COHERE stream."""
    for token in gen.split_tokens(choice.text):
        yield _padded({"apiFormat": "COHERE", "text": token})
    if choice.calls:
        yield _padded({"apiFormat": "COHERE", "text": choice.text, "toolCalls": _cohere_calls(choice)})
    final = _cohere_final(turn, choice)
    if turn.include_usage:
        final["usage"] = usage(turn, [choice])
    yield _padded(final)
