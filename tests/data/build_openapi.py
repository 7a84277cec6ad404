"""Build src/oci_genai_gateway/openapi.json: the OpenAPI 3.1 document of the routes the gateway serves.

Run from the repository root after changing a route, a limit or the request checks:

    .venv/bin/python -m tests.data.build_openapi

Requests are described here by hand (what core/chat/request.py and core/apis/embeddings.py accept, with
the bounds of core/input/bounds.py); responses reuse OpenAI's own component schemas
(tests/data/openai-schemas.json), rewritten for OpenAPI 3.1 (`nullable` as a null union) and with
`Embedding.embedding` also a string (what `encoding_format: base64` answers, OpenAI's API too).
tests/unit/test_openapi_document.py fails when the shipped file and this output differ.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
from typing import Any

from tests.data import openapi_apis as apis
from tests.openapi import SPEC_PATH, nullable_to_union
from tests.paths import REPO

from oci_genai_gateway.core.input import bounds as limits

TARGET = REPO / "src" / "oci_genai_gateway" / "openapi.json"
REF = "#/components/schemas/"

_TEXT_PART = {
    "type": "object",
    "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
    "required": ["type", "text"],
}
_IMAGE_PART = {
    "type": "object",
    "description": "A base64 data URL (data:image/...), or an https:// URL the gateway fetches "
    "(GATEWAY_FETCH_IMAGE_URLS); user messages only.",
    "properties": {
        "type": {"const": "image_url"},
        "image_url": {
            "type": "object",
            "properties": {"url": {"type": "string"}, "detail": {"enum": ["auto", "low", "high"]}},
            "required": ["url"],
        },
    },
    "required": ["type", "image_url"],
}


def _text(parts: list[dict[str, Any]]) -> dict[str, Any]:
    array = {"type": "array", "items": {"anyOf": parts}, "maxItems": limits.MAX_CONTENT_PARTS}
    return {"anyOf": [{"type": "string"}, array]}


_NAME = {"type": "string", "minLength": 1, "maxLength": limits.MAX_NAME_CHARS}
_ID = {"type": "string", "minLength": 1, "maxLength": limits.MAX_ID_CHARS}
_TOOL_CALL = {
    "type": "object",
    "properties": {
        "id": _ID,
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "properties": {"name": _NAME, "arguments": {"type": "string"}},
            "required": ["name", "arguments"],
        },
    },
    "required": ["id", "function"],
}


def _message(roles: list[str], content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    required = extra.pop("required", ["role", "content"])
    properties = {"role": {"enum": roles}, "content": content, "name": _NAME, **extra}
    return {"type": "object", "properties": properties, "required": required}


MESSAGE = {
    "anyOf": [
        _message(["system", "developer"], _text([_TEXT_PART])),
        _message(["user"], _text([_TEXT_PART, _IMAGE_PART])),
        _message(
            ["assistant"],
            {"anyOf": [_text([_TEXT_PART]), {"type": "null"}]},
            tool_calls={"type": "array", "items": _TOOL_CALL, "maxItems": limits.MAX_TOOL_CALLS},
            reasoning_content={
                "type": "string",
                "description": "The reasoning this turn's answer returned, sent back to the model with it "
                "(OCI's GENERIC format; dropped for COHERE).",
            },
            required=["role"],
        ),
        _message(
            ["tool"], _text([_TEXT_PART]), tool_call_id=_ID, required=["role", "content", "tool_call_id"]
        ),
    ]
}
_SCHEMA = {
    "type": "object",
    "description": "A JSON Schema; all of a request's schemas together count "
    f"at most {limits.MAX_SCHEMA_NODES} nodes and {limits.MAX_SCHEMA_DEPTH} levels once $refs are inlined.",
}
TOOL = {
    "type": "object",
    "properties": {
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "properties": {
                "name": _NAME,
                "description": {"type": "string"},
                "parameters": _SCHEMA,
                "strict": {"type": "boolean"},
            },
            "required": ["name"],
        },
    },
    "required": ["type", "function"],
}
_NUMBER = {"type": "number"}


def _bounded(low: float, high: float) -> dict[str, Any]:
    return {"anyOf": [{**_NUMBER, "minimum": low, "maximum": high}, {"type": "null"}]}


CHAT_REQUEST = {
    "type": "object",
    "description": "OpenAI's CreateChatCompletionRequest as this gateway takes it: a parameter it does "
    "not know is ignored and named in X-Gateway-Ignored-Fields (docs/COMPATIBILITY.md); the body "
    f"nests at most {limits.MAX_JSON_DEPTH} levels.",
    "required": ["model", "messages"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "messages": {"type": "array", "items": MESSAGE, "minItems": 1, "maxItems": limits.MAX_MESSAGES},
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {
            "type": ["object", "null"],
            "description": "Only with stream: true.",
            "properties": {"include_usage": {"type": ["boolean", "null"]}},
        },
        "temperature": _bounded(0, 2),
        "top_p": _bounded(0, 1),
        "frequency_penalty": _bounded(-2, 2),
        "presence_penalty": _bounded(-2, 2),
        "seed": {"type": ["integer", "null"], "minimum": -(2**63), "maximum": 2**63 - 1},
        "max_tokens": {"type": ["integer", "null"], "minimum": 1, "maximum": limits.MAX_TOKENS},
        "max_completion_tokens": {"type": ["integer", "null"], "minimum": 1, "maximum": limits.MAX_TOKENS},
        "n": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 16,
            "description": "Above 1: not with stream.",
        },
        "stop": {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": limits.MAX_STOP_CHARS},
                {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": limits.MAX_STOP_CHARS},
                    "maxItems": limits.MAX_STOP,
                },
                {"type": "null"},
            ]
        },
        "logit_bias": {
            "type": ["object", "null"],
            "maxProperties": limits.MAX_LOGIT_BIAS,
            "propertyNames": {"pattern": "^[0-9]+$"},
            "additionalProperties": {**_NUMBER, "minimum": -100, "maximum": 100},
        },
        "tools": {"type": ["array", "null"], "items": TOOL, "minItems": 1, "maxItems": limits.MAX_TOOLS},
        "tool_choice": {
            "anyOf": [
                {"enum": ["none", "auto", "required"]},
                {
                    "type": "object",
                    "description": "Names one of `tools`.",
                    "properties": {
                        "type": {"const": "function"},
                        "function": {
                            "type": "object",
                            "properties": {"name": {"type": "string"}},
                            "required": ["name"],
                        },
                    },
                    "required": ["type", "function"],
                },
                {"type": "null"},
            ]
        },
        "parallel_tool_calls": {"type": ["boolean", "null"]},
        "response_format": {
            "type": ["object", "null"],
            "properties": {
                "type": {"enum": ["text", "json_object", "json_schema"]},
                "json_schema": {
                    "type": "object",
                    "properties": {
                        "name": _NAME,
                        "description": {"type": "string"},
                        "schema": _SCHEMA,
                        "strict": {"type": "boolean"},
                    },
                    "required": ["name"],
                },
            },
            "required": ["type"],
        },
        "reasoning_effort": {"enum": ["none", "minimal", "low", "medium", "high", None]},
        "logprobs": {"enum": [False, None], "description": "Log probabilities are not returned."},
        "modalities": {"anyOf": [{"const": ["text"]}, {"type": "null"}]},
        "user": {"type": ["string", "null"], "maxLength": limits.MAX_ID_CHARS},
        "prompt_cache_key": {"type": ["string", "null"], "maxLength": limits.MAX_ID_CHARS},
        "safety_identifier": {"type": ["string", "null"], "maxLength": limits.MAX_ID_CHARS},
        "service_tier": {"type": ["string", "null"], "maxLength": limits.MAX_ID_CHARS},
        "store": {"type": ["boolean", "null"]},
        "prediction": {"type": ["object", "null"]},
        "metadata": apis.METADATA,
    },
}
_INPUT = {"type": "string", "minLength": 1}
EMBEDDING_REQUEST = {
    "type": "object",
    "description": "OpenAI's CreateEmbeddingRequest, plus OCI's input_type and truncate; text input only; "
    "a parameter the gateway does not know is ignored and named in X-Gateway-Ignored-Fields.",
    "required": ["model", "input"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "input": {
            "anyOf": [
                _INPUT,
                {"type": "array", "items": _INPUT, "minItems": 1, "maxItems": 2048},
            ]
        },
        "encoding_format": {"enum": ["float", "base64"]},
        "dimensions": {"type": ["integer", "null"], "minimum": 1, "maximum": limits.MAX_DIMENSIONS},
        "user": {"type": ["string", "null"], "maxLength": limits.MAX_ID_CHARS},
        "input_type": {
            "type": ["string", "null"],
            "description": "Case-insensitive.",
            "pattern": "(?i)^(search_document|search_query|classification|clustering|image)$",
        },
        "truncate": {"type": ["string", "null"], "pattern": "(?i)^(none|start|end)$"},
    },
}
READINESS = {
    "type": "object",
    "properties": {"status": {"const": "ok"}},
    "required": ["status"],
}
# What each route may answer besides its success (README, "Routes": errors are OpenAI's envelope).
ERRORS = {
    "400": "Invalid request: the parameter is named in `param`.",
    "401": "Missing or wrong bearer key.",
    "403": "The key may not use this model (`model_not_allowed`).",
    "404": "Unknown model or route.",
    "413": "Request body over the limit.",
    "429": "OCI throttled the call (Retry-After when OCI sent one).",
    "502": "OCI failed.",
    "504": "OCI did not answer in time.",
}


def _json(schema: str | dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF + schema} if isinstance(schema, str) else schema}}


def _operation(
    summary: str,
    success: dict[str, Any] | None,
    errors: tuple[str, ...],
    error_schema: str = "ErrorResponse",
    **extra: Any,
) -> dict[str, Any]:
    responses = {} if success is None else {"200": {"description": "Success.", "content": success}}
    for status in errors:
        responses[status] = {"description": ERRORS[status], "content": _json(error_schema)}
    return {"summary": summary, "responses": responses, **extra}


def _messages_operation() -> dict[str, Any]:
    """POST /v1/messages: Anthropic's Messages API, with Anthropic's error body."""
    everything = ("400", "401", "403", "404", "413", "429", "502", "504")
    success = _json("AnthropicMessage") | apis.event_stream("With stream: true, Anthropic's named events.")
    return _operation(
        "Create a message (Anthropic Messages API)",
        success,
        everything,
        "AnthropicError",
        requestBody=_body("CreateMessageRequest"),
    )


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": _json(name)}


_TEXT_PART = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
}
_IMAGE_PART = {
    "type": "object",
    "required": ["type", "image_url"],
    "properties": {
        "type": {"const": "image_url"},
        "image_url": {
            "type": "object",
            "required": ["url"],
            "properties": {"url": {"type": "string", "pattern": "^(https://|data:image/)"}},
        },
    },
}
MODERATION_REQUEST = {
    "type": "object",
    "description": "OpenAI's CreateModerationRequest, answered by OCI's applyGuardrails; `model` may name an "
    "OCI guardrail version (`1.0.0`); each result adds `oci_guardrails` (README, Moderations).",
    "required": ["input"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "input": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 32},
                {"type": "array", "items": {"anyOf": [_TEXT_PART, _IMAGE_PART]}, "minItems": 1},
            ]
        },
    },
}


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    openai = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    schemas = nullable_to_union(copy.deepcopy(openai["components"]["schemas"]))
    vector = schemas["Embedding"]["properties"]["embedding"]
    schemas["Embedding"]["properties"]["embedding"] = {
        "description": "The vector: numbers, or a base64 string of float32 little-endian bytes "
        "with encoding_format: base64.",
        "anyOf": [{k: v for k, v in vector.items() if k != "description"}, {"type": "string"}],
    }
    schemas |= {"CreateChatCompletionRequest": CHAT_REQUEST, "CreateEmbeddingRequest": EMBEDDING_REQUEST}
    schemas["CreateModerationRequest"] = MODERATION_REQUEST
    schemas["Readiness"] = READINESS
    schemas |= apis.SCHEMAS
    everything = ("400", "401", "403", "404", "413", "429", "502", "504")
    chat_success = _json("CreateChatCompletionResponse") | apis.event_stream(
        "With stream: true, `data:` events of CreateChatCompletionStreamResponse, then `data: [DONE]`."
    )
    # Control characters in a path are a 400 (`invalid_url`): the gateway refuses them, never routes them.
    segment = {"type": "string", "pattern": "^[^\\x00-\\x1f\\x7f]+$"}
    model = {
        "name": "model",
        "in": "path",
        "required": True,
        "schema": segment,
        "examples": {"model": {"value": "xai.grok-4"}, "alias": {"value": "fast"}},
    }
    response_id = {"name": "response_id", "in": "path", "required": True, "schema": segment}
    public = {"security": []}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "oci-genai-gateway",
            "version": importlib.metadata.version("oci-genai-gateway"),
            "description": "An OpenAI-compatible gateway to OCI Generative AI. Response schemas are OpenAI's "
            f"({openai['source']}).",
        },
        "security": [{"bearer": []}],
        "paths": {
            "/v1/chat/completions": {
                "post": _operation(
                    "Create a chat completion",
                    chat_success,
                    everything,
                    requestBody=_body("CreateChatCompletionRequest"),
                )
            },
            "/v1/embeddings": {
                "post": _operation(
                    "Create embeddings",
                    _json("CreateEmbeddingResponse"),
                    everything,
                    requestBody=_body("CreateEmbeddingRequest"),
                )
            },
            "/v1/moderations": {
                "post": _operation(
                    "Classify input with OCI's guardrails",
                    _json("CreateModerationResponse"),
                    ("400", "401", "413", "429", "502", "504"),
                    requestBody=_body("CreateModerationRequest"),
                )
            },
            "/v1/models": {
                "get": _operation("List models", _json("ListModelsResponse"), ("401", "502", "504"))
            },
            "/v1/models/{model}": {
                "get": _operation(
                    "Retrieve a model",
                    _json("Model"),
                    ("400", "401", "404", "502", "504"),
                    parameters=[model],
                )
            },
            "/v1/responses": {
                "post": _operation(
                    "Create a response (stateless)",
                    _json("Response")
                    | apis.event_stream("With stream: true, OpenAI's named Responses events."),
                    everything,
                    requestBody=_body("CreateResponseRequest"),
                )
            },
            "/v1/responses/{response_id}": {
                method: _operation(
                    f"{verb} a stored response: nothing is stored, so always 404",
                    None,
                    ("400", "401", "404"),
                    parameters=[response_id],
                )
                for method, verb in (("get", "Retrieve"), ("delete", "Delete"))
            },
            "/v1/messages": {
                "post": _messages_operation(),
            },
            "/v1/messages/count_tokens": {
                "post": _operation(
                    "Count a message's input tokens (an estimate; Anthropic Messages API)",
                    _json("AnthropicTokenCount"),
                    ("400", "401", "403", "413", "429"),
                    "AnthropicError",
                    requestBody=_body("CountMessageTokensRequest"),
                )
            },
            "/health/readiness": {"get": _operation("Readiness (no key)", _json("Readiness"), (), **public)},
            "/health/liveness": {"get": _operation("Liveness (no key)", _json("Readiness"), (), **public)},
        },
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def render() -> str:
    """The document as shipped."""
    return json.dumps(document(), indent=1, sort_keys=False) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET}")
