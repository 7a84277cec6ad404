"""LiteLLM, loaded offline and once: its OCI provider's request transform is what the gateway uses."""

from __future__ import annotations

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
}


class ChatTransform(Protocol):
    """The two methods of LiteLLM's `OCIChatConfig` that build an OCI chat body from OpenAI's."""

    def map_openai_params(
        self,
        non_default_params: dict[str, Any],
        optional_params: dict[str, Any],
        model: str,
        drop_params: bool,
    ) -> dict[str, Any]:
        """OpenAI parameter names to OCI's (raises a 400 OCIError for one OCI cannot take)."""

    def transform_request(
        self,
        model: str,
        messages: list[dict[str, Any]],
        optional_params: dict[str, Any],
        litellm_params: dict[str, Any],
        headers: dict[str, Any],
    ) -> dict[str, Any]:
        """The whole `/actions/chat` body (GENERIC or COHERE by the model's vendor)."""


@functools.cache
def chat_config() -> ChatTransform:
    """LiteLLM's OCI chat transform; the first call imports LiteLLM (~2 s), so entry points warm it."""
    for key, value in _LITELLM_ENV.items():
        os.environ.setdefault(key, value)
    import litellm
    from litellm.llms.oci.chat.transformation import OCIChatConfig

    litellm.disable_token_counter = True
    litellm.suppress_debug_info = True
    litellm.drop_params = False
    litellm.telemetry = False
    return cast(ChatTransform, OCIChatConfig())
