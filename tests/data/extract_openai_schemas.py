"""Regenerate openai-schemas.json: the OpenAI component schemas our responses must validate against.

Run from the repository root: `.venv/bin/python tests/data/extract_openai_schemas.py openapi.yaml`,
where openapi.yaml is OpenAI's published OpenAPI description
(https://github.com/openai/openai-openapi, the commit named in `source` below). It keeps the named
schemas plus every schema they reference, so tests need no file outside the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
from typing import Any

import yaml

ROOTS = (
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "CreateEmbeddingResponse",
    "CreateModerationResponse",
    "ListModelsResponse",
    "Model",
    "ErrorResponse",
    # /v1/responses: the Response object and every stream event the gateway emits (by `type`).
    "Response",
    "ResponseCreatedEvent",
    "ResponseInProgressEvent",
    "ResponseOutputItemAddedEvent",
    "ResponseContentPartAddedEvent",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "ResponseContentPartDoneEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseCompletedEvent",
    "ResponseIncompleteEvent",
    "ResponseErrorEvent",
    # Reasoning items and custom (freeform) tool calls (issue 20).
    "ResponseReasoningSummaryPartAddedEvent",
    "ResponseReasoningSummaryTextDeltaEvent",
    "ResponseReasoningSummaryTextDoneEvent",
    "ResponseReasoningSummaryPartDoneEvent",
    "ResponseReasoningTextDeltaEvent",
    "ResponseReasoningTextDoneEvent",
    "ResponseCustomToolCallInputDeltaEvent",
    "ResponseCustomToolCallInputDoneEvent",
)
HERE = pathlib.Path(__file__).resolve().parent
PREFIX = "#/components/schemas/"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"][len(PREFIX) :]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def main() -> None:
    """Write tests/data/openai-schemas.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=pathlib.Path, help="OpenAI's openapi.yaml")
    raw = parser.parse_args().spec.read_bytes()
    schemas = yaml.safe_load(raw)["components"]["schemas"]
    keep: set[str] = set()
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name not in keep:
            keep.add(name)
            todo.extend(_refs(schemas[name]) - keep)
    out = {
        "source": "openai/openai-openapi@f85dbe223d40e1a31cba812ab2d755c7e98a92a3 openapi.yaml",
        "sha256": hashlib.sha256(raw).hexdigest(),
        "components": {"schemas": {name: schemas[name] for name in sorted(keep)}},
    }
    (HERE / "openai-schemas.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
