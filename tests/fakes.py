"""Scripted stand-ins for in-process tests: enqueue what OCI (through LiteLLM) answers, then check what
the gateway asked for. Replies are LiteLLM's own response types, as the real `litellm` returns them."""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_MODE", "PRODUCTION")

import litellm
from litellm.types.utils import (
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    Choices,
    Delta,
    EmbeddingResponse,
    Function,
    Message,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    Usage,
)

from oci_genai_gateway.core.gateway import Gateway, Reply, Request
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.signers import RefreshingSigner

BASE_ENV = {"GATEWAY_REGION": "us-chicago-1", "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..fake"}


class Hang:
    """A scripted reply that never comes (the upstream stops answering)."""


class ScriptedStream:
    """A stream as LiteLLM returns it: chunks, then the end, a failure, or silence."""

    def __init__(
        self,
        chunks: Iterable[ModelResponseStream],
        *,
        oci_usage: Mapping[str, int] | None = None,
        then: BaseException | Hang | None = None,
    ) -> None:
        self._chunks = deque(chunks)
        self._usage = dict(oci_usage) if oci_usage is not None else None
        self._then = then
        self.closed = False

    def __aiter__(self) -> ScriptedStream:
        return self

    async def __anext__(self) -> ModelResponseStream:
        if self._chunks:
            return self._chunks.popleft()
        if self._usage is not None:
            # core/llm.py's patch records OCI's usage event on the stream object when it arrives.
            self.gateway_oci_usage = self._usage
        if isinstance(self._then, BaseException):
            raise self._then
        if isinstance(self._then, Hang):
            await asyncio.Event().wait()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.closed = True


class ScriptedLLM:
    """Answers `acompletion`/`aembedding` from a queue and records every call's arguments."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._replies: deque[Any] = deque()

    def enqueue(self, *replies: Any) -> ScriptedLLM:
        """Replies in order: a response, a ScriptedStream, an exception to raise, or Hang()."""
        self._replies.extend(replies)
        return self

    async def acompletion(self, **kwargs: Any) -> Any:
        return await self._answer(kwargs)

    async def aembedding(self, **kwargs: Any) -> Any:
        return await self._answer(kwargs)

    async def _answer(self, kwargs: dict[str, Any]) -> Any:
        self.calls.append(kwargs)
        assert self._replies, f"unscripted call: {kwargs.get('model')}"
        reply = self._replies.popleft()
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, Hang):
            await asyncio.Event().wait()
        return reply


class FakeSessionSigner:
    """A session-token signer: counts signatures and forced refreshes (the SDK's signer interface)."""

    def __init__(self) -> None:
        self.signed = 0
        self.refreshed = 0

    def __call__(self, request: Any, enforce_content_headers: bool = True) -> Any:
        self.signed += 1
        return request

    def get_security_token(self) -> str:
        return "token"

    def refresh_security_token(self) -> None:
        self.refreshed += 1


def gateway(llm: ScriptedLLM, **env: str) -> tuple[Gateway, FakeSessionSigner]:
    """A gateway over the scripted LLM, settings from BASE_ENV plus `env`."""
    signer = FakeSessionSigner()
    settings = Settings.from_env({**BASE_ENV, "GATEWAY_UPSTREAM_RETRIES": "0", **env})
    authenticate = bool(settings.api_keys)  # as the HTTP server does; functions leave keys to API Gateway
    return Gateway.build(settings, RefreshingSigner(signer), llm, authenticate=authenticate), signer


async def send(
    gw: Gateway,
    method: str,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    **options: Any,
) -> Reply:
    """One request through `Gateway.handle`, as a transport would hand it over."""
    return await gw.handle(Request(method, path, dict(headers or {}), body, **options))


async def read_stream(reply: Reply) -> bytes:
    """A streamed reply's bytes (as the ASGI transport would send them)."""
    assert reply.stream is not None
    return b"".join([piece async for piece in reply.stream])


def reply_to(
    text: str | None = "Hello",
    *,
    finish: str = "stop",
    prompt: int = 3,
    completion: int = 2,
    tool_calls: Iterable[tuple[str, str, str]] = (),
    response_id: str = "chatcmpl-upstream",
) -> ModelResponse:
    """A non-streamed chat answer; tool calls as (id, name, arguments)."""
    calls = [
        ChatCompletionMessageToolCall(id=cid, type="function", function=Function(name=name, arguments=args))
        for cid, name, args in tool_calls
    ]
    message = Message(content=text, role="assistant", tool_calls=calls or None)
    usage = Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    choice = Choices(index=0, finish_reason=finish, message=message)
    return ModelResponse(id=response_id, choices=[choice], usage=usage)


def chunk(
    content: str | None = None,
    *,
    finish: str | None = None,
    tool: tuple[str | None, str | None, str] | None = None,
    index: int = 0,
) -> ModelResponseStream:
    """One streamed chunk; a tool fragment as (id, name, arguments)."""
    calls = None
    if tool is not None:
        cid, name, args = tool
        function = Function(name=name, arguments=args)
        calls = [ChatCompletionDeltaToolCall(id=cid, type="function", function=function, index=0)]
    delta = Delta(content=content, tool_calls=calls)
    return ModelResponseStream(choices=[StreamingChoices(index=index, delta=delta, finish_reason=finish)])


def embedding(vectors: list[list[float]], tokens: int = 4) -> EmbeddingResponse:
    """An embedText answer."""
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    return EmbeddingResponse(data=data, usage=Usage(prompt_tokens=tokens, total_tokens=tokens))


def oci_error(kind: str, message: str = "OCI said no", **extra: Any) -> Exception:
    """One of LiteLLM's exception classes, as its OCI provider raises them."""
    error: Exception = getattr(litellm, kind)(message, llm_provider="oci", model="oci/m", **extra)
    return error
