"""The OpenAPI pieces of /v1/responses and /v1/messages, for tests/data/build_openapi.py.

Requests are described as core/apis/responses/request.py and core/apis/messages/request.py accept them (the
bounds of core/input/bounds.py); a Response answer is OpenAI's own `Response` schema, a Message
answer and Anthropic's error body are written here from Anthropic's API reference
(https://docs.anthropic.com/en/api/messages, https://docs.anthropic.com/en/api/errors).
"""

from __future__ import annotations

from typing import Any

from oci_genai_gateway.core.input import bounds as limits

_NAME = {"type": "string", "minLength": 1, "maxLength": limits.MAX_NAME_CHARS}
_TOKENS = {"type": ["integer", "null"], "minimum": 1, "maximum": limits.MAX_TOKENS}
_ANY_OBJECTS = {"type": "array", "items": {"type": "object"}, "maxItems": limits.MAX_MESSAGES}
METADATA = {  # OpenAI's metadata, as core/validate.metadata bounds it (also the chat route's)
    "type": ["object", "null"],
    "maxProperties": limits.MAX_METADATA_PAIRS,
    "propertyNames": {"maxLength": limits.MAX_METADATA_KEY_CHARS},
    "additionalProperties": {"type": "string", "maxLength": limits.MAX_METADATA_VALUE_CHARS},
}

_FUNCTION_TOOL = {
    "type": "object",
    "required": ["type", "name"],
    "properties": {
        "type": {"const": "function"},
        "name": _NAME,
        "description": {"type": ["string", "null"]},
        "parameters": {"type": ["object", "null"]},
        "strict": {"type": ["boolean", "null"]},
    },
}
_CUSTOM_TOOL = {
    "type": "object",
    "description": "A freeform tool: offered to the model as a function of one string; its calls are "
    "`custom_tool_call` items. A grammar `format` is given to the model, not enforced.",
    "required": ["type", "name"],
    "properties": {
        "type": {"const": "custom"},
        "name": _NAME,
        "description": {"type": "string"},
        "format": {"type": "object"},
    },
}
_NAMESPACE_TOOL = {
    "type": "object",
    "description": "Function and custom tools under a name: each is offered to the model as "
    "`<namespace>__<name>`, and its calls carry `name` and `namespace` apart.",
    "required": ["type", "name", "tools"],
    "properties": {
        "type": {"const": "namespace"},
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "tools": {"type": "array", "minItems": 1, "items": {"anyOf": [_FUNCTION_TOOL, _CUSTOM_TOOL]}},
    },
}
_HOSTED_TOOL = {
    "type": "object",
    "description": "A hosted tool (web_search, file_search, mcp, ...), which OCI cannot run: left out and "
    "named in X-Gateway-Omitted-Tools, or a 400 where GATEWAY_HOSTED_TOOLS=refuse.",
    "required": ["type"],
    "properties": {"type": {"type": "string", "not": {"enum": ["function", "custom", "namespace"]}}},
}

RESPONSES_REQUEST: dict[str, Any] = {
    "type": "object",
    "description": "OpenAI's CreateResponse, stateless: what the gateway honours (README, Routes).",
    "required": ["model", "input"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "input": {"anyOf": [{"type": "string"}, _ANY_OBJECTS]},
        "instructions": {"type": ["string", "null"]},
        "tools": {
            "type": ["array", "null"],
            "maxItems": limits.MAX_TOOLS,
            "items": {"anyOf": [_FUNCTION_TOOL, _CUSTOM_TOOL, _NAMESPACE_TOOL, _HOSTED_TOOL]},
        },
        "tool_choice": {"anyOf": [{"enum": ["auto", "none", "required"]}, {"type": "object"}]},
        "include": {"type": ["array", "null"], "items": {"type": "string"}},
        "text": {"type": ["object", "null"]},
        "max_output_tokens": _TOKENS,
        "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
        "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "parallel_tool_calls": {"type": ["boolean", "null"]},
        "reasoning": {
            "type": ["object", "null"],
            "properties": {
                "effort": {
                    "enum": ["none", "minimal", "low", "medium", "high", "xhigh", "max", None],
                    "description": "`xhigh` and `max` are OCI's `HIGH`.",
                },
                "summary": {"enum": ["auto", "concise", "detailed", None]},
                "generate_summary": {"enum": ["auto", "concise", "detailed", None]},
                "context": {"enum": ["auto", "current_turn", "all_turns", None]},
            },
        },
        "stream": {"type": ["boolean", "null"]},
        "store": {"enum": [False, None], "description": "Nothing is stored: `true` is a 400."},
        "metadata": METADATA,
        "truncation": {"enum": ["auto", "disabled", None]},
        "user": {"type": ["string", "null"], "maxLength": limits.MAX_ID_CHARS},
    },
}

