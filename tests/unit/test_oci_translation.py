"""OCI's answers as OpenAI's, over events and bodies recorded from live OCI by other projects.

Sources (quoted verbatim below): langchain4j-community `GenericStreamingTest.java` (xAI and Llama
tool-call streams, final-event variants), oracle/langchain-oracle issue 86 (Gemini tool call without
an id), NVIDIA/NeMo-Relay `oci_genai_tests.rs` (grok-3-mini usage; COHERE final event),
jin38324/OCI_GenAI_access_gateway `app/test.ipynb` (grok-3-mini answer).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from oci_genai_gateway.core.chat.answers import choices, finish_reason, usage
from oci_genai_gateway.core.chat.deltas import StreamTranslator


def run(events: list[dict[str, Any]], **options: Any) -> tuple[list[dict[str, Any]], StreamTranslator]:
    translator = StreamTranslator(**options)
    deltas = [delta for event in events for _, delta in translator.feed(event)]
    return deltas, translator


def calls_of(deltas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool calls as an OpenAI client accumulates them (by index)."""
    calls: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        for piece in delta.get("tool_calls", []):
            call = calls.setdefault(piece["index"], {"id": None, "name": "", "arguments": ""})
            call["id"] = call["id"] or piece.get("id")
            call["name"] += piece.get("function", {}).get("name", "")
            call["arguments"] += piece.get("function", {}).get("arguments", "")
    return [calls[i] for i in sorted(calls)]


def call(**fields: Any) -> dict[str, Any]:
    return {
        "index": 0,
        "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", **fields}]},
        "pad": "aa",
    }


def test_xai_sends_each_call_whole_one_per_event() -> None:
    events = [
        call(id="call_83516431", name="sqrt", arguments='{"arg0":16}'),
        call(id="call_26154935", name="extractMagicalNumber", arguments='{"arg1":778,"arg0":556}'),
        {"finishReason": "tool_calls", "pad": "aa"},
    ]
    deltas, translator = run(events)
    assert calls_of(deltas) == [
        {"id": "call_83516431", "name": "sqrt", "arguments": '{"arg0":16}'},
        {"id": "call_26154935", "name": "extractMagicalNumber", "arguments": '{"arg1":778,"arg0":556}'},
    ]
    assert translator.finishes() == [(0, "tool_calls")]


def test_llama_sends_id_and_name_then_pieces_between_empty_argument_events() -> None:
    text = {
        "index": 0,
        "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": ""}]},
        "pad": "a",
    }
    events = [
        text,
        call(id="chatcmpl-tool-e5f86a029", name="sqrt"),
        call(arguments='{"arg0": "'),
        call(arguments='16"}'),
        call(arguments=""),
        call(arguments=""),
        call(id="chatcmpl-tool-13ee961b3", name="extractMagicalNumber"),
        call(arguments='{"arg1": "'),
        call(arguments='778"'),
        call(arguments=', "arg0": "'),
        call(arguments='556"}'),
        {
            "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", "arguments": ""}]},
            "finishReason": "tool_calls",
        },
    ]
    deltas, translator = run(events)
    assert calls_of(deltas) == [
        {"id": "chatcmpl-tool-e5f86a029", "name": "sqrt", "arguments": '{"arg0": "16"}'},
        {
            "id": "chatcmpl-tool-13ee961b3",
            "name": "extractMagicalNumber",
            "arguments": '{"arg1": "778", "arg0": "556"}',
        },
    ]
    assert deltas[0]["role"] == "assistant"
    assert translator.finishes() == [(0, "tool_calls")]


def test_gemini_calls_without_an_id_get_one_and_a_text_part_without_text_is_nothing() -> None:
    event = {
        "index": 0,
        "message": {
            "role": "ASSISTANT",
            "content": [{"type": "TEXT"}],
            "toolCalls": [
                {"type": "FUNCTION", "name": "captain_tool", "arguments": '{"year":2000,"country":"india"}'}
            ],
        },
        "pad": "aaaaaa",
    }
    deltas, _ = run([event, {"finishReason": "stop"}])
    (only,) = calls_of(deltas)
    assert only["id"].startswith("call_")
    assert (only["name"], only["arguments"]) == ("captain_tool", '{"year":2000,"country":"india"}')
    assert "content" not in deltas[0]


def test_gpt_oss_sends_id_name_and_empty_arguments_then_pieces() -> None:
    events = [
        call(id="call_9a15865e-8311-4ebd-b463-b2abf46917f0", name="sql_get_claim_details", arguments=""),
        call(arguments="{\n"),
        call(arguments=' "claim_id": "103"}'),
        {"finishReason": "tool_calls"},
    ]
    deltas, _ = run(events)
    assert calls_of(deltas) == [
        {
            "id": "call_9a15865e-8311-4ebd-b463-b2abf46917f0",
            "name": "sql_get_claim_details",
            "arguments": '{\n "claim_id": "103"}',
        }
    ]


