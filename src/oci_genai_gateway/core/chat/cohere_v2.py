"""OpenAI chat -> OCI's COHEREV2 chat request (`CohereChatRequestV2`), the gateway's own transform.

LiteLLM 1.110.2 (the pinned release, also the latest) builds only GENERIC and COHERE (v1) bodies
(litellm/llms/oci/chat/transformation.py), and v1 has no tool choice, no images, no thinking and
no tool-call ids. COHEREV2 has them all; its fields are the SDK's (oci 2.189.0,
oci/generative_ai_inference/models/cohere_chat_request_v2.py and the Cohere*V2 models beside it,
https://docs.oracle.com/en-us/iaas/tools/python/latest/api/generative_ai_inference/models/oci.generative_ai_inference.models.CohereChatRequestV2.html).
"""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest

# The Command A family speaks COHEREV2 on OCI: Command A Vision needs it even for text-only turns
# (tested live in Frankfurt: https://github.com/oracle/langchain-oracle/pull/122), Command A
# Reasoning's thinking exists only in v2 (SDK CohereThinkingV2), and Command A takes both formats
# (https://docs.oracle.com/en-us/iaas/Content/generative-ai/cohere-models.htm lists the family).
# The SDK says toolsChoice works on "Command-r7b and newer" (CohereChatRequestV2.tools_choice); OCI
# serves no R7B, so of its models the older Command R and R+ (08-2024) keep v1, the only format OCI
# documents for them.
_V2_PREFIXES = ("cohere.command-a",)
# Models that think (CohereThinkingV2); the others take no `thinking` at all.
_THINKING = ("cohere.command-a-reasoning",)
# reasoning_effort -> thinking token budget (None: no budget, the model decides). The budgets are
# the gateway's choice: OCI publishes none; on-demand answers are capped at 4,000 tokens (SDK,
# CohereChatRequestV2.max_tokens), so low and medium stay below it.
_BUDGETS: dict[str, int | None] = {"minimal": 512, "low": 1024, "medium": 3072, "high": None}
_DETAIL = {"auto": "AUTO", "low": "LOW", "high": "HIGH"}
_ROLES = {"system": "SYSTEM", "user": "USER", "assistant": "ASSISTANT", "tool": "TOOL"}
# Chat parameters -> CohereChatRequestV2 fields taken as they are.
_SCALARS = {
    "temperature": "temperature",
    "top_p": "topP",
    "seed": "seed",
    "frequency_penalty": "frequencyPenalty",
    "presence_penalty": "presencePenalty",
    "max_tokens": "maxTokens",
    "stop": "stopSequences",
}


def speaks_v2(model: str) -> bool:
    """True for the Cohere models OCI serves in the COHEREV2 format."""
    return model.lower().startswith(_V2_PREFIXES)


def thinks(model: str) -> bool:
    """True for the Cohere models that take `thinking` (Command A Reasoning)."""
    return model.lower().startswith(_THINKING)


def chat_request(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """The `chatRequest` of a COHEREV2 body for validated chat `messages` and `params`."""
    if "logit_bias" in params:
        raise InvalidRequest(
            "'logit_bias' is not supported by COHEREV2-format models on OCI.", param="logit_bias"
        )
    keep = thinks(model)
    chat: dict[str, Any] = {"apiFormat": "COHEREV2", "messages": [_message(m, keep) for m in messages]}
    for name, field in _SCALARS.items():
        if name in params:
            chat[field] = params[name]
    chat.update(_tools(params))
    fmt = _response_format(params.get("response_format"))
    if fmt is not None:
        chat["responseFormat"] = fmt
    thinking = _thinking(model, params.get("reasoning_effort"))
    if thinking is not None:
        chat["thinking"] = thinking
    return chat


def _tools(params: dict[str, Any]) -> dict[str, Any]:
    tools = params.get("tools")
    if not tools:
        return {}
    choice = params.get("tool_choice", "auto")
    out: dict[str, Any] = {}
    if isinstance(choice, dict):
        # One named function: offer only it and require a call, so the choice is exact.
        name = choice["function"]["name"]
        tools = [t for t in tools if t["function"]["name"] == name]
        out["toolsChoice"] = "REQUIRED"
    elif choice == "required":
        out["toolsChoice"] = "REQUIRED"
    elif choice == "none":
        out["toolsChoice"] = "NONE"
    out["tools"] = [_tool(t["function"]) for t in tools]
    if any(t["function"].get("strict") for t in tools):
        out["isStrictToolsEnabled"] = True
    return out


def _tool(function: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": function["name"]}
    if function.get("description"):
        spec["description"] = function["description"]
    spec["parameters"] = function.get("parameters") or {"type": "object", "properties": {}}
    return {"type": "FUNCTION", "function": spec}


def _response_format(fmt: Any) -> dict[str, Any] | None:
    """json_object -> JSON_OBJECT; json_schema -> JSON_OBJECT with its schema (CohereResponseJsonFormat)."""
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_object":
        return {"type": "JSON_OBJECT"}
    if kind == "json_schema":
        schema = fmt["json_schema"].get("schema")
        return {"type": "JSON_OBJECT", "schema": schema} if schema else {"type": "JSON_OBJECT"}
    return None


def _thinking(model: str, effort: Any) -> dict[str, Any] | None:
    """reasoning_effort as CohereThinkingV2: `none` turns thinking off, the others on with a budget."""
    if not isinstance(effort, str):
        return None
    if effort == "none":
        return {"type": "DISABLED"} if thinks(model) else None
    thinking: dict[str, Any] = {"type": "ENABLED"}
    budget = _BUDGETS.get(effort)
    if budget is not None:
        thinking["tokenBudget"] = budget
    return thinking


def _message(message: dict[str, Any], keep_thinking: bool) -> dict[str, Any]:
    role = _ROLES[message["role"]]
    content = message.get("content")
    out: dict[str, Any] = {"role": role}
    if role == "TOOL":
        out["toolCallId"] = message["tool_call_id"]
        out["content"] = [_text(content or "")]
        return out
    if role != "ASSISTANT":
        out["content"] = _parts(content)
        return out
    calls = message.get("tool_calls") or []
    parts: list[dict[str, Any]] = []
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        if calls:
            out["toolPlan"] = reasoning  # a tool-calling turn's reasoning is its tool plan
        elif keep_thinking:  # earlier thinking goes back only to a model that thinks (left out else)
            parts.append({"type": "THINKING", "thinking": reasoning})  # CohereThinkingContentV2
    if isinstance(content, str) and (content or not calls):
        parts.append(_text(content))  # the text beside tool calls is kept as text
    if calls:
        out["toolCalls"] = [_call(c) for c in calls]
    out["content"] = parts
    return out


def _call(call: dict[str, Any]) -> dict[str, Any]:
    function = call["function"]
    return {
        "id": call["id"],
        "type": "FUNCTION",
        "function": {"name": function["name"], "arguments": function["arguments"]},
    }


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [_text(content)]
    parts = []
    for part in content or []:
        if part["type"] == "text":
            parts.append(_text(part["text"]))
            continue
        image = part["image_url"]
        url = image.get("url") if isinstance(image, dict) else image
        image_url: dict[str, Any] = {"url": url}
        detail = image.get("detail") if isinstance(image, dict) else None
        if isinstance(detail, str) and detail in _DETAIL:
            image_url["detail"] = _DETAIL[detail]
        parts.append({"type": "IMAGE_URL", "imageUrl": image_url})  # CohereImageContentV2
    return parts


def _text(text: str) -> dict[str, Any]:
    return {"type": "TEXT", "text": text}
