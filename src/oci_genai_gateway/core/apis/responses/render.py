"""POST /v1/responses: OpenAI's Responses API, stateless, over the gateway's own chat pipeline.

The issue asked for LiteLLM's Responses-to-chat bridge (`litellm.aresponses` with an `oci/` model).
LiteLLM 1.110.2's bridge was measured against the emulator and is not used to serve requests:
- every stream fails: it always adds `stream_options`, which its OCI provider refuses with a 400
  (https://github.com/BerriAI/litellm/issues/15080);
- once that is worked around, streamed usage is always 0, and a GENERIC tool call (Llama, Grok,
  Gemini, gpt-oss) becomes one output item per argument fragment, which the openai SDK's stream
  helper rejects ("Cannot complete response with unfinished output items");
- its bodies fail OpenAI's own schemas: no `logprobs` on output text, null usage details,
  `user: null`, `namespace: null` and `async_` on function calls, `name` missing from
  `function_call_arguments.done`, and a `response.created` whose fields change by `completed`;
- `previous_response_id` imports LiteLLM's proxy database (a 502 here), `file_search`/`mcp` tools
  start network emulation, and a process-wide cache can rebuild one client's tool call for another;
- two executor hops per request, and a `resp_` id that encodes LiteLLM's internals.
Its request translator also drops `text.format.description` and adds `stream_options`, so the
translation is ours (core/apis/responses/request.py), the request runs through `chat.create`/`chat.stream`
(which already read every OCI vendor's answers and streams correctly), and the Response and its
event stream are rendered here. LiteLLM still builds the OCI request body (core/chat/oci.py).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from oci_genai_gateway.core.apis.responses.request import ResponsesRequest
from oci_genai_gateway.core.chat import pipeline as chat
from oci_genai_gateway.core.chat.oci import new_call_id
from oci_genai_gateway.core.errors import GatewayError, InternalError, NotFound
from oci_genai_gateway.core.sse import EventStream, named_event
from oci_genai_gateway.core.upstream.http import OciHttp

log = logging.getLogger(__name__)

# Finish reasons that end a Response as `incomplete`, with OpenAI's reason.
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def not_stored(response_id: str) -> NotFound:
    """OpenAI's 404 for a response it does not have: this gateway stores none."""
    return NotFound(f"Response with id '{response_id}' not found.")


async def create(request: ResponsesRequest, oci: OciHttp) -> dict[str, Any]:
    """Answer a non-streaming request with a Response object."""
    created = int(time.time())
    completion = await chat.create(request.chat, oci)
    choice = completion["choices"][0]
    status, reason = _status(choice["finish_reason"])
    message = choice["message"]
    calls = message.get("tool_calls") or []
    output: list[dict[str, Any]] = []
    if message.get("content") or not calls:
        output.append(_message_item(_id("msg"), message.get("content") or "", status))
    output += [
        _call_item(call["id"], call["function"]["name"], call["function"]["arguments"]) for call in calls
    ]
    return response(request, _id("resp"), created, status, output, usage(completion.get("usage")), reason)


async def stream(request: ResponsesRequest, oci: OciHttp) -> EventStream:
    """Open the OCI stream (failures before the first byte are HTTP errors) and return the events."""
    chunks = await chat.stream(request.chat, oci)
    events = _Stream(request)
    return EventStream(events.events(chunks), lambda: events.failure)


