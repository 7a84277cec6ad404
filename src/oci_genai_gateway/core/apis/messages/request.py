"""Validate an Anthropic Messages request and turn it into the gateway's chat request.

What is honoured and refused: README.md (`POST /v1/messages`); why not LiteLLM's adapter:
docs/decisions/0003-messages-api-over-the-chat-pipeline.md. Every 400 keeps Messages' parameter names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.chat import request as chat_request
from oci_genai_gateway.core.chat.request import ChatRequest
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.fields import Fields
from oci_genai_gateway.core.input.validate import (
    optional_bool,
    optional_int,
    optional_number,
    optional_object,
    required_str,
)
from oci_genai_gateway.core.targets import Resolve

_NO_STRUCTURED_OUTPUT = "structured output is offered on /v1/responses and /v1/chat/completions, not here"
_ACCOUNT = "routes the request within an Anthropic account; the gateway's key does that here"
FIELDS = Fields(
    honoured=frozenset({"model", "messages", "system", "max_tokens", "stop_sequences", "stream"})
    | {"temperature", "top_p", "tools", "tool_choice", "thinking"},
    ignored={
        "metadata": "an end-user id for the provider's abuse monitoring",
        "service_tier": "OCI has one tier per deployment",
        "betas": "the beta features a client asks for; what this gateway offers does not depend on them",
        "cache_control": "a prompt-caching hint; OCI caches prompts on its own",
        "diagnostics": "asks about Anthropic's prompt cache",
        "fallback_credit_token": "billing on Anthropic's side",
        "billing_policy": _ACCOUNT,
        "workspace_id": _ACCOUNT,
        "user_profile_id": _ACCOUNT,
        "inference_geo": "Anthropic's regions; a deployment's OCI region is set by its operator",
        "speed": "a speed hint: the answer is the same",
        "fallbacks": "substitute models after a policy refusal, which OCI's models do not send",
    },
    refused={
        "top_k": "OCI applies top_k to COHERE models only; it is not offered through this gateway",
        "container": "code execution containers are not available on OCI Generative AI",
        "mcp_servers": "MCP servers are not available through this gateway",
        "context_management": "server-side context management is not available through this gateway",
        "output_format": _NO_STRUCTURED_OUTPUT,
        "output_config": _NO_STRUCTURED_OUTPUT,
        "compaction": "compaction requests are not available through this gateway",
        "thread": "this gateway holds no conversations; send the whole conversation in 'messages'",
    },
)
_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Anthropic's thinking budget (tokens) as an OCI reasoning effort: budgets under each bound map to it.
_EFFORT_BOUNDS = ((4096, "low"), (16384, "medium"))


@dataclass(frozen=True)
class MessagesRequest:
    """A validated Messages request: the chat request that runs it and the client's model name."""

    model: str
    chat: ChatRequest


def parse(body: dict[str, Any], resolve: Resolve, *, fetch_images: bool = False) -> MessagesRequest:
    """Validate `body` (Anthropic's CreateMessageParams); every refusal is a 400 naming the parameter."""
    FIELDS.refuse(body)
    model = required_str(body, "model")
    limit = optional_int(body, "max_tokens", 1)
    if limit is None:
        raise InvalidRequest("Missing required parameter: 'max_tokens'.", param="max_tokens")
    stream = bool(optional_bool(body, "stream"))
    chat: dict[str, Any] = {"model": model, "messages": _system(body) + _messages(body), "max_tokens": limit}
    chat["stream"] = stream
    if stream:
        chat["stream_options"] = {"include_usage": True}  # message_delta carries the usage
    for name in ("temperature", "top_p"):
        if optional_number(body, name, 0, 1) is not None:
            chat[name] = body[name]
    stops = _stops(body)
    if stops:
        chat["stop"] = stops
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise InvalidRequest("Invalid type for 'tools': expected an array.", param="tools")
        if tools:
            chat["tools"] = [_tool(i, t) for i, t in enumerate(tools)]
    choice = optional_object(body, "tool_choice")
    if choice is not None:
        chat.update(_tool_choice(choice))
    effort = _effort(body)
    if effort is not None:
        chat["reasoning_effort"] = effort
    return MessagesRequest(model, chat_request.parse(chat, resolve, fetch_images=fetch_images))


def _system(body: dict[str, Any]) -> list[dict[str, Any]]:
    system = body.get("system")
    if system is None:
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}] if system else []
    if isinstance(system, list) and all(_is_text(b) for b in system):
        return [{"role": "system", "content": "".join(b["text"] for b in system)}]
    raise InvalidRequest("Invalid 'system': expected a string or an array of text blocks.", param="system")


def _is_text(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)


def _stops(body: dict[str, Any]) -> list[str]:
    stops = body.get("stop_sequences")
    if stops is None:
        return []
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops) or len(stops) > 4:
        raise InvalidRequest(
            "Invalid 'stop_sequences': expected up to 4 non-empty strings (OCI's limit).",
            param="stop_sequences",
        )
    return stops


