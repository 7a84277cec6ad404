"""OpenAI's Responses event stream from chat chunks: one output item per message and per tool call."""

from __future__ import annotations

import time
from typing import Any

from oci_genai_gateway.core.apis.responses.render import (
    call_item,
    message_item,
    new_id,
    response,
    status_of,
    text_part,
    usage,
)
from oci_genai_gateway.core.apis.responses.request import ResponsesRequest
from oci_genai_gateway.core.chat.answers import new_call_id
from oci_genai_gateway.core.errors import GatewayError
from oci_genai_gateway.core.sse import Chunk, named_event


class ResponseEvents:
    """The StreamRenderer of /v1/responses: `response.created` ... `response.completed`, numbered."""

    trailer = b""

    def __init__(self, request: ResponsesRequest) -> None:
        self._request = request
        self._id = new_id("resp")
        self._created = int(time.time())
        self._sequence = 0
        self._items: list[dict[str, Any]] = []  # output items in order, as they stand so far
        self._text_at: int | None = None  # the message item's output index, once text arrived
        self._calls: dict[int, int] = {}  # chat tool-call index -> output index
        self._finish: str | None = None
        self._usage: dict[str, Any] | None = None

    def start(self) -> list[bytes]:
        """`response.created` and `response.in_progress`, with no output yet."""
        return [
            self._event("response.created", response=self._snapshot("in_progress")),
            self._event("response.in_progress", response=self._snapshot("in_progress")),
        ]

    def feed(self, chunk: Chunk) -> list[bytes]:
        """The item events of one chunk; its usage and finish reason are kept for the end."""
        self._usage = usage(chunk.get("usage")) or self._usage
        out: list[bytes] = []
        for choice in chunk["choices"]:
            out += self._deltas(choice["delta"])
            self._finish = choice.get("finish_reason") or self._finish
        return out

    def finish(self) -> list[bytes]:
        """Every item's `.done` events, then `response.completed` (or `.incomplete`) with usage."""
        status, reason = status_of(self._finish)
        out = self._text("") if not self._items else []
        out += self._close(status)
        kind = "response.completed" if status == "completed" else "response.incomplete"
        return [*out, self._event(kind, response=self._snapshot(status, self._usage, reason))]

    def error(self, exc: GatewayError) -> bytes:
        """The Responses API's `error` event."""
        return self._event("error", code=exc.code, message=exc.message, param=exc.param)

    def _event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, **fields, "sequence_number": self._sequence}
        self._sequence += 1
        return named_event(kind, payload)

    def _snapshot(self, status: str, used: dict[str, Any] | None = None, reason: str | None = None) -> Any:
        return response(self._request, self._id, self._created, status, self._items_as(status), used, reason)

    def _items_as(self, status: str) -> list[dict[str, Any]]:
        if status == "in_progress":
            return []
        incomplete = status == "incomplete"
        return [
            {**item, "status": "incomplete" if incomplete and item["type"] == "message" else "completed"}
            for item in self._items
        ]

    def _deltas(self, delta: dict[str, Any]) -> list[bytes]:
        out = self._text(delta["content"]) if delta.get("content") else []
        for piece in delta.get("tool_calls") or []:
            out += self._call(piece)
        return out

    def _text(self, text: str) -> list[bytes]:
        out = []
        if self._text_at is None:
            self._text_at = len(self._items)
            item = message_item(new_id("msg"), "", "in_progress")
            self._items.append(item)
            added = {**item, "content": []}
            out.append(self._event("response.output_item.added", output_index=self._text_at, item=added))
            out.append(
                self._event(
                    "response.content_part.added",
                    item_id=item["id"],
                    output_index=self._text_at,
                    content_index=0,
                    part=text_part(""),
                )
            )
        item = self._items[self._text_at]
        item["content"][0]["text"] += text
        if text:
            where = {"item_id": item["id"], "output_index": self._text_at, "content_index": 0}
            out.append(self._event("response.output_text.delta", **where, delta=text, logprobs=[]))
        return out

    def _call(self, piece: dict[str, Any]) -> list[bytes]:
        out = []
        function = piece.get("function") or {}
        at = self._calls.get(piece["index"])
        if at is None:
            at = self._calls[piece["index"]] = len(self._items)
            call_id = piece.get("id") or new_call_id()
            item = call_item(call_id, function.get("name") or "", "", "in_progress")
            self._items.append(item)
            out.append(self._event("response.output_item.added", output_index=at, item=dict(item)))
        item = self._items[at]
        arguments = function.get("arguments") or ""
        if arguments:
            item["arguments"] += arguments
            out.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=at,
                    delta=arguments,
                )
            )
        return out

    def _close(self, status: str) -> list[bytes]:
        """The `.done` events of every item, in output order."""
        out = []
        for at, item in enumerate(self._items_as(status)):
            if item["type"] == "message":
                part = item["content"][0]
                where = {"item_id": item["id"], "output_index": at, "content_index": 0}
                out.append(self._event("response.output_text.done", **where, text=part["text"], logprobs=[]))
                out.append(self._event("response.content_part.done", **where, part=part))
            else:
                out.append(
                    self._event(
                        "response.function_call_arguments.done",
                        item_id=item["id"],
                        output_index=at,
                        name=item["name"],
                        arguments=item["arguments"],
                    )
                )
            out.append(self._event("response.output_item.done", output_index=at, item=item))
        return out
