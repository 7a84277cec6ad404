"""A Responses request's `tools` and `tool_choice` as chat functions, and the names that map calls back.

Function tools pass as they are; `namespace` tools are expanded into their functions; `custom`
(freeform) tools become a function with one string argument; hosted tools OCI cannot run are left
out and named (docs/decisions/0006-codex-over-the-responses-api.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.chat.request import OmittedTool
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.bounds import MAX_NAME_CHARS, echo

# OpenAI's function-name rule, which OCI's vendors follow too: what a flattened name must match.
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
# Codex's own flat spelling of a namespaced tool (codex-rs/protocol/src/tool_name.rs,
# ToolName::canonical_flat_name): `<namespace>__<name>`, stray underscores at the joint trimmed.
_JOINT = "__"
# The argument a custom tool's free text travels in, as a function the model can call.
CUSTOM_ARGUMENT = "input"
_CLIENT_TOOLS = frozenset({"function", "custom", "namespace"})


@dataclass(frozen=True)
class ToolRef:
    """What a chat function stands for: the client's tool name, its namespace, and whether it is custom."""

    name: str
    namespace: str | None = None
    custom: bool = False


@dataclass
class ToolTable:
    """The functions the model sees, by the name it calls them, and the tools the request left out."""

    by_flat: dict[str, ToolRef] = field(default_factory=dict)
    functions: list[dict[str, Any]] = field(default_factory=list)  # chat tools, in request order
    echoed: list[dict[str, Any]] = field(default_factory=list)  # the tools a Response restates
    omitted: list[OmittedTool] = field(default_factory=list)

    def ref(self, flat: str) -> ToolRef:
        """What the model's call of `flat` stands for (a name it made up stands for itself)."""
        # Small models drop the prefix: a bare name of exactly one namespaced tool is that tool.
        known = self.by_flat.get(flat)
        if known is not None:
            return known
        bare = [ref for ref in self.by_flat.values() if ref.name == flat and ref.namespace is not None]
        return bare[0] if len(bare) == 1 else ToolRef(flat)

    def flat(self, name: str, namespace: str | None) -> str:
        """The chat function name of a client's tool (a call sent back in `input`)."""
        if namespace is None:
            return name
        for flat, ref in self.by_flat.items():
            if (ref.name, ref.namespace) == (name, namespace):
                return flat
        return flat_name(namespace, name)  # a tool this turn no longer offers: the same spelling

    def add(self, flat: str, ref: ToolRef, function: dict[str, Any]) -> None:
        """Offer `function` to the model as `flat`, standing for `ref`."""
        self.by_flat[flat] = ref
        self.functions.append({"type": "function", "function": {**function, "name": flat}})


def flat_name(namespace: str, name: str, taken: frozenset[str] | set[str] = frozenset()) -> str:
    """The function name the model sees for `name` in `namespace`, the same on every turn."""
    # Codex's spelling when it is a valid, free function name, else a sanitized prefix and a digest.
    joined = f"{namespace.rstrip('_')}{_JOINT}{name.lstrip('_')}"
    if _FUNCTION_NAME.match(joined) and joined not in taken:
        return joined
    digest = hashlib.sha256(f"{namespace}\x00{name}".encode()).hexdigest()[:10]
    return f"{_UNSAFE.sub('_', joined)[: MAX_NAME_CHARS - len(digest) - 1]}_{digest}"


def tool_table(raw: Any) -> ToolTable:
    """Validate `tools` and build the chat functions and the name table; hosted tools are left out."""
    if raw is None:
        return ToolTable()
    if not isinstance(raw, list):
        raise InvalidRequest("Invalid type for 'tools': expected an array.", param="tools")
    table = ToolTable()
    plain = [t.get("name") for t in raw if isinstance(t, dict) and t.get("type") in ("function", "custom")]
    taken = {name for name in plain if isinstance(name, str)}
    for i, tool in enumerate(raw):
        where = f"tools[{i}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if not isinstance(kind, str) or not kind:
            raise InvalidRequest(f"Missing or invalid '{where}.type'.", param=f"{where}.type")
        if kind not in _CLIENT_TOOLS:
            table.omitted.append(OmittedTool(echo(kind), f"{where}.type"))
            continue
        if kind == "namespace":
            for j, (inner, namespace) in enumerate(_members(where, tool)):
                at = f"{where}.tools[{j}]"
                flat = flat_name(namespace, inner["name"], taken | set(table.by_flat))
                table.add(
                    flat, ToolRef(inner["name"], namespace, inner["type"] == "custom"), _function(at, inner)
                )
        else:
            _named(where, tool)
            table.add(tool["name"], ToolRef(tool["name"], None, kind == "custom"), _function(where, tool))
        table.echoed.append(_echo(tool))  # once it is valid
    return table


