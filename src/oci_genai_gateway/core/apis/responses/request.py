"""Validate an OpenAI Responses request (stateless) and turn it into the gateway's chat request.

What is honoured and refused: README.md (`POST /v1/responses`); the `input` items:
core/apis/responses/input.py; why not LiteLLM's bridge:
docs/decisions/0002-responses-api-over-the-chat-pipeline.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.apis.responses.input import chat_messages
from oci_genai_gateway.core.chat import request as chat_request
from oci_genai_gateway.core.chat.request import ChatRequest
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.fields import Fields
from oci_genai_gateway.core.input.validate import (
    metadata,
    optional_bool,
    optional_int,
    optional_number,
    optional_object,
    reject_unknown,
    required_str,
)
from oci_genai_gateway.core.targets import Resolve

_CACHING = "a prompt-caching hint; OCI caches prompts on its own"
FIELDS = Fields(
    honoured=frozenset(
        {"model", "input", "instructions", "tools", "tool_choice", "text", "max_output_tokens"}
    )
    | {"temperature", "top_p", "reasoning", "stream", "stream_options", "parallel_tool_calls", "metadata"}
    | {"truncation", "user"}  # restated in the Response
    | {"store", "background", "include", "top_logprobs"},  # false, false, what is returned, 0
    ignored={
        "safety_identifier": "an end-user id for the provider's abuse monitoring",
        "service_tier": "OCI has one tier per deployment",
        "prompt_cache_key": _CACHING,
        "prompt_cache_options": _CACHING,
        "prompt_cache_retention": _CACHING,
        "max_tool_calls": "no hosted tools run here, so there are no calls to cap",
        "background_options": "options of background responses, which are refused",
        "access_programs": "OpenAI's account programs",
        "image": "options of hosted image generation, which is not offered",
        "client_metadata": "Codex's tags for its own session; the answer is the same without them",
    },
    refused={
        # Stored state (responses, conversations, prompts) does not exist here: a 400, never a guess.
        "previous_response_id": "this gateway stores no responses; send the whole conversation in 'input'",
        "conversation": "this gateway stores no conversations; send the whole conversation in 'input'",
        "prompt": "stored prompt templates are not available through this gateway",
        "moderation": "moderation is not available on OCI Generative AI through this gateway",
        "context_management": "server-side context management is not available through this gateway",
    },
)
_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high"})
# OpenAI's enums for the rest of `reasoning` (its Reasoning schema); each is restated in the answer.
_SUMMARIES = frozenset({"auto", "concise", "detailed"})
_REASONING_CHOICES = {
    "summary": _SUMMARIES,
    "generate_summary": _SUMMARIES,
    "context": frozenset({"auto", "current_turn", "all_turns"}),
}


@dataclass(frozen=True)
class ResponsesRequest:
    """A validated Responses request: the chat request that runs it and what the Response restates."""

    model: str
    chat: ChatRequest
    echo: dict[str, Any] = field(default_factory=dict)


def parse(body: dict[str, Any], resolve: Resolve, *, fetch_images: bool = False) -> ResponsesRequest:
    """Validate `body` (an OpenAI CreateResponse); every refusal is a 400 naming the parameter."""
    FIELDS.refuse(body)
    _refuse_values(body)
    model = required_str(body, "model")
    stream = bool(optional_bool(body, "stream"))
    if optional_object(body, "stream_options") is not None and not stream:
        raise InvalidRequest(
            "'stream_options' is only allowed when 'stream' is true.", param="stream_options"
        )
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise InvalidRequest("Invalid type for 'instructions': expected a string.", param="instructions")
    system = [{"role": "system", "content": instructions}] if instructions else []
    messages = system + chat_messages(body.get("input"))
    tools = [_tool(i, t) for i, t in enumerate(_list(body, "tools"))]
    chat: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
    if stream:
        chat["stream_options"] = {"include_usage": True}  # response.completed carries the usage
    if tools:
        chat["tools"] = [t for t, _ in tools]
    for name in ("temperature", "top_p", "parallel_tool_calls"):
        if body.get(name) is not None:
            chat[name] = body[name]
    limit = optional_int(body, "max_output_tokens", 1)
    if limit is not None:
        chat["max_tokens"] = limit
    choice = body.get("tool_choice")
    if choice is not None:
        chat["tool_choice"] = _tool_choice(choice)
    text = _text(body)
    if text["format"]["type"] != "text":
        chat["response_format"] = _response_format(text["format"])
    reasoning = _reasoning(body)
    metadata(body)  # restated in the Response, so it must be OpenAI's shape
    truncation = body.get("truncation")
    if truncation is not None and truncation not in ("auto", "disabled"):
        raise InvalidRequest("Invalid 'truncation': expected 'auto' or 'disabled'.", param="truncation")
    if reasoning and reasoning.get("effort") is not None:
        chat["reasoning_effort"] = reasoning["effort"]
    echo = {
        "instructions": instructions,
        "max_output_tokens": limit,
        "metadata": body.get("metadata") or {},
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "reasoning": reasoning,
        "temperature": optional_number(body, "temperature", 0, 2),
        "top_p": optional_number(body, "top_p", 0, 1),
        "text": text,
        "tool_choice": choice if choice is not None else "auto",
        "tools": [echoed for _, echoed in tools],
        "truncation": truncation or "disabled",
        "store": False,
        "background": False,
        "previous_response_id": None,
    }
    if isinstance(body.get("user"), str):
        echo["user"] = body["user"]
    return ResponsesRequest(model, chat_request.parse(chat, resolve, fetch_images=fetch_images), echo)


def _refuse_values(body: dict[str, Any]) -> None:
    if body.get("store") is True:
        raise InvalidRequest(
            "Unsupported value for 'store': this gateway stores no responses; send 'store': false.",
            param="store",
        )
    if body.get("background") is True:
        raise InvalidRequest(
            "Background responses are not available through this gateway.", param="background"
        )
    if optional_int(body, "top_logprobs", 0, 20):
        raise InvalidRequest("Log probabilities are not returned by this gateway.", param="top_logprobs")
    include = _list(body, "include")
    if not all(isinstance(i, str) for i in include):
        raise InvalidRequest("Invalid 'include': expected an array of strings.", param="include")
    # The others ask for parts of hosted-tool calls or reasoning items, which never occur here.
    if "message.output_text.logprobs" in include:
        raise InvalidRequest("Log probabilities are not returned by this gateway.", param="include")


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest(f"Invalid type for '{name}': expected an array.", param=name)
    return value


def _tool(i: int, tool: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chat form of a function tool, and the FunctionTool a Response restates."""
    where = f"tools[{i}]"
    kind = tool.get("type") if isinstance(tool, dict) else None
    if kind != "function":
        raise InvalidRequest(
            f"Unsupported tool type {kind!r} in '{where}': only function tools are available "
            "(OCI Generative AI hosts no web search, file search, code interpreter or MCP tools).",
            param=f"{where}.type",
        )
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"Missing '{where}.name'.", param=f"{where}.name")
    parameters = tool.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise InvalidRequest(f"Invalid '{where}.parameters': expected a JSON Schema object.", param=where)
    function: dict[str, Any] = {
        "name": name,
        "parameters": parameters or {"type": "object", "properties": {}},
    }
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    echoed = {
        "type": "function",
        "name": name,
        "description": tool.get("description"),
        "parameters": parameters,
        "strict": tool.get("strict") if isinstance(tool.get("strict"), bool) else None,
    }
    return {"type": "function", "function": function}, echoed


