"""OCI's live wire variants (as the emulator reproduces them) through both deployment paths:
the ASGI server and the functions (under the real fdk) behind a minimal API Gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest

from oci_genai_emulator.catalog import CUSTOM_ENDPOINT_ID
from tests.fixtures.emulator import Emulator
from tests.fixtures.functions import Functions
from tests.fixtures.gateway import GatewayProcess, start_gateway, stop
from tests.openapi import validate

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    for name in ("get_weather", "get_time")
]
CALL_BOTH = [{"role": "user", "content": "Call get_weather and get_time for Oslo"}]
VENDORS = ["xai.grok-4", "meta.llama-3.3-70b-instruct", "google.gemini-2.5-flash", "openai.gpt-oss-120b"]


@pytest.fixture(params=["asgi", "functions"])
def sdk(
    request: pytest.FixtureRequest, gateway: GatewayProcess, functions: Functions, emulator: Emulator
) -> Iterator[openai.OpenAI]:
    """An OpenAI SDK client through each deployment path."""
    emulator.reset()
    client = gateway.client() if request.param == "asgi" else functions.client()
    with client:
        yield client


@contextmanager
def closing_process(gateway: GatewayProcess) -> Iterator[GatewayProcess]:
    try:
        yield gateway
    finally:
        stop(gateway.process)


def chunks_of(stream: Any) -> list[dict[str, Any]]:
    out = []
    for chunk in stream:
        body = json.loads(chunk.model_dump_json(exclude_unset=True))
        validate(body, "CreateChatCompletionStreamResponse")
        out.append(body)
    return out


def accumulated_calls(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool calls as the OpenAI SDK's stream helpers rebuild them (by index)."""
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            for piece in choice["delta"].get("tool_calls") or []:
                call = calls.setdefault(piece["index"], {"id": "", "name": "", "arguments": ""})
                call["id"] += piece.get("id") or ""
                call["name"] += piece.get("function", {}).get("name") or ""
                call["arguments"] += piece.get("function", {}).get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


