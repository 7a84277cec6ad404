"""Messages' client tools and tool choice as chat's: the tools the model is offered at this point.

The shapes are the SDK's `BetaToolParam` and `BetaToolChoiceParam` (https://docs.anthropic.com/en/api/messages).
A tool with `defer_loading: true` is offered once something loaded it, as Anthropic's tool search does
(https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/tool-search-tool): a `tool_reference` in a
tool result, a call to it, a `tool_addition` or a `tool_choice` naming it.
"""

from __future__ import annotations

import json
from typing import Any

from oci_genai_gateway.core.apis.messages.content import Conversation
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.bounds import echo


def tools(body: dict[str, Any], conv: Conversation, forced: str | None) -> list[dict[str, Any]]:
    """The chat tools offered now: `tools` less the deferred ones not loaded, after the tool changes."""
    raw = body.get("tools")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise InvalidRequest("Invalid type for 'tools': expected an array.", param="tools")
    defined: dict[str, dict[str, Any]] = {}
    offered: list[str] = []
    loaded = conv.loaded | ({forced} if forced else set())
    for i, tool in enumerate(raw):
        chat_tool, deferred = _tool(f"tools[{i}]", tool)
        name = chat_tool["function"]["name"]
        defined[name] = chat_tool
        if not deferred or name in loaded:
            offered.append(name)
    for action, name, definition, at in conv.tool_changes:
        if definition is not None:
            defined[name] = _tool(at, definition)[0]
        if name not in defined:
            raise InvalidRequest(f"'{at}' names '{echo(name)}', which is not in 'tools'.", param=at)
        if action == "add" and name not in offered:
            offered.append(name)
        elif action == "remove" and name in offered:
            offered.remove(name)
    return [defined[name] for name in offered]


def _tool(where: str, tool: Any) -> tuple[dict[str, Any], bool]:
    """A client tool as a chat function, and whether it is deferred.

    `cache_control`, `strict`, `eager_input_streaming` and `allowed_callers` change nothing the
    model is asked: accepted, no effect.
    """
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
    deferred = tool.get("defer_loading")
    if deferred is not None and not isinstance(deferred, bool):
        raise InvalidRequest(
            f"Invalid type for '{where}.defer_loading': expected a boolean.", param=f"{where}.defer_loading"
        )
    description = tool.get("description")
    description = description if isinstance(description, str) else ""
    examples = tool.get("input_examples")
    if examples is not None:
        if not isinstance(examples, list) or not all(isinstance(e, dict) for e in examples):
            raise InvalidRequest(
                f"Invalid '{where}.input_examples': expected an array of objects.",
                param=f"{where}.input_examples",
            )
        # Anthropic shows the examples to the model with the tool; chat functions have no field for them.
        description += "".join(f"\nExample input: {json.dumps(e)}" for e in examples)
    function: dict[str, Any] = {"name": name, "parameters": schema}
    if description:
        function["description"] = description
    return {"type": "function", "function": function}, bool(deferred)


def tool_choice(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """`tool_choice` as chat's fields, and the tool it forces, if any."""
    choice = body.get("tool_choice")
    if choice is None:
        return {}, None
    kind = choice.get("type") if isinstance(choice, dict) else None
    out: dict[str, Any] = {}
    forced = None
    if kind in ("auto", "none"):
        out["tool_choice"] = kind
    elif kind == "any":
        out["tool_choice"] = "required"
    elif kind == "tool" and isinstance(choice, dict) and isinstance(choice.get("name"), str):
        forced = choice["name"]
        out["tool_choice"] = {"type": "function", "function": {"name": forced}}
    else:
        raise InvalidRequest(
            "Invalid 'tool_choice': expected type auto, any, tool (with a name) or none.", param="tool_choice"
        )
    if isinstance(choice, dict) and choice.get("disable_parallel_tool_use") is True:
        out["parallel_tool_calls"] = False
    return out, forced
