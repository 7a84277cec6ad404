"""Small typed checks for OpenAI request bodies; each failure names the parameter."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.bounds import (
    MAX_JSON_DEPTH,
    MAX_LOGIT_BIAS,
    MAX_METADATA_KEY_CHARS,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE_CHARS,
    echo,
    json_depth_exceeds,
    may_hold_surrogates,
)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object: UTF-8, at most MAX_JSON_DEPTH deep, no lone surrogate."""
    if not raw.strip():
        raise InvalidRequest("The request body is empty; send a JSON object.")
    try:
        text = raw.decode("utf-8")  # strict: refuses invalid bytes, encoded surrogates included
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid UTF-8 (byte {exc.start}).") from None
    if json_depth_exceeds(raw):
        raise InvalidRequest(f"The request body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels.")
    try:
        body = json.loads(text.removeprefix("\ufeff"), parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from None
    except (ValueError, RecursionError):
        # A number too long to convert, or NaN/Infinity (not JSON); the depth scan makes recursion moot.
        raise InvalidRequest("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    if may_hold_surrogates(text):
        _refuse_lone_surrogates(body)
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _refuse_lone_surrogates(body: dict[str, Any]) -> None:
    """A `\\ud800` escape alone decodes to a string no UTF-8 encoder takes: refuse it here."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(
            "The request body is not valid JSON text: it escapes a lone UTF-16 surrogate (\\ud800-\\udfff)."
        ) from None


def reject_unknown(body: Mapping[str, Any], known: frozenset[str]) -> None:
    """OpenAI answers 400 to unrecognized arguments; so do we, rather than ignore them."""
    for key in body:
        if key not in known:
            raise InvalidRequest(f"Unrecognized request argument supplied: {echo(key)}", param=echo(key))


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


def optional_bool(body: Mapping[str, Any], name: str, param: str | None = None) -> bool | None:
    """A boolean, or absent/null; `param` names it when `body` is nested."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        param = param or name
        raise InvalidRequest(f"Invalid type for '{param}': expected a boolean.", param=param)
    return value


def optional_str(body: Mapping[str, Any], name: str, max_chars: int, param: str | None = None) -> str | None:
    """A string of at most `max_chars` characters, or absent/null."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_chars:
        param = param or name
        raise InvalidRequest(
            f"Invalid '{param}': expected a string of at most {max_chars} characters.", param=param
        )
    return value


def metadata(body: Mapping[str, Any]) -> None:
    """OpenAI's `metadata`: at most 16 string pairs, keys up to 64 and values up to 512 characters."""
    value = optional_object(body, "metadata")
    if value is not None and (
        len(value) > MAX_METADATA_PAIRS
        or not all(
            len(k) <= MAX_METADATA_KEY_CHARS and isinstance(v, str) and len(v) <= MAX_METADATA_VALUE_CHARS
            for k, v in value.items()
        )
    ):
        raise InvalidRequest(
            f"Invalid 'metadata': at most {MAX_METADATA_PAIRS} pairs of strings, keys of at most "
            f"{MAX_METADATA_KEY_CHARS} and values of at most {MAX_METADATA_VALUE_CHARS} characters.",
            param="metadata",
        )


def token_biases(body: Mapping[str, Any]) -> None:
    """`logit_bias`: token ids (as strings) to numbers in [-100, 100]."""
    value = optional_object(body, "logit_bias")
    if value is not None and (
        len(value) > MAX_LOGIT_BIAS
        or not all(
            k.isdigit() and isinstance(v, int | float) and not isinstance(v, bool) and -100 <= v <= 100
            for k, v in value.items()
        )
    ):
        raise InvalidRequest(
            f"Invalid 'logit_bias': at most {MAX_LOGIT_BIAS} token ids mapped to numbers in [-100, 100].",
            param="logit_bias",
        )


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
