"""OCI chat stream events (GENERIC, COHERE and COHEREV2, every vendor's style) as OpenAI chunk deltas.

Styles seen live (recordings quoted in emulator/README.md): xAI sends each tool call whole in one
event; Meta Llama sends id and name, then argument pieces mixed with empty `"arguments": ""`
events, and ends with `data: [DONE]`; Gemini sends calls without an id; gpt-oss sends id, name and
`""`, then pieces. COHERE streams tokens as `text`, restates the whole text (and its tool calls)
on the final event, and puts usage on it; GENERIC sends usage as one event after the finish event.
COHEREV2 sends pieces of its assistant message (`message.content` TEXT or THINKING parts, tool
calls, the tool plan) and a finish event whose message carries only the role
(https://github.com/oracle/langchain-oracle libs/oci/tests/unit_tests/chat_models/test_oci_generative_ai.py,
test_cohere_v2_stream_to_text); how it streams tool calls is not recorded anywhere, so whole calls,
calls restated by id and OpenAI-style argument pieces are all read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.chat.answers import citation, finish_reason, new_call_id, text_of, usage

Delta = tuple[int, dict[str, Any]]


@dataclass
class _Choice:
    """One generation's progress: role sent, tool calls by position, text so far, finish."""

    started: bool = False
    call_ids: list[str] = field(default_factory=list)
    kept: list[bool] = field(default_factory=list)
    text: str = ""
    cohere_calls: set[str] = field(default_factory=set)
    thought: bool = False  # COHEREV2: thinking seen, so a tool plan after it is set apart
    planned: bool = False
    finish: str | None = None


