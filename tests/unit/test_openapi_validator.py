"""The OpenAPI validator itself must accept good bodies and reject bad ones."""

import jsonschema
import pytest

from tests.openapi import validate


def test_accepts_valid_error_envelope() -> None:
    validate(
        {"error": {"message": "m", "type": "invalid_request_error", "param": None, "code": None}},
        "ErrorResponse",
    )


def test_rejects_error_envelope_missing_message() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate({"error": {"type": "x", "param": None, "code": None}}, "ErrorResponse")


def test_rejects_chat_completion_with_wrong_object() -> None:
    body = {
        "id": "c",
        "object": "text_completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None,
                "message": {"role": "assistant", "content": "x", "refusal": None},
            }
        ],
    }
    with pytest.raises(jsonschema.ValidationError):
        validate(body, "CreateChatCompletionResponse")
    body["object"] = "chat.completion"
    validate(body, "CreateChatCompletionResponse")