def _tool_choice(choice: Any) -> Any:
    if choice in ("none", "auto", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    raise InvalidRequest(
        "Invalid 'tool_choice': expected none, auto, required or {'type': 'function', 'name': ...}.",
        param="tool_choice",
    )


def _text(body: dict[str, Any]) -> dict[str, Any]:
    text = optional_object(body, "text") or {}
    reject_unknown({f"text.{k}": v for k, v in text.items()}, frozenset({"text.format", "text.verbosity"}))
    if text.get("verbosity") is not None:
        raise InvalidRequest(
            "Unsupported parameter 'text.verbosity': OCI Generative AI takes no verbosity setting.",
            param="text.verbosity",
        )
    fmt = text.get("format") or {"type": "text"}
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        raise InvalidRequest(
            "Invalid 'text.format.type': expected text, json_object or json_schema.", param="text.format.type"
        )
    return {"format": fmt}


def _response_format(fmt: dict[str, Any]) -> dict[str, Any]:
    if fmt["type"] == "json_object":
        return {"type": "json_object"}
    name, schema = fmt.get("name"), fmt.get("schema")
    if not isinstance(name, str) or not name or not isinstance(schema, dict):
        raise InvalidRequest(
            "Invalid 'text.format': json_schema needs a 'name' and a 'schema' object.", param="text.format"
        )
    spec: dict[str, Any] = {"name": name, "schema": schema}
    for key in ("description", "strict"):
        if fmt.get(key) is not None:
            spec[key] = fmt[key]
    return {"type": "json_schema", "json_schema": spec}


def _reasoning(body: dict[str, Any]) -> dict[str, Any] | None:
    reasoning = optional_object(body, "reasoning")
    if reasoning is None:
        return None
    allowed = frozenset({"effort", "summary", "generate_summary", "context"})
    reject_unknown(
        {f"reasoning.{k}": v for k, v in reasoning.items()}, frozenset(f"reasoning.{k}" for k in allowed)
    )
    effort = reasoning.get("effort")
    if effort is not None and (not isinstance(effort, str) or effort not in _EFFORTS):
        raise InvalidRequest(
            f"Invalid 'reasoning.effort': expected one of {sorted(_EFFORTS)}.", param="reasoning.effort"
        )
    for key in ("summary", "generate_summary", "context"):
        value, choices = reasoning.get(key), _REASONING_CHOICES[key]
        if value is not None and (not isinstance(value, str) or value not in choices):
            raise InvalidRequest(
                f"Invalid 'reasoning.{key}': expected one of {sorted(choices)}.", param=f"reasoning.{key}"
            )
    # Summaries are accepted, and none is returned: OCI sends no reasoning summaries to pass on.
    return {"effort": effort, "summary": reasoning.get("summary") or reasoning.get("generate_summary")}
