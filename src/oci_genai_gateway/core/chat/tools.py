"""Chat tools, tool choice, tool calls and response formats: typed, bounded, each failure naming its field."""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.bounds import (
    MAX_ID_CHARS,
    MAX_NAME_CHARS,
    MAX_TOOL_CALLS,
    MAX_TOOLS,
    SchemaBudget,
    echo,
)


def tools(value: Any, budget: SchemaBudget) -> list[str]:
    """Check `tools` (function tools only); the names of the functions."""
    if not isinstance(value, list) or not value:
        raise InvalidRequest("Invalid 'tools': expected a non-empty array.", param="tools")
    if len(value) > MAX_TOOLS:
        raise InvalidRequest(f"Invalid 'tools': at most {MAX_TOOLS} tools per request.", param="tools")
    names = []
    for i, tool in enumerate(value):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise InvalidRequest(
                f"Invalid 'tools[{i}]': only function tools are supported.", param=f"tools[{i}]"
            )
        function = tool.get("function")
        where = f"tools[{i}].function"
        if not isinstance(function, dict) or not _is_name(function.get("name")):
            raise InvalidRequest(
                f"Missing or invalid '{where}.name': a string of 1 to {MAX_NAME_CHARS} characters.",
                param=f"{where}.name",
            )
        names.append(function["name"])
        _optional(function, "description", str, where)
        _optional(function, "strict", bool, where)
        parameters = function.get("parameters")
        if parameters is not None:
            if not isinstance(parameters, dict):
                raise InvalidRequest(
                    f"Invalid '{where}.parameters': expected a JSON Schema object.",
                    param=f"{where}.parameters",
                )
            budget.spend(parameters, f"{where}.parameters")
    return names


def tool_choice(choice: Any, names: list[str]) -> None:
    """Check `tool_choice` against the names of the tools offered."""
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise InvalidRequest(
                "Invalid 'tool_choice': expected none, auto, required or a function.", param="tool_choice"
            )
        if choice == "required" and not names:
            raise InvalidRequest(
                "'tool_choice' is 'required' but no 'tools' were given.", param="tool_choice"
            )
        return
    function = choice.get("function") if isinstance(choice, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(choice, dict) or choice.get("type") != "function" or not isinstance(name, str):
        raise InvalidRequest(
            "Invalid 'tool_choice': expected {'type': 'function', 'function': {'name': ...}}.",
            param="tool_choice",
        )
    if name not in names:
        raise InvalidRequest(
            f"'tool_choice' names '{echo(name)}', which is not in 'tools'.", param="tool_choice"
        )


def response_format(fmt: Any, budget: SchemaBudget) -> None:
    """Check `response_format`: text, json_object, or json_schema with a bounded schema."""
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if not isinstance(kind, str) or kind not in ("text", "json_object", "json_schema"):
        raise InvalidRequest(
            "Invalid 'response_format.type': expected text, json_object or json_schema.",
            param="response_format",
        )
    if kind != "json_schema":
        return
    spec = fmt.get("json_schema")
    where = "response_format.json_schema"
    if not isinstance(spec, dict) or not _is_name(spec.get("name")):
        raise InvalidRequest(
            f"Invalid '{where}': expected an object with a 'name' (1 to {MAX_NAME_CHARS} characters) "
            "and a 'schema'.",
            param=where,
        )
    _optional(spec, "description", str, where)
    _optional(spec, "strict", bool, where)
    schema = spec.get("schema")
    if schema is not None:
        if not isinstance(schema, dict):
            raise InvalidRequest(f"Invalid '{where}.schema': expected a JSON Schema object.", param=where)
        budget.spend(schema, f"{where}.schema")


def tool_calls(value: Any, where: str) -> None:
    """Check an assistant message's `tool_calls`: function calls with an id, a name and arguments."""
    if not isinstance(value, list) or len(value) > MAX_TOOL_CALLS:
        raise InvalidRequest(
            f"Invalid '{where}': expected an array of at most {MAX_TOOL_CALLS} tool calls.", param=where
        )
    for j, call in enumerate(value):
        at = f"{where}[{j}]"
        if not isinstance(call, dict) or call.get("type", "function") != "function":
            raise InvalidRequest(f"Invalid '{at}': expected a function tool call.", param=at)
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id or len(call_id) > MAX_ID_CHARS:
            raise InvalidRequest(
                f"Invalid '{at}.id': a string of 1 to {MAX_ID_CHARS} characters.", param=f"{at}.id"
            )
        function = call.get("function")
        if not isinstance(function, dict) or not _is_name(function.get("name")):
            raise InvalidRequest(
                f"Invalid '{at}.function.name': a string of 1 to {MAX_NAME_CHARS} characters.",
                param=f"{at}.function.name",
            )
        if not isinstance(function.get("arguments"), str):
            raise InvalidRequest(
                f"Invalid '{at}.function.arguments': expected a string (JSON-encoded arguments).",
                param=f"{at}.function.arguments",
            )


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME_CHARS


def _optional(obj: dict[str, Any], key: str, kind: type, where: str) -> None:
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        expected = "a boolean" if kind is bool else "a string"
        raise InvalidRequest(f"Invalid '{where}.{key}': expected {expected}.", param=f"{where}.{key}")
