"""Chat answers in OCI's wire shapes: GENERIC/COHERE results and their SSE stream events.

What differs by vendor (stream framing, finish events, tool-call style, usage details) comes from
the model's `WireProfile` (vendors.py, which also cites the recordings). Shared by every vendor:
content and tool events carry `index` (the generation), the finish event carries `finishReason` and
no `index` for a single generation, every event carries a `pad` (a run of 1-11 "a"), and when
`streamOptions.isIncludeUsage` a usage-only event follows the finish event
(https://github.com/oracle/langchain-oracle issue 316). COHERE sends one event per token, a
tool-call event restating the text, and a final event with the full text, `chatHistory` and
`finishReason` (https://github.com/NVIDIA/NeMo-Relay crates/core/tests/unit/codec/oci_genai_tests.rs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import generation as gen
from .catalog import Model
from .chat_input import Turn
from .scripts import Script
from .vendors import WireProfile, profile

_COHERE_FINISH = {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool_calls": "COMPLETE"}
_PAD_RUNS = 11


@dataclass(frozen=True)
class Call:
    """One tool call in a choice."""

    id: str | None
    name: str
    arguments: dict[str, Any]
    compact: bool = True

    @property
    def arguments_json(self) -> str:
        """Arguments as the JSON string GENERIC carries (spacing as the vendor writes it)."""
        return json.dumps(self.arguments, separators=(",", ":") if self.compact else None)


@dataclass(frozen=True)
class Choice:
    """One generation: text, tool calls, reasoning and the GENERIC-style finish reason."""

    index: int
    text: str
    finish: str  # "stop", "length" or "tool_calls"; vendors spell them their way on the wire
    calls: tuple[Call, ...] = ()
    reasoning_tokens: int = 0
    reasoning: str | None = None  # what the model returns as reasoningContent
    exhausted: bool = False  # the whole maxTokens went to reasoning: no message at all

    @property
    def completion_tokens(self) -> int:
        """Tokens of the visible answer (OCI's completionTokens leaves reasoning out)."""
        return gen.count_tokens(self.text) + sum(gen.count_tokens(c.arguments_json) + 1 for c in self.calls)


@dataclass(frozen=True)
class Stream:
    """A streamed answer: its events and how the vendor frames and ends them."""

    events: list[dict[str, Any]]
    separator: str
    ends_with_done: bool


def answer(turn: Turn, model: Model, script: Script | None = None) -> list[Choice]:
    """Generate every choice for a turn, deterministically (a scripted answer when one is given)."""
    return [_choice(turn, model, profile(model), i, script) for i in range(turn.generations)]


def _choice(turn: Turn, model: Model, wire: WireProfile, index: int, script: Script | None) -> Choice:
    name = model.display_name
    limit = min(turn.max_tokens or model.max_output_tokens, model.max_output_tokens)
    reasoning = gen.reasoning_tokens(name, turn.prompt, index) if model.reasoning else 0
    if model.reasoning and wire.reasoning_budget is not None:
        # Thinking comes out of maxTokens first; at or below the budget nothing is left to say.
        if limit <= wire.reasoning_budget:
            return Choice(index, "", "length", reasoning_tokens=limit, exhausted=True)
        reasoning = wire.reasoning_budget
        limit -= reasoning
    if turn.thinking == "DISABLED":
        reasoning = 0  # COHEREV2 thinking turned off
    thinking = model.reasoning and wire.reasoning_content and turn.thinking != "DISABLED"
    thoughts = gen.reasoning_text(name, turn.prompt) if thinking else None
    if script is not None and script.calls:
        calls = tuple(
            Call(
                gen.tool_call_id(wire.tool_call_id, name, turn.prompt, c.name, str(index), str(n)),
                c.name,
                dict(c.arguments),
                compact=wire.compact_arguments,
            )
            for n, c in enumerate(script.calls)
        )
        return Choice(index, _calling_text(turn, calls), "tool_calls", calls, reasoning, thoughts)
    if script is not None and script.text is not None:
        text = script.text
    elif turn.tool_result is None:
        picked = gen.choose_tools(
            turn.tools, turn.prompt, turn.tool_mode, turn.forced_tool, parallel=turn.parallel_tools
        )
        if picked:
            calls = tuple(
                Call(
                    gen.tool_call_id(wire.tool_call_id, name, turn.prompt, t.name, str(index)),
                    t.name,
                    gen.tool_arguments(t, turn.prompt),
                    compact=wire.compact_arguments,
                )
                for t in picked
            )
            return Choice(index, _calling_text(turn, calls), "tool_calls", calls, reasoning, thoughts)
        text = _text(turn, name, index)
    else:
        text = gen.tool_result_text(name, *turn.tool_result, choice=index)
    limited, finish = gen.apply_limits(text, limit, turn.stops)
    return Choice(index, limited, finish, reasoning_tokens=reasoning, reasoning=thoughts)


def _calling_text(turn: Turn, calls: tuple[Call, ...]) -> str:
    """What a model says next to its tool calls: Cohere models announce them, GENERIC ones say nothing."""
    if turn.api_format not in ("COHERE", "COHEREV2"):
        return ""
    return f"I will use {', '.join(c.name for c in calls)} to answer this."


def _text(turn: Turn, name: str, index: int) -> str:
    if turn.response_format == "JSON_OBJECT":
        return gen.json_object_text(name, turn.prompt)
    if turn.response_format == "JSON_SCHEMA":
        return gen.json_schema_text(turn.schema or {}, turn.prompt)
    return gen.reply_text(name, turn.prompt, images=turn.images, choice=index)


def usage(model: Model, turn: Turn, choices: list[Choice]) -> dict[str, Any]:
    """OCI's usage object, as the model's vendor reports it.

    Reasoning models: `completionTokens` counts only the visible answer, `totalTokens` adds the
    reasoning tokens, and the details carry `reasoningTokens` (and `cachedTokens` of the prompt).
    """
    prompt = turn.prompt_tokens
    completion = sum(c.completion_tokens for c in choices)
    reasoning = sum(c.reasoning_tokens for c in choices)
    total = prompt + completion + reasoning
    style = profile(model).usage if model.reasoning else "plain"
    if style == "xai":
        # Key order as recorded (https://github.com/jin38324/OCI_GenAI_access_gateway app/test.ipynb).
        return {
            "completionTokens": completion,
            "promptTokens": prompt,
            "totalTokens": total,
            "completionTokensDetails": {"acceptedPredictionTokens": 0, "reasoningTokens": reasoning},
            "promptTokensDetails": {"cachedTokens": turn.cached_tokens},
        }
    if style == "openai":
        return {
            "promptTokens": prompt,
            "completionTokens": completion,
            "totalTokens": total,
            "promptTokensDetails": {"cachedTokens": turn.cached_tokens},
            "completionTokensDetails": {"reasoningTokens": reasoning},
        }
    if style == "gemini":
        if all(c.exhausted for c in choices):
            # Nothing but reasoning: OCI leaves completionTokens out entirely.
            return {
                "promptTokens": prompt,
                "totalTokens": total,
                "completionTokensDetails": {"reasoningTokens": reasoning},
            }
        return {
            "promptTokens": prompt,
            "completionTokens": completion,
            "totalTokens": total,
            "completionTokensDetails": {"reasoningTokens": reasoning},
        }
    return {"promptTokens": prompt, "completionTokens": completion, "totalTokens": total}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _finish(wire: WireProfile, choice: Choice) -> str:
    return wire.length_finish if choice.finish == "length" else choice.finish


def _tool_call(call: Call, *, arguments: bool = True) -> dict[str, Any]:
    """A GENERIC FunctionCall (no `id` when the vendor sends none)."""
    item: dict[str, Any] = {"type": "FUNCTION"}
    if call.id is not None:
        item["id"] = call.id
    item["name"] = call.name
    if arguments:
        item["arguments"] = call.arguments_json
    return item


def _generic_message(wire: WireProfile, choice: Choice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "ASSISTANT"}
    if choice.calls:
        if wire.tool_call_text_stub:
            # Gemini's content part without text next to its calls (recorded on streams; the same
            # on non-stream answers is emulated).
            message["content"] = [{"type": "TEXT"}]
        message["toolCalls"] = [_tool_call(c) for c in choice.calls]
    else:
        message["content"] = [{"type": "TEXT", "text": choice.text}]
    if choice.reasoning is not None:
        message["reasoningContent"] = choice.reasoning
    return message


def _generic_choice(wire: WireProfile, choice: Choice) -> dict[str, Any]:
    item: dict[str, Any] = {"index": choice.index}
    if not choice.exhausted:  # an answer that is all reasoning has no message
        item["message"] = _generic_message(wire, choice)
    item["finishReason"] = _finish(wire, choice)
    if wire.choice_logprobs:
        item["logprobs"] = {}
    return item


def generic_result(model: Model, turn: Turn, choices: list[Choice]) -> dict[str, Any]:
    """A GENERIC ChatResult."""
    wire = profile(model)
    return {
        "modelId": model.response_model_id(),
        "modelVersion": model.version,
        "chatResponse": {
            "apiFormat": "GENERIC",
            "timeCreated": _now(),
            "choices": [_generic_choice(wire, c) for c in choices],
            "usage": usage(model, turn, choices),
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
    response["usage"] = usage(model, turn, [choice])
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


def padded(event: dict[str, Any]) -> dict[str, Any]:
    """The event with OCI's pad."""
    # OCI pads events with a run of "a" so their size does not reveal the token length.
    event["pad"] = "a" * (1 + len(json.dumps(event)) % _PAD_RUNS)
    return event


def stream(model: Model, turn: Turn, choices: list[Choice]) -> Stream:
    """The SSE events of a streamed answer, in the model's API format and vendor style."""
    wire = profile(model)
    if turn.api_format == "COHERE":
        events = list(_cohere_events(model, turn, choices[0]))

    else:
        events = [padded(e) for c in choices for e in _generic_choice_events(wire, c, len(choices) > 1)]
        if turn.include_usage and wire.stream_usage:
            events.append(padded({"usage": usage(model, turn, choices)}))
    return Stream(events, wire.separator, wire.ends_with_done)


def _generic_choice_events(wire: WireProfile, c: Choice, several: bool) -> Iterator[dict[str, Any]]:
    i = c.index
    if wire.opening_empty_event:
        yield {"index": i, "message": _content("")}
    for thought in gen.split_tokens(c.reasoning or ""):
        yield {"index": i, "message": {"role": "ASSISTANT", "reasoningContent": thought}}
    tokens = gen.split_tokens(c.text)
    carried = tokens.pop() if wire.final_event == "last_text" and tokens and not c.calls else None
    for token in tokens:
        yield {"index": i, "message": _content(token)}
    yield from _tool_events(wire, i, c.calls)
    final: dict[str, Any] = {}
    if wire.final_event == "role_only":
        final["message"] = {"role": "ASSISTANT"}
        if c.calls:  # vLLM repeats an empty-argument call on the finish event
            final["message"]["toolCalls"] = [{"type": "FUNCTION", "arguments": ""}]
    elif carried is not None:
        final["message"] = _content(carried)
    if several:
        final = {"index": i, **final}
    yield {**final, "finishReason": _finish(wire, c)}


def _content(text: str) -> dict[str, Any]:
    return {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": text}]}


def _calls_message(wire: WireProfile, call: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "ASSISTANT"}
    if wire.tool_call_text_stub:
        message["content"] = [{"type": "TEXT"}]
    message["toolCalls"] = [call]
    return message


def _tool_events(wire: WireProfile, index: int, calls: tuple[Call, ...]) -> Iterator[dict[str, Any]]:
    """Tool calls streamed in the vendor's style, one call per event, always at toolCalls[0]."""
    for n, call in enumerate(calls):
        if wire.tool_stream == "whole":  # xAI, Gemini: the complete call in one event
            yield {"index": index, "message": _calls_message(wire, _tool_call(call))}
            continue
        if wire.tool_stream == "llama_fragments":
            if n:  # vLLM sends two empty-argument events before the next call's head
                for _ in range(2):
                    yield {"index": index, "message": _calls_message(wire, _arguments(""))}
            head = _tool_call(call, arguments=False)  # id and name, no `arguments` key
            pieces = gen.argument_fields(call.arguments)
        else:  # OpenAI: id, name and empty arguments, then token-sized pieces
            head = {**_tool_call(call, arguments=False), "arguments": ""}
            pieces = gen.argument_tokens(call.arguments_json)
        yield {"index": index, "message": _calls_message(wire, head)}
        for piece in pieces:
            yield {"index": index, "message": _calls_message(wire, _arguments(piece))}


def _arguments(piece: str) -> dict[str, Any]:
    return {"type": "FUNCTION", "arguments": piece}


def _cohere_events(model: Model, turn: Turn, choice: Choice) -> Iterator[dict[str, Any]]:
    """The SSE events of a COHERE stream."""
    for token in gen.split_tokens(choice.text):
        yield padded({"apiFormat": "COHERE", "text": token})
    if choice.calls:
        yield padded({"apiFormat": "COHERE", "text": choice.text, "toolCalls": _cohere_calls(choice)})
    final = _cohere_final(turn, choice)
    if turn.include_usage:
        # Where COHERE streams put usage is not recorded: emulated on the final event, as the
        # SDK's CohereChatResponse.usage field of the same (final) response object.
        final["usage"] = usage(model, turn, [choice])
    yield padded(final)
