"""Each API's request fields as the pinned SDKs type them, beside the gateway's classification of them."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from typing import Any

from anthropic.types import message_count_tokens_params as anthropic_count
from anthropic.types import message_create_params as anthropic_messages
from anthropic.types.beta import message_count_tokens_params as anthropic_beta_count
from anthropic.types.beta import message_create_params as anthropic_beta_messages
from openai.types import embedding_create_params as openai_embeddings
from openai.types import moderation_create_params as openai_moderations
from openai.types.chat import completion_create_params as openai_chat
from openai.types.responses import response_create_params as openai_responses

from oci_genai_gateway.core.apis import embeddings, moderations
from oci_genai_gateway.core.apis.messages import count as message_count
from oci_genai_gateway.core.apis.messages import request as messages
from oci_genai_gateway.core.apis.responses import request as responses
from oci_genai_gateway.core.chat import request as chat
from oci_genai_gateway.core.input.fields import Fields


@dataclass(frozen=True)
class Api:
    """One route: its classification and the SDK request types whose fields it must classify."""

    route: str
    fields: Fields
    sdk: str  # the distribution whose types these are
    types: tuple[Any, ...]

    def sdk_fields(self) -> frozenset[str]:
        """Every field the SDK's request types (TypedDicts) declare."""
        return frozenset().union(*(t.__required_keys__ | t.__optional_keys__ for t in self.types))

    def sdk_version(self) -> str:
        """The installed (pinned) version of the SDK."""
        return importlib.metadata.version(self.sdk)


APIS = (
    Api(
        "/v1/chat/completions",
        chat.FIELDS,
        "openai",
        (openai_chat.CompletionCreateParamsStreaming, openai_chat.CompletionCreateParamsNonStreaming),
    ),
    Api(
        "/v1/responses",
        responses.FIELDS,
        "openai",
        (openai_responses.ResponseCreateParamsStreaming, openai_responses.ResponseCreateParamsNonStreaming),
    ),
    Api(
        "/v1/messages",
        messages.FIELDS,
        "anthropic",
        (
            anthropic_messages.MessageCreateParamsStreaming,
            anthropic_messages.MessageCreateParamsNonStreaming,
            anthropic_beta_messages.MessageCreateParamsStreaming,
            anthropic_beta_messages.MessageCreateParamsNonStreaming,
        ),
    ),
    Api(
        "/v1/messages/count_tokens",
        message_count.FIELDS,
        "anthropic",
        (anthropic_count.MessageCountTokensParams, anthropic_beta_count.MessageCountTokensParams),
    ),
    Api("/v1/embeddings", embeddings.FIELDS, "openai", (openai_embeddings.EmbeddingCreateParams,)),
    Api("/v1/moderations", moderations.FIELDS, "openai", (openai_moderations.ModerationCreateParams,)),
)
