"""POST /v1/embeddings: batches of 96 inputs sent concurrently, merged in order."""

from __future__ import annotations

import array
import asyncio
import base64
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.settings import Target
from oci_genai_gateway.core.upstream import Upstream
from oci_genai_gateway.core.validate import optional_choice, optional_int, reject_unknown, required_str

OCI_BATCH_LIMIT = 96  # OCI embedText rejects more inputs per call
MAX_INPUTS = 2048  # OpenAI's own per-request limit
_MAX_CONCURRENT_BATCHES = 8
_KNOWN = frozenset({"model", "input", "encoding_format", "dimensions", "user", "input_type", "truncate"})
_INPUT_TYPES = frozenset({"SEARCH_DOCUMENT", "SEARCH_QUERY", "CLASSIFICATION", "CLUSTERING", "IMAGE"})
_TRUNCATE = frozenset({"NONE", "START", "END"})


@dataclass(frozen=True)
class EmbeddingRequest:
    """A validated embeddings request."""

    model: str
    target: Target
    inputs: list[str]
    base64: bool
    params: dict[str, Any] = field(default_factory=dict)


def parse(body: dict[str, Any], resolve: Callable[[str], Target]) -> EmbeddingRequest:
    """Validate an OpenAI CreateEmbeddingRequest (plus OCI's `input_type` and `truncate`)."""
    reject_unknown(body, _KNOWN)
    model = required_str(body, "model")
    inputs = _inputs(body.get("input"))
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise InvalidRequest(
            "Invalid 'encoding_format': expected 'float' or 'base64'.", param="encoding_format"
        )
    params: dict[str, Any] = {}
    dimensions = optional_int(body, "dimensions", 1)
    if dimensions is not None:
        params["dimensions"] = dimensions
    for name, choices in (("input_type", _INPUT_TYPES), ("truncate", _TRUNCATE)):
        choice = optional_choice(body, name, choices)
        if choice is not None:
            params[name] = choice
    return EmbeddingRequest(model, resolve(model), inputs, fmt == "base64", params)


def _inputs(raw: Any) -> list[str]:
    if raw is None:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input")
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise InvalidRequest(
            "Invalid 'input': expected a string or a non-empty array of strings.", param="input"
        )
    if any(isinstance(i, int | list) and not isinstance(i, bool) for i in items):
        raise InvalidRequest(
            "Token-id arrays are not supported: OCI Generative AI embeds text, so send 'input' as strings.",
            param="input",
        )
    if not all(isinstance(i, str) and i for i in items):
        raise InvalidRequest("Invalid 'input': every item must be a non-empty string.", param="input")
    if len(items) > MAX_INPUTS:
        raise InvalidRequest(f"Invalid 'input': at most {MAX_INPUTS} inputs per request.", param="input")
    return items


async def create(request: EmbeddingRequest, upstream: Upstream) -> dict[str, Any]:
    """Embed every input; responses keep the order of `input`."""
    gate = asyncio.Semaphore(_MAX_CONCURRENT_BATCHES)
    inputs = request.inputs
    batches = [inputs[i : i + OCI_BATCH_LIMIT] for i in range(0, len(inputs), OCI_BATCH_LIMIT)]
    results = await asyncio.gather(*(_embed(request, upstream, batch, gate) for batch in batches))
    data: list[dict[str, Any]] = []
    tokens = 0
    for response in results:
        for item in response.data:
            vector = item["embedding"] if isinstance(item, dict) else item.embedding
            encoded: Any = _base64(vector) if request.base64 else [float(x) for x in vector]
            data.append({"object": "embedding", "index": len(data), "embedding": encoded})
        tokens += int(getattr(getattr(response, "usage", None), "prompt_tokens", 0) or 0)
    return {
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


async def _embed(
    request: EmbeddingRequest, upstream: Upstream, batch: list[str], gate: asyncio.Semaphore
) -> Any:
    async with gate:
        return await upstream.embed(request.model, request.target, {**request.params, "input": batch})


def _base64(vector: list[float]) -> str:
    """OpenAI's base64 format: the float32 little-endian bytes of the vector."""
    packed = array.array("f", vector)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")