def response(
    request: ResponsesRequest,
    response_id: str,
    created: int,
    status: str,
    output: list[dict[str, Any]],
    used: dict[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """A Response object: the request's settings restated, the output, and usage when known."""
    body: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "completed_at": int(time.time()) if status == "completed" else None,
        "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        "model": request.model,
        "output": output,
        **request.echo,
    }
    if used is not None:
        body["usage"] = used
    return body


def usage(chat_usage: dict[str, Any] | None) -> dict[str, Any] | None:
    """Chat usage in the Responses API's words (reasoning stays inside output_tokens, as OpenAI counts)."""
    if not chat_usage:
        return None
    cached = (chat_usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (chat_usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return {
        "input_tokens": chat_usage["prompt_tokens"],
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": chat_usage["completion_tokens"],
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": chat_usage["total_tokens"],
    }


def _status(finish: str | None) -> tuple[str, str | None]:
    reason = _INCOMPLETE.get(finish or "")
    return ("incomplete", reason) if reason else ("completed", None)


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message_item(item_id: str, text: str, status: str) -> dict[str, Any]:
    content = [_text_part(text)]
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def _call_item(call_id: str, name: str, arguments: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": _id("fc"),
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


class _Stream:
    """OpenAI chat chunks in, Responses events out: one output item per message and per tool call."""

    def __init__(self, request: ResponsesRequest) -> None:
        self.failure: GatewayError | None = None  # what ended the stream after its first byte
        self._request = request
        self._id = _id("resp")
        self._created = int(time.time())
        self._sequence = 0
        self._items: list[dict[str, Any]] = []  # output items in order, as they stand so far
        self._text_at: int | None = None  # the message item's output index, once text arrived
        self._calls: dict[int, int] = {}  # chat tool-call index -> output index

    def _event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, **fields, "sequence_number": self._sequence}
        self._sequence += 1
        return named_event(kind, payload)

    def _snapshot(self, status: str, used: dict[str, Any] | None = None, reason: str | None = None) -> Any:
        return response(self._request, self._id, self._created, status, self._items_as(status), used, reason)

    def _items_as(self, status: str) -> list[dict[str, Any]]:
        if status == "in_progress":
            return []
        return [
            {
                **item,
                "status": "incomplete"
                if status == "incomplete" and item["type"] == "message"
                else "completed",
            }
            for item in self._items
        ]

    async def events(self, chunks: AsyncIterator[dict[str, Any]]) -> AsyncGenerator[bytes, None]:
        """The whole event sequence; a failure after the first byte ends it with an `error` event."""
        yield self._event("response.created", response=self._snapshot("in_progress"))
        yield self._event("response.in_progress", response=self._snapshot("in_progress"))
        finish: str | None = None
        used: dict[str, Any] | None = None
        try:
            # aclosing: a client that leaves closes the OCI stream at once.
            async with contextlib.aclosing(chunks):  # type: ignore[type-var]
                async for chunk in chunks:
                    used = usage(chunk.get("usage")) or used
                    for choice in chunk["choices"]:
                        for piece in self._deltas(choice["delta"]):
                            yield piece
                        finish = choice.get("finish_reason") or finish
        except GatewayError as exc:
            log.warning(
                "stream ended by upstream error", extra={"event": "stream_error", "status": exc.status}
            )
            self.failure = exc
            yield self._event("error", code=exc.code, message=exc.message, param=exc.param)
            return
        except Exception:
            log.exception("stream failed", extra={"event": "stream_bug"})
            failure = self.failure = InternalError("The gateway failed while streaming.")
            yield self._event("error", code=failure.code, message=failure.message, param=None)
            return
        status, reason = _status(finish)
        if not self._items:
            for piece in self._text(""):
                yield piece
        for piece in self._close(status):
            yield piece
        kind = "response.completed" if status == "completed" else "response.incomplete"
        yield self._event(kind, response=self._snapshot(status, used, reason))

    def _deltas(self, delta: dict[str, Any]) -> list[bytes]:
        out = self._text(delta["content"]) if delta.get("content") else []
        for piece in delta.get("tool_calls") or []:
            out += self._call(piece)
        return out

    def _text(self, text: str) -> list[bytes]:
        out = []
        if self._text_at is None:
            self._text_at = len(self._items)
            item = _message_item(_id("msg"), "", "in_progress")
            self._items.append(item)
            added = {**item, "content": []}
            out.append(self._event("response.output_item.added", output_index=self._text_at, item=added))
            out.append(
                self._event(
                    "response.content_part.added",
                    item_id=item["id"],
                    output_index=self._text_at,
                    content_index=0,
                    part=_text_part(""),
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
            item = _call_item(call_id, function.get("name") or "", "", "in_progress")
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
