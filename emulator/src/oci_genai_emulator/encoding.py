"""zstd content encoding, as OCI negotiates it: one complete zstd frame per SSE event.

When a client offers `zstd` in Accept-Encoding, OCI answers `Content-Encoding: zstd` and writes each
streamed event as its own complete frame, flushed as it goes; decoders that keep one decompression
object across reads then fail ("cannot use a decompressobj multiple times",
https://github.com/oracle/ai-optimizer issue 592; https://github.com/BerriAI/litellm pull requests
40028 and 35601; https://github.com/anomalyco/models.dev pull request 7087). Raw zstd bytes from
OCI are not recorded: frame parameters (level, content size in the header) are the emulator's.
A JSON answer is one frame. Without `zstd` offered the emulator answers identity.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

import zstandard
from starlette.responses import Response, StreamingResponse

ZSTD = "zstd"


def offers_zstd(accept_encoding: str | None) -> bool:
    """True when Accept-Encoding lists `zstd` with a q-value above 0 (a `*` does not count)."""
    for item in (accept_encoding or "").split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if coding.lower() != ZSTD:
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def compress(response: Response) -> Response:
    """The same response, zstd-encoded: per event for a stream, one frame for a whole body."""
    if isinstance(response, StreamingResponse):
        response.body_iterator = _frames(response.body_iterator)
    else:
        response.body = zstandard.ZstdCompressor().compress(bytes(response.body))
        response.headers["content-length"] = str(len(response.body))
    response.headers["content-encoding"] = ZSTD
    return response


async def _frames(chunks: AsyncIterable[str | bytes | memoryview]) -> AsyncIterator[bytes]:
    compressor = zstandard.ZstdCompressor()
    async for chunk in chunks:
        raw = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
        yield compressor.compress(raw)  # a complete frame: decodable on its own
