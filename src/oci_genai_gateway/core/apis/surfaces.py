"""The generation APIs over one chat pipeline: how each reads a body, writes an answer, a stream, an error."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from oci_genai_gateway.core.apis import chat_completions
from oci_genai_gateway.core.apis.messages import render as messages
from oci_genai_gateway.core.apis.messages import request as messages_request
from oci_genai_gateway.core.apis.messages.stream import MessageEvents
from oci_genai_gateway.core.apis.responses import render as responses
from oci_genai_gateway.core.apis.responses import request as responses_request
from oci_genai_gateway.core.apis.responses.stream import ResponseEvents
from oci_genai_gateway.core.chat import request as chat_request
from oci_genai_gateway.core.chat.request import ChatRequest
from oci_genai_gateway.core.errors import GatewayError
from oci_genai_gateway.core.input.fields import Fields
from oci_genai_gateway.core.sse import StreamRenderer
from oci_genai_gateway.core.targets import Resolve

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
ErrorDialect = Callable[[GatewayError], dict[str, Any]]


class Parse(Protocol[R_co]):
    """Validate an API's request body; `resolve` maps (and, per key, allows) model names."""

    def __call__(self, body: dict[str, Any], resolve: Resolve, *, fetch_images: bool) -> R_co: ...


class HasChat(Protocol):
    """An API request that runs as a chat request."""

    @property
    def chat(self) -> ChatRequest: ...


@dataclass(frozen=True)
class Surface(Generic[R]):
    """One API: parse its body, find the chat request inside, render the answer and the stream."""

    parse: Parse[R]
    chat_of: Callable[[R], ChatRequest]
    with_chat: Callable[[R, ChatRequest], R]  # the request once its remote images are inlined
    render: Callable[[R, dict[str, Any]], dict[str, Any]]
    stream: Callable[[R], StreamRenderer]
    fields: Fields  # what the API does with each field (docs/COMPATIBILITY.md)
    error_body: ErrorDialect = GatewayError.to_body  # OpenAI's envelope


def _itself(request: ChatRequest) -> ChatRequest:
    return request


def _replaced(_request: ChatRequest, chat: ChatRequest) -> ChatRequest:
    return chat


def _chat(request: HasChat) -> ChatRequest:
    return request.chat


def _with_chat(request: Any, chat: ChatRequest) -> Any:
    return dataclasses.replace(request, chat=chat)


SURFACES: Mapping[str, Surface[Any]] = {
    "/v1/chat/completions": Surface(
        chat_request.parse,
        _itself,
        _replaced,
        chat_completions.render,
        chat_completions.ChunkEvents,
        chat_request.FIELDS,
    ),
    "/v1/responses": Surface(
        responses_request.parse, _chat, _with_chat, responses.render, ResponseEvents, responses_request.FIELDS
    ),
    # Anthropic's clients read Anthropic's error body, with the same statuses.
    "/v1/messages": Surface(
        messages_request.parse,
        _chat,
        _with_chat,
        messages.render,
        MessageEvents,
        messages_request.FIELDS,
        messages.error_body,
    ),
}


def error_body(route: str, exc: GatewayError) -> dict[str, Any]:
    """`exc` in the error dialect of the API at or under `route` (OpenAI's for every other route)."""
    for path, surface in SURFACES.items():
        if route == path or route.startswith(path + "/"):  # /v1/messages/count_tokens speaks Anthropic's
            return surface.error_body(exc)
    return exc.to_body()
