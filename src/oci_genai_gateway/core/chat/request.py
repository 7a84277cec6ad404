"""Validate an OpenAI chat request and map it to LiteLLM's `oci/` arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.chat import tools as chat_tools
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.bounds import (
    MAX_CONTENT_PARTS,
    MAX_ID_CHARS,
    MAX_MESSAGES,
    MAX_NAME_CHARS,
    MAX_STOP,
    MAX_STOP_CHARS,
    MAX_TOKENS,
    SchemaBudget,
)
from oci_genai_gateway.core.input.fields import Fields
from oci_genai_gateway.core.input.validate import (
    metadata,
    optional_bool,
    optional_int,
    optional_number,
    optional_object,
    optional_str,
    required_str,
    token_biases,
)
from oci_genai_gateway.core.targets import Resolve, Target

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
_CACHING = "a prompt-caching hint; OCI caches prompts on its own"
# The one hosted-tool policy (docs/decisions/0006-codex-over-the-responses-api.md).
HOSTED_WHY = (
    "a hosted tool OCI cannot run: left out and named in X-Gateway-Omitted-Tools "
    "(GATEWAY_HOSTED_TOOLS=refuse makes it a 400)"
)
FIELDS = Fields(
    honoured=frozenset(_FORWARDED)
    | {"model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens"}
    | {"parallel_tool_calls", "n", "modalities", "logprobs"},  # modalities: text; logprobs: false
    ignored={
        "user": "an end-user id for the provider's abuse monitoring",
        "safety_identifier": "an end-user id for the provider's abuse monitoring",
        "metadata": "tags for the provider's stored completions",
        "store": "this gateway stores no completions",
        "service_tier": "OCI has one tier per deployment",
        "prompt_cache_key": _CACHING,
        "prompt_cache_options": _CACHING,
        "prompt_cache_retention": _CACHING,
        "prediction": "a latency hint: the answer is the same without it",
        "verbosity": "a length hint: OCI's models have no such control, the answer means the same",
        "web_search_options": HOSTED_WHY,
    },
    refused={
        "audio": "audio output is not available on OCI Generative AI",
        "functions": "the deprecated 'functions' API is not supported; use 'tools'",
        "function_call": "the deprecated 'function_call' API is not supported; use 'tool_choice'",
        "top_logprobs": "log probabilities are not returned by this gateway",
        "moderation": "moderation is not available on OCI Generative AI through this gateway",
    },
)
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high"})


@dataclass(frozen=True)
class OmittedTool:
    """A hosted tool the request offers that OCI cannot run: left out and named, or refused by setting."""

    name: str  # the tool's type, e.g. web_search
    param: str  # where the request names it, for the 400 under GATEWAY_HOSTED_TOOLS=refuse


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
    omitted_tools: tuple[OmittedTool, ...] = ()  # named back in X-Gateway-Omitted-Tools
    ignored_fields: tuple[str, ...] = ()  # nested fields nobody classified, named back like top-level ones
    # The reasoning effort is a hint (an API's thinking setting, not chat's reasoning_effort): left out
    # for models that take none (COHERE, or one OCI refused it for) instead of failing the request.
    effort_is_hint: bool = False


def parse(body: dict[str, Any], resolve: Resolve, *, fetch_images: bool = False) -> ChatRequest:
    """Validate `body` (an OpenAI CreateChatCompletionRequest); `resolve` maps model names.

    With `fetch_images`, https image URLs pass too: `images.inline_images` fetches them afterwards.
    """
    FIELDS.refuse(body)
    model = required_str(body, "model")
    messages = _messages(body.get("messages"), fetch_images)
    stream = bool(optional_bool(body, "stream"))
    options = optional_object(body, "stream_options")
    if options is not None and not stream:
        raise InvalidRequest(
            "'stream_options' is only allowed when 'stream' is true.", param="stream_options"
        )
    include_usage = bool(options and optional_bool(options, "include_usage", "stream_options.include_usage"))
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
    _harmless(body)
    params = _params(body)
    search = optional_object(body, "web_search_options")
    return ChatRequest(
        model=model,
        target=resolve(model),
        stream=stream,
        include_usage=include_usage,
        single_tool_call=parallel is False,
        n=n,
        params=params,
        messages=messages,
        omitted_tools=(OmittedTool("web_search", "web_search_options"),) if search is not None else (),
    )


def _harmless(body: dict[str, Any]) -> None:
    """Dropped, but checked as OpenAI checks them: a wrong type is the client's bug to hear about."""
    for name in ("user", "prompt_cache_key", "safety_identifier", "service_tier"):
        optional_str(body, name, MAX_ID_CHARS)
    optional_bool(body, "store")
    optional_object(body, "prediction")
    metadata(body)


