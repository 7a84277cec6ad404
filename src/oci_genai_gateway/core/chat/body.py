"""OCI's `/actions/chat` body for a chat request: LiteLLM's OCI transform (GENERIC and COHERE), and the
gateway's own for COHEREV2 (core/chat/cohere_v2.py), which LiteLLM does not have.

What LiteLLM's transform leaves out of assistant turns is put back here: LiteLLM's GENERIC transform
(litellm/llms/oci/chat/generic.py, adapt_messages_to_generic_oci_standard) sends an assistant turn
that called tools with its calls only, and no turn with its reasoning. OCI's GENERIC
`AssistantMessage` takes both (`content` beside `toolCalls`, and `reasoningContent`: oci 2.189.0,
oci/generative_ai_inference/models/assistant_message.py), so the text of a tool-calling turn and the
reasoning a client sends back (chat's `reasoning_content`, which the Responses and Messages APIs fill
from their reasoning items and thinking blocks) reach the model. COHERE's `CohereChatBotMessage` has
no reasoning field: there the reasoning is dropped (its text beside calls LiteLLM already keeps).
COHEREV2 takes both in its own transform (a tool plan, THINKING parts).
"""

from __future__ import annotations

import re
from typing import Any

from oci_genai_gateway.core.chat import cohere_v2
from oci_genai_gateway.core.chat.request import ChatRequest
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.upstream.llm import chat_config

_PARAM = re.compile(r"param `(\w+)`")


def is_cohere(model: str) -> bool:
    """COHERE (v1) api format (LiteLLM picks it by the `cohere.` prefix) for the Cohere models without v2."""
    return model.lower().startswith("cohere.") and not cohere_v2.speaks_v2(model)


def api_format(model: str) -> str:
    """The OCI chat format the gateway speaks to `model`: GENERIC, COHERE or COHEREV2."""
    if cohere_v2.speaks_v2(model):
        return "COHEREV2"
    return "COHERE" if is_cohere(model) else "GENERIC"


def chat_body(
    request: ChatRequest,
    settings: Settings,
    *,
    stream: bool = False,
    stream_usage: bool = True,
    effort: bool = True,
) -> dict[str, Any]:
    """The OCI `/actions/chat` body for one generation of `request` (without its effort if not `effort`)."""
    model = request.target.model
    if cohere_v2.speaks_v2(model):
        return _v2_body(request, settings, stream=stream, stream_usage=stream_usage, effort=effort)
    if is_cohere(model):
        _refuse_cohere_images(request.messages)
    params = _cohere_tool_choice(dict(request.params)) if is_cohere(model) else dict(request.params)
    if not effort or (request.effort_is_hint and is_cohere(model)):
        params.pop("reasoning_effort", None)  # OCI's COHERE format has no reasoning effort
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
    if chat.get("apiFormat") == "GENERIC":
        _restore_assistant_turns(request.messages, chat.get("messages") or [])
    _streaming(chat, stream, stream_usage)
    return body


def _v2_body(
    request: ChatRequest, settings: Settings, *, stream: bool, stream_usage: bool, effort: bool
) -> dict[str, Any]:
    model = request.target.model
    params = dict(request.params)
    if not effort or (request.effort_is_hint and not cohere_v2.thinks(model)):
        params.pop("reasoning_effort", None)  # a hint for a model that does not think: left out
    serving: dict[str, Any] = {"servingType": "ON_DEMAND", "modelId": model}
    if request.target.endpoint_id:
        serving = {"servingType": "DEDICATED", "endpointId": request.target.endpoint_id}
    chat = cohere_v2.chat_request(model, request.messages, params)
    _streaming(chat, stream, stream_usage)
    return {"compartmentId": settings.compartment_id, "servingMode": serving, "chatRequest": chat}


def _streaming(chat: dict[str, Any], stream: bool, stream_usage: bool) -> None:
    chat.pop("isStream", None)
    if stream:
        chat["isStream"] = True
        if stream_usage:
            chat["streamOptions"] = {"isIncludeUsage": True}


def _restore_assistant_turns(messages: list[dict[str, Any]], built: list[dict[str, Any]]) -> None:
    """Put each assistant turn's text beside its calls, and its reasoning, into OCI's messages."""
    # LiteLLM makes exactly one ASSISTANT message of each assistant turn, in order (Gemini's system
    # messages move first and merge, assistant turns keep their order), so the nth matches the nth.
    sent = [m for m in messages if m.get("role") == "assistant"]
    made = [m for m in built if m.get("role") == "ASSISTANT"]
    if len(sent) != len(made):
        return  # not LiteLLM's one-for-one shape: leave its body as it is
    for source, target in zip(sent, made, strict=True):
        text = source.get("content")
        if source.get("tool_calls") and isinstance(text, str) and text and not target.get("content"):
            target["content"] = [{"type": "TEXT", "text": text}]
        reasoning = source.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            target["reasoningContent"] = reasoning


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


def _refuse_cohere_images(messages: list[dict[str, Any]]) -> None:
    """COHERE (v1) has no image content; LiteLLM's transform drops images, which changes the question."""
    for i, message in enumerate(messages):
        content = message.get("content")
        parts = content if isinstance(content, list) else []
        for j, part in enumerate(parts):
            if isinstance(part, dict) and part.get("type") == "image_url":
                raise InvalidRequest(
                    "Image content is not supported by COHERE-format models on OCI "
                    "(Command A Vision takes images).",
                    param=f"messages[{i}].content[{j}]",
                )
