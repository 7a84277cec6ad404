"""OpenAI chat <-> OCI chat: the request body through LiteLLM's OCI transform, the answer translated here.

LiteLLM knows how to turn OpenAI messages, tools and formats into OCI's GENERIC and COHERE
requests; its reading of OCI's answers loses usage details, finish reasons and tool-call ids
(docs/ARCHITECTURE.md lists the defects), so answers are read by this module and core/chat/events.py.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from oci_genai_gateway.core.chat.request import ChatRequest
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.upstream.llm import chat_config

_PARAM = re.compile(r"param `(\w+)`")

# OCI's reasons, both formats and every vendor seen live, in OpenAI's vocabulary.
_FINISH_REASONS = {
    "stop": "stop",
    "complete": "stop",
    "end_turn": "stop",
    "length": "length",
    "max_tokens": "length",  # Gemini
    "error_limit": "length",
    "tool_calls": "tool_calls",
    "tool_call": "tool_calls",
    "content_filter": "content_filter",
    "content_filtered": "content_filter",
    "error_toxic": "content_filter",
}


def is_cohere(model: str) -> bool:
    """COHERE api format (LiteLLM picks it by the `cohere.` prefix); everything else is GENERIC."""
    return model.lower().startswith("cohere.")


def chat_body(
    request: ChatRequest, settings: Settings, *, stream: bool = False, stream_usage: bool = True
) -> dict[str, Any]:
    """The OCI `/actions/chat` body for one generation of `request`."""
    model = request.target.model
    params = _cohere_tool_choice(dict(request.params)) if is_cohere(model) else dict(request.params)
    config = chat_config()
    try:
        optional = config.map_openai_params(params, {}, model, False)
        optional["oci_compartment_id"] = settings.compartment_id
        if request.target.endpoint_id:
            optional.update(oci_serving_mode="DEDICATED", oci_endpoint_id=request.target.endpoint_id)
        body: dict[str, Any] = config.transform_request(model, request.messages, optional, {}, {})
    except Exception as exc:
        status = getattr(exc, "status_code", None)
        if status != 400:
            raise
        text = str(getattr(exc, "message", exc))
        named = _PARAM.search(text)
        raise InvalidRequest(text, param=named[1] if named else None) from None
    chat = body["chatRequest"]
    chat.pop("isStream", None)
    if stream:
        chat["isStream"] = True
        if stream_usage:
            chat["streamOptions"] = {"isIncludeUsage": True}
    return body


def _cohere_tool_choice(params: dict[str, Any]) -> dict[str, Any]:
    """COHERE has no tool choice: `auto` is its behaviour, `none` means not offering the tools."""
    choice = params.pop("tool_choice", None)
    if choice is None or choice == "auto":
        return params
    if choice == "none":
        params.pop("tools", None)
        return params
    raise InvalidRequest(
        "'tool_choice' other than 'auto' or 'none' is not supported by COHERE-format models on OCI.",
        param="tool_choice",
    )


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
    """The OpenAI choices of one OCI chat answer (GENERIC or COHERE)."""
    chat = response.get("chatResponse") or {}
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
