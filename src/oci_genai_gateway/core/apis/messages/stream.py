"""Anthropic's Messages event stream from chat chunks: one content block at a time, in order."""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.core.apis.messages.options import OMITTED
from oci_genai_gateway.core.apis.messages.render import (
    error_body,
    message_head,
    signature,
    stop_reason,
    usage,
)
from oci_genai_gateway.core.apis.messages.request import MessagesRequest
from oci_genai_gateway.core.chat.answers import new_call_id
from oci_genai_gateway.core.errors import GatewayError
from oci_genai_gateway.core.sse import Chunk, named_event


class MessageEvents:
    """The StreamRenderer of /v1/messages: `message_start` ... `message_stop`, or an `error` event."""

    trailer = b""

    def __init__(self, request: MessagesRequest) -> None:
        self._request = request
        self._blocks = 0  # blocks started so far
        self._open: tuple[str, int] | None = None  # ("thinking"|"text", -1) or ("tool", index) streamed
        self._thought = ""  # the open thinking block's text so far, sealed into its signature at the end
        self._calls: dict[int, int] = {}  # chat tool-call index -> block index
        self._finish: str | None = None
        self._usage: dict[str, Any] | None = None

    def start(self) -> list[bytes]:
        """`message_start` (usage still 0) and a `ping`, as Anthropic opens every stream."""
        message = {**message_head(self._request), "usage": usage(None)}
        return [
            named_event("message_start", {"type": "message_start", "message": message}),
            named_event("ping", {"type": "ping"}),
        ]

    def feed(self, chunk: Chunk) -> list[bytes]:
        """The block events of one chunk; its usage and finish reason are kept for the end."""
        self._usage = chunk.get("usage") or self._usage
        out: list[bytes] = []
        for choice in chunk["choices"]:
            out += self._deltas(choice["delta"])
            self._finish = choice.get("finish_reason") or self._finish
        return out

    def finish(self) -> list[bytes]:
        """Close the open block, then `message_delta` (stop reason, usage) and `message_stop`."""
        delta = {"stop_reason": stop_reason(self._finish), "stop_sequence": None}
        end: dict[str, Any] = {"type": "message_delta", "delta": delta, "usage": usage(self._usage)}
        if self._request.context_management is not None:
            # Where Anthropic's stream reports the edits: BetaRawMessageDeltaEvent.context_management.
            end["context_management"] = self._request.context_management
        return [
            *self._close(),
            named_event("message_delta", end),
            named_event("message_stop", {"type": "message_stop"}),
        ]

    def error(self, exc: GatewayError) -> bytes:
        """Anthropic's `error` event."""
        return named_event("error", error_body(exc))

    def _deltas(self, delta: dict[str, Any]) -> list[bytes]:
        out = []
        if delta.get("reasoning_content") and self._request.thinking is not None:
            if self._open != ("thinking", -1):
                out += self._start(("thinking", -1), {"type": "thinking", "thinking": "", "signature": ""})
            text = delta["reasoning_content"]
            self._thought += text
            if self._request.thinking != OMITTED:  # omitted: the signature alone, as Anthropic streams it
                out.append(self._delta(self._blocks - 1, {"type": "thinking_delta", "thinking": text}))
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
        out = []
        if self._open == ("thinking", -1):
            # Anthropic sends a thinking block's signature in one signature_delta just before its stop.
            sealed = {"type": "signature_delta", "signature": signature(self._request, self._thought)}
            out.append(self._delta(self._blocks - 1, sealed))
            self._thought = ""
        self._open = None
        stop = {"type": "content_block_stop", "index": self._blocks - 1}
        return [*out, named_event("content_block_stop", stop)]
