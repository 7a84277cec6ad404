"""OCI's chat answers (GENERIC, COHERE, COHEREV2) in OpenAI's words: choices, tool calls, finishes, usage.

LiteLLM builds the request (core/chat/body.py), but its reading of OCI's answers loses usage
details, finish reasons and tool-call ids (docs/decisions/0001-the-gateway-reads-ocis-answers.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# OCI's reasons, both formats and every vendor seen live, in OpenAI's vocabulary.
_FINISH_REASONS = {
    "stop": "stop",
    "complete": "stop",
    "end_turn": "stop",
    "length": "length",
    "max_tokens": "length",  # Gemini
    "error_limit": "length",
    "tool_calls": "tool_calls",
    "tool_call": "tool_calls",  # COHEREV2's TOOL_CALL
    "stop_sequence": "stop",  # COHEREV2
    "content_filter": "content_filter",
    "content_filtered": "content_filter",
    "error_toxic": "content_filter",
}


def finish_reason(raw: object, had_tool_calls: bool = False) -> str:
    """Any OCI finish reason in OpenAI's words; a turn that called tools says tool_calls."""
    reason = _FINISH_REASONS.get(str(raw).lower(), "stop") if raw else "stop"
    if had_tool_calls and reason == "stop":
        return "tool_calls"
    return reason


