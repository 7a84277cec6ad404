"""Small typed checks for OpenAI request bodies; each failure names the parameter."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a request body that must be a JSON object."""
    if not raw.strip():
        raise InvalidRequest("The request body is empty; send a JSON object.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


def reject_unknown(body: Mapping[str, Any], known: frozenset[str]) -> None:
    """OpenAI answers 400 to unrecognized arguments; so do we, rather than ignore them."""
    for key in body:
        if key not in known:
            raise InvalidRequest(f"Unrecognized request argument supplied: {key}", param=key)


def required_str(body: Mapping[str, Any], name: str) -> str:
    """A required non-empty string."""
    value = body.get(name)
    if value is None:
        raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"Invalid type for '{name}': expected a non-empty string.", param=name)
    return value


def optional_number(body: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    """A number in [low, high], or absent/null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"Invalid type for '{name}': expected a number.", param=name)
    if not low <= value <= high:
        raise InvalidRequest(f"Invalid '{name}': {value} is outside [{low:g}, {high:g}].", param=name)
    return value


def optional_int(body: Mapping[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    """An integer >= low (and <= high when given), or absent/null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"Invalid type for '{name}': expected an integer.", param=name)
    if value < low or (high is not None and value > high):
        bound = f"at least {low}" if high is None else f"between {low} and {high}"
        raise InvalidRequest(f"Invalid '{name}': must be {bound}.", param=name)
    return value


def optional_bool(body: Mapping[str, Any], name: str) -> bool | None:
    """A boolean, or absent/null."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidRequest(f"Invalid type for '{name}': expected a boolean.", param=name)
    return value


def optional_object(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """A JSON object, or absent/null."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest(f"Invalid type for '{name}': expected an object.", param=name)
    return value


def optional_choice(body: Mapping[str, Any], name: str, choices: frozenset[str]) -> str | None:
    """One of `choices` (upper case), matched case-insensitively, or absent/null."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in choices:
        raise InvalidRequest(f"Invalid '{name}': expected one of {sorted(choices)}.", param=name)
    return value.upper()
