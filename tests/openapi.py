"""Validate response bodies against OpenAI's own OpenAPI component schemas."""

from __future__ import annotations

import copy
import functools
import pathlib
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = pathlib.Path(__file__).resolve().parents[2] / "shared" / "openai-openapi" / "openapi.yaml"
_ROOT = "urn:openai-openapi"


def _nullable_to_union(node: Any) -> Any:
    """Rewrite OpenAPI 3.0 `nullable: true` (still used in the 3.1 file) as JSON Schema `null` unions."""
    if isinstance(node, dict):
        out = {k: _nullable_to_union(v) for k, v in node.items()}
        if out.pop("nullable", False) is True:
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_nullable_to_union(v) for v in node]
    return node


@functools.cache
def _registry() -> Registry[Any]:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    spec = _nullable_to_union(copy.deepcopy(spec))
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    return Registry().with_resource(_ROOT, resource)


def validate(body: Any, schema_name: str) -> None:
    """Raise jsonschema.ValidationError unless `body` matches components/schemas/<schema_name>."""
    schema = {"$ref": f"{_ROOT}#/components/schemas/{schema_name}"}
    validator = jsonschema.Draft202012Validator(schema, registry=_registry())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        raise errors[0]
