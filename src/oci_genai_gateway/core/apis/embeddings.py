"""POST /v1/embeddings: batches of 96 inputs sent concurrently, merged in order."""

from __future__ import annotations

import array
import asyncio
import base64
import sys
from dataclasses import dataclass, field
from typing import Any

from oci_genai_gateway.core.access.grant import Grant
from oci_genai_gateway.core.errors import InvalidRequest, UpstreamError
from oci_genai_gateway.core.input.bounds import MAX_DIMENSIONS, MAX_ID_CHARS
from oci_genai_gateway.core.input.fields import Fields
from oci_genai_gateway.core.input.validate import (
    optional_choice,
    optional_int,
    optional_str,
    required_str,
)
from oci_genai_gateway.core.targets import Resolve, Target
from oci_genai_gateway.core.upstream.http import OciHttp, Served

OCI_BATCH_LIMIT = 96  # OCI embedText rejects more inputs per call
MAX_INPUTS = 2048  # OpenAI's own per-request limit
_MAX_CONCURRENT_BATCHES = 8
# `input_type` and `truncate` are OCI's own (EmbedTextDetails), offered beside OpenAI's fields.
FIELDS = Fields(
    honoured=frozenset({"model", "input", "encoding_format", "dimensions", "input_type", "truncate"}),
    ignored={"user": "an end-user id for the provider's abuse monitoring"},
    refused={},
)
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


def parse(body: dict[str, Any], resolve: Resolve) -> EmbeddingRequest:
    """Validate an OpenAI CreateEmbeddingRequest (plus OCI's `input_type` and `truncate`)."""
    model = required_str(body, "model")
    inputs = _inputs(body.get("input"))
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise InvalidRequest(
            "Invalid 'encoding_format': expected 'float' or 'base64'.", param="encoding_format"
        )
    params: dict[str, Any] = {}
    optional_str(body, "user", MAX_ID_CHARS)
    dimensions = optional_int(body, "dimensions", 1, MAX_DIMENSIONS)
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
            "Token-id arrays are not supported: OCI Generative AI embeds text, so send 'input' as strings "
            "(LangChain's OpenAIEmbeddings does with check_embedding_ctx_length=False).",
            param="input",
        )
    if not all(isinstance(i, str) and i for i in items):
        raise InvalidRequest("Invalid 'input': every item must be a non-empty string.", param="input")
    if len(items) > MAX_INPUTS:
        raise InvalidRequest(f"Invalid 'input': at most {MAX_INPUTS} inputs per request.", param="input")
    return items


async def create(request: EmbeddingRequest, oci: OciHttp, grant: Grant) -> tuple[dict[str, Any], str]:
    """Embed every input (responses keep the order of `input`), and name the region(s) that did."""
    gate = asyncio.Semaphore(_MAX_CONCURRENT_BATCHES)
    inputs = request.inputs
    batches = [inputs[i : i + OCI_BATCH_LIMIT] for i in range(0, len(inputs), OCI_BATCH_LIMIT)]
    results = await asyncio.gather(*(_embed(request, oci, batch, gate) for batch in batches))
    data: list[dict[str, Any]] = []
    tokens = 0
    for batch, served in zip(batches, results, strict=True):
        response = served.value
        vectors = response.get("embeddings")
        if not isinstance(vectors, list) or len(vectors) != len(batch):
            raise UpstreamError("OCI Generative AI answered with the wrong number of embeddings.")
        for vector in vectors:
            encoded: Any = _base64(vector) if request.base64 else [float(x) for x in vector]
            data.append({"object": "embedding", "index": len(data), "embedding": encoded})
        tokens += _tokens(response)
    region = ",".join(dict.fromkeys(served.region for served in results))
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    grant.record("embeddings", request.model, request.target, usage, region=region)
    return {
        "object": "list",
        "data": data,
        "model": request.model,
        "usage": usage,
    }, region


def embed_body(request: EmbeddingRequest, compartment_id: str, batch: list[str]) -> dict[str, Any]:
    """OCI's EmbedTextDetails for one batch (the oci SDK's model names every field)."""
    target = request.target
    serving: dict[str, str] = (
        {"servingType": "DEDICATED", "endpointId": target.endpoint_id}
        if target.endpoint_id
        else {"servingType": "ON_DEMAND", "modelId": target.model}
    )
    # OCI's default truncation is NONE (an over-long input fails); OpenAI's models cut at the end.
    body: dict[str, Any] = {
        "inputs": batch,
        "servingMode": serving,
        "compartmentId": compartment_id,
        "truncate": request.params.get("truncate", "END"),
    }
    if "input_type" in request.params:
        body["inputType"] = request.params["input_type"]
    if "dimensions" in request.params:
        body["outputDimensions"] = request.params["dimensions"]
    return body


async def _embed(
    request: EmbeddingRequest, oci: OciHttp, batch: list[str], gate: asyncio.Semaphore
) -> Served[dict[str, Any]]:
    async with gate:
        body = embed_body(request, oci.settings.compartment_id, batch)
        return await oci.post_json("embedText", body, request.model, request.target)


def _tokens(response: dict[str, Any]) -> int:
    """Input tokens: `usage.promptTokens` (current API) or the older per-input counts."""
    usage = response.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("promptTokens"), int):
        return int(usage["promptTokens"])
    counts = response.get("inputTextTokenCounts")
    return sum(c for c in counts if isinstance(c, int)) if isinstance(counts, list) else 0


def _base64(vector: list[float]) -> str:
    """OpenAI's base64 format: the float32 little-endian bytes of the vector."""
    packed = array.array("f", vector)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")
