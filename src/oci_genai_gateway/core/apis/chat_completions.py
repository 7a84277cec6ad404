"""POST /v1/chat/completions: the chat pipeline's answer is already OpenAI's; its stream is `data:` events."""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.core.chat.request import ChatRequest
from oci_genai_gateway.core.errors import GatewayError
from oci_genai_gateway.core.sse import DONE, Chunk, event


def render(_request: ChatRequest, completion: dict[str, Any]) -> dict[str, Any]:
    """The completion as the pipeline built it."""
    return completion


class ChunkEvents:
    """The StreamRenderer of /v1/chat/completions: one `data:` event per chunk, then `data: [DONE]`."""

    trailer = DONE  # after an error event too, as OpenAI ends every stream

    def __init__(self, _request: ChatRequest) -> None:
        pass

    def start(self) -> list[bytes]:
        """Nothing comes before the first chunk."""
        return []

    def feed(self, chunk: Chunk) -> list[bytes]:
        """The chunk itself."""
        return [event(chunk)]

    def finish(self) -> list[bytes]:
        """The pipeline's last chunks already carry the finish reasons and usage."""
        return []

    def error(self, exc: GatewayError) -> bytes:
        """OpenAI's error envelope as one more event."""
        return event(exc.to_body())