def usage(raw: object) -> dict[str, Any] | None:
    """OCI usage as OpenAI reports it: completion includes reasoning; total is OCI's total."""
    if not isinstance(raw, Mapping):
        return None
    prompt = _int(raw.get("promptTokens"))
    total = _int(raw.get("totalTokens"))
    completion = _int(raw.get("completionTokens"))
    details = raw.get("completionTokensDetails")
    reasoning = _int(details.get("reasoningTokens")) if isinstance(details, Mapping) else None
    if prompt is None or (total is None and completion is None):
        return None
    if total is not None and total >= prompt:
        # Reasoning models report completionTokens without reasoning, and some (Gemini, out of
        # budget) no completionTokens at all; OCI's total holds both either way.
        completion = total - prompt
    else:
        completion = (completion or 0) + (reasoning or 0)
        total = prompt + completion
    out: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
    cached = raw.get("promptTokensDetails")
    if isinstance(cached, Mapping) and _int(cached.get("cachedTokens")) is not None:
        out["prompt_tokens_details"] = {"cached_tokens": _int(cached.get("cachedTokens"))}
    if reasoning is not None:
        out["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return out


def add_usage(
    total: dict[str, Any] | None, part: dict[str, Any] | None, *, same_prompt: bool
) -> dict[str, Any] | None:
    """Usage of several generations of one prompt: the prompt counted once, the rest summed."""
    if total is None or part is None:
        return part if total is None else total
    out = dict(total)
    out["completion_tokens"] += part["completion_tokens"]
    if not same_prompt:
        out["prompt_tokens"] += part["prompt_tokens"]
    out["total_tokens"] = out["prompt_tokens"] + out["completion_tokens"]
    if "completion_tokens_details" in part:
        reasoning = out.get("completion_tokens_details", {}).get("reasoning_tokens", 0)
        reasoning += part["completion_tokens_details"]["reasoning_tokens"]
        out["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return out


def choices(response: Mapping[str, Any], *, single_tool_call: bool) -> list[dict[str, Any]]:
    """The OpenAI choices of one OCI chat answer (GENERIC, COHERE or COHEREV2)."""
    chat = response.get("chatResponse") or {}
    if chat.get("apiFormat") == "COHEREV2":
        message = chat.get("message") or {}
        v2 = v2_message(message)
        choice = _choice(0, v2.text, v2.calls, v2.reasoning, chat.get("finishReason"), single_tool_call)
        if v2.citations:
            choice["message"]["citations"] = v2.citations
        return [choice]
    if chat.get("apiFormat") == "COHERE":
        calls = [cohere_tool_call(c) for c in chat.get("toolCalls") or []]
        text = chat.get("text")
        return [
            _choice(
                0,
                text if isinstance(text, str) else None,
                calls,
                None,
                chat.get("finishReason"),
                single_tool_call,
            )
        ]
    out = []
    for position, raw in enumerate(chat.get("choices") or []):
        message = raw.get("message") or {}
        calls = [call for c in message.get("toolCalls") or [] if (call := generic_tool_call(c))]
        reasoning = message.get("reasoningContent")
        out.append(
            _choice(
                _int(raw.get("index")) or position,
                text_of(message.get("content")),
                calls,
                reasoning if isinstance(reasoning, str) else None,
                raw.get("finishReason"),
                single_tool_call,
            )
        )
    return out


def without_reasoning(choice: dict[str, Any]) -> dict[str, Any]:
    """A choice without its reasoning text (GATEWAY_REASONING_TEXT=false); usage still counts it."""
    message = {k: v for k, v in choice["message"].items() if k != "reasoning_content"}
    return {**choice, "message": message}


def oci_usage(response: Mapping[str, Any]) -> dict[str, Any] | None:
    """The usage of one OCI chat answer."""
    return usage((response.get("chatResponse") or {}).get("usage"))


def _choice(
    index: int,
    text: str | None,
    calls: list[dict[str, Any]],
    reasoning: str | None,
    reason: object,
    single_tool_call: bool,
) -> dict[str, Any]:
    if single_tool_call:
        calls = calls[:1]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text or (None if calls else ""),
        "refusal": None,
    }
    if calls:
        message["tool_calls"] = calls
    if reasoning:
        message["reasoning_content"] = reasoning
    return {
        "index": index,
        "message": message,
        "finish_reason": finish_reason(reason, bool(calls)),
        "logprobs": None,
    }


@dataclass(frozen=True)
class V2Message:
    """What a COHEREV2 assistant message says, in OpenAI's terms."""

    text: str | None
    reasoning: str | None
    calls: list[dict[str, Any]]
    citations: list[dict[str, Any]]


def v2_message(message: Mapping[str, Any]) -> V2Message:
    """A CohereAssistantMessageV2: TEXT parts, THINKING parts, tool calls with ids, the tool plan, citations.

    The tool plan is "a chain-of-thought style reflection and plan that the model generates when
    working with tools" (https://docs.cohere.com/reference/chat, `message.tool_plan`): reasoning,
    so it follows the thinking as `reasoning_content` (LiteLLM's Cohere provider keeps it out of the
    content too, litellm/llms/cohere/common_utils.py).
    """
    parts = [p for p in message.get("content") or [] if isinstance(p, Mapping)]
    text = "".join(_strings(parts, "TEXT", "text"))
    thinking = "".join(_strings(parts, "THINKING", "thinking"))
    plan = message.get("toolPlan")
    if isinstance(plan, str) and plan:
        thinking = f"{thinking}\n\n{plan}" if thinking else plan
    raw_calls = [c for c in message.get("toolCalls") or [] if isinstance(c, Mapping)]
    calls = [call for c in raw_calls if (call := v2_tool_call(c))]
    citations = [citation(c) for c in message.get("citations") or [] if isinstance(c, Mapping)]
    return V2Message(text or None, thinking or None, calls, citations)


def _strings(parts: list[Mapping[str, Any]], kind: str, key: str) -> list[str]:
    return [p[key] for p in parts if p.get("type") == kind and isinstance(p.get(key), str)]


def v2_tool_call(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """A COHEREV2 tool call (`id`, `function: {name, arguments}`) in OpenAI's shape."""
    function = raw.get("function")
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str) or not function["name"]:
        return None
    arguments = function.get("arguments")
    if isinstance(arguments, Mapping):
        arguments = json.dumps(arguments)  # the SDK types `function` as a free object
    return {
        "id": raw.get("id") or new_call_id(),
        "type": "function",
        "function": {
            "name": function["name"],
            "arguments": arguments if isinstance(arguments, str) else "{}",
        },
    }


def citation(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A CohereCitationV2 for the client, in snake case (an extension field beside OpenAI's message)."""
    names = {"start": "start", "end": "end", "text": "text", "type": "type", "contentIndex": "content_index"}
    out = {ours: raw[theirs] for theirs, ours in names.items() if raw.get(theirs) is not None}
    out["sources"] = [dict(s) for s in raw.get("sources") or [] if isinstance(s, Mapping)]
    return out


def text_of(content: object) -> str | None:
    """The text of OCI content parts (Gemini sends a TEXT part without text beside tool calls)."""
    if not isinstance(content, list):
        return None
    texts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "".join(texts) if texts else None


def generic_tool_call(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """A complete GENERIC tool call; Gemini sends none an id, so one is made up."""
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        return None
    arguments = raw.get("arguments")
    return {
        "id": raw.get("id") or new_call_id(),
        "type": "function",
        "function": {"name": name, "arguments": arguments if isinstance(arguments, str) else "{}"},
    }


def cohere_tool_call(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A COHERE tool call (`name`, `parameters` object, never an id) in OpenAI's shape."""
    return {
        "id": new_call_id(),
        "type": "function",
        "function": {"name": str(raw.get("name", "")), "arguments": json.dumps(raw.get("parameters") or {})},
    }


def new_call_id() -> str:
    """An OpenAI-style tool call id for a call OCI sent without one."""
    return f"call_{uuid.uuid4().hex[:24]}"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
