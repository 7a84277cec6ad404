"""Anthropic's Message for a chat completion, its usage and stop reasons, and its error body."""

from __future__ import annotations

import json
import uuid
from typing import Any

from oci_genai_gateway.core.apis.messages.options import OMITTED
from oci_genai_gateway.core.apis.messages.request import MessagesRequest
from oci_genai_gateway.core.chat.sealed import seal
from oci_genai_gateway.core.errors import GatewayError

# Anthropic's error types by status (https://docs.claude.com/en/api/errors); 502 and 504 are
# the gateway's own statuses for OCI failing or timing out.
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_STOP_REASONS = {"length": "max_tokens", "content_filter": "refusal", "tool_calls": "tool_use"}


def error_body(exc: GatewayError) -> dict[str, Any]:
    """Any GatewayError as Anthropic's error body: the one renderer of /v1/messages errors."""
    kind = _ERROR_TYPES.get(exc.status) or ("invalid_request_error" if exc.status < 500 else "api_error")
    return {"type": "error", "error": {"type": kind, "message": exc.message}}


def render(request: MessagesRequest, completion: dict[str, Any]) -> dict[str, Any]:
    """A chat completion as a Message."""
    choice = completion["choices"][0]
    message = choice["message"]
    content: list[dict[str, Any]] = []
    if message.get("reasoning_content") and request.thinking is not None:
        content.append(thinking_block(request, message["reasoning_content"]))
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        function = call["function"]
        content.append(
            {"type": "tool_use", "id": call["id"], "name": function["name"], "input": _input(function)}
        )
    message = {
        **message_head(request),
        "content": content,
        "stop_reason": stop_reason(choice["finish_reason"]),
        "usage": usage(completion.get("usage")),
    }
    if request.context_management is not None:
        message["context_management"] = request.context_management  # BetaMessage.context_management
    return message


def thinking_block(request: MessagesRequest, text: str) -> dict[str, Any]:
    """Anthropic's ThinkingBlock for the model's reasoning text, signed with the gateway's seal."""
    # The signature is core/chat/sealed.py's readable seal of the text, not Anthropic's: a client
    # sends the block back unchanged, and the text reaches OCI again even when it was omitted here.
    shown = "" if request.thinking == OMITTED else text
    return {"type": "thinking", "thinking": shown, "signature": signature(request, text)}


def signature(request: MessagesRequest, text: str) -> str:
    """A thinking block's `signature`: the gateway's seal of its reasoning text."""
    return seal(request.model, text)


def usage(chat_usage: dict[str, Any] | None) -> dict[str, Any]:
    """Chat usage in Anthropic's words: input_tokens leaves out the tokens read from OCI's cache."""
    chat_usage = chat_usage or {}
    prompt = chat_usage.get("prompt_tokens", 0)
    cached = (chat_usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return {
        "input_tokens": prompt - cached,
        "output_tokens": chat_usage.get("completion_tokens", 0),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    }


def message_head(request: MessagesRequest) -> dict[str, Any]:
    """A Message's fields before its content: id, type, role, the client's model name."""
    return {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
    }


def stop_reason(finish: str | None) -> str:
    """Chat's finish reason as Anthropic's stop reason."""
    # OCI does not say which stop sequence ended a turn, so `stop_sequence` is never claimed.
    return _STOP_REASONS.get(finish or "", "end_turn")


def _input(function: dict[str, Any]) -> dict[str, Any]:
    try:
        arguments = json.loads(function.get("arguments") or "{}")
    except ValueError:
        return {}  # cut short by max_tokens: there is no object to hand over
    return arguments if isinstance(arguments, dict) else {}