_EFFORT = {"enum": ["low", "medium", "high", "xhigh", "max"]}
# What /v1/messages and /v1/messages/count_tokens both take (core/apis/messages/request.py:chat_fields).
_MESSAGES_SHARED: dict[str, Any] = {
    "model": {"type": "string", "minLength": 1},
    "system": {"anyOf": [{"type": "string"}, _ANY_OBJECTS]},
    "messages": {
        "type": "array",
        "minItems": 1,
        "maxItems": limits.MAX_MESSAGES,
        "items": {
            "type": "object",
            "description": "A system turn stays where it stands (README, `/v1/messages`).",
            "required": ["role"],
            "properties": {
                "role": {"enum": ["user", "assistant", "system"]},
                "content": {"anyOf": [{"type": "string"}, _ANY_OBJECTS]},
            },
        },
    },
    "tools": {"type": "array", "maxItems": limits.MAX_TOOLS, "items": {"type": "object"}},
    "tool_choice": {"type": "object"},
    "thinking": {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": ["enabled", "disabled", "adaptive", "between_tools"]}},
    },
    "output_config": {
        "type": "object",
        "properties": {
            "effort": _EFFORT,
            "format": {
                "type": "object",
                "required": ["type", "schema"],
                "properties": {"type": {"const": "json_schema"}, "schema": {"type": "object"}},
            },
        },
    },
    "context_management": {
        "type": "object",
        "description": "Edits clear_tool_uses_20250919 and clear_thinking_20251015 are applied; any other "
        "is reported in the answer's context_management.not_applied_edits.",
        "properties": {"edits": {"type": "array", "items": {"type": "object", "required": ["type"]}}},
    },
}
MESSAGES_REQUEST: dict[str, Any] = {
    "type": "object",
    "description": "Anthropic's Messages request: what the gateway honours (README, Routes).",
    "required": ["model", "max_tokens", "messages"],
    "properties": {
        **_MESSAGES_SHARED,
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": limits.MAX_TOKENS},
        "stop_sequences": {"type": "array", "maxItems": limits.MAX_STOP, "items": {"type": "string"}},
        "temperature": {"type": "number", "minimum": 0, "maximum": 1},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "stream": {"type": "boolean"},
        "metadata": {"type": "object"},
    },
}
COUNT_TOKENS_REQUEST: dict[str, Any] = {
    "type": "object",
    "description": "Anthropic's MessageCountTokensParams: counted as /v1/messages would send it; "
    "OCI is not called.",
    "required": ["model", "messages"],
    "properties": _MESSAGES_SHARED,
}
TOKEN_COUNT: dict[str, Any] = {
    "type": "object",
    "description": "An estimate: characters / 4 of what the model would read, 1,600 per image (README).",
    "required": ["input_tokens"],
    "properties": {
        "input_tokens": {"type": "integer", "minimum": 0},
        "context_management": {
            "type": "object",
            "required": ["original_input_tokens"],
            "properties": {"original_input_tokens": {"type": "integer", "minimum": 0}},
        },
    },
}

_TEXT_BLOCK = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
}
_TOOL_USE_BLOCK = {
    "type": "object",
    "required": ["type", "id", "name", "input"],
    "properties": {
        "type": {"const": "tool_use"},
        "id": {"type": "string"},
        "name": {"type": "string"},
        "input": {"type": "object"},
    },
}
ANTHROPIC_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "role", "content", "model", "stop_reason", "usage"],
    "properties": {
        "id": {"type": "string"},
        "type": {"const": "message"},
        "role": {"const": "assistant"},
        "content": {"type": "array", "items": {"anyOf": [_TEXT_BLOCK, _TOOL_USE_BLOCK]}},
        "model": {"type": "string"},
        "stop_reason": {"enum": ["end_turn", "max_tokens", "stop_sequence", "tool_use", None]},
        "stop_sequence": {"type": ["string", "null"]},
        "context_management": {
            "type": "object",
            "description": "When the request sent context_management: Anthropic's applied_edits, and the "
            "gateway's not_applied_edits for edits it does not offer.",
            "required": ["applied_edits"],
            "properties": {
                "applied_edits": {"type": "array", "items": {"type": "object"}},
                "not_applied_edits": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "reason"],
                        "properties": {"type": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
            },
        },
        "usage": {
            "type": "object",
            "required": ["input_tokens", "output_tokens"],
            "properties": {"input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"}},
        },
    },
}
ANTHROPIC_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["type", "error"],
    "properties": {
        "type": {"const": "error"},
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
        },
    },
}

SCHEMAS = {
    "CreateResponseRequest": RESPONSES_REQUEST,
    "CreateMessageRequest": MESSAGES_REQUEST,
    "CountMessageTokensRequest": COUNT_TOKENS_REQUEST,
    "AnthropicTokenCount": TOKEN_COUNT,
    "AnthropicMessage": ANTHROPIC_MESSAGE,
    "AnthropicError": ANTHROPIC_ERROR,
}


def event_stream(description: str) -> dict[str, Any]:
    """A text/event-stream answer (stream: true): the schema is one event's, as OpenAPI 3.1 tools read
    an SSE media type (schemathesis validates each parsed event, `event` and `data`, against it)."""
    event = {
        "type": "object",
        "description": description,
        "required": ["data"],
        "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"}},
    }
    return {"text/event-stream": {"schema": event}}
