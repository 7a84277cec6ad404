"""Validate an Anthropic Messages request and turn it into the gateway's chat request.

What is honoured and refused: README.md (`POST /v1/messages`) and docs/COMPATIBILITY.md; the blocks:
content.py; tools: tools.py; thinking, effort and formats: options.py; context editing: context.py.
Why not LiteLLM's adapter: docs/decisions/0003-messages-api-over-the-chat-pipeline.md; how Claude Code's
fields are met: docs/decisions/0007-claude-code-on-messages.md. Every 400 keeps Messages' parameter names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.apis.messages import context, options
from oci_genai_gateway.core.apis.messages import tools as messages_tools
from oci_genai_gateway.core.apis.messages.content import conversation
from oci_genai_gateway.core.chat import request as chat_request
from oci_genai_gateway.core.chat.request import ChatRequest, OmittedTool
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.fields import Fields
from oci_genai_gateway.core.input.validate import optional_bool, optional_int, optional_number, required_str
from oci_genai_gateway.core.targets import Resolve

_ACCOUNT = "routes the request within an Anthropic account; the gateway's key does that here"
# Honoured by both /v1/messages and /v1/messages/count_tokens (count.py).
SHARED = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking", "output_config"})
SHARED_HONOURED = SHARED | {"output_format", "context_management"}
SHARED_IGNORED = {
    "cache_control": "a prompt-caching hint; OCI caches prompts on its own",
    "speed": "a speed hint: the answer is the same",
    "billing_policy": _ACCOUNT,
    "workspace_id": _ACCOUNT,
    "user_profile_id": _ACCOUNT,
    "betas": "the beta features a client asks for; what this gateway offers does not depend on them",
}
SHARED_REFUSED = {
    "mcp_servers": "MCP servers are not available through this gateway",
    "compaction": "compaction requests are not available through this gateway",
}
FIELDS = Fields(
    honoured=SHARED_HONOURED | {"max_tokens", "stop_sequences", "stream", "temperature", "top_p"},
    ignored={
        **SHARED_IGNORED,
        "metadata": "an end-user id for the provider's abuse monitoring",
        "service_tier": "OCI has one tier per deployment",
        "diagnostics": "asks about Anthropic's prompt cache",
        "fallback_credit_token": "billing on Anthropic's side",
        "inference_geo": "Anthropic's regions; a deployment's OCI region is set by its operator",
        "fallbacks": "substitute models after a policy refusal, which OCI's models do not send",
        "top_k": "a sampling limit OCI's GENERIC format does not take; the answer means the same",
    },
    refused={
        **SHARED_REFUSED,
        "container": "code execution containers are not available on OCI Generative AI",
        "thread": "this gateway holds no conversations; send the whole conversation in 'messages'",
    },
)


@dataclass(frozen=True)
class MessagesRequest:
    """A validated Messages request: the chat request that runs it and what the answer restates."""

    model: str  # the client's name for it
    chat: ChatRequest
    context_management: dict[str, Any] | None = None  # the answer's report of the edits, when asked
    thinking: str | None = None  # options.SHOWN or OMITTED: the answer's thinking blocks; None: none


def parse(body: dict[str, Any], resolve: Resolve, *, fetch_images: bool = False) -> MessagesRequest:
    """Validate `body` (Anthropic's MessageCreateParams); every refusal is a 400 naming the parameter."""
    FIELDS.refuse(body)
    limit = optional_int(body, "max_tokens", 1)
    if limit is None:
        raise InvalidRequest("Missing required parameter: 'max_tokens'.", param="max_tokens")
    stream = bool(optional_bool(body, "stream"))
    chat, edited, omitted = chat_fields(body)
    chat.update(max_tokens=limit, stream=stream)
    if stream:
        chat["stream_options"] = {"include_usage": True}  # message_delta carries the usage
    for name in ("temperature", "top_p"):
        if optional_number(body, name, 0, 1) is not None:
            chat[name] = body[name]
    stops = options.stops(body)
    if stops:
        chat["stop"] = stops
    request = chat_request.parse(chat, resolve, fetch_images=fetch_images)
    # Thinking and effort say how hard to think, not what to answer: a model that takes no reasoning
    # effort is asked without one (core/chat/pipeline.py), never refused.
    request = dataclasses.replace(request, effort_is_hint=True, omitted_tools=omitted)
    report = edited.report() if edited is not None else None
    return MessagesRequest(body["model"], request, report, options.thinking_blocks(body))


def chat_fields(
    body: dict[str, Any],
) -> tuple[dict[str, Any], context.Edited | None, tuple[OmittedTool, ...]]:
    """A Messages or count_tokens body as chat fields, what its context edits did, the tools left out."""
    chat: dict[str, Any] = {"model": required_str(body, "model")}
    conv = conversation(body)
    offered = messages_tools.offered(body, conv)
    if offered.tools:
        chat["tools"] = offered.tools
    chat.update(offered.choice)
    fmt = options.response_format(body)
    if fmt is not None:
        chat["response_format"] = fmt
    effort = options.effort(body, conv.turn_effort)
    if effort is not None:
        chat["reasoning_effort"] = effort
    edited = context.edit(body.get("context_management"), conv.messages, chat, conv.thinking)
    chat["messages"] = edited.messages if edited is not None else conv.messages
    return chat, edited, offered.omitted
