"""Messages' generation options as chat's: `thinking` and `output_config.effort` as one reasoning effort,
`output_config.format` as structured output, and the stop sequences.

The shapes are the SDK's `ThinkingConfigParam` (`enabled`, `disabled`, `adaptive`, `between_tools`) and
`OutputConfigParam` / `BetaOutputConfigParam` (https://docs.anthropic.com/en/api/messages); how they
combine: docs/decisions/0007-claude-code-on-messages.md.
"""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.validate import optional_object

EFFORTS = ("low", "medium", "high", "xhigh", "max")  # OutputConfigParam.effort
# OCI's efforts stop at high: Anthropic's xhigh and max ask for at least that much.
_OCI_EFFORT = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
# A thinking budget (tokens) as an effort: budgets under each bound map to it, larger ones to high.
_EFFORT_BOUNDS = ((4096, "low"), (16384, "medium"))
# Tuples, not sets: a client's value may be a list, which a set cannot be asked about.
_THINKING = ("enabled", "disabled", "adaptive", "between_tools")
_DISPLAYS = ("summarized", "omitted", "updates")
SHOWN, OMITTED = "shown", "omitted"  # how an answer's thinking blocks carry the reasoning text
FORMAT_NAME = "output"  # chat's json_schema needs a name; Anthropic's format has none


def effort(body: dict[str, Any], turn_effort: str | None) -> str | None:
    """OCI's reasoning effort for the request, or None for the model's own default."""
    # `thinking: disabled` sends none. Otherwise an explicit effort wins (a current system turn's
    # `output_config.effort`, then the request's), then an `enabled` budget; `adaptive` and
    # `between_tools` leave the amount to the model, as Anthropic defines them.
    thinking = _thinking(body)
    asked = turn_effort or output_config(body).get("effort")
    if thinking == ("disabled", None):
        return None
    if asked is not None:
        return _OCI_EFFORT[asked]
    kind, budget = thinking
    if kind == "enabled" and budget is not None:
        return next((effort for bound, effort in _EFFORT_BOUNDS if budget < bound), "high")
    return None


def thinking_blocks(body: dict[str, Any]) -> str | None:
    """How the answer returns the model's reasoning as thinking blocks: SHOWN, OMITTED, or not (None)."""
    # As Anthropic's API: thinking blocks only when `thinking` is on (enabled, adaptive); with
    # `display: omitted` each block's text is empty and its signature still carries it back.
    kind = _thinking(body)[0]
    if kind is None or kind == "disabled":
        return None
    display = (optional_object(body, "thinking") or {}).get("display")
    return OMITTED if display == "omitted" else SHOWN


def _thinking(body: dict[str, Any]) -> tuple[str | None, int | None]:
    """`thinking` as (type, budget_tokens), checked; (None, None) when absent."""
    thinking = optional_object(body, "thinking")
    if thinking is None:
        return None, None
    kind, budget, display = thinking.get("type"), thinking.get("budget_tokens"), thinking.get("display")
    budget_ok = isinstance(budget, int) and not isinstance(budget, bool)
    if (
        not isinstance(kind, str)
        or kind not in _THINKING
        or (kind == "enabled" and not budget_ok)
        or (display is not None and display not in _DISPLAYS)
    ):
        raise InvalidRequest(
            "Invalid 'thinking': expected {'type': 'enabled', 'budget_tokens': N}, {'type': 'adaptive'}, "
            "{'type': 'between_tools'} or {'type': 'disabled'} ('display': summarized or omitted).",
            param="thinking",
        )
    return kind, budget if kind == "enabled" else None


def output_config(body: dict[str, Any]) -> dict[str, Any]:
    """`output_config`, checked (`task_budget` is a pacing hint for the model: accepted, no effect)."""
    config = optional_object(body, "output_config") or {}
    if config.get("effort") is not None and config["effort"] not in EFFORTS:
        raise InvalidRequest(
            f"Invalid 'output_config.effort': expected one of {', '.join(EFFORTS)}.",
            param="output_config.effort",
        )
    return config


def response_format(body: dict[str, Any]) -> dict[str, Any] | None:
    """`output_config.format` (or the older beta's top-level `output_format`) as chat's json_schema."""
    fmt, param = output_config(body).get("format"), "output_config.format"
    if fmt is None:
        fmt, param = body.get("output_format"), "output_format"
    if fmt is None:
        return None
    schema = fmt.get("schema") if isinstance(fmt, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema" or not isinstance(schema, dict):
        raise InvalidRequest(
            f"Invalid '{param}': expected {{'type': 'json_schema', 'schema': {{...}}}}.", param=param
        )
    return {"type": "json_schema", "json_schema": {"name": FORMAT_NAME, "schema": schema}}


def stops(body: dict[str, Any]) -> list[str]:
    """`stop_sequences`: up to 4 non-empty strings (OCI's limit)."""
    value = body.get("stop_sequences")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value) or len(value) > 4:
        raise InvalidRequest(
            "Invalid 'stop_sequences': expected up to 4 non-empty strings (OCI's limit).",
            param="stop_sequences",
        )
    return value
