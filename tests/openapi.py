"""Validate response bodies against OpenAI's own OpenAPI component schemas."""

from __future__ import annotations

import copy
import functools
import json
import pathlib
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# The response schemas of OpenAI's OpenAPI description and everything they reference, extracted by
# tests/data/extract_openai_schemas.py so the suite needs no file outside the repository.
SPEC_PATH = pathlib.Path(__file__).resolve().parent / "data" / "openai-schemas.json"
_ROOT = "urn:openai-openapi"


def nullable_to_union(node: Any) -> Any:
    """Rewrite OpenAPI 3.0 `nullable: true` (still used in the 3.1 file) as JSON Schema `null` unions."""
    if isinstance(node, dict):
        out = {k: nullable_to_union(v) for k, v in node.items()}
        if out.pop("nullable", False) is True:
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [nullable_to_union(v) for v in node]
    return node


@functools.cache
def _registry() -> Registry[Any]:
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    spec = nullable_to_union(copy.deepcopy(spec))
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    return Registry().with_resource(_ROOT, resource)


def validate(body: Any, schema_name: str) -> None:
    """Raise jsonschema.ValidationError unless `body` matches components/schemas/<schema_name>."""
    schema = {"$ref": f"{_ROOT}#/components/schemas/{schema_name}"}
    validator = jsonschema.Draft202012Validator(schema, registry=_registry())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        raise errors[0]


# OpenAI's schema for each Responses stream event type this gateway sends.
EVENT_SCHEMAS = {
    "response.created": "ResponseCreatedEvent",
    "response.in_progress": "ResponseInProgressEvent",
    "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.content_part.added": "ResponseContentPartAddedEvent",
    "response.output_text.delta": "ResponseTextDeltaEvent",
    "response.output_text.done": "ResponseTextDoneEvent",
    "response.content_part.done": "ResponseContentPartDoneEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
    "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneEvent",
    "response.completed": "ResponseCompletedEvent",
    "response.incomplete": "ResponseIncompleteEvent",
    "response.reasoning_summary_part.added": "ResponseReasoningSummaryPartAddedEvent",
    "response.reasoning_summary_text.delta": "ResponseReasoningSummaryTextDeltaEvent",
    "response.reasoning_summary_text.done": "ResponseReasoningSummaryTextDoneEvent",
    "response.reasoning_summary_part.done": "ResponseReasoningSummaryPartDoneEvent",
    "response.reasoning_text.delta": "ResponseReasoningTextDeltaEvent",
    "response.reasoning_text.done": "ResponseReasoningTextDoneEvent",
    "response.custom_tool_call_input.delta": "ResponseCustomToolCallInputDeltaEvent",
    "response.custom_tool_call_input.done": "ResponseCustomToolCallInputDoneEvent",
    "error": "ResponseErrorEvent",
}