def _members(where: str, tool: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """The function and custom tools of a namespace (OpenAI's NamespaceToolParam)."""
    namespace = tool.get("name")
    if not isinstance(namespace, str) or not namespace:
        raise InvalidRequest(f"Missing or invalid '{where}.name'.", param=f"{where}.name")
    members = tool.get("tools")
    if not isinstance(members, list) or not members:
        raise InvalidRequest(f"Invalid '{where}.tools': expected a non-empty array.", param=f"{where}.tools")
    described = tool.get("description")
    for j, inner in enumerate(members):
        at = f"{where}.tools[{j}]"
        if not isinstance(inner, dict) or inner.get("type") not in ("function", "custom"):
            raise InvalidRequest(
                f"Invalid '{at}': a namespace holds function and custom tools.", param=f"{at}.type"
            )
        _named(at, inner)
        if isinstance(described, str) and described:
            # The model sees no namespace, so each function carries what the namespace is for.
            own = inner.get("description")
            text = f"{described}\n\n{own}" if isinstance(own, str) and own else described
            inner = {**inner, "description": text}
        yield inner, namespace


def _named(where: str, tool: dict[str, Any]) -> None:
    """Refuse a tool without a name of 1 to MAX_NAME_CHARS characters."""
    name = tool.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
        raise InvalidRequest(
            f"Missing or invalid '{where}.name': a string of 1 to {MAX_NAME_CHARS} characters.",
            param=f"{where}.name",
        )


def _function(where: str, tool: dict[str, Any]) -> dict[str, Any]:
    """The chat function of a function or custom tool (its name is set by the table)."""
    description = tool.get("description")
    if description is not None and not isinstance(description, str):
        raise InvalidRequest(
            f"Invalid '{where}.description': expected a string.", param=f"{where}.description"
        )
    if tool["type"] == "custom":
        return _custom_function(where, tool)
    parameters = tool.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise InvalidRequest(f"Invalid '{where}.parameters': expected a JSON Schema object.", param=where)
    function: dict[str, Any] = {"parameters": parameters or {"type": "object", "properties": {}}}
    if description:
        function["description"] = description
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return function


def _custom_function(where: str, tool: dict[str, Any]) -> dict[str, Any]:
    """A freeform tool as a function of one string: OCI's models call functions only."""
    # A grammar (`format.type: grammar`) cannot be enforced by OCI, so the model reads it in the
    # description; the client's tool still checks what it receives
    # (https://platform.openai.com/docs/guides/function-calling#custom-tools).
    fmt = tool.get("format")
    lines = [tool["description"]] if tool.get("description") else []
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind == "grammar" and isinstance(fmt.get("definition"), str):
            syntax = fmt.get("syntax") if isinstance(fmt.get("syntax"), str) else "lark"
            lines.append(f"The input must follow this {syntax} grammar:\n{fmt['definition']}")
        elif kind != "text":
            raise InvalidRequest(
                f"Invalid '{where}.format': expected {{'type': 'text'}} or a grammar with a 'definition'.",
                param=f"{where}.format",
            )
    text = {"type": "string", "description": "The tool's input, as free text."}
    parameters = {
        "type": "object",
        "properties": {CUSTOM_ARGUMENT: text},
        "required": [CUSTOM_ARGUMENT],
        "additionalProperties": False,
    }
    function: dict[str, Any] = {"parameters": parameters}
    if lines:
        function["description"] = "\n\n".join(lines)
    return function


def _echo(tool: dict[str, Any]) -> dict[str, Any]:
    """The tool as a Response restates it (OpenAI's FunctionTool, CustomToolParam, NamespaceToolParam)."""
    if tool["type"] == "function":
        strict = tool.get("strict")
        return {
            "type": "function",
            "name": tool.get("name"),
            "description": tool.get("description"),
            "parameters": tool.get("parameters"),
            "strict": strict if isinstance(strict, bool) else None,
        }
    if tool["type"] == "namespace":
        # Inside a namespace OpenAI's schema types the members' fields without null; its description
        # is required.
        members = [{k: v for k, v in _echo(inner).items() if v is not None} for inner in tool["tools"]]
        described = tool.get("description")
        return {**tool, "description": described if isinstance(described, str) else "", "tools": members}
    return dict(tool)


def tool_choice(choice: Any, table: ToolTable) -> Any:
    """The chat tool choice: a named function or custom tool by its flat name; a hosted one left out."""
    if choice in ("none", "auto", "required"):
        return choice
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind in ("function", "custom") and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": _chosen(choice["name"], table)}}
    if kind == "allowed_tools":
        return _allowed(choice, table)
    if isinstance(kind, str) and kind not in _CLIENT_TOOLS:
        # A hosted tool (ToolChoiceTypes, ToolChoiceMCP, ...): left out like the tool itself.
        table.omitted.append(OmittedTool(echo(kind), "tool_choice"))
        return "auto"
    raise InvalidRequest(
        "Invalid 'tool_choice': expected none, auto, required, {'type': 'function', 'name': ...}, "
        "{'type': 'custom', 'name': ...} or {'type': 'allowed_tools', ...}.",
        param="tool_choice",
    )


def _chosen(name: str, table: ToolTable) -> str:
    """The flat name of a chosen tool: its own, or the one namespaced function of that name."""
    if name in table.by_flat:
        return name
    matches = [flat for flat, ref in table.by_flat.items() if ref.name == name]
    return matches[0] if len(matches) == 1 else name


def _allowed(choice: Mapping[str, Any], table: ToolTable) -> str:
    """OpenAI's `allowed_tools`: the model is offered only the tools listed (ToolChoiceAllowed)."""
    mode, listed = choice.get("mode"), choice.get("tools")
    if mode not in ("auto", "required") or not isinstance(listed, list):
        raise InvalidRequest(
            "Invalid 'tool_choice': allowed_tools needs 'mode' (auto or required) and a 'tools' array.",
            param="tool_choice",
        )
    names = {
        _chosen(t["name"], table) for t in listed if isinstance(t, dict) and isinstance(t.get("name"), str)
    }
    table.functions = [f for f in table.functions if f["function"]["name"] in names]
    return str(mode)
