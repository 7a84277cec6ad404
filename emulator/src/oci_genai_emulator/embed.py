"""Embeddings: deterministic unit vectors of the model's real dimension, with OCI's input rules."""

from __future__ import annotations

import hashlib
import math
import struct
import uuid
from collections.abc import Mapping
from typing import Any

from .catalog import Model
from .errors import invalid
from .generation import count_tokens

MAX_INPUTS = 96
_WORDS_PER_BLOCK = 8  # one SHA-256 block yields eight 32-bit words


def embed_result(model: Model, details: Mapping[str, Any]) -> dict[str, Any]:
    """An EmbedTextResult for validated EmbedTextDetails JSON."""
    inputs = _inputs(details)
    dims = _dimensions(model, details.get("outputDimensions"))
    truncate = details.get("truncate") or "NONE"
    texts = [_truncated(model, text, truncate, i) for i, text in enumerate(inputs)]
    tokens = sum(count_tokens(t) for t in texts)
    result: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "embeddings": [vector(model.display_name, text, dims) for text in texts],
        "modelId": model.response_model_id(),
        "modelVersion": model.version,
        "usage": {"promptTokens": tokens, "totalTokens": tokens},
    }
    if details.get("isEcho"):
        result["inputs"] = inputs
    return result


def _inputs(details: Mapping[str, Any]) -> list[str]:
    if details.get("embedContents"):
        raise invalid("embedContents (image embeddings) are not supported by this emulator; use inputs")
    inputs: list[str] = details.get("inputs") or []
    if not inputs:
        raise invalid("inputs must contain at least one text")
    if len(inputs) > MAX_INPUTS:
        raise invalid(f"inputs has {len(inputs)} items; at most {MAX_INPUTS} inputs are allowed per request")
    types = details.get("embeddingTypes")
    if types and list(types) != ["float"]:
        raise invalid("only the float embedding type is supported by this emulator")
    return inputs


def _dimensions(model: Model, requested: int | None) -> int:
    assert model.embedding_dims is not None
    if requested is None:
        return model.embedding_dims
    if not model.output_dimensions:
        raise invalid(f"outputDimensions is not supported by {model.display_name}")
    if requested not in model.output_dimensions:
        allowed = ", ".join(str(d) for d in model.output_dimensions)
        raise invalid(f"outputDimensions must be one of {allowed} for {model.display_name}")
    return requested


def _truncated(model: Model, text: str, truncate: str, index: int) -> str:
    words = text.split()
    if len(words) <= model.max_input_tokens:
        return text
    if truncate == "NONE":
        raise invalid(
            f"inputs[{index}] has {len(words)} tokens, more than the {model.max_input_tokens} "
            f"{model.display_name} accepts; set truncate to START or END"
        )
    keep = model.max_input_tokens
    return " ".join(words[-keep:] if truncate == "START" else words[:keep])


def vector(model_name: str, text: str, dims: int) -> list[float]:
    """A unit vector seeded by SHA-256 of model and text; a shorter one is a renormalised prefix."""
    seed = hashlib.sha256(f"{model_name}\x1f{text}".encode()).digest()
    raw: list[float] = []
    for block in range(-(-dims // _WORDS_PER_BLOCK)):
        words = struct.unpack(">8I", hashlib.sha256(seed + block.to_bytes(4, "big")).digest())
        raw.extend(w / 2**31 - 1.0 for w in words)
    raw = raw[:dims]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [round(v / norm, 7) for v in raw]
