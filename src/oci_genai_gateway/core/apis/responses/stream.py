"""OpenAI's Responses event stream from chat chunks: a reasoning item, a message item, one item per call.

Event shapes: OpenAI's streaming reference (https://platform.openai.com/docs/api-reference/responses-streaming),
the openai SDK's Response*Event types; each is checked against OpenAI's schema in the tests.
"""

from __future__ import annotations

import time
from typing import Any

from oci_genai_gateway.core.apis.responses import reasoning
from oci_genai_gateway.core.apis.responses.render import (
    call_item,
    custom_input,
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
        self._thought_at: int | None = None  # the reasoning item's output index, once reasoning arrived
        self._thought = ""
        self._calls: dict[int, int] = {}  # chat tool-call index -> output index
        self._arguments: dict[int, str] = {}  # output index -> a custom tool call's arguments so far
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
        out = self._text("") if not self._items or self._items == self._thought_items() else []
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

    def _thought_items(self) -> list[dict[str, Any]]:
        """The reasoning item alone, if there is one."""
        return [self._items[self._thought_at]] if self._thought_at is not None else []

    def _items_as(self, status: str) -> list[dict[str, Any]]:
        """The output items as a response with `status` shows them, each finished."""
        if status == "in_progress":
            return []
        out = []
        for at, item in enumerate(self._items):
            if at == self._thought_at:
                wanted = self._request.reasoning
                item = reasoning.item(item["id"], self._request.model, self._thought, wanted)
            elif at in self._arguments:
                item = {**item, "input": custom_input(self._arguments[at])}
            if "status" in item:  # a custom_tool_call has none in OpenAI's schema
                cut = status == "incomplete" and item["type"] in ("message", "reasoning")
                item = {**item, "status": "incomplete" if cut else "completed"}
            out.append(item)
        return out

    def _deltas(self, delta: dict[str, Any]) -> list[bytes]:
        """The events of one chat delta: reasoning, text, tool-call pieces."""
        out = self._reasoning(delta["reasoning_content"]) if delta.get("reasoning_content") else []
        out += self._text(delta["content"]) if delta.get("content") else []
        for piece in delta.get("tool_calls") or []:
            out += self._call(piece)
        return out

    def _reasoning(self, text: str) -> list[bytes]:
        """A reasoning item's events: its summary text, or its reasoning text (reasoning.py)."""
        out = []
        summary = self._request.reasoning.summary
        if self._thought_at is None:
            at = self._thought_at = len(self._items)
            item = {"id": new_id("rs"), "type": "reasoning", "summary": [], "status": "in_progress"}
            self._items.append(item)
            out.append(self._event("response.output_item.added", output_index=at, item=dict(item)))
            if summary:
                where = {"item_id": item["id"], "output_index": at, "summary_index": 0}
                part = {"type": "summary_text", "text": ""}
                out.append(self._event("response.reasoning_summary_part.added", **where, part=part))
        item_id, at = self._items[self._thought_at]["id"], self._thought_at
        self._thought += text
        if summary:
            where = {"item_id": item_id, "output_index": at, "summary_index": 0}
            return [*out, self._event("response.reasoning_summary_text.delta", **where, delta=text)]
        where = {"item_id": item_id, "output_index": at, "content_index": 0}
        return [*out, self._event("response.reasoning_text.delta", **where, delta=text)]

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
        """A tool-call piece: a new item, or arguments (a custom tool's kept for the end)."""
        out = []
        function = piece.get("function") or {}
        at = self._calls.get(piece["index"])
        if at is None:
            at = self._calls[piece["index"]] = len(self._items)
            call_id = piece.get("id") or new_call_id()
            item = call_item(self._request.tools, call_id, function.get("name") or "", "", "in_progress")
            if item["type"] == "custom_tool_call":
                self._arguments[at] = ""  # its input is read from the whole arguments at the end
            self._items.append(item)
            out.append(self._event("response.output_item.added", output_index=at, item=dict(item)))
        item = self._items[at]
        arguments = function.get("arguments") or ""
        if at in self._arguments:
            self._arguments[at] += arguments
        elif arguments:
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
            out += self._done(at, item)
            out.append(self._event("response.output_item.done", output_index=at, item=item))
        return out

    def _done(self, at: int, item: dict[str, Any]) -> list[bytes]:
        """The events that end one item's content, before its `output_item.done`."""
        where: dict[str, Any] = {"item_id": item["id"], "output_index": at}
        if item["type"] == "message":
            part = item["content"][0]
            return [
                self._event(
                    "response.output_text.done", **where, content_index=0, text=part["text"], logprobs=[]
                ),
                self._event("response.content_part.done", **where, content_index=0, part=part),
            ]
        if item["type"] == "reasoning" and item["summary"]:
            part = item["summary"][0]
            return [
                self._event(
                    "response.reasoning_summary_text.done", **where, summary_index=0, text=part["text"]
                ),
                self._event("response.reasoning_summary_part.done", **where, summary_index=0, part=part),
            ]
        if item["type"] == "reasoning":
            text = item["content"][0]["text"]
            return [self._event("response.reasoning_text.done", **where, content_index=0, text=text)]
        if item["type"] == "custom_tool_call":
            # The model wrote JSON arguments; the input inside is known once they are whole.
            text = item["input"]
            out = [self._event("response.custom_tool_call_input.delta", **where, delta=text)] if text else []
            return [*out, self._event("response.custom_tool_call_input.done", **where, input=text)]
        call = {"name": item["name"], "arguments": item["arguments"]}
        return [self._event("response.function_call_arguments.done", **where, **call)]
