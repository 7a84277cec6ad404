"""A chat generation: one OCI chat call per choice, or one OCI stream read into OpenAI chunks."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx

from oci_genai_gateway.core.access.grant import Grant
from oci_genai_gateway.core.chat import answers
from oci_genai_gateway.core.chat.body import chat_body
from oci_genai_gateway.core.chat.deltas import StreamTranslator
from oci_genai_gateway.core.chat.request import ChatRequest
from oci_genai_gateway.core.errors import InvalidRequest, ModelNotFound, UpstreamError, UpstreamTimeout
from oci_genai_gateway.core.upstream.events import sse_events
from oci_genai_gateway.core.upstream.http import OciHttp, Served
from oci_genai_gateway.core.upstream.quirks import ModelQuirks, Quirk

Chunk = dict[str, Any]
T = TypeVar("T")
# How OCI (and the vendors' errors inside its own) name the effort it refuses.
_REASONING_EFFORT = re.compile(r"reasoning_?effort", re.IGNORECASE)
ROUTE = "chat"  # the `route` dimension of every chat generation's usage, whichever API asked for it


async def create(
    request: ChatRequest, oci: OciHttp, quirks: ModelQuirks, grant: Grant
) -> tuple[dict[str, Any], str]:
    """Answer a non-streaming request and name its region(s); `n` > 1 fans out (COHERE has no `n`)."""

    async def post(effort: bool) -> list[Served[dict[str, Any]]]:
        body = chat_body(request, oci.settings, effort=effort)
        return await asyncio.gather(*(_post(request, oci, quirks, body) for _ in range(request.n)))

    replies = await _effort_fallback(request, quirks, post)
    choices: list[dict[str, Any]] = []
    usage: dict[str, Any] | None = None
    for served in replies:
        reply = served.value
        shown = answers.choices(reply, single_tool_call=request.single_tool_call)
        for choice in shown if oci.settings.reasoning_text else map(answers.without_reasoning, shown):
            choices.append({**choice, "index": len(choices)})
        usage = answers.add_usage(usage, answers.oci_usage(reply), same_prompt=True)
    region = ",".join(dict.fromkeys(served.region for served in replies))
    grant.record(ROUTE, request.model, request.target, usage, region=region)
    completion = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": choices,
        "usage": usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }
    return completion, region


async def stream(request: ChatRequest, oci: OciHttp, quirks: ModelQuirks, grant: Grant) -> ChunkStream:
    """Open the OCI stream (errors surface here, before any byte is sent) and return the chunks."""
    model = request.target.model
    started = time.monotonic()  # time to first token counts from here (OpenTelemetry's histogram)

    async def open_stream(effort: bool) -> Served[httpx.Response]:
        with_options = not quirks.has(model, Quirk.NO_STREAM_OPTIONS)
        try:
            return await _open(request, oci, quirks, stream_usage=with_options, effort=effort)
        except InvalidRequest as exc:
            if not with_options or "streamOptions" not in exc.message:
                raise
            # A model that refuses the usage option still streams without it.
            quirks.note(model, Quirk.NO_STREAM_OPTIONS)
            return await _open(request, oci, quirks, stream_usage=False, effort=effort)

    opened = await _effort_fallback(request, quirks, open_stream)
    response = opened.value
    return ChunkStream(_chunks(request, oci, quirks, grant, opened, started), response, opened.region)


async def _effort_fallback(
    request: ChatRequest, quirks: ModelQuirks, call: Callable[[bool], Awaitable[T]]
) -> T:
    """`call(effort)`; when the effort is a hint and OCI refuses it for the model, once more without."""
    # OCI answers 400 to `reasoningEffort` on models that reason without the dial (grok-4 and others:
    # https://github.com/BerriAI/litellm/issues/31449); the model is noted and asked without it after.
    model = request.target.model
    hint = request.effort_is_hint and "reasoning_effort" in request.params
    effort = not (hint and quirks.has(model, Quirk.NO_REASONING_EFFORT))
    try:
        return await call(effort)
    except InvalidRequest as exc:
        if not (hint and effort and _REASONING_EFFORT.search(f"{exc.message} {exc.param}")):
            raise
    quirks.note(model, Quirk.NO_REASONING_EFFORT)
    return await call(False)


class ChunkStream:
    """The chunks of an open OCI stream; closing it closes the response, even before the first chunk."""

    def __init__(self, chunks: AsyncGenerator[Chunk, None], response: httpx.Response, region: str) -> None:
        self._chunks = chunks
        self._response = response
        self.region = region  # the one region this stream is served from, to its end

    def __aiter__(self) -> AsyncGenerator[Chunk, None]:
        return self._chunks

    async def aclose(self) -> None:
        """Stop reading: the generator's cleanup if it began, and the response either way."""
        await self._chunks.aclose()
        await self._response.aclose()


