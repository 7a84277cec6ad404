"""Validate an OpenAI chat request and map it to LiteLLM's `oci/` arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.settings import Target
from oci_genai_gateway.core.validate import (
    optional_bool,
    optional_int,
    optional_number,
    optional_object,
    reject_unknown,
    required_str,
)

# Forwarded to LiteLLM as-is once validated: it maps each to OCI's field.
_FORWARDED = (
    "temperature",
    "top_p",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "logit_bias",
    "tools",
    "tool_choice",
    "response_format",
    "reasoning_effort",
)
# Accepted and dropped: none changes what the model generates.
_HARMLESS = frozenset(
    {"user", "metadata", "store", "service_tier", "safety_identifier", "prompt_cache_key", "prediction"}
)
# Recognised, but OCI (through LiteLLM) cannot honour them: a clear 400 instead of a silent drop.
_UNSUPPORTED = {
    "audio": "audio output is not available on OCI Generative AI",
    "web_search_options": "web search is not available through this gateway",
    "functions": "the deprecated 'functions' API is not supported; use 'tools'",
    "function_call": "the deprecated 'function_call' API is not supported; use 'tool_choice'",
    "top_logprobs": "log probabilities are not returned by this gateway",
    "verbosity": "'verbosity' is not supported by OCI Generative AI through this gateway",
}
_KNOWN = frozenset(
    {"model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "logprobs"}
    | {"parallel_tool_calls", "modalities", "n"}
    | set(_FORWARDED)
    | _HARMLESS
    | set(_UNSUPPORTED)
)
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high"})


@dataclass(frozen=True)
class ChatRequest:
    """A validated chat request: what the client asked for and what LiteLLM receives."""

    model: str
    target: Target
    stream: bool
    include_usage: bool
    single_tool_call: bool
    n: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)


def parse(
    body: dict[str, Any], resolve: Callable[[str], Target], *, fetch_images: bool = False
) -> ChatRequest:
    """Validate `body` (an OpenAI CreateChatCompletionRequest); `resolve` maps model names.

    With `fetch_images`, https image URLs pass too: `images.inline_images` fetches them afterwards.
    """
    reject_unknown(body, _KNOWN)
    for name, why in _UNSUPPORTED.items():
        if body.get(name) is not None:
            raise InvalidRequest(f"Unsupported parameter '{name}': {why}.", param=name)
    model = required_str(body, "model")
    messages = _messages(body.get("messages"), fetch_images)
    stream = bool(optional_bool(body, "stream"))
    options = optional_object(body, "stream_options")
    if options is not None and not stream:
        raise InvalidRequest(
            "'stream_options' is only allowed when 'stream' is true.", param="stream_options"
        )
    include_usage = bool(options and options.get("include_usage") is True)
    if optional_bool(body, "logprobs"):
        raise InvalidRequest(
            "Unsupported parameter 'logprobs': log probabilities are not returned by this gateway.",
            param="logprobs",
        )
    modalities = body.get("modalities")
    if modalities is not None and modalities != ["text"]:
        raise InvalidRequest("Only the 'text' output modality is supported.", param="modalities")
    parallel = optional_bool(body, "parallel_tool_calls")
    n = optional_int(body, "n", 1, 16) or 1
    if n > 1 and stream:
        raise InvalidRequest("'n' greater than 1 is not supported with 'stream'.", param="n")
    params = _params(body)
    return ChatRequest(
        model=model,
        target=resolve(model),
        stream=stream,
        include_usage=include_usage,
        single_tool_call=parallel is False,
        n=n,
        params=params,
        messages=messages,
    )


def _params(body: dict[str, Any]) -> dict[str, Any]:
    optional_number(body, "temperature", 0, 2)
    optional_number(body, "top_p", 0, 1)
    optional_number(body, "frequency_penalty", -2, 2)
    optional_number(body, "presence_penalty", -2, 2)
    optional_int(body, "seed", -(2**63), 2**63 - 1)
    optional_object(body, "logit_bias")
    params = {name: body[name] for name in _FORWARDED if body.get(name) is not None}
    limit = optional_int(body, "max_completion_tokens", 1)
    if limit is None:
        limit = optional_int(body, "max_tokens", 1)
    if limit is not None:
        params["max_tokens"] = limit
    if "stop" in params:
        params["stop"] = _stop(params["stop"])
    if "tools" in params:
        _tools(params["tools"])
    if "tool_choice" in params:
        _tool_choice(params["tool_choice"], params.get("tools") or [])
    if "response_format" in params:
        _response_format(params["response_format"])
    effort = params.get("reasoning_effort")
    if effort is not None and effort not in _EFFORTS:
        raise InvalidRequest(
            f"Invalid 'reasoning_effort': expected one of {sorted(_EFFORTS)}.", param="reasoning_effort"
        )
    return params


def _stop(value: Any) -> list[str]:
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops) or len(stops) > 4:
        raise InvalidRequest("Invalid 'stop': expected a string or up to 4 non-empty strings.", param="stop")
    return stops


def _tools(tools: Any) -> None:
    if not isinstance(tools, list) or not tools:
        raise InvalidRequest("Invalid 'tools': expected a non-empty array.", param="tools")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise InvalidRequest(
                f"Invalid 'tools[{i}]': only function tools are supported.", param=f"tools[{i}]"
            )
        function = tool.get("function")
        if (
            not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
            or not function["name"]
        ):
            raise InvalidRequest(f"Missing 'tools[{i}].function.name'.", param=f"tools[{i}].function.name")
        if function.get("parameters") is not None and not isinstance(function["parameters"], dict):
            raise InvalidRequest(
                f"Invalid 'tools[{i}].function.parameters': expected a JSON Schema object.",
                param=f"tools[{i}].function.parameters",
            )


def _tool_choice(choice: Any, tools: list[dict[str, Any]]) -> None:
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise InvalidRequest(
                "Invalid 'tool_choice': expected none, auto, required or a function.", param="tool_choice"
            )
        if choice == "required" and not tools:
            raise InvalidRequest(
                "'tool_choice' is 'required' but no 'tools' were given.", param="tool_choice"
            )
        return
    name = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or choice.get("type") != "function" or not isinstance(name, str):
        raise InvalidRequest(
            "Invalid 'tool_choice': expected {'type': 'function', 'function': {'name': ...}}.",
            param="tool_choice",
        )
    if name not in {t["function"]["name"] for t in tools}:
        raise InvalidRequest(f"'tool_choice' names '{name}', which is not in 'tools'.", param="tool_choice")


def _response_format(fmt: Any) -> None:
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise InvalidRequest(
            "Invalid 'response_format.type': expected text, json_object or json_schema.",
            param="response_format",
        )
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("name"), str)
            or not isinstance(spec.get("schema", {}), dict)
        ):
            raise InvalidRequest(
                "Invalid 'response_format.json_schema': expected an object with 'name' and a 'schema'.",
                param="response_format.json_schema",
            )


def _messages(raw: Any, fetch_images: bool) -> list[dict[str, Any]]:
    if raw is None:
        raise InvalidRequest("Missing required parameter: 'messages'.", param="messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("Invalid 'messages': expected a non-empty array.", param="messages")
    return [_message(i, m, fetch_images) for i, m in enumerate(raw)]


def _message(i: int, message: Any, fetch_images: bool) -> dict[str, Any]:
    where = f"messages[{i}]"
    if not isinstance(message, dict):
        raise InvalidRequest(f"Invalid '{where}': expected an object.", param=where)
    role = message.get("role")
    if role not in _ROLES:
        raise InvalidRequest(
            f"Invalid '{where}.role': expected one of {sorted(_ROLES)}.", param=f"{where}.role"
        )
    out = dict(message)
    if role == "developer":
        out["role"] = "system"  # OCI has no developer role; it is the system prompt by another name
    content = message.get("content")
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise InvalidRequest(f"Missing '{where}.tool_call_id'.", param=f"{where}.tool_call_id")
    if role == "assistant" and content is None and not message.get("tool_calls"):
        raise InvalidRequest(f"'{where}' needs 'content' or 'tool_calls'.", param=f"{where}.content")
    if content is None and role != "assistant":
        raise InvalidRequest(f"Missing '{where}.content'.", param=f"{where}.content")
    if isinstance(content, list):
        out["content"] = _parts(where, content, out["role"], fetch_images)
    elif content is not None and not isinstance(content, str):
        raise InvalidRequest(
            f"Invalid '{where}.content': expected a string or an array of parts.", param=f"{where}.content"
        )
    return out


def _parts(where: str, parts: list[Any], role: str, fetch_images: bool) -> Any:
    for j, part in enumerate(parts):
        at = f"{where}.content[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            continue
        if kind == "image_url" and role == "user":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str) and (
                url.startswith("data:image/") or (fetch_images and url[:8].lower() == "https://")
            ):
                continue  # an https URL is fetched, checked and inlined later by images.inline_images
            raise InvalidRequest(
                f"Invalid '{at}.image_url': send a base64 data URL (data:image/...) or an https:// URL."
                if fetch_images
                else f"Invalid '{at}.image_url': send images as base64 data URLs (data:image/...); "
                "the gateway does not fetch remote URLs.",
                param=f"{at}.image_url",
            )
        raise InvalidRequest(f"Unsupported content part '{kind}' in '{at}'.", param=at)
    if role in ("system", "tool", "assistant"):
        # OCI takes plain text for these roles; join the text parts LiteLLM would otherwise reject.
        return "".join(p["text"] for p in parts)
    return parts
