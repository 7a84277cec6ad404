"""POST /v1/chat/completions: one OCI call through LiteLLM, shaped exactly as OpenAI answers."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.chat_request import ChatCall, parse_chat
from oci_genai_gateway.core.deps import Deps
from oci_genai_gateway.core.errors import GatewayError
from oci_genai_gateway.core.upstream import map_exception

Chunk = dict[str, Any]


def parse(body: dict[str, Any], deps: Deps) -> ChatCall:
    """Validate a request body against the settings' model aliases."""
    return parse_chat(body, deps.settings.resolve)


async def create(call: ChatCall, deps: Deps) -> dict[str, Any]:
    """Answer a non-streaming request; `n` > 1 fans out into concurrent OCI calls."""
    responses = await asyncio.gather(*(_complete(call, deps) for _ in range(call.n)))
    choices: list[dict[str, Any]] = []
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for response in responses:
        for choice in response.choices:
            choices.append(_choice(call, choice, index=len(choices)))
        part = _usage(getattr(response, "usage", None))
        for key in usage:
            usage[key] += part[key]
    if call.n > 1:
        # The prompt is billed per call, but OpenAI reports it once for the request.
        usage["prompt_tokens"] //= call.n
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    first = responses[0]
    return {
        "id": _completion_id(getattr(first, "id", None)),
        "object": "chat.completion",
        "created": int(getattr(first, "created", None) or time.time()),
        "model": call.model,
        "choices": choices,
        "usage": usage,
    }


async def _complete(call: ChatCall, deps: Deps) -> Any:
    kwargs = {**deps.oci_kwargs(call.target), **call.params, "messages": call.messages}
    return await deps.call(lambda: deps.llm.acompletion(**kwargs), call.model)


def _choice(call: ChatCall, choice: Any, *, index: int) -> dict[str, Any]:
    message = choice.message
    tool_calls = [
        {
            "id": tc.id,
            "type": "function",
            "function": {"name": tc.function.name, "arguments": tc.function.arguments},
        }
        for tc in (getattr(message, "tool_calls", None) or [])
    ]
    if call.single_tool_call:
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


_USAGE_GRACE_SECONDS = 5.0


def _complete_stream(upstream: Any, states: dict[int, _ChoiceState]) -> bool:
    """Every choice finished and OCI's usage event (always requested) arrived."""
    done = bool(states) and all(state.finish for state in states.values())
    return done and getattr(upstream, "gateway_oci_usage", None) is not None


@dataclass
class _ChoiceState:
    """Per-choice stream state: tool calls re-joined by position, and the held finish reason."""

    started: bool = False
    calls: list[str] = field(default_factory=list)
    finish: str | None = None


async def open_stream(call: ChatCall, deps: Deps) -> AsyncIterator[Chunk]:
    """Start the upstream stream (errors surface here, before any byte is sent) and return chunks."""
    kwargs = {**deps.oci_kwargs(call.target), **call.params, "messages": call.messages, "stream": True}
    upstream = await deps.call(lambda: deps.llm.acompletion(**kwargs), call.model)
    return _chunks(call, upstream, deps.settings.upstream_timeout)


async def _chunks(call: ChatCall, upstream: Any, idle_timeout: float) -> AsyncIterator[Chunk]:
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
    }
    head["model"] = call.model
    states: dict[int, _ChoiceState] = {}
    last_usage: Any = None
    iterator = upstream.__aiter__()
    try:
        while not _complete_stream(upstream, states):
            finished = bool(states) and all(state.finish for state in states.values())
            try:
                # OCI keeps the connection open after its last event; once every choice has
                # finished, only the usage event is still due, so wait for it briefly.
                wait = min(idle_timeout, _USAGE_GRACE_SECONDS) if finished else idle_timeout
                chunk = await asyncio.wait_for(iterator.__anext__(), wait)
            except StopAsyncIteration:
                break
            except TimeoutError:
                if finished:
                    break
                raise _stream_error(TimeoutError(), call.model) from None
            except Exception as exc:
                raise _stream_error(exc, call.model) from None
            last_usage = getattr(chunk, "usage", None) or last_usage
            for choice in chunk.choices:
                state = states.setdefault(choice.index, _ChoiceState())
                delta = _delta(call, choice.delta, state)
                if choice.finish_reason:
                    state.finish = choice.finish_reason
                if delta:
                    yield {
                        **head,
                        "choices": [
                            {"index": choice.index, "delta": delta, "finish_reason": None, "logprobs": None}
                        ],
                    }
        for index, state in sorted(states.items()):
            finish = _finish(state.finish, bool(state.calls))
            yield {
                **head,
                "choices": [{"index": index, "delta": {}, "finish_reason": finish, "logprobs": None}],
            }
        if call.include_usage:
            usage = getattr(upstream, "gateway_oci_usage", None) or _usage(last_usage)
            yield {**head, "choices": [], "usage": usage}
    finally:
        await _close(upstream)


def _delta(call: ChatCall, raw: Any, state: _ChoiceState) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if not state.started:
        delta["role"] = "assistant"
    content = getattr(raw, "content", None)
    if content:
        delta["content"] = content
    fragments = []
    for tc in getattr(raw, "tool_calls", None) or []:
        fragment = _tool_fragment(call, tc, state)
        if fragment is not None:
            fragments.append(fragment)
    if fragments:
        delta["tool_calls"] = fragments
    if len(delta) == 1 and "role" in delta:
        return {}  # nothing to say yet; the role rides on the first real delta
    state.started = True
    return delta


def _tool_fragment(call: ChatCall, tc: Any, state: _ChoiceState) -> dict[str, Any] | None:
    """OCI streams a call's id and name once, then bare argument pieces (LiteLLM invents an id for each)."""
    function = tc.function if hasattr(tc, "function") else tc.get("function", {})
    name = getattr(function, "name", None) if not isinstance(function, dict) else function.get("name")
    arguments = (
        getattr(function, "arguments", None) if not isinstance(function, dict) else function.get("arguments")
    )
    call_id = getattr(tc, "id", None) if not isinstance(tc, dict) else tc.get("id")
    if name:
        if call.single_tool_call and state.calls:
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


def _stream_error(exc: BaseException, model: str) -> GatewayError:
    if isinstance(exc, TimeoutError):
        from oci_genai_gateway.core.errors import UpstreamTimeout

        return UpstreamTimeout("OCI Generative AI stopped sending the stream.")
    mapped = map_exception(exc, model)
    if isinstance(mapped, GatewayError):
        return mapped
    from oci_genai_gateway.core.errors import UpstreamError

    return UpstreamError("OCI Generative AI failed mid-stream.")


async def _close(upstream: Any) -> None:
    """Release the upstream HTTP response when the client goes away or the stream ends."""
    for target in (upstream, getattr(upstream, "completion_stream", None)):
        closer = getattr(target, "aclose", None)
        if closer is not None:
            with contextlib.suppress(Exception):  # best effort on teardown; nothing to tell the client
                await closer()
