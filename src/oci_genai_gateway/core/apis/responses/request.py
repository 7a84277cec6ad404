"""Validate an OpenAI Responses request (stateless) and turn it into the gateway's chat request.

What is honoured and refused: README.md (`POST /v1/responses`); the `input` items:
core/apis/responses/input.py; the tools: core/apis/responses/tools.py; why not LiteLLM's bridge:
docs/decisions/0002-responses-api-over-the-chat-pipeline.md; what Codex sends (namespaces, custom
and hosted tools, reasoning items): docs/decisions/0006-codex-over-the-responses-api.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.apis.responses.input import chat_messages, current_turn_reasoning
from oci_genai_gateway.core.apis.responses.reasoning import Reasoning
from oci_genai_gateway.core.apis.responses.tools import ToolTable, tool_choice, tool_table
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
        "image": "how the provider compresses input images in context; OCI's models get them as sent",
        # Compaction shortens a conversation only past a token threshold; without it the model reads
        # the whole conversation (and OCI says so if it outgrows the model's context).
        "context_management": "server-side compaction past a token threshold; the model reads it all",
        "client_metadata": "Codex's tags for its own session; the answer is the same without them",
    },
    refused={
        # Stored state (responses, conversations, prompts) does not exist here: a 400, never a guess.
        "previous_response_id": "this gateway stores no responses; send the whole conversation in 'input'",
        "conversation": "this gateway stores no conversations; send the whole conversation in 'input'",
        "prompt": "stored prompt templates are not available through this gateway",
        "moderation": "moderation is not available on OCI Generative AI through this gateway",
    },
)
_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh", "max"})
# OpenAI's efforts above `high` ask for the most reasoning the model has: on OCI that is HIGH.
_OCI_EFFORT = {"xhigh": "high", "max": "high"}
# OpenAI's enums for the rest of `reasoning` (its Reasoning schema); each is restated in the answer.
_SUMMARIES = frozenset({"auto", "concise", "detailed"})
_REASONING_CHOICES = {
    "summary": _SUMMARIES,
    "generate_summary": _SUMMARIES,
    "context": frozenset({"auto", "current_turn", "all_turns"}),
}


@dataclass(frozen=True)
class ResponsesRequest:
    """A validated Responses request: its chat request, what the Response restates, tools, reasoning."""

    model: str
    chat: ChatRequest
    echo: dict[str, Any] = field(default_factory=dict)
    tools: ToolTable = field(default_factory=ToolTable)
    reasoning: Reasoning = field(default_factory=Reasoning)


def parse(body: dict[str, Any], resolve: Resolve, *, fetch_images: bool = False) -> ResponsesRequest:
    """Validate `body` (an OpenAI CreateResponse); every refusal is a 400 naming the parameter."""
    FIELDS.refuse(body)
    include = _refuse_values(body)
    model = required_str(body, "model")
    stream = bool(optional_bool(body, "stream"))
    if optional_object(body, "stream_options") is not None and not stream:
        raise InvalidRequest(
            "'stream_options' is only allowed when 'stream' is true.", param="stream_options"
        )
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise InvalidRequest("Invalid type for 'instructions': expected a string.", param="instructions")
    table = tool_table(body.get("tools"))
    system = [{"role": "system", "content": instructions}] if instructions else []
    messages = system + chat_messages(body.get("input"), table)
    chat: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
    if stream:
        chat["stream_options"] = {"include_usage": True}  # response.completed carries the usage
    for name in ("temperature", "top_p", "parallel_tool_calls"):
        if body.get(name) is not None:
            chat[name] = body[name]
    limit = optional_int(body, "max_output_tokens", 1)
    if limit is not None:
        chat["max_tokens"] = limit
    choice = body.get("tool_choice")
    chosen = tool_choice(choice, table) if choice is not None else None
    if table.functions:  # after the choice: allowed_tools narrows them
        chat["tools"] = table.functions
        if chosen is not None:
            chat["tool_choice"] = chosen
    elif chosen not in (None, "auto", "none"):
        raise InvalidRequest(
            "'tool_choice' asks for a tool call, but no function tools remain.", param="tool_choice"
        )
    ignored: list[str] = []
    text = _text(body, ignored)
    if text["format"]["type"] != "text":
        chat["response_format"] = _response_format(text["format"])
    reasoning = _reasoning(body, ignored)
    if (optional_object(body, "reasoning") or {}).get("context") != "all_turns":
        chat["messages"] = current_turn_reasoning(messages)
    metadata(body)  # restated in the Response, so it must be OpenAI's shape
    truncation = body.get("truncation")
    if truncation is not None and truncation not in ("auto", "disabled"):
        raise InvalidRequest("Invalid 'truncation': expected 'auto' or 'disabled'.", param="truncation")
    if reasoning and reasoning.get("effort") is not None:
        chat["reasoning_effort"] = _OCI_EFFORT.get(reasoning["effort"], reasoning["effort"])
    echo = {
        "instructions": instructions,
        "max_output_tokens": limit,
        "metadata": body.get("metadata") or {},
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "reasoning": reasoning,
        "temperature": optional_number(body, "temperature", 0, 2),
        "top_p": optional_number(body, "top_p", 0, 1),
        "text": text,
        # A hosted tool's choice was left out with the tool: the Response says what the model had.
        "tool_choice": "auto" if choice is None or _hosted_choice(table) else choice,
        "tools": table.echoed,
        "truncation": truncation or "disabled",
        "store": False,
        "background": False,
        "previous_response_id": None,
    }
    if isinstance(body.get("user"), str):
        echo["user"] = body["user"]
    parsed = chat_request.parse(chat, resolve, fetch_images=fetch_images)
    # `reasoning.effort` is a dial, as on /v1/messages: a model OCI refuses it for answers without it.
    parsed = dataclasses.replace(
        parsed, omitted_tools=tuple(table.omitted), ignored_fields=tuple(ignored), effort_is_hint=True
    )
    wanted = Reasoning(
        summary=bool(reasoning and reasoning["summary"]),
        encrypted="reasoning.encrypted_content" in include,
    )
    return ResponsesRequest(model, parsed, echo, table, wanted)


def _hosted_choice(table: ToolTable) -> bool:
    """Whether `tool_choice` named a hosted tool, left out."""
    return any(tool.param == "tool_choice" for tool in table.omitted)


def _refuse_values(body: dict[str, Any]) -> list[str]:
    """Refuse the values that cannot be honoured; the `include` list."""
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
    # `reasoning.encrypted_content` is honoured (reasoning.py); the others ask for parts of hosted-tool
    # calls and of input images, which never occur in an answer here.
    if "message.output_text.logprobs" in include:
        raise InvalidRequest("Log probabilities are not returned by this gateway.", param="include")
    return include


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest(f"Invalid type for '{name}': expected an array.", param=name)
    return value


def _text(body: dict[str, Any], ignored: list[str]) -> dict[str, Any]:
    """`text` as the Response restates it; fields nobody classified are added to `ignored`."""
    text = optional_object(body, "text") or {}
    ignored += _unknown("text", text, frozenset({"format", "verbosity"}))
    verbosity = text.get("verbosity")
    if verbosity is not None and verbosity not in ("low", "medium", "high"):
        raise InvalidRequest(
            "Invalid 'text.verbosity': expected low, medium or high.", param="text.verbosity"
        )
    fmt = text.get("format") or {"type": "text"}
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        raise InvalidRequest(
            "Invalid 'text.format.type': expected text, json_object or json_schema.", param="text.format.type"
        )
    # A length hint OCI's models have no control for (chat's `verbosity` is ignored alike): restated.
    return {"format": fmt, "verbosity": verbosity} if verbosity else {"format": fmt}


def _unknown(prefix: str, obj: dict[str, Any], known: frozenset[str]) -> list[str]:
    """Nested fields nobody classified: ignored and named back, as top-level ones (docs/COMPATIBILITY.md)."""
    return [f"{prefix}.{key}" for key in obj if key not in known]


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


def _reasoning(body: dict[str, Any], ignored: list[str]) -> dict[str, Any] | None:
    """`reasoning` as the Response restates it; fields nobody classified are added to `ignored`."""
    reasoning = optional_object(body, "reasoning")
    if reasoning is None:
        return None
    # `mode` (standard or pro) asks for more compute, which OCI does not sell: no effect on the answer.
    ignored += _unknown(
        "reasoning", reasoning, frozenset({"effort", "summary", "generate_summary", "context", "mode"})
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
    # A summary asked for is the model's reasoning text, which OCI returns as it is (reasoning.py).
    return {"effort": effort, "summary": reasoning.get("summary") or reasoning.get("generate_summary")}
