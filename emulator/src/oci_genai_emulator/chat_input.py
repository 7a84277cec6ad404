"""Reduce a validated OCI chat request (GENERIC or COHERE) to the few facts the emulator answers from."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import invalid
from .generation import Tool, count_tokens

_MAX_GENERATIONS = 8
_COHERE_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array"}


@dataclass(frozen=True)
class Turn:
    """What the request asks for, independent of its API format."""

    api_format: str
    prompt: str
    prompt_tokens: int
    cached_tokens: int = 0  # the prompt's prefix before its last message (what a cache would hold)
    images: int = 0
    tool_result: tuple[str, str] | None = None
    tools: tuple[Tool, ...] = ()
    tool_mode: str = "AUTO"
    forced_tool: str | None = None
    parallel_tools: bool = True
    response_format: str = "TEXT"
    schema: Mapping[str, Any] | None = None
    max_tokens: int | None = None
    stops: tuple[str, ...] = ()
    generations: int = 1
    stream: bool = False
    include_usage: bool = False
    stream_options: bool = False  # the request carried streamOptions at all
    temperature: float | None = None
    max_tokens_field: str | None = None  # which field set the limit: maxTokens or maxCompletionTokens
    first_role: str | None = None  # role of the first non-SYSTEM message (GENERIC)
    thinking: str | None = None  # COHEREV2 thinking.type: ENABLED or DISABLED
    history: tuple[Mapping[str, Any], ...] = field(default=())


def read_turn(request: Mapping[str, Any]) -> Turn:
    """Read a chatRequest JSON object (already validated against the SDK models)."""
    if request["apiFormat"] == "COHERE":
        return _cohere_turn(request)
    if request["apiFormat"] == "GENERIC":
        return _generic_turn(request)
    if request["apiFormat"] == "COHEREV2":
        return _cohere_v2_turn(request)
    raise invalid(f"apiFormat {request['apiFormat']} is not supported by this endpoint")


def _common(request: Mapping[str, Any]) -> dict[str, Any]:
    options = request.get("streamOptions")
    limit_field = next((f for f in ("maxTokens", "maxCompletionTokens") if request.get(f) is not None), None)
    return {
        "stream": bool(request.get("isStream")),
        "include_usage": bool((options or {}).get("isIncludeUsage")),
        "stream_options": options is not None,
        "temperature": request.get("temperature"),
        "max_tokens_field": limit_field,
    }


def _text_of(content: Sequence[Mapping[str, Any]] | None) -> str:
    return "\n".join(part.get("text") or "" for part in content or () if part.get("type") == "TEXT")


def _generic_turn(request: Mapping[str, Any]) -> Turn:
    messages: list[Mapping[str, Any]] = request.get("messages") or []
    if not messages:
        raise invalid("chatRequest.messages must contain at least one message")
    users = [m for m in messages if m["role"] == "USER"]
    last_user = users[-1] if users else messages[-1]
    n = request.get("numGenerations") or 1
    if not 1 <= n <= _MAX_GENERATIONS:
        raise invalid(f"chatRequest.numGenerations must be between 1 and {_MAX_GENERATIONS}")
    choice = request.get("toolChoice") or {}
    fmt = request.get("responseFormat") or {}
    return Turn(
        api_format="GENERIC",
        prompt=_text_of(last_user.get("content")),
        prompt_tokens=sum(_generic_message_tokens(m) for m in messages),
        cached_tokens=sum(_generic_message_tokens(m) for m in messages[:-1]),
        first_role=next((m["role"] for m in messages if m["role"] != "SYSTEM"), None),
        images=sum(1 for part in last_user.get("content") or () if part.get("type") == "IMAGE"),
        tool_result=_generic_tool_result(messages),
        tools=tuple(Tool(t["name"], t.get("parameters") or {}) for t in request.get("tools") or ()),
        tool_mode=choice.get("type", "AUTO"),
        forced_tool=choice.get("name"),
        parallel_tools=request.get("isParallelToolCalls", True) is not False,
        response_format=fmt.get("type", "TEXT"),
        schema=(fmt.get("jsonSchema") or {}).get("schema") or {},
        max_tokens=request.get("maxCompletionTokens") or request.get("maxTokens"),
        stops=tuple(request.get("stop") or ()),
        generations=n,
        **_common(request),
    )


def _generic_message_tokens(message: Mapping[str, Any]) -> int:
    parts = message.get("content") or ()
    calls = message.get("toolCalls") or ()
    return (
        count_tokens(_text_of(parts))
        + sum(1 for p in parts if p.get("type") != "TEXT")
        + sum(count_tokens(c.get("arguments") or "") + 1 for c in calls)
    )


def _generic_tool_result(messages: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """(tool name, output) when the conversation ends with a tool's answer."""
    last = messages[-1]
    if last["role"] != "TOOL":
        return None
    names = {
        call.get("id"): call.get("name")
        for m in messages
        if m["role"] == "ASSISTANT"
        for call in m.get("toolCalls") or ()
    }
    return str(names.get(last.get("toolCallId")) or "tool"), _text_of(last.get("content"))


