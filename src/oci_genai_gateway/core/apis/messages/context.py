"""Context editing (`context_management.edits`), done statelessly on the chat messages the model will see.

Anthropic's definition: https://docs.anthropic.com/en/docs/build-with-claude/context-editing (defaults:
trigger 100,000 input tokens, keep 3 tool uses, no minimum to clear, nothing excluded, inputs kept;
clear_thinking keeps 1 turn). The shapes are the SDK's `BetaContextManagementConfigParam` and its edits;
the report is its `BetaContextManagementResponse` (`applied_edits`). An edit this gateway cannot do is
never a 400: it is left out of `applied_edits` and named in `not_applied_edits` (the gateway's own field).
Tokens are tokens.py's estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oci_genai_gateway.core.apis.messages.tokens import chars_tokens, request_tokens
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.input.bounds import echo

CLEAR_TOOL_USES = "clear_tool_uses_20250919"
CLEAR_THINKING = "clear_thinking_20251015"
# What the model reads instead of a cleared result (Anthropic replaces it with placeholder text too).
PLACEHOLDER = "[This tool result was cleared to save context.]"
_NOT_OFFERED = {
    "compact_20260112": "compaction writes a summary with the model and returns a compaction block; "
    "this gateway does not offer it",
}
Messages = list[dict[str, Any]]


@dataclass(frozen=True)
class Edited:
    """The messages after the edits, what each edit did, and the estimate before any of them."""

    messages: Messages
    applied: list[dict[str, Any]]
    not_applied: list[dict[str, str]]
    original_tokens: int

    def report(self) -> dict[str, Any]:
        """The Message's `context_management` field."""
        out: dict[str, Any] = {"applied_edits": self.applied}
        if self.not_applied:
            out["not_applied_edits"] = self.not_applied
        return out


def edit(config: Any, messages: Messages, params: dict[str, Any], thinking: list[int]) -> Edited | None:
    """Apply `context_management`'s edits in order; None when the request sent none."""
    if config is None:
        return None
    edits = config.get("edits") if isinstance(config, dict) else None
    if not isinstance(config, dict) or not isinstance(edits, list | None):
        raise InvalidRequest(
            "Invalid 'context_management': expected {'edits': [...]}.", param="context_management"
        )
    original = request_tokens(messages, params)
    applied: list[dict[str, Any]] = []
    not_applied: list[dict[str, str]] = []
    for i, item in enumerate(edits or []):
        where = f"context_management.edits[{i}]"
        kind = item.get("type") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(kind, str):
            raise InvalidRequest(f"Invalid '{where}': expected an object with a 'type'.", param=where)
        report = None
        if kind == CLEAR_TOOL_USES:
            messages, report = _clear_tool_uses(where, item, messages, params)
        elif kind == CLEAR_THINKING:
            messages, report = _clear_thinking(where, item, messages, thinking)
        else:
            why = _NOT_OFFERED.get(kind, "an edit type this gateway does not know")
            not_applied.append({"type": echo(kind), "reason": why})
        if report is not None:
            applied.append(report)
    return Edited(messages, applied, not_applied, original)


def _clear_tool_uses(
    where: str, item: dict[str, Any], messages: Messages, params: dict[str, Any]
) -> tuple[Messages, dict[str, Any] | None]:
    """Once the trigger is exceeded, replace every tool result but the last `keep` with a placeholder."""
    trigger = _counter(where, item, "trigger", ("input_tokens", "tool_uses"), ("input_tokens", 100_000))
    keep = _counter(where, item, "keep", ("tool_uses",), ("tool_uses", 3))[1]
    at_least = _counter(where, item, "clear_at_least", ("input_tokens",), ("input_tokens", 0))[1]
    excluded = _names(where, item, "exclude_tools") or frozenset()
    inputs = item.get("clear_tool_inputs")  # true: every cleared call's input; a list: those tools'
    if not isinstance(inputs, bool):
        inputs = _names(where, item, "clear_tool_inputs") or False
    calls = [call for m in messages for call in m.get("tool_calls") or ()]
    before = request_tokens(messages, params)
    if (before if trigger[0] == "input_tokens" else len(calls)) <= trigger[1]:
        return messages, None
    names = {c["id"]: c["function"]["name"] for c in calls[: max(len(calls) - keep, 0)]}
    cleared = {call_id: name for call_id, name in names.items() if name not in excluded}
    if not cleared:
        return messages, None
    out = [_cleared(m, cleared, inputs) for m in messages]
    saved = before - request_tokens(out, params)
    if saved < at_least:
        return messages, None  # "Context will only be modified if at least this many tokens can be removed."
    return out, {
        "type": CLEAR_TOOL_USES,
        "cleared_tool_uses": len(cleared),
        "cleared_input_tokens": max(saved, 0),  # a placeholder can outweigh a very short result
    }


def _cleared(
    message: dict[str, Any], cleared: dict[str, str], inputs: bool | frozenset[str]
) -> dict[str, Any]:
    """`message` with the cleared calls' results (and, as `clear_tool_inputs` asks, inputs) replaced."""
    if message["role"] == "tool" and message.get("tool_call_id") in cleared:
        return {**message, "content": PLACEHOLDER}
    calls = message.get("tool_calls")
    if not calls or not inputs:
        return message
    out = []
    for call in calls:
        name = cleared.get(call["id"])
        if name is not None and (inputs is True or name in inputs):
            call = {**call, "function": {**call["function"], "arguments": "{}"}}
        out.append(call)
    return {**message, "tool_calls": out}


def _clear_thinking(
    where: str, item: dict[str, Any], messages: Messages, thinking: list[int]
) -> tuple[Messages, dict[str, Any] | None]:
    """Clear the thinking of all but the last `keep` assistant turns, and report it."""
    # The model reads a turn's thinking as its reasoning_content (core/apis/messages/content.py);
    # the report counts what the edit clears: the older turns that carried thinking, and their tokens.
    keep = item.get("keep")
    if keep == "all" or (isinstance(keep, dict) and keep.get("type") == "all"):
        return messages, None
    turns = _counter(where, item, "keep", ("thinking_turns",), ("thinking_turns", 1))[1]
    cleared = max(len(thinking) - turns, 0)
    older = [chars for chars in thinking[:cleared] if chars]
    if not older:
        return messages, None
    out, seen = [], 0
    for message in messages:
        if message["role"] == "assistant":
            if seen < cleared:
                message = {k: v for k, v in message.items() if k != "reasoning_content"}
            seen += 1
        out.append(message)
    tokens = sum(chars_tokens(chars) for chars in older)
    report = {"type": CLEAR_THINKING, "cleared_thinking_turns": len(older), "cleared_input_tokens": tokens}
    return out, report


def _counter(
    where: str, item: dict[str, Any], name: str, kinds: tuple[str, ...], default: tuple[str, int]
) -> tuple[str, int]:
    """A `{"type": kind, "value": N}` field (BetaInputTokensTriggerParam, BetaToolUsesKeepParam, ...)."""
    value = item.get(name)
    if value is None:
        return default
    kind, count = (value.get("type"), value.get("value")) if isinstance(value, dict) else (None, None)
    if kind not in kinds or not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise InvalidRequest(
            f"Invalid '{where}.{name}': expected {{'type': {' or '.join(kinds)}, 'value': N >= 0}}.",
            param=f"{where}.{name}",
        )
    return kind, count


def _names(where: str, item: dict[str, Any], name: str) -> frozenset[str] | None:
    """A list of tool names, or None when absent."""
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidRequest(
            f"Invalid '{where}.{name}': expected an array of tool names.", param=f"{where}.{name}"
        )
    return frozenset(value)