def test_reasoning_usage_counts_reasoning_as_completion_streamed_or_not(sdk: openai.OpenAI) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Why is the sky blue?"},
    ]
    answer = sdk.chat.completions.create(model="xai.grok-3-mini", messages=messages)  # type: ignore[arg-type]
    usage = answer.usage
    assert usage is not None
    assert usage.completion_tokens_details is not None
    reasoning = usage.completion_tokens_details.reasoning_tokens or 0
    assert reasoning > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.completion_tokens > reasoning, "OpenAI counts reasoning inside completion_tokens"
    assert usage.prompt_tokens_details is not None
    assert (usage.prompt_tokens_details.cached_tokens or 0) > 0
    streamed = chunks_of(
        sdk.chat.completions.create(
            model="xai.grok-3-mini",
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert streamed[-1]["usage"] == json.loads(usage.model_dump_json(exclude_unset=True))


def test_gemini_out_of_reasoning_budget_reports_length_and_real_completion_tokens(sdk: openai.OpenAI) -> None:
    answer = sdk.chat.completions.create(
        model="google.gemini-2.5-flash", messages=[{"role": "user", "content": "Think hard"}], max_tokens=8
    )
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage is not None
    assert answer.usage.completion_tokens == 8, "derived from OCI's total, never zero"


def test_a_stream_without_a_usage_event_ends_though_oci_holds_the_connection(sdk: openai.OpenAI) -> None:
    chunks = chunks_of(
        sdk.chat.completions.create(
            model="google.gemini-2.5-flash",
            messages=[{"role": "user", "content": "hello"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


@pytest.mark.parametrize("model", VENDORS)
def test_every_vendors_streamed_parallel_tool_calls_rebuild_into_whole_calls(
    sdk: openai.OpenAI, model: str
) -> None:
    chunks = chunks_of(sdk.chat.completions.create(model=model, messages=CALL_BOTH, tools=TOOLS, stream=True))  # type: ignore[arg-type]
    calls = accumulated_calls(chunks)
    assert [c["name"] for c in calls] == ["get_weather", "get_time"]
    assert all(json.loads(c["arguments"])["city"] for c in calls)
    assert all(c["id"] for c in calls)
    assert len({c["id"] for c in calls}) == 2
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"


@pytest.mark.parametrize("model", [*VENDORS, "cohere.command-a-03-2025"])
def test_every_vendors_tool_calls_have_ids_and_json_arguments(sdk: openai.OpenAI, model: str) -> None:
    answer = sdk.chat.completions.create(model=model, messages=CALL_BOTH, tools=TOOLS)  # type: ignore[arg-type]
    calls = answer.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]  # type: ignore[union-attr]
    assert all(c.id for c in calls)
    assert all(json.loads(c.function.arguments)["city"] for c in calls)  # type: ignore[union-attr]
    assert answer.choices[0].finish_reason == "tool_calls"


def test_a_double_encoded_openai_error_arrives_as_openais_error(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk.chat.completions.create(
            model="openai.gpt-5", messages=[{"role": "user", "content": "hi"}], temperature=0.2
        )
    error = info.value.body
    assert isinstance(error, dict)
    assert (error["param"], error["code"], error["type"]) == (
        "temperature",
        "unsupported_value",
        "invalid_request_error",
    )
    assert error["message"].startswith("Unsupported value: 'temperature'")


def test_cohere_v1_tool_choice_auto_is_the_default_and_none_withholds_the_tools(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    # Command R (08-2024) keeps the COHERE (v1) format, which has no tool choice; Command A speaks
    # COHEREV2 and honours every mode (tests/e2e/test_cohere_v2.py).
    auto = sdk.chat.completions.create(
        model="cohere.command-r-08-2024",
        messages=CALL_BOTH,
        tools=TOOLS,
        tool_choice="auto",  # type: ignore[arg-type]
    )
    assert auto.choices[0].message.tool_calls
    none = sdk.chat.completions.create(
        model="cohere.command-r-08-2024",
        messages=CALL_BOTH,
        tools=TOOLS,
        tool_choice="none",  # type: ignore[arg-type]
    )
    assert not none.choices[0].message.tool_calls
    assert "tools" not in emulator.requests("/actions/chat")[-1]["body"]["chatRequest"]
    with pytest.raises(openai.BadRequestError) as info:
        sdk.chat.completions.create(
            model="cohere.command-r-08-2024",
            messages=CALL_BOTH,
            tools=TOOLS,
            tool_choice="required",  # type: ignore[arg-type]
        )
    assert isinstance(info.value.body, dict)
    assert info.value.body["param"] == "tool_choice"


def test_a_model_refusing_stream_options_still_streams(sdk: openai.OpenAI, emulator: Emulator) -> None:
    chunks = chunks_of(
        sdk.chat.completions.create(
            model=CUSTOM_ENDPOINT_ID, messages=[{"role": "user", "content": "hello"}], stream=True
        )
    )
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    bodies = [r["body"]["chatRequest"] for r in emulator.requests("/actions/chat")]
    assert [("streamOptions" in b) for b in bodies][-1] is False


def test_llama_tools_need_a_user_message_first_and_say_so(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(
            model="meta.llama-3.3-70b-instruct",
            messages=[
                {"role": "assistant", "content": "Hi"},
                {"role": "user", "content": "get_weather Oslo"},
            ],
            tools=TOOLS,  # type: ignore[arg-type]
        )


def test_a_listed_model_oci_will_not_serve_on_demand_is_a_404_and_leaves_the_list(
    emulator: Emulator, tmp_path: Path
) -> None:
    model = "meta.llama-3.2-90b-vision-instruct"
    # Its own server: what it learns would otherwise change the session server's model list.
    gateway = start_gateway(emulator, tmp_path)
    with closing_process(gateway), gateway.client() as sdk:
        assert model in {m.id for m in sdk.models.list()}, "OCI lists it as an active chat model"
        with pytest.raises(openai.NotFoundError) as info:
            sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert isinstance(info.value.body, dict)
        assert info.value.body["code"] == "model_not_found"
        assert model not in {m.id for m in sdk.models.list()}
