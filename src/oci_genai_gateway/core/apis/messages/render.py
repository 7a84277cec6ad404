"""POST /v1/messages: Anthropic's Messages API for every OCI model, over the gateway's chat pipeline.

The issue asked for LiteLLM's Anthropic adapter (`litellm.anthropic.messages.acreate`). LiteLLM
1.110.2's adapter was measured against the emulator and is not used to serve requests:
- every stream fails: it always adds `stream_options`, which its OCI provider refuses with a 400
  (https://github.com/BerriAI/litellm/issues/15080);
- once that is worked around, usage is 0 in both `message_start` and `message_delta`;
- a COHERE tool call ends with `stop_reason: end_turn` (OCI says COMPLETE), so an agent loop
  that waits for `tool_use` stops;
- ids are `chatcmpl-...`, `model` is OCI's id rather than the client's, and a mid-stream error
  carries LiteLLM's and OCI's raw text;
- its request translator drops `is_error` and `disable_parallel_tool_use`, silently loses
  `top_k` on GENERIC models, sends `reasoning_effort` to models that do not reason, and copies
  unknown parameters through to OCI.
So the translation is ours (core/apis/messages/request.py), the request runs through
`chat.create`/`chat.stream`, and the message, its event stream and every error are rendered here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from oci_genai_gateway.core.apis.messages.request import MessagesRequest
from oci_genai_gateway.core.chat import pipeline as chat
from oci_genai_gateway.core.chat.oci import new_call_id
from oci_genai_gateway.core.errors import GatewayError, InternalError
from oci_genai_gateway.core.sse import EventStream, named_event
from oci_genai_gateway.core.upstream.http import OciHttp

log = logging.getLogger(__name__)

# Anthropic's error types by status (https://docs.claude.com/en/api/errors); 502 and 504 are
# the gateway's own statuses for OCI failing or timing out.
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_STOP_REASONS = {"length": "max_tokens", "content_filter": "refusal", "tool_calls": "tool_use"}


def error_body(exc: GatewayError) -> dict[str, Any]:
    """Any GatewayError as Anthropic's error body: the one renderer of /v1/messages errors."""
    kind = _ERROR_TYPES.get(exc.status) or ("invalid_request_error" if exc.status < 500 else "api_error")
    return {"type": "error", "error": {"type": kind, "message": exc.message}}


async def create(request: MessagesRequest, oci: OciHttp) -> dict[str, Any]:
    """Answer a non-streaming request with a Message."""
    completion = await chat.create(request.chat, oci)
    choice = completion["choices"][0]
    message = choice["message"]
    content: list[dict[str, Any]] = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        function = call["function"]
        content.append(
            {"type": "tool_use", "id": call["id"], "name": function["name"], "input": _input(function)}
        )
    return {
        **_message(request),
        "content": content,
        "stop_reason": _stop_reason(choice["finish_reason"]),
        "usage": usage(completion.get("usage")),
    }


async def stream(request: MessagesRequest, oci: OciHttp) -> EventStream:
    """Open the OCI stream (failures before the first byte are HTTP errors) and return the events."""
    chunks = await chat.stream(request.chat, oci)
    events = _Stream()
    return EventStream(events.events(request, chunks), lambda: events.failure)


def usage(chat_usage: dict[str, Any] | None) -> dict[str, Any]:
    """Chat usage in Anthropic's words: input_tokens leaves out the tokens read from OCI's cache."""
    chat_usage = chat_usage or {}
    prompt = chat_usage.get("prompt_tokens", 0)
    cached = (chat_usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return {
        "input_tokens": prompt - cached,
        "output_tokens": chat_usage.get("completion_tokens", 0),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    }


def _message(request: MessagesRequest) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
    }


def _stop_reason(finish: str | None) -> str:
    # OCI does not say which stop sequence ended a turn, so `stop_sequence` is never claimed.
    return _STOP_REASONS.get(finish or "", "end_turn")


def _input(function: dict[str, Any]) -> dict[str, Any]:
    try:
        arguments = json.loads(function.get("arguments") or "{}")
    except ValueError:
        return {}  # cut short by max_tokens: there is no object to hand over
    return arguments if isinstance(arguments, dict) else {}


class _Stream:
    """OpenAI chat chunks in, Anthropic events out: one content block at a time, in order."""

    def __init__(self) -> None:
        self.failure: GatewayError | None = None  # what ended the stream after its first byte
        self._blocks = 0  # blocks started so far
        self._open: tuple[str, int] | None = None  # ("text", -1) or ("tool", chat index) being streamed
        self._calls: dict[int, int] = {}  # chat tool-call index -> block index

    async def events(
        self, request: MessagesRequest, chunks: AsyncIterator[dict[str, Any]]
    ) -> AsyncGenerator[bytes, None]:
        """The whole event sequence; a failure after the first byte ends it with an `error` event."""
        yield named_event(
            "message_start", {"type": "message_start", "message": {**_message(request), "usage": usage(None)}}
        )
        yield named_event("ping", {"type": "ping"})
        finish: str | None = None
        used: dict[str, Any] | None = None
        try:
            # aclosing: a client that leaves closes the OCI stream at once.
            async with contextlib.aclosing(chunks):  # type: ignore[type-var]
                async for chunk in chunks:
                    used = chunk.get("usage") or used
                    for choice in chunk["choices"]:
                        for piece in self._deltas(choice["delta"]):
                            yield piece
                        finish = choice.get("finish_reason") or finish
        except GatewayError as exc:
            log.warning(
                "stream ended by upstream error", extra={"event": "stream_error", "status": exc.status}
            )
            self.failure = exc
            yield named_event("error", error_body(exc))
            return
        except Exception:
            log.exception("stream failed", extra={"event": "stream_bug"})
            self.failure = InternalError("The gateway failed while streaming.")
            yield named_event("error", error_body(self.failure))
            return
        for piece in self._close():
            yield piece
        delta = {"stop_reason": _stop_reason(finish), "stop_sequence": None}
        yield named_event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage(used)})
        yield named_event("message_stop", {"type": "message_stop"})

    def _deltas(self, delta: dict[str, Any]) -> list[bytes]:
        out = []
        if delta.get("content"):
            if self._open != ("text", -1):
                out += self._start(("text", -1), {"type": "text", "text": ""})
            out.append(self._delta(self._blocks - 1, {"type": "text_delta", "text": delta["content"]}))
        for piece in delta.get("tool_calls") or []:
            index = piece["index"]
            function = piece.get("function") or {}
            if index not in self._calls:
                block: dict[str, Any] = {
                    "type": "tool_use",
                    "id": piece.get("id") or new_call_id(),
                    "name": function.get("name") or "",
                    "input": {},
                }
                out += self._start(("tool", index), block)
                self._calls[index] = self._blocks - 1
            if function.get("arguments"):
                # A late piece of an earlier call still names its own block; SDKs accumulate by index.
                json_delta = {"type": "input_json_delta", "partial_json": function["arguments"]}
                out.append(self._delta(self._calls[index], json_delta))
        return out

    def _start(self, key: tuple[str, int], block: dict[str, Any]) -> list[bytes]:
        out = self._close()
        self._open = key
        start = {"type": "content_block_start", "index": self._blocks, "content_block": block}
        self._blocks += 1
        return [*out, named_event("content_block_start", start)]

    def _delta(self, index: int, delta: dict[str, Any]) -> bytes:
        return named_event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )

    def _close(self) -> list[bytes]:
        if self._open is None:
            return []
        self._open = None
        return [named_event("content_block_stop", {"type": "content_block_stop", "index": self._blocks - 1})]
