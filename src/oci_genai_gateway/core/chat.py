"""POST /v1/chat/completions: OCI's answer through LiteLLM, shaped exactly as OpenAI answers."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.chat_request import ChatRequest
from oci_genai_gateway.core.errors import UpstreamTimeout
from oci_genai_gateway.core.upstream import Upstream, UpstreamStream

Chunk = dict[str, Any]

# OCI keeps the connection open after its last event; once every choice has finished only the
# usage event is still due, so it is waited for this long at most.
_USAGE_GRACE_SECONDS = 5.0


async def create(request: ChatRequest, upstream: Upstream) -> dict[str, Any]:
    """Answer a non-streaming request; `n` > 1 fans out into concurrent OCI calls."""
    calls = (upstream.complete(request.model, request.target, _params(request)) for _ in range(request.n))
    responses = await asyncio.gather(*calls)
    choices: list[dict[str, Any]] = []
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for response in responses:
        for choice in response.choices:
            choices.append(_choice(request, choice, index=len(choices)))
        part = _usage(getattr(response, "usage", None))
        for key in usage:
            usage[key] += part[key]
    if request.n > 1:
        # The prompt is billed per call, but OpenAI reports it once for the request.
        usage["prompt_tokens"] //= request.n
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    first = responses[0]
    return {
        "id": _completion_id(getattr(first, "id", None)),
        "object": "chat.completion",
        "created": int(getattr(first, "created", None) or time.time()),
        "model": request.model,
        "choices": choices,
        "usage": usage,
    }


async def stream(request: ChatRequest, upstream: Upstream) -> AsyncIterator[Chunk]:
    """Open the upstream stream (errors surface here, before any byte is sent) and return the chunks."""
    events = await upstream.stream(request.model, request.target, _params(request))
    return _chunks(request, events)


def _params(request: ChatRequest) -> dict[str, Any]:
    return {**request.params, "messages": request.messages}


def _choice(request: ChatRequest, choice: Any, *, index: int) -> dict[str, Any]:
    message = choice.message
    tool_calls = [
        {
            "id": tc.id,
            "type": "function",
            "function": {"name": tc.function.name, "arguments": tc.function.arguments},
        }
        for tc in (getattr(message, "tool_calls", None) or [])
    ]
    if request.single_tool_call:
        tool_calls = tool_calls[:1]
    out: dict[str, Any] = {"role": "assistant", "content": message.content, "refusal": None}
    if tool_calls:
        out["tool_calls"] = tool_calls
        out["content"] = message.content or None
    return {
        "index": index,
        "message": out,
        "finish_reason": _finish(choice.finish_reason, bool(tool_calls)),
        "logprobs": None,
    }


def _finish(reason: str | None, had_tool_calls: bool) -> str:
    """OCI's COHERE format says COMPLETE even when it called a tool; OpenAI says tool_calls."""
    if had_tool_calls and reason in (None, "stop"):
        return "tool_calls"
    return reason or "stop"


def _usage(usage: Any) -> dict[str, int]:
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion_id(raw: str | None) -> str:
    return raw if raw and raw.startswith("chatcmpl-") else f"chatcmpl-{uuid.uuid4().hex}"


@dataclass
class _ChoiceState:
    """Per-choice stream state: tool calls re-joined by position, and the held finish reason."""

    started: bool = False
    calls: list[str] = field(default_factory=list)
    finish: str | None = None


def _all_finished(states: dict[int, _ChoiceState]) -> bool:
    return bool(states) and all(state.finish for state in states.values())


async def _chunks(request: ChatRequest, events: UpstreamStream) -> AsyncIterator[Chunk]:
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
    }
    head["model"] = request.model
    states: dict[int, _ChoiceState] = {}
    last_usage: Any = None
    try:
        while not (_all_finished(states) and events.oci_usage is not None):
            finished = _all_finished(states)
            try:
                chunk = await events.next(
                    min(events.idle_timeout, _USAGE_GRACE_SECONDS) if finished else None
                )
            except UpstreamTimeout:
                if finished:
                    break
                raise
            if chunk is None:
                break
            last_usage = getattr(chunk, "usage", None) or last_usage
            for choice in chunk.choices:
                state = states.setdefault(choice.index, _ChoiceState())
                delta = _delta(request, choice.delta, state)
                if choice.finish_reason:
                    state.finish = choice.finish_reason
                if delta:
                    piece = {"index": choice.index, "delta": delta, "finish_reason": None, "logprobs": None}
                    yield {**head, "choices": [piece]}
        for index, state in sorted(states.items()):
            finish = _finish(state.finish, bool(state.calls))
            yield {
                **head,
                "choices": [{"index": index, "delta": {}, "finish_reason": finish, "logprobs": None}],
            }
        if request.include_usage:
            yield {**head, "choices": [], "usage": events.oci_usage or _usage(last_usage)}
    finally:
        await events.aclose()


def _delta(request: ChatRequest, raw: Any, state: _ChoiceState) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if not state.started:
        delta["role"] = "assistant"
    content = getattr(raw, "content", None)
    if content:
        delta["content"] = content
    fragments = []
    for tc in getattr(raw, "tool_calls", None) or []:
        fragment = _tool_fragment(request, tc, state)
        if fragment is not None:
            fragments.append(fragment)
    if fragments:
        delta["tool_calls"] = fragments
    if len(delta) == 1 and "role" in delta:
        return {}  # nothing to say yet; the role rides on the first real delta
    state.started = True
    return delta


def _tool_fragment(request: ChatRequest, tc: Any, state: _ChoiceState) -> dict[str, Any] | None:
    """OCI streams a call's id and name once, then bare argument pieces (LiteLLM invents an id for each)."""
    function = tc.function if hasattr(tc, "function") else tc.get("function", {})
    name = getattr(function, "name", None) if not isinstance(function, dict) else function.get("name")
    arguments = (
        getattr(function, "arguments", None) if not isinstance(function, dict) else function.get("arguments")
    )
    call_id = getattr(tc, "id", None) if not isinstance(tc, dict) else tc.get("id")
    if name:
        if request.single_tool_call and state.calls:
            state.calls.append("")  # dropped: parallel_tool_calls=false keeps only the first call
            return None
        state.calls.append(call_id or f"call_{uuid.uuid4().hex[:24]}")
        return {
            "index": len(state.calls) - 1,
            "id": state.calls[-1],
            "type": "function",
            "function": {"name": name, "arguments": arguments or ""},
        }
    if not state.calls or not arguments or not state.calls[-1]:
        return None
    return {"index": len(state.calls) - 1, "function": {"arguments": arguments}}
