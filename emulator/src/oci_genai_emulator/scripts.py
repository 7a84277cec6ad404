"""Scripted answers: a test decides what the "model" says next, through the control plane.

By default the emulator answers from the prompt (generation.py): it calls the tools the prompt
names and otherwise echoes it. An agent's prompt is its own (system text, reminders, a dozen
tools), so a test that needs the model to call one particular tool with particular arguments
queues that answer instead:

    POST /_emulator/answers {"tool_calls": [{"name": "Bash", "arguments": {"command": "echo ok"}}]}

A queued answer is taken by the next chat request that matches it: the same model (when one is
named) and, for tool calls, a request that offers every tool the answer calls (a model can only
call what it is offered; an agent's side requests without tools leave it queued). The answer is
then rendered like any other in the model's API format and vendor style, streamed or not: the
vendor's tool-call ids, argument fragments and finish events, COHERE's `toolCalls` with
`parameters`. Once the tool has run, the next request ends with its result and is answered as
always (`generation.tool_result_text`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_MAX_CALLS = 16


@dataclass(frozen=True)
class ScriptedCall:
    """One tool call the model will make: the tool's name and its arguments object."""

    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class Script:
    """A queued answer: tool calls, or a text (never both)."""

    calls: tuple[ScriptedCall, ...] = ()
    text: str | None = None

    @classmethod
    def parse(cls, tool_calls: Any, text: Any) -> Script:
        """Build from the control plane's JSON fields; raises ValueError with a readable message."""
        if (tool_calls is None) == (text is None):
            raise ValueError("give exactly one of tool_calls or text")
        if text is not None:
            if not isinstance(text, str):
                raise ValueError("text must be a string")
            return cls(text=text)
        if not isinstance(tool_calls, list) or not 1 <= len(tool_calls) <= _MAX_CALLS:
            raise ValueError(f"tool_calls must be a list of 1 to {_MAX_CALLS} calls")
        return cls(calls=tuple(_call(i, item) for i, item in enumerate(tool_calls)))

    @property
    def tool_names(self) -> set[str]:
        """The tools this answer calls."""
        return {c.name for c in self.calls}

    def describe(self) -> dict[str, Any]:
        """The answer as JSON, for the control plane and the request log."""
        if self.text is not None:
            return {"text": self.text}
        return {"tool_calls": [{"name": c.name, "arguments": dict(c.arguments)} for c in self.calls]}


def _call(index: int, item: Any) -> ScriptedCall:
    where = f"tool_calls[{index}]"
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object with name and arguments")
    name, arguments = item.get("name"), item.get("arguments", {})
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}.name must be a non-empty string")
    if not isinstance(arguments, dict):
        raise ValueError(f"{where}.arguments must be a JSON object")
    unknown = set(item) - {"name", "arguments"}
    if unknown:
        raise ValueError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    return ScriptedCall(name, arguments)


@dataclass
class _Queued:
    script: Script
    model: str | None
    remaining: int


class ScriptQueue:
    """Answers queued through the control plane, taken by matching chat requests in order."""

    def __init__(self) -> None:
        self._items: list[_Queued] = []

    def add(self, script: Script, *, model: str | None = None, count: int = 1) -> None:
        """Queue `script` for the next `count` chat requests that match it."""
        self._items.append(_Queued(script, model, count))

    def take(self, models: Collection[str], offered: Sequence[str]) -> Script | None:
        """Consume and return the first queued answer this request matches (model, offered tools)."""
        for item in self._items:
            if item.model is not None and item.model not in models:
                continue
            if not item.script.tool_names <= set(offered):
                continue
            item.remaining -= 1
            if item.remaining <= 0:
                self._items.remove(item)
            return item.script
        return None

    def clear(self) -> None:
        """Drop every queued answer."""
        self._items.clear()

    def pending(self) -> list[dict[str, Any]]:
        """The queue, for the control plane."""
        return [{**i.script.describe(), "model": i.model, "remaining": i.remaining} for i in self._items]