class StreamTranslator:
    """Feed it OCI events in order; it returns the OpenAI deltas each one adds."""

    def __init__(self, *, single_tool_call: bool = False, reasoning: bool = True) -> None:
        self._single = single_tool_call
        self._reasoning = reasoning  # GATEWAY_REASONING_TEXT: the reasoning text is passed on
        self._choices: dict[int, _Choice] = {}
        self.usage: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        """Every generation seen so far has finished."""
        return bool(self._choices) and all(c.finish is not None for c in self._choices.values())

    def finishes(self) -> list[tuple[int, str]]:
        """Each generation's OpenAI finish reason (tool_calls when it called a tool)."""
        return [
            (index, finish_reason(choice.finish, any(choice.kept)))
            for index, choice in sorted(self._choices.items())
        ]

    def feed(self, event: Mapping[str, Any]) -> list[Delta]:
        """The deltas of one event (none for usage-only or empty events)."""
        if "usage" in event:
            self.usage = usage(event["usage"]) or self.usage
        index = event.get("index")
        choice = self._choices.setdefault(index if isinstance(index, int) else 0, _Choice())
        position = index if isinstance(index, int) else 0
        if event.get("apiFormat") == "COHERE":
            delta = self._cohere(choice, event)
        elif event.get("apiFormat") == "COHEREV2":
            delta = self._v2(choice, event.get("message"))
        else:
            delta = self._generic(choice, event.get("message"))
        if event.get("finishReason"):
            choice.finish = str(event["finishReason"])
        if not self._reasoning:
            delta.pop("reasoning_content", None)  # whichever format's reasoning it was
        if not delta:
            return []
        if not choice.started:
            choice.started = True
            delta = {"role": "assistant", **delta}
        return [(position, delta)]

    def _generic(self, choice: _Choice, message: object) -> dict[str, Any]:
        if not isinstance(message, Mapping):
            return {}
        delta: dict[str, Any] = {}
        reasoning = message.get("reasoningContent")
        if isinstance(reasoning, str) and reasoning:
            delta["reasoning_content"] = reasoning
        text = text_of(message.get("content"))
        if text:
            delta["content"] = text
        calls = [
            self._generic_call(choice, c) for c in message.get("toolCalls") or [] if isinstance(c, Mapping)
        ]
        if any(calls):
            delta["tool_calls"] = [c for c in calls if c]
        return delta

    def _generic_call(self, choice: _Choice, raw: Mapping[str, Any]) -> dict[str, Any] | None:
        call_id, name, arguments = raw.get("id"), raw.get("name"), raw.get("arguments")
        pieces = arguments if isinstance(arguments, str) else ""
        if isinstance(call_id, str) and call_id in choice.call_ids:
            return self._piece(choice, choice.call_ids.index(call_id), pieces)
        if isinstance(name, str) and name:
            return self._open(
                choice, call_id if isinstance(call_id, str) and call_id else new_call_id(), name, pieces
            )
        if choice.call_ids:
            return self._piece(choice, len(choice.call_ids) - 1, pieces)
        return None  # an argument piece before any call: nothing to attach it to

    def _open(self, choice: _Choice, call_id: str, name: str, arguments: str) -> dict[str, Any] | None:
        keep = not (self._single and any(choice.kept))  # parallel_tool_calls=false keeps the first
        choice.call_ids.append(call_id)
        choice.kept.append(keep)
        if not keep:
            return None
        position = sum(choice.kept) - 1
        function = {"name": name, "arguments": arguments}
        return {"index": position, "id": call_id, "type": "function", "function": function}

    def _piece(self, choice: _Choice, call: int, arguments: str) -> dict[str, Any] | None:
        if not arguments or not choice.kept[call]:
            return None  # Llama's empty `"arguments": ""` events carry nothing
        return {"index": sum(choice.kept[: call + 1]) - 1, "function": {"arguments": arguments}}

    def _v2(self, choice: _Choice, message: object) -> dict[str, Any]:
        if not isinstance(message, Mapping):
            return {}
        delta: dict[str, Any] = {}
        parts = [p for p in message.get("content") or [] if isinstance(p, Mapping)]
        thinking = "".join(p.get("thinking") or "" for p in parts if p.get("type") == "THINKING")
        choice.thought = choice.thought or bool(thinking)
        plan = message.get("toolPlan")  # reasoning about the tools, as answers.v2_message reads it
        if isinstance(plan, str) and plan:
            thinking += "\n\n" + plan if choice.thought and not choice.planned else plan
            choice.planned = True
        if thinking:
            delta["reasoning_content"] = thinking
        text = "".join(p.get("text") or "" for p in parts if p.get("type") == "TEXT")
        if text:
            delta["content"] = text
        calls = []
        for raw in message.get("toolCalls") or []:
            function = raw.get("function") if isinstance(raw, Mapping) else None
            if not isinstance(function, Mapping):
                continue
            call_id, name = raw.get("id"), function.get("name")
            if isinstance(call_id, str) and call_id in choice.call_ids and name:
                continue  # a whole call restated (on the finish event)
            arguments = function.get("arguments")
            if isinstance(arguments, Mapping):
                arguments = json.dumps(arguments)
            flat = {"id": call_id, "name": name, "arguments": arguments}
            opened = self._generic_call(choice, flat)
            if opened:
                calls.append(opened)
        if calls:
            delta["tool_calls"] = calls
        cited = [citation(c) for c in message.get("citations") or [] if isinstance(c, Mapping)]
        if cited:
            delta["citations"] = cited
        return delta

    def _cohere(self, choice: _Choice, event: Mapping[str, Any]) -> dict[str, Any]:
        delta: dict[str, Any] = {}
        text = event.get("text")
        restating = bool(event.get("finishReason") or event.get("toolCalls"))
        if isinstance(text, str) and text:
            if not restating:
                new = text
            elif text.startswith(choice.text):
                new = text[len(choice.text) :]  # the final event restates the whole text
            else:
                new = ""
            if new:
                choice.text += new
                delta["content"] = new
        calls = []
        for raw in event.get("toolCalls") or []:
            if not isinstance(raw, Mapping):
                continue
            arguments = json.dumps(raw.get("parameters") or {})
            signature = f"{raw.get('name')}\x00{arguments}"
            if signature in choice.cohere_calls:
                continue  # restated on the final event
            choice.cohere_calls.add(signature)
            opened = self._open(choice, new_call_id(), str(raw.get("name", "")), arguments)
            if opened:
                calls.append(opened)
        if calls:
            delta["tool_calls"] = calls
        return delta
