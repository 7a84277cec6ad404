"""POST /v1/chat/completions: one OCI chat call per generation, shaped exactly as OpenAI answers."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from oci_genai_gateway.core.access import metering
from oci_genai_gateway.core.chat import oci as oci_chat
from oci_genai_gateway.core.chat.events import StreamTranslator
from oci_genai_gateway.core.chat.request import ChatRequest
from oci_genai_gateway.core.errors import InvalidRequest, ModelNotFound, UpstreamError, UpstreamTimeout
from oci_genai_gateway.core.upstream.http import OciHttp, sse_events

Chunk = dict[str, Any]

# After the last finish event GENERIC models send their usage at once; a model that sends none
# leaves the connection open, so the wait is short, and skipped once the model has shown it.
USAGE_WAIT_SECONDS = 1.0


async def create(request: ChatRequest, oci: OciHttp) -> dict[str, Any]:
    """Answer a non-streaming request; `n` > 1 fans out into concurrent OCI calls (COHERE has no `n`)."""
    body = oci_chat.chat_body(request, oci.settings)
    responses = await asyncio.gather(*(_post(request, oci, body) for _ in range(request.n)))
    choices: list[dict[str, Any]] = []
    usage: dict[str, Any] | None = None
    for response in responses:
        for choice in oci_chat.choices(response, single_tool_call=request.single_tool_call):
            choices.append({**choice, "index": len(choices)})
        usage = oci_chat.add_usage(usage, oci_chat.oci_usage(response), same_prompt=True)
    metering.record("chat", request.model, request.target, usage)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": choices,
        "usage": usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


async def _post(request: ChatRequest, oci: OciHttp, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return await oci.post_json("chat", body, request.model)
    except ModelNotFound:
        _remember_not_on_demand(request, oci)
        raise


async def stream(request: ChatRequest, oci: OciHttp) -> AsyncIterator[Chunk]:
    """Open the OCI stream (errors surface here, before any byte is sent) and return the chunks."""
    model = request.target.model
    with_options = model not in oci.quirks.no_stream_options
    try:
        response = await _open(request, oci, stream_usage=with_options)
    except InvalidRequest as exc:
        if not with_options or "streamOptions" not in exc.message:
            raise
        # A model that refuses the usage option still streams without it.
        oci.quirks.no_stream_options.add(model)
        response = await _open(request, oci, stream_usage=False)
    return _chunks(request, oci, response)


async def _open(request: ChatRequest, oci: OciHttp, *, stream_usage: bool) -> httpx.Response:
    body = oci_chat.chat_body(request, oci.settings, stream=True, stream_usage=stream_usage)
    try:
        return await oci.open_stream("chat", body, request.model)
    except ModelNotFound:
        _remember_not_on_demand(request, oci)
        raise


def _remember_not_on_demand(request: ChatRequest, oci: OciHttp) -> None:
    # OCI lists some models it will not serve on demand; /v1/models stops offering them.
    if request.target.endpoint_id is None:
        oci.quirks.not_on_demand.add(request.target.model)


async def _chunks(request: ChatRequest, oci: OciHttp, response: httpx.Response) -> AsyncIterator[Chunk]:
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
    }
    translator = StreamTranslator(single_tool_call=request.single_tool_call)
    events = sse_events(response)  # an async generator: closed explicitly below
    idle = oci.settings.upstream_timeout
    model = request.target.model
    try:
        while True:
            waiting_for_usage = translator.finished
            if waiting_for_usage and (translator.usage is not None or model in oci.quirks.no_stream_usage):
                break
            wait = min(idle, USAGE_WAIT_SECONDS) if waiting_for_usage else idle
            try:
                async with asyncio.timeout(wait):
                    event = await anext(events, None)
            except TimeoutError:
                if waiting_for_usage:
                    break
                raise UpstreamTimeout("OCI Generative AI stopped sending the stream.") from None
            except httpx.TransportError:
                raise UpstreamError("OCI Generative AI failed mid-stream.") from None
            if event is None:
                break  # the end of the body, or Meta Llama's `data: [DONE]`
            for index, delta in translator.feed(event):
                yield {
                    **head,
                    "choices": [{"index": index, "delta": delta, "finish_reason": None, "logprobs": None}],
                }
        if translator.finished and translator.usage is None:
            oci.quirks.no_stream_usage.add(model)
        metering.record("chat", request.model, request.target, translator.usage, stream=True)
        for index, reason in translator.finishes():
            yield {
                **head,
                "choices": [{"index": index, "delta": {}, "finish_reason": reason, "logprobs": None}],
            }
        if request.include_usage and translator.usage is not None:
            yield {**head, "choices": [], "usage": translator.usage}
    finally:
        with contextlib.suppress(Exception):  # best effort: the client is gone or the stream is done
            await events.aclose()
        await response.aclose()


def _piece(index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}
