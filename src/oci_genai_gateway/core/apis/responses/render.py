"""OpenAI's Response object for a chat completion, and the pieces its event stream restates."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from oci_genai_gateway.core.apis.responses import reasoning
from oci_genai_gateway.core.apis.responses.request import ResponsesRequest
from oci_genai_gateway.core.apis.responses.tools import CUSTOM_ARGUMENT, ToolTable
from oci_genai_gateway.core.errors import NotFound

# Finish reasons that end a Response as `incomplete`, with OpenAI's reason.
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def not_stored(response_id: str) -> NotFound:
    """OpenAI's 404 for a response it does not have: this gateway stores none."""
    return NotFound(f"Response with id '{response_id}' not found.")


def render(request: ResponsesRequest, completion: dict[str, Any]) -> dict[str, Any]:
    """A chat completion as a Response object."""
    choice = completion["choices"][0]
    status, reason = status_of(choice["finish_reason"])
    message = choice["message"]
    calls = message.get("tool_calls") or []
    output: list[dict[str, Any]] = []
    if message.get("reasoning_content"):
        thought = message["reasoning_content"]
        output.append(reasoning.item(new_id("rs"), request.model, thought, request.reasoning, status))
    if message.get("content") or not calls:
        output.append(message_item(new_id("msg"), message.get("content") or "", status))
    for call in calls:
        function = call["function"]
        output.append(call_item(request.tools, call["id"], function["name"], function["arguments"]))
    used = usage(completion.get("usage"))
    return response(request, new_id("resp"), completion["created"], status, output, used, reason)


def response(
    request: ResponsesRequest,
    response_id: str,
    created: int,
    status: str,
    output: list[dict[str, Any]],
    used: dict[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """A Response object: the request's settings restated, the output, and usage when known."""
    body: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "completed_at": int(time.time()) if status == "completed" else None,
        "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        "model": request.model,
        "output": output,
        **request.echo,
    }
    if used is not None:
        body["usage"] = used
    return body


def usage(chat_usage: dict[str, Any] | None) -> dict[str, Any] | None:
    """Chat usage in the Responses API's words (reasoning stays inside output_tokens, as OpenAI counts)."""
    if not chat_usage:
        return None
    cached = (chat_usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (chat_usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return {
        "input_tokens": chat_usage["prompt_tokens"],
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": chat_usage["completion_tokens"],
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": chat_usage["total_tokens"],
    }


def status_of(finish: str | None) -> tuple[str, str | None]:
    reason = _INCOMPLETE.get(finish or "")
    return ("incomplete", reason) if reason else ("completed", None)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, text: str, status: str) -> dict[str, Any]:
    content = [text_part(text)]
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def call_item(
    tools: ToolTable, call_id: str, flat: str, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    """The model's call of function `flat` as the client's `function_call` or `custom_tool_call` item."""
    # OpenAI's ResponseFunctionToolCall carries the tool's `namespace` apart from its `name`; a
    # custom tool's ResponseCustomToolCall has the function's one argument as its `input`.
    ref = tools.ref(flat)
    if ref.custom:
        item = {
            "id": new_id("ctc"),
            "type": "custom_tool_call",
            "call_id": call_id,
            "name": ref.name,
            "input": custom_input(arguments),
        }
    else:
        item = {
            "id": new_id("fc"),
            "type": "function_call",
            "status": status,
            "call_id": call_id,
            "name": ref.name,
            "arguments": arguments,
        }
    if ref.namespace is not None:
        item["namespace"] = ref.namespace
    return item


def custom_input(arguments: str) -> str:
    """A custom tool's free text from the arguments of the function it was offered as."""
    # Models sometimes name the one argument differently or send the text bare: the text is the
    # argument's value when there is one string value, else the arguments as they came.
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments
    if isinstance(parsed, dict):
        if isinstance(parsed.get(CUSTOM_ARGUMENT), str):
            return str(parsed[CUSTOM_ARGUMENT])
        values = list(parsed.values())
        if len(values) == 1 and isinstance(values[0], str):
            return values[0]
    return parsed if isinstance(parsed, str) else arguments
