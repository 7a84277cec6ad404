"""An estimate of the input tokens a chat request shows the model: characters / 4, images at a flat rate.

OCI has no token-counting endpoint and each vendor tokenizes differently, so `/v1/messages/count_tokens`
and the `input_tokens` trigger of context editing both use this one documented estimate (README.md,
`POST /v1/messages/count_tokens`). Its error: about 4 characters per token holds for English prose
with BPE tokenizers; code and JSON schemas run nearer 3 (an undercount of up to ~25%), and scripts
such as Chinese or Japanese nearer 1 (an undercount of up to 4x).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

CHARS_PER_TOKEN = 4
# Anthropic's own rule is width * height / 750 tokens, at most about 1,600 for a 1.15-megapixel image
# (https://docs.anthropic.com/en/docs/build-with-claude/vision#evaluate-image-size); images are not
# decoded here, so each counts as the largest.
IMAGE_TOKENS = 1600
# Each message's role and framing (chat templates add a few tokens per turn).
MESSAGE_TOKENS = 4


def text_tokens(text: str) -> int:
    """Tokens of a text: characters / 4, rounded up."""
    return chars_tokens(len(text))


def chars_tokens(chars: int) -> int:
    """Tokens of `chars` characters of text."""
    return -(-chars // CHARS_PER_TOKEN)


def message_tokens(message: Mapping[str, Any]) -> int:
    """Tokens of one chat message: its text parts, images, tool calls, reasoning sent back and framing."""
    content = message.get("content")
    total = MESSAGE_TOKENS + text_tokens(str(message.get("reasoning_content") or ""))
    if isinstance(content, str):
        total += text_tokens(content)
    elif isinstance(content, list):
        for part in content:
            if part.get("type") == "image_url":
                total += IMAGE_TOKENS
            else:
                total += text_tokens(str(part.get("text", "")))
    for call in message.get("tool_calls") or ():
        function = call["function"]
        total += text_tokens(function["name"]) + text_tokens(function["arguments"])
    return total


def request_tokens(messages: Iterable[Mapping[str, Any]], params: Mapping[str, Any]) -> int:
    """Tokens of a whole chat request: messages, tool definitions and the response format's schema."""
    total = sum(message_tokens(m) for m in messages)
    for tool in params.get("tools") or ():
        total += text_tokens(json.dumps(tool["function"], separators=(",", ":")))
    fmt = params.get("response_format")
    if fmt is not None:
        total += text_tokens(json.dumps(fmt, separators=(",", ":")))
    return total
