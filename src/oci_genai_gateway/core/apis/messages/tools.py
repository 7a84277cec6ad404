"""Messages' tools and tool choice as chat's: the client tools the model is offered at this point.

The shapes are the SDK's `BetaToolUnionParam` and `BetaToolChoiceParam` (https://docs.anthropic.com/en/api/messages).
A tool with `defer_loading: true` is offered once something loaded it, as Anthropic's tool search does
(https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/tool-search-tool): a `tool_reference` in a
tool result, a call to it, a `tool_addition` or a `tool_choice` naming it. Anthropic's server tools
follow the gateway's one hosted-tool policy (docs/decisions/0006-codex-over-the-responses-api.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.apis.messages.content import Conversation
from oci_genai_gateway.core.chat.request import OmittedTool
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.bounds import echo

# Tools Anthropic runs on its side (web search and fetch, code execution, tool search, MCP toolsets,
# the advisor): OCI cannot run them, so they are left out and named (or refused by setting). The
# Anthropic-defined tools a client runs itself (bash, text editor, computer, memory) are not hosted.
_HOSTED = ("web_search_", "web_fetch_", "code_execution_", "tool_search_tool_", "mcp_toolset", "advisor_")


@dataclass(frozen=True)
class Offered:
    """The chat tools offered now, chat's tool-choice fields, and the hosted tools left out."""

    tools: list[dict[str, Any]]
    choice: dict[str, Any]
    omitted: tuple[OmittedTool, ...]


def offered(body: dict[str, Any], conv: Conversation) -> Offered:
    """`tools` less hosted tools and deferred ones not loaded, after the conversation's tool changes."""
    choice, forced = tool_choice(body)
    raw = body.get("tools")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise InvalidRequest("Invalid type for 'tools': expected an array.", param="tools")
    defined: dict[str, dict[str, Any]] = {}
    deferred: list[str] = []
    omitted: list[OmittedTool] = []
    hosted: dict[str, str] = {}  # a hosted tool's name -> its type
    for i, tool in enumerate(raw):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if isinstance(kind, str) and kind.startswith(_HOSTED):
            omitted.append(OmittedTool(kind, f"tools[{i}]"))
            hosted[str(tool.get("name"))] = kind
            continue
        chat_tool, defer = _tool(f"tools[{i}]", tool)
        defined[chat_tool["function"]["name"]] = chat_tool
        if defer:
            deferred.append(chat_tool["function"]["name"])
    if forced is not None and forced in hosted:
        omitted.append(OmittedTool(hosted[forced], "tool_choice"))
        choice.pop("tool_choice")  # the model chooses among what it is offered: auto
        forced = None
    # With Anthropic's own tool search left out nothing would load a deferred tool: offer them all.
    searching = any(tool.name.startswith("tool_search_tool_") for tool in omitted)
    loaded = (conv.loaded | {forced}) if forced else conv.loaded
    names = [n for n in defined if n not in deferred or n in loaded or searching]
    return Offered(_changed(names, defined, conv), choice, tuple(omitted))


def _changed(
    offered: list[str], defined: dict[str, dict[str, Any]], conv: Conversation
) -> list[dict[str, Any]]:
    """The tools offered once the system turns' tool_addition and tool_removal blocks are applied."""
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
    """A client tool as a chat function, and whether it is deferred."""
    # `cache_control`, `strict`, `eager_input_streaming` and `allowed_callers` change nothing the
    # model is asked: accepted, no effect.
    if not isinstance(tool, dict) or tool.get("type") not in (None, "custom"):
        kind = tool.get("type") if isinstance(tool, dict) else None
        raise InvalidRequest(
            f"Unsupported tool type {kind!r} in '{where}': client tools with an 'input_schema' are offered "
            "and Anthropic's server tools left out; Anthropic-defined client tools (bash, text editor, "
            "computer, memory) have no schema here.",
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