def _tool(i: int, tool: Any) -> dict[str, Any]:
    where = f"tools[{i}]"
    if not isinstance(tool, dict) or tool.get("type") not in (None, "custom"):
        kind = tool.get("type") if isinstance(tool, dict) else None
        raise InvalidRequest(
            f"Unsupported tool type {kind!r} in '{where}': only client tools with an 'input_schema' are "
            "available (OCI Generative AI runs no Anthropic server tools).",
            param=f"{where}.type",
        )
    name, schema = tool.get("name"), tool.get("input_schema")
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"Missing '{where}.name'.", param=f"{where}.name")
    if not isinstance(schema, dict):
        raise InvalidRequest(
            f"Missing '{where}.input_schema' (a JSON Schema object).", param=f"{where}.input_schema"
        )
    function: dict[str, Any] = {"name": name, "parameters": schema}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _tool_choice(choice: dict[str, Any]) -> dict[str, Any]:
    kind = choice.get("type")
    out: dict[str, Any] = {}
    if kind in ("auto", "none"):
        out["tool_choice"] = kind
    elif kind == "any":
        out["tool_choice"] = "required"
    elif kind == "tool" and isinstance(choice.get("name"), str):
        out["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    else:
        raise InvalidRequest(
            "Invalid 'tool_choice': expected type auto, any, tool (with a name) or none.", param="tool_choice"
        )
    if choice.get("disable_parallel_tool_use") is True:
        out["parallel_tool_calls"] = False
    return out


def _effort(body: dict[str, Any]) -> str | None:
    thinking = optional_object(body, "thinking")
    if thinking is None or thinking.get("type") == "disabled":
        return None
    budget = thinking.get("budget_tokens")
    if thinking.get("type") != "enabled" or isinstance(budget, bool) or not isinstance(budget, int):
        raise InvalidRequest(
            "Invalid 'thinking': expected {'type': 'enabled', 'budget_tokens': N} or {'type': 'disabled'}.",
            param="thinking",
        )
    # OCI takes an effort, not a budget; models that do not reason answer OCI's own 400.
    return next((effort for bound, effort in _EFFORT_BOUNDS if budget < bound), "high")


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("Invalid 'messages': expected a non-empty array.", param="messages")
    out: list[dict[str, Any]] = []
    for i, message in enumerate(raw):
        where = f"messages[{i}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            raise InvalidRequest(
                f"Invalid '{where}.role': expected user or assistant.", param=f"{where}.role"
            )
        content = message.get("content")
        if isinstance(content, str):
            out.append({"role": role, "content": content})
            continue
        if not isinstance(content, list):
            raise InvalidRequest(
                f"Invalid '{where}.content': expected a string or an array of blocks.",
                param=f"{where}.content",
            )
        out += _assistant(where, content) if role == "assistant" else _user(where, content)
    return out


def _assistant(where: str, blocks: list[Any]) -> list[dict[str, Any]]:
    text, calls = [], []
    for j, block in enumerate(blocks):
        at = f"{where}.content[{j}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if _is_text(block):
            text.append(block["text"])
        elif kind == "tool_use":
            call_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
            if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(arguments, dict):
                raise InvalidRequest(f"'{at}' needs an 'id', a 'name' and an 'input' object.", param=at)
            function = {"name": name, "arguments": json.dumps(arguments)}
            calls.append({"id": call_id, "type": "function", "function": function})
        elif kind not in ("thinking", "redacted_thinking"):  # OCI cannot replay thinking: dropped
            raise InvalidRequest(f"Unsupported content block {kind!r} in '{at}'.", param=f"{at}.type")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) if text or not calls else None}
    if calls:
        message["tool_calls"] = calls
    return [message]


def _user(where: str, blocks: list[Any]) -> list[dict[str, Any]]:
    """Tool results become tool messages, before the user's other blocks (chat's order)."""
    results: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for j, block in enumerate(blocks):
        at = f"{where}.content[{j}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if _is_text(block):
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            parts.append(_image(at, block.get("source")))
        elif kind == "tool_result":
            results.append(_tool_result(at, block))
        else:
            raise InvalidRequest(f"Unsupported content block {kind!r} in '{at}'.", param=f"{at}.type")
    return results + ([{"role": "user", "content": parts}] if parts else [])


def _image(at: str, source: Any) -> dict[str, Any]:
    kind = source.get("type") if isinstance(source, dict) else None
    media_type = source.get("media_type") if kind == "base64" else None
    if isinstance(media_type, str) and media_type in _IMAGE_TYPES and isinstance(source.get("data"), str):
        return {
            "type": "image_url",
            "image_url": {"url": f"data:{source['media_type']};base64,{source['data']}"},
        }
    if kind == "url" and isinstance(source.get("url"), str):
        return {"type": "image_url", "image_url": {"url": source["url"]}}  # chat's rules for URLs apply
    raise InvalidRequest(
        f"Invalid '{at}.source': expected base64 data of a PNG, JPEG, GIF or WebP image, or a URL.",
        param=f"{at}.source",
    )


def _tool_result(at: str, block: dict[str, Any]) -> dict[str, Any]:
    call_id, content = block.get("tool_use_id"), block.get("content", "")
    if not isinstance(call_id, str):
        raise InvalidRequest(f"Missing '{at}.tool_use_id'.", param=f"{at}.tool_use_id")
    if isinstance(content, list) and all(_is_text(b) for b in content):
        content = "".join(b["text"] for b in content)
    if not isinstance(content, str):
        raise InvalidRequest(
            f"Invalid '{at}.content': OCI takes tool results as text (a string or text blocks).",
            param=f"{at}.content",
        )
    if block.get("is_error") is True:
        content = f"Error: {content}"  # chat has no error flag; the model still learns the tool failed
    return {"role": "tool", "tool_call_id": call_id, "content": content}