def _params(body: dict[str, Any]) -> dict[str, Any]:
    optional_number(body, "temperature", 0, 2)
    optional_number(body, "top_p", 0, 1)
    optional_number(body, "frequency_penalty", -2, 2)
    optional_number(body, "presence_penalty", -2, 2)
    optional_int(body, "seed", -(2**63), 2**63 - 1)
    token_biases(body)
    params = {name: body[name] for name in _FORWARDED if body.get(name) is not None}
    limit = optional_int(body, "max_completion_tokens", 1, MAX_TOKENS)
    if limit is None:
        limit = optional_int(body, "max_tokens", 1, MAX_TOKENS)
    if limit is not None:
        params["max_tokens"] = limit
    if "stop" in params:
        params["stop"] = _stop(params["stop"])
    budget = SchemaBudget()  # one for every schema of the request: LiteLLM expands them all
    names = chat_tools.tools(params["tools"], budget) if "tools" in params else []
    if "tool_choice" in params:
        chat_tools.tool_choice(params["tool_choice"], names)
    if "response_format" in params:
        chat_tools.response_format(params["response_format"], budget)
    effort = params.get("reasoning_effort")
    if effort is not None and (not isinstance(effort, str) or effort not in _EFFORTS):
        raise InvalidRequest(
            f"Invalid 'reasoning_effort': expected one of {sorted(_EFFORTS)}.", param="reasoning_effort"
        )
    return params


def _stop(value: Any) -> list[str]:
    stops = [value] if isinstance(value, str) else value
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOP
        or not all(isinstance(s, str) and 0 < len(s) <= MAX_STOP_CHARS for s in stops)
    ):
        raise InvalidRequest(
            f"Invalid 'stop': expected a string or up to {MAX_STOP} non-empty strings "
            f"of at most {MAX_STOP_CHARS} characters.",
            param="stop",
        )
    return stops


def _messages(raw: Any, fetch_images: bool) -> list[dict[str, Any]]:
    if raw is None:
        raise InvalidRequest("Missing required parameter: 'messages'.", param="messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("Invalid 'messages': expected a non-empty array.", param="messages")
    if len(raw) > MAX_MESSAGES:
        raise InvalidRequest(
            f"Invalid 'messages': at most {MAX_MESSAGES} messages per request.", param="messages"
        )
    return [_message(i, m, fetch_images) for i, m in enumerate(raw)]


def _message(i: int, message: Any, fetch_images: bool) -> dict[str, Any]:
    where = f"messages[{i}]"
    if not isinstance(message, dict):
        raise InvalidRequest(f"Invalid '{where}': expected an object.", param=where)
    role = message.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        raise InvalidRequest(
            f"Invalid '{where}.role': expected one of {sorted(_ROLES)}.", param=f"{where}.role"
        )
    optional_str(message, "name", MAX_NAME_CHARS, f"{where}.name")
    out = dict(message)
    if role != "assistant":
        out.pop("reasoning_content", None)  # only an assistant turn's reasoning reaches OCI
    if role == "developer":
        out["role"] = "system"  # OCI has no developer role; it is the system prompt by another name
    content = message.get("content")
    if role == "tool":
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id or len(call_id) > MAX_ID_CHARS:
            raise InvalidRequest(
                f"Missing or invalid '{where}.tool_call_id': a string of 1 to {MAX_ID_CHARS} characters.",
                param=f"{where}.tool_call_id",
            )
    if role == "assistant" and message.get("tool_calls") is not None:
        chat_tools.tool_calls(message["tool_calls"], f"{where}.tool_calls")
    reasoning = message.get("reasoning_content")
    if role == "assistant" and reasoning is not None and not isinstance(reasoning, str):
        # The reasoning an answer returned, sent back with its turn (core/chat/body.py passes it on).
        raise InvalidRequest(
            f"Invalid '{where}.reasoning_content': expected a string.", param=f"{where}.reasoning_content"
        )
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
    if len(parts) > MAX_CONTENT_PARTS:
        raise InvalidRequest(
            f"Invalid '{where}.content': at most {MAX_CONTENT_PARTS} parts per message.",
            param=f"{where}.content",
        )
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