@pytest.mark.parametrize(
    "final",
    [
        {"finishReason": "stop", "pad": "aaaaaa"},
        {"message": {"role": "ASSISTANT"}, "finishReason": "stop", "pad": "aaa"},
        {
            "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "there"}]},
            "finishReason": "stop",
        },
    ],
)
def test_every_final_event_variant_ends_the_text(final: dict[str, Any]) -> None:
    opening = {"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "Hello "}]}}
    deltas, translator = run([opening, final])
    text = "".join(d.get("content", "") for d in deltas)
    assert text == ("Hello there" if "content" in final.get("message", {}) else "Hello ")
    assert translator.finished
    assert translator.finishes() == [(0, "stop")]


def test_the_usage_event_after_the_finish_event_is_reasoning_aware() -> None:
    grok = {
        "promptTokens": 13,
        "completionTokens": 8,
        "totalTokens": 607,
        "promptTokensDetails": {"cachedTokens": 3},
        "completionTokensDetails": {"reasoningTokens": 586},
    }
    deltas, translator = run(
        [
            {"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "Hi"}]}},
            {"finishReason": "stop"},
            {"usage": grok},
        ]
    )
    assert translator.usage == {
        "prompt_tokens": 13,
        "completion_tokens": 594,  # OpenAI counts reasoning as completion
        "total_tokens": 607,
        "prompt_tokens_details": {"cached_tokens": 3},
        "completion_tokens_details": {"reasoning_tokens": 586},
    }
    assert len(deltas) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {
                "promptTokens": 7,
                "completionTokens": 21,
                "totalTokens": 220,
                "completionTokensDetails": {"reasoningTokens": 192},
            },
            (7, 213, 220),
        ),
        (
            {"promptTokens": 12, "totalTokens": 28, "completionTokensDetails": {"reasoningTokens": 16}},
            (12, 16, 28),
        ),  # Gemini, out of budget
        ({"promptTokens": 72, "completionTokens": 126, "totalTokens": 198}, (72, 126, 198)),
        ({"promptTokens": 5, "completionTokens": 3}, (5, 3, 8)),
    ],
)
def test_usage_arithmetic(raw: dict[str, Any], expected: tuple[int, int, int]) -> None:
    got = usage(raw)
    assert got is not None
    assert (got["prompt_tokens"], got["completion_tokens"], got["total_tokens"]) == expected


def test_cohere_restates_its_text_and_calls_on_the_final_event_which_also_carries_usage() -> None:
    events = [
        {"apiFormat": "COHERE", "text": "Rome"},
        {"apiFormat": "COHERE", "text": " is."},
        {
            "apiFormat": "COHERE",
            "text": "Rome is.",
            "toolCalls": [{"name": "lookup", "parameters": {"city": "Rome"}}],
        },
        {
            "apiFormat": "COHERE",
            "text": "Rome is.",
            "toolCalls": [{"name": "lookup", "parameters": {"city": "Rome"}}],
            "finishReason": "COMPLETE",
            "usage": {"promptTokens": 10, "completionTokens": 4, "totalTokens": 14},
        },
    ]
    deltas, translator = run(events)
    assert "".join(d.get("content", "") for d in deltas) == "Rome is."
    (only,) = calls_of(deltas)
    assert (only["name"], json.loads(only["arguments"])) == ("lookup", {"city": "Rome"})
    assert translator.finishes() == [(0, "tool_calls")]  # COMPLETE with a tool call
    assert translator.usage == {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}


def test_parallel_tool_calls_false_keeps_the_first_streamed_call() -> None:
    events = [call(id="a", name="one", arguments="{}"), call(id="b", name="two", arguments="{}")]
    deltas, _ = run(events, single_tool_call=True)
    assert [c["name"] for c in calls_of(deltas)] == ["one"]


def test_reasoning_content_streams_as_its_own_delta() -> None:
    deltas, _ = run([{"index": 0, "message": {"role": "ASSISTANT", "reasoningContent": "think..."}}])
    assert deltas == [{"role": "assistant", "reasoning_content": "think..."}]


@pytest.mark.parametrize(
    ("raw", "calls", "expected"),
    [
        ("stop", False, "stop"),
        ("COMPLETE", False, "stop"),
        ("COMPLETE", True, "tool_calls"),
        ("length", False, "length"),
        ("MAX_TOKENS", False, "length"),
        ("max_tokens", False, "length"),  # Gemini
        ("tool_calls", True, "tool_calls"),
        ("ERROR_TOXIC", False, "content_filter"),
        ("content_filter", False, "content_filter"),
        (None, False, "stop"),
        ("something_new", False, "stop"),
    ],
)
def test_finish_reasons(raw: str | None, calls: bool, expected: str) -> None:
    assert finish_reason(raw, calls) == expected


def test_a_recorded_grok_answer_translates_with_reasoning_and_details() -> None:
    answer = {
        "modelId": "xai.grok-3-mini",
        "modelVersion": "1.0.0",
        "chatResponse": {
            "apiFormat": "GENERIC",
            "timeCreated": "2025-08-11T08:40:58.842Z",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "ASSISTANT",
                        "content": [{"type": "TEXT", "text": "Hello! I'm Grok."}],
                    },
                    "finishReason": "stop",
                    "logprobs": {},
                }
            ],
            "usage": {
                "completionTokens": 21,
                "promptTokens": 7,
                "totalTokens": 220,
                "completionTokensDetails": {"acceptedPredictionTokens": 0, "reasoningTokens": 192},
                "promptTokensDetails": {"cachedTokens": 6},
            },
        },
    }
    (choice,) = choices(answer, single_tool_call=False)
    assert choice["message"] == {"role": "assistant", "content": "Hello! I'm Grok.", "refusal": None}
    assert choice["finish_reason"] == "stop"
    assert usage(answer["chatResponse"]["usage"]) == {
        "prompt_tokens": 7,
        "completion_tokens": 213,
        "total_tokens": 220,
        "prompt_tokens_details": {"cached_tokens": 6},
        "completion_tokens_details": {"reasoning_tokens": 192},
    }
