"""Load LiteLLM with no network and no surprises, and correct the OCI defects we know of."""

from __future__ import annotations

import contextvars
import functools
import os
from typing import Any, Protocol, cast

# Set before LiteLLM's first import (litellm/__init__.py reads them there): no cost-map download,
# no .env loading, no tokenizer download from a model hub on the event loop thread.
_LITELLM_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_MODE": "PRODUCTION",
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_LOG": "ERROR",
    # LiteLLM's shared aiohttp pool allows 500 connections per host (1000 in all); every open
    # stream holds one, so stream 501 to OCI would wait for another to finish before it starts.
    # Let the open-file limit bound concurrent streams instead (bench/streams.py, issue 6).
    "AIOHTTP_CONNECTOR_LIMIT": "10000",
    "AIOHTTP_CONNECTOR_LIMIT_PER_HOST": "10000",
}

# Headers of the last failed OCI response in this request; LiteLLM drops them (Retry-After
# included) when it turns an HTTP error into an exception.
error_headers: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "oci_error_headers", default=None
)

# OCI's GENERIC format reports OpenAI-style lower-case reasons; LiteLLM 1.110 only knows
# COHERE's upper-case ones and collapses everything else to "stop".
_FINISH_REASONS = {
    "COMPLETE": "stop",
    "stop": "stop",
    "end_turn": "stop",
    "MAX_TOKENS": "length",
    "length": "length",
    "max_tokens": "length",
    "TOOL_CALL": "tool_calls",
    "TOOL_CALLS": "tool_calls",
    "tool_calls": "tool_calls",
    "tool_call": "tool_calls",
    "content_filter": "content_filter",
    "CONTENT_FILTERED": "content_filter",
    "ERROR_TOXIC": "content_filter",
}


def normalize_finish_reason(raw: str | None) -> str | None:
    """Map any OCI finish reason (either format) to OpenAI's vocabulary."""
    if raw is None:
        return None
    return _FINISH_REASONS.get(raw, _FINISH_REASONS.get(raw.lower(), "stop"))


class LLM(Protocol):
    """The part of LiteLLM the gateway calls; tests pass a scripted stand-in (tests/fakes.py)."""

    async def acompletion(self, **kwargs: Any) -> Any:
        """A chat completion: a ModelResponse, or a stream of ModelResponseStream when `stream=True`."""

    async def aembedding(self, **kwargs: Any) -> Any:
        """An EmbeddingResponse."""


@functools.cache
def load_litellm() -> LLM:
    """Import and configure LiteLLM once per process (called from entry points, never at import)."""
    for key, value in _LITELLM_ENV.items():
        os.environ.setdefault(key, value)
    import litellm
    from litellm.llms.oci.chat import cohere, generic

    litellm.disable_token_counter = True
    litellm.suppress_debug_info = True
    litellm.drop_params = False
    litellm.telemetry = False
    for module in (generic, cohere):  # cohere imports the function by name, so patch both
        setattr(module, "normalize_oci_finish_reason", normalize_finish_reason)  # noqa: B010
    _request_stream_usage()
    _capture_stream_usage()
    _capture_error_headers()
    return cast(LLM, litellm)


def _capture_error_headers() -> None:
    """Record an OCI error response's headers where `Upstream` can read Retry-After."""
    import httpx
    from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler

    handler: Any = AsyncHTTPHandler
    if getattr(handler, "_gateway_headers_patch", False):
        return
    original = handler.post

    async def post(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except httpx.HTTPStatusError as exc:
            _record(exc.response.headers)
            raise
        except Exception as exc:
            response = getattr(exc, "response", None)
            if response is not None and getattr(response, "headers", None) is not None:
                _record(response.headers)
            raise

    handler.post = post
    handler._gateway_headers_patch = True


def _record(headers: Any) -> None:
    sink = error_headers.get()
    if sink is not None:
        sink.update({str(k).lower(): str(v) for k, v in headers.items()})


def _request_stream_usage() -> None:
    """Ask OCI for its token usage at the end of every stream (`streamOptions.isIncludeUsage`).

    LiteLLM maps OpenAI's `stream_options` to nothing for OCI, so without this OCI never sends
    usage and a client's `include_usage` chunk would carry zeros.
    """
    from litellm.llms.oci.chat import transformation

    config: Any = transformation.OCIChatConfig
    if getattr(config, "_gateway_usage_patch", False):
        return
    original = config.transform_request

    def transform_request(self: Any, *args: Any, **kwargs: Any) -> Any:
        data = original(self, *args, **kwargs)
        chat_request = data.get("chatRequest") if isinstance(data, dict) else None
        if isinstance(chat_request, dict) and chat_request.get("isStream"):
            chat_request["streamOptions"] = {"isIncludeUsage": True}
        return data

    config.transform_request = transform_request
    config._gateway_usage_patch = True


def _capture_stream_usage() -> None:
    """Keep the usage OCI sends at the end of a GENERIC stream; LiteLLM parses and drops it."""
    from litellm.llms.oci.chat import transformation

    wrapper: Any = transformation.OCIStreamWrapper
    if getattr(wrapper, "_gateway_usage_patch", False):
        return
    original = wrapper.chunk_creator

    def chunk_creator(self: Any, chunk: object) -> Any:
        if isinstance(chunk, str) and '"usage"' in chunk:
            usage = _usage_from_event(chunk)
            if usage is not None:
                self.gateway_oci_usage = usage
        return original(self, chunk)

    wrapper.chunk_creator = chunk_creator
    wrapper._gateway_usage_patch = True


def _usage_from_event(chunk: str) -> dict[str, int] | None:
    import json

    try:
        event = json.loads(chunk.removeprefix("data:").strip())
    except ValueError:
        return None
    usage = event.get("usage") if isinstance(event, dict) else None
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("promptTokens")
    completion = usage.get("completionTokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    total = usage.get("totalTokens")
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": total if isinstance(total, int) else prompt + completion,
    }