def _cohere_turn(request: Mapping[str, Any]) -> Turn:
    history: list[Mapping[str, Any]] = request.get("chatHistory") or []
    fmt = request.get("responseFormat") or {}
    schema = fmt.get("schema")
    fmt_type = fmt.get("type", "TEXT")
    texts = [request["message"], request.get("preambleOverride") or ""]
    texts += [h.get("message") or "" for h in history]
    return Turn(
        api_format="COHERE",
        prompt=request["message"],
        prompt_tokens=sum(count_tokens(t) for t in texts),
        tool_result=_cohere_tool_result(request, history),
        tools=tuple(Tool(t["name"], _cohere_schema(t)) for t in request.get("tools") or ()),
        response_format="JSON_SCHEMA" if fmt_type == "JSON_OBJECT" and schema else fmt_type,
        schema=schema,
        max_tokens=request.get("maxTokens"),
        stops=tuple(request.get("stopSequences") or ()),
        history=tuple(history),
        **_common(request),
    )


def _cohere_tool_result(
    request: Mapping[str, Any], history: Sequence[Mapping[str, Any]]
) -> tuple[str, str] | None:
    results = request.get("toolResults") or []
    if not results and history and history[-1].get("role") == "TOOL":
        results = history[-1].get("toolResults") or []
    if not results:
        return None
    last = results[-1]
    return str(last["call"]["name"]), json.dumps(last.get("outputs"))


def _cohere_schema(tool: Mapping[str, Any]) -> dict[str, Any]:
    """Cohere `parameterDefinitions` (Python type names) as a JSON schema."""
    definitions: Mapping[str, Mapping[str, Any]] = tool.get("parameterDefinitions") or {}
    properties = {
        name: {"type": _COHERE_TYPES.get(str(d["type"]).lower().split("[")[0], "string")}
        for name, d in definitions.items()
    }
    required = [name for name, d in definitions.items() if d.get("isRequired")]
    return {"type": "object", "properties": properties, "required": required}


def _cohere_v2_turn(request: Mapping[str, Any]) -> Turn:
    """CohereChatRequestV2: OpenAI-like messages, `toolsChoice`, `thinking`, tool calls with ids."""
    messages: list[Mapping[str, Any]] = request.get("messages") or []
    if not messages:
        raise invalid("chatRequest.messages must contain at least one message")
    users = [m for m in messages if m["role"] == "USER"]
    last_user = users[-1] if users else messages[-1]
    fmt = request.get("responseFormat") or {}
    schema = fmt.get("schema")
    fmt_type = fmt.get("type", "TEXT")
    calls = [
        (c.get("id"), (c.get("function") or {}).get("name"))
        for m in messages
        if m["role"] == "ASSISTANT"
        for c in m.get("toolCalls") or ()
    ]
    last = messages[-1]
    tool_result = None
    if last["role"] == "TOOL":
        name = dict(calls).get(last.get("toolCallId"))
        tool_result = (str(name or "tool"), _text_of(last.get("content")))
    thinking = request.get("thinking") or {}
    functions = [t["function"] for t in request.get("tools") or ()]
    return Turn(
        api_format="COHEREV2",
        prompt=_text_of(last_user.get("content")),
        prompt_tokens=sum(_v2_tokens(m) for m in messages),
        cached_tokens=sum(_v2_tokens(m) for m in messages[:-1]),
        images=sum(1 for part in last_user.get("content") or () if part.get("type") == "IMAGE_URL"),
        tool_result=tool_result,
        tools=tuple(Tool(f["name"], f.get("parameters") or {}) for f in functions),
        tool_mode=request.get("toolsChoice") or "AUTO",
        response_format="JSON_SCHEMA" if fmt_type == "JSON_OBJECT" and schema else fmt_type,
        schema=schema,
        max_tokens=request.get("maxTokens"),
        stops=tuple(request.get("stopSequences") or ()),
        thinking=thinking.get("type"),
        **_common(request),
    )


def _v2_tokens(message: Mapping[str, Any]) -> int:
    parts = message.get("content") or ()
    calls = message.get("toolCalls") or ()
    return (
        count_tokens(_text_of(parts))
        + count_tokens(message.get("toolPlan") or "")
        + sum(1 for p in parts if p.get("type") not in ("TEXT", "THINKING"))
        + sum(count_tokens((c.get("function") or {}).get("arguments") or "") + 1 for c in calls)
    )