async def _post(
    request: ChatRequest, oci: OciHttp, quirks: ModelQuirks, body: dict[str, Any]
) -> Served[dict[str, Any]]:
    with _noting_not_on_demand(request, quirks):
        return await oci.post_json("chat", body, request.model, request.target)


async def _open(
    request: ChatRequest, oci: OciHttp, quirks: ModelQuirks, *, stream_usage: bool, effort: bool
) -> Served[httpx.Response]:
    body = chat_body(request, oci.settings, stream=True, stream_usage=stream_usage, effort=effort)
    with _noting_not_on_demand(request, quirks):
        return await oci.open_stream("chat", body, request.model, request.target)


@contextlib.contextmanager
def _noting_not_on_demand(request: ChatRequest, quirks: ModelQuirks) -> Iterator[None]:
    """OCI lists some models it will not serve on demand (a 404): /v1/models stops offering them."""
    try:
        yield
    except ModelNotFound:
        if request.target.endpoint_id is None:
            quirks.note(request.target.model, Quirk.NOT_ON_DEMAND)
        raise


async def _chunks(
    request: ChatRequest,
    oci: OciHttp,
    quirks: ModelQuirks,
    grant: Grant,
    opened: Served[httpx.Response],
    started: float,
) -> AsyncGenerator[Chunk, None]:
    response = opened.value
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
    }
    translator = StreamTranslator(
        single_tool_call=request.single_tool_call, reasoning=oci.settings.reasoning_text
    )
    events = sse_events(response)  # an async generator: closed explicitly below
    settings = oci.settings
    model = request.target.model
    first: float | None = None
    try:
        while True:
            # After the last finish event GENERIC models send their usage at once; a model that sends
            # none leaves the connection open, so the wait is short, and skipped once it has shown it.
            waiting_for_usage = translator.finished
            if waiting_for_usage and (
                translator.usage is not None or quirks.has(model, Quirk.NO_STREAM_USAGE)
            ):
                break
            wait = settings.upstream_timeout
            if waiting_for_usage:
                wait = min(wait, settings.usage_wait_seconds)
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
                if first is None:
                    first = time.monotonic()
                    oci.telemetry.first_token(model, first - started)
                yield {**head, "choices": [_piece(index, delta, None)]}
        if translator.finished and translator.usage is None:
            quirks.note(model, Quirk.NO_STREAM_USAGE)
        _per_output_token(oci, model, first, translator.usage)
        grant.record(
            ROUTE, request.model, request.target, translator.usage, stream=True, region=opened.region
        )
        for index, reason in translator.finishes():
            yield {**head, "choices": [_piece(index, {}, reason)]}
        if request.include_usage and translator.usage is not None:
            yield {**head, "choices": [], "usage": translator.usage}
    finally:
        with contextlib.suppress(Exception):  # best effort: the client is gone or the stream is done
            await events.aclose()
        await response.aclose()


def _per_output_token(oci: OciHttp, model: str, first: float | None, usage: dict[str, Any] | None) -> None:
    """The stream's time per output token after the first (with at least two tokens reported)."""
    tokens = int((usage or {}).get("completion_tokens") or 0)
    if first is not None and tokens > 1:
        oci.telemetry.per_output_token(model, (time.monotonic() - first) / (tokens - 1))


def _piece(index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}
