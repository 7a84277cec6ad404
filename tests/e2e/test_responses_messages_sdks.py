"""/v1/responses and /v1/messages with the clients people use, unchanged: the official openai SDK, the
OpenAI Agents SDK's default (Responses) model and the official anthropic SDK, through the ASGI server
(incremental streams) and through `make run`'s stack (fdk functions behind the local API Gateway)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import pydantic
import pytest

from tests.fixtures.emulator import Emulator
from tests.fixtures.gateway import ALLOWED_ORIGIN, KEY
from tests.openapi import EVENT_SCHEMAS, validate
from tests.paths import REPO

# The Agents SDK exports traces to api.openai.com unless told not to; nothing here leaves the machine.
os.environ["OPENAI_AGENTS_DISABLE_TRACING"] = "1"
import agents

agents.set_tracing_disabled(True)

GENERIC = ["xai.grok-4", "meta.llama-3.3-70b-instruct", "google.gemini-2.5-flash", "openai.gpt-oss-120b"]
EVERY_VENDOR = [*GENERIC, "cohere.command-a-03-2025"]
LLAMA = "meta.llama-3.3-70b-instruct"
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
RESPONSES_TOOLS = [
    {"type": "function", "name": name, "description": f"{name} of a city", "parameters": CITY}
    for name in ("get_weather", "get_time")
]
ANTHROPIC_TOOLS = [
    {"name": name, "description": f"{name} of a city", "input_schema": CITY}
    for name in ("get_weather", "get_time")
]
CALL_BOTH = "Call get_weather and get_time for Oslo"


@dataclass(frozen=True)
class Target:
    """One deployment path's `/v1` base URL."""

    base_url: str

    def openai(self, key: str = KEY) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url, api_key=key, max_retries=0)

    def anthropic(self, key: str = KEY) -> anthropic.Anthropic:
        # anthropic's base URL is the host: it adds /v1/messages itself.
        return anthropic.Anthropic(base_url=self.base_url.removesuffix("/v1"), api_key=key, max_retries=0)


@pytest.fixture
def target(api_base_url: str) -> Target:
    """The ASGI server, and the serverless stack `make run` starts."""
    return Target(api_base_url)


def raw_events(target: Target, body: dict[str, Any]) -> list[dict[str, Any]]:
    """A Responses stream as sent, every event validated against OpenAI's schema of its type."""
    headers = {"Authorization": f"Bearer {KEY}"}
    response = httpx.post(f"{target.base_url}/responses", json=body, headers=headers, timeout=120)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    out = []
    for block in response.text.split("\n\n"):
        if block.strip():
            name, data = block.split("\n")
            payload = json.loads(data.removeprefix("data: "))
            assert name == f"event: {payload['type']}"
            validate(payload, EVENT_SCHEMAS[payload["type"]])
            out.append(payload)
    assert [e["sequence_number"] for e in out] == list(range(len(out)))
    return out


# --- the openai SDK: client.responses -------------------------------------------------------------


def test_responses_create_answers_with_a_valid_response(target: Target) -> None:
    with target.openai() as client:
        raw = client.responses.with_raw_response.create(
            model=LLAMA, input="Say hello", instructions="Be brief."
        )
    body = raw.http_response.json()
    validate(body, "Response")
    response = raw.parse()
    assert LLAMA in response.output_text
    assert (response.status, response.model, response.instructions) == ("completed", LLAMA, "Be brief.")
    assert response.usage is not None
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


def test_responses_stream_is_openais_event_sequence(target: Target) -> None:
    seen = raw_events(target, {"model": "xai.grok-4", "input": "Stream, please", "stream": True})
    # grok-4 reasons first (OCI's reasoningContent): a reasoning item, then the message.
    assert [e["type"] for e in seen[:4]] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_text.delta",
    ]
    added = [e["item"]["type"] for e in seen if e["type"] == "response.output_item.added"]
    assert added == ["reasoning", "message"]
    assert seen[-1]["type"] == "response.completed"
    text = "".join(e["delta"] for e in seen if e["type"] == "response.output_text.delta")
    assert "xai.grok-4" in text
    thought = "".join(e["delta"] for e in seen if e["type"] == "response.reasoning_text.delta")
    assert seen[-1]["response"]["output"][0]["content"][0]["text"] == thought
    assert seen[-1]["response"]["output"][1]["content"][0]["text"] == text
    assert seen[-1]["response"]["usage"]["output_tokens"] > 0
    with (
        target.openai() as client,
        client.responses.stream(model="xai.grok-4", input="Stream, please") as stream,
    ):
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text
    assert "xai.grok-4" in final.output_text


@pytest.mark.parametrize("model", EVERY_VENDOR)
def test_every_vendors_tool_calls_and_their_results_round_trip(target: Target, model: str) -> None:
    with target.openai() as client:
        first = client.responses.create(model=model, input=CALL_BOTH, tools=RESPONSES_TOOLS)  # type: ignore[arg-type]
        calls = [item for item in first.output if item.type == "function_call"]
        assert [c.name for c in calls] == ["get_weather", "get_time"]
        assert all(json.loads(c.arguments)["city"] for c in calls)
        assert len({c.call_id for c in calls}) == 2
        history: list[Any] = [{"role": "user", "content": CALL_BOTH}, *[c.model_dump() for c in calls]]
        history += [{"type": "function_call_output", "call_id": c.call_id, "output": "20C"} for c in calls]
        second = client.responses.create(model=model, input=history, tools=RESPONSES_TOOLS)  # type: ignore[arg-type]
    assert "result" in second.output_text
    assert not [item for item in second.output if item.type == "function_call"]


@pytest.mark.parametrize("model", EVERY_VENDOR)
def test_every_vendors_streamed_tool_calls_satisfy_the_sdks_stream_helper(target: Target, model: str) -> None:
    seen = raw_events(target, {"model": model, "input": CALL_BOTH, "tools": RESPONSES_TOOLS, "stream": True})
    done = [e for e in seen if e["type"] == "response.function_call_arguments.done"]
    assert [e["name"] for e in done] == ["get_weather", "get_time"]
    with target.openai() as client:
        stream = client.responses.stream(model=model, input=CALL_BOTH, tools=RESPONSES_TOOLS)  # type: ignore[arg-type]
        with stream as events:
            final = events.get_final_response()  # raises on duplicate, unfinished or changed items
    calls = [item for item in final.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather", "get_time"]
    assert all(json.loads(c.arguments)["city"] for c in calls)


class Weather(pydantic.BaseModel):
    city: str
    celsius: int


def test_structured_output_with_responses_parse_and_json_object(target: Target) -> None:
    with target.openai() as client:
        parsed = client.responses.parse(
            model="xai.grok-4", input="Weather in Oslo as JSON", text_format=Weather
        )
        assert isinstance(parsed.output_parsed, Weather)
        loose = client.responses.create(
            model=LLAMA, input="Reply in JSON", text={"format": {"type": "json_object"}}
        )
    assert isinstance(json.loads(loose.output_text), dict)


def test_what_needs_stored_state_is_refused_clearly(target: Target) -> None:
    with target.openai() as client:
        with pytest.raises(openai.BadRequestError) as stored:
            client.responses.create(model=LLAMA, input="hi", store=True)
        assert isinstance(stored.value.body, dict)
        assert stored.value.body["param"] == "store"
        with pytest.raises(openai.BadRequestError) as chained:
            client.responses.create(model=LLAMA, input="hi", previous_response_id="resp_123")
        assert isinstance(chained.value.body, dict)
        assert chained.value.body["param"] == "previous_response_id"
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve("resp_123")
        with pytest.raises(openai.NotFoundError):
            client.responses.delete("resp_123")


# --- what Codex CLI sends (tests/data/agents): namespaces, custom tools, hosted tools, reasoning --------

CODEX = json.loads((REPO / "tests/data/agents/codex-0.169.0-responses.json").read_text())
CODEX_TOOLS: list[Any] = [
    {
        "type": "namespace",
        "name": "multi_agent_v1",
        "description": "Tools for sub-agents.",
        "tools": [{"type": "function", "name": "close_agent", "parameters": CITY, "strict": False}],
    },
    {"type": "custom", "name": "apply_patch", "description": "Edit files.", "format": {"type": "text"}},
    {"type": "web_search", "external_web_access": False},
]
CALL_CODEX_TOOLS = "Call multi_agent_v1__close_agent and apply_patch for Oslo"


@pytest.mark.parametrize(
    "model", ["meta.llama-3.3-70b-instruct", "cohere.command-a-03-2025", "xai.grok-3-mini"]
)
def test_codexs_recorded_first_request_streams_a_valid_answer(target: Target, model: str) -> None:
    seen = raw_events(target, {**CODEX["body"], "model": model})
    final = seen[-1]["response"]
    assert final["status"] == "completed"
    assert model in final["output"][-1]["content"][0]["text"]
    kinds = [item["type"] for item in final["output"]]
    assert kinds == (["reasoning", "message"] if model.startswith("xai.") else ["message"])


@pytest.mark.parametrize("streamed", [False, True])
def test_codexs_tools_and_reasoning_round_trip_with_the_openai_sdk(target: Target, streamed: bool) -> None:
    asked: dict[str, Any] = {
        "model": "xai.grok-4",
        "input": CALL_CODEX_TOOLS,
        "tools": CODEX_TOOLS,
        "reasoning": {"summary": "auto"},
        "include": ["reasoning.encrypted_content"],
        "store": False,
    }
    with target.openai() as client:
        if streamed:
            with client.responses.stream(**asked) as stream:
                first = stream.get_final_response()
        else:
            raw = client.responses.with_raw_response.create(**asked)
            assert raw.headers["x-gateway-omitted-tools"] == "web_search"
            validate(raw.http_response.json(), "Response")
            first = raw.parse()
        thought, call, custom = first.output
        assert thought.type == "reasoning"
        assert thought.encrypted_content
        assert thought.summary[0].text
        assert call.type == "function_call"
        assert (call.name, call.namespace, json.loads(call.arguments)["city"]) == (
            "close_agent",
            "multi_agent_v1",
            "Oslo",
        )
        assert custom.type == "custom_tool_call"
        assert (custom.name, custom.input) == ("apply_patch", "Oslo")
        # Codex's next turn: the items back (as its ResponseItem serializes them), and the outputs.
        history: list[Any] = [{"role": "user", "content": CALL_CODEX_TOOLS}]
        history += [item.model_dump(exclude_none=True, exclude={"id", "status"}) for item in first.output]
        history += [
            {"type": "function_call_output", "call_id": call.call_id, "output": "closed"},
            {"type": "custom_tool_call_output", "call_id": custom.call_id, "output": "patched"},
        ]
        second = client.responses.create(**{**asked, "input": history})
    assert "result" in second.output_text
    assert [item.type for item in second.output] == ["reasoning", "message"]


# --- the OpenAI Agents SDK: its default model is the Responses API ----------------------------------


@agents.function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny and 21C in {city}"


@pytest.mark.parametrize("streamed", [False, True])
async def test_the_agents_sdk_runs_a_tool_loop_on_its_default_responses_model(
    target: Target, emulator: Emulator, streamed: bool
) -> None:
    client = openai.AsyncOpenAI(base_url=target.base_url, api_key=KEY, max_retries=0)
    model = agents.OpenAIResponsesModel(model="xai.grok-4", openai_client=client)
    agent = agents.Agent(name="weather", instructions="Use your tools.", tools=[get_weather], model=model)
    prompt = "Use get_weather for Oslo"
    if streamed:
        run = agents.Runner.run_streamed(agent, prompt)
        async for _ in run.stream_events():
            pass
        output = run.final_output
    else:
        output = (await agents.Runner.run(agent, prompt)).final_output
    await client.close()
    assert "get_weather result" in output
    assert "Sunny and 21C" in output
    # Two model turns: the call, then the answer from the tool's result.
    assert len(emulator.requests("/actions/chat")) == 2


# --- the anthropic SDK: client.messages -----------------------------------------------------------


def test_messages_create_and_stream(target: Target) -> None:
    with target.anthropic() as client:
        message = client.messages.create(
            model=LLAMA,
            max_tokens=200,
            system="Be brief.",
            messages=[{"role": "user", "content": "Say hello"}],
        )
        assert message.stop_reason == "end_turn"
        assert message.content[0].type == "text"
        assert LLAMA in message.content[0].text
        assert message.usage.output_tokens > 0
        with client.messages.stream(
            model="xai.grok-4", max_tokens=200, messages=[{"role": "user", "content": "Stream, please"}]
        ) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
    assert "xai.grok-4" in text
    assert final.content[0].text == text  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0


@pytest.mark.parametrize("model", EVERY_VENDOR)
@pytest.mark.parametrize("streamed", [False, True])
def test_every_vendors_tool_use_loop_with_the_anthropic_sdk(
    target: Target, model: str, streamed: bool
) -> None:
    question: Any = {"role": "user", "content": CALL_BOTH}
    with target.anthropic() as client:
        if streamed:
            with client.messages.stream(
                model=model,
                max_tokens=500,
                tools=ANTHROPIC_TOOLS,
                messages=[question],  # type: ignore[arg-type]
            ) as stream:
                first = stream.get_final_message()
        else:
            first = client.messages.create(
                model=model,
                max_tokens=500,
                tools=ANTHROPIC_TOOLS,
                messages=[question],  # type: ignore[arg-type]
            )
        uses = [block for block in first.content if block.type == "tool_use"]
        assert first.stop_reason == "tool_use"
        assert [u.name for u in uses] == ["get_weather", "get_time"]
        assert all(u.input["city"] for u in uses)  # type: ignore[index]
        results = [{"type": "tool_result", "tool_use_id": u.id, "content": "20C"} for u in uses]
        second = client.messages.create(
            model=model,
            max_tokens=500,
            tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
            messages=[
                question,
                {"role": "assistant", "content": first.content},
                {"role": "user", "content": results},
            ],  # type: ignore[list-item]
        )
    assert second.stop_reason == "end_turn"
    assert "result" in second.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("model", [LLAMA, "cohere.command-a-03-2025", "xai.grok-4"])
@pytest.mark.parametrize("streamed", [False, True])
def test_claude_codes_fields_with_the_beta_sdk(target: Target, model: str, streamed: bool) -> None:
    deferred = {**ANTHROPIC_TOOLS[0], "name": "later", "defer_loading": True}
    request: dict[str, Any] = {
        "model": model,
        "max_tokens": 8000,  # Claude Code's 32,000 is for streams only in the SDK (10-minute rule)
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Say hello"}]},
            {"role": "system", "content": [{"type": "text", "text": "# Environment\nA test."}]},
        ],
        "tools": [*ANTHROPIC_TOOLS, deferred],
        "thinking": {"type": "adaptive", "display": "omitted"},
        "output_config": {"effort": "high"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "metadata": {"user_id": '{"device_id": "d"}'},
        "betas": ["claude-code-20250219", "context-management-2025-06-27", "effort-2025-11-24"],
    }
    with target.anthropic() as client:
        if streamed:
            with client.beta.messages.stream(**request) as stream:
                message = stream.get_final_message()
        else:
            message = client.beta.messages.create(**request)
    assert message.stop_reason == "end_turn"
    *thinking, text = message.content
    assert model in text.text  # type: ignore[union-attr]
    # `display: omitted`: a reasoning model's thinking block has no text, its signature carries it.
    expected = ["thinking"] if model.startswith("xai.") else []
    assert [b.type for b in thinking] == expected
    assert all(b.thinking == "" and b.signature for b in thinking)  # type: ignore[union-attr]
    assert message.context_management is not None
    assert message.context_management.applied_edits == []


def test_context_editing_clears_old_tool_results_with_the_beta_sdk(target: Target) -> None:
    question: Any = {"role": "user", "content": CALL_BOTH}
    edit = {
        "type": "clear_tool_uses_20250919",
        "trigger": {"type": "tool_uses", "value": 1},
        "keep": {"type": "tool_uses", "value": 1},
    }
    with target.anthropic() as client:
        first = client.messages.create(
            model=LLAMA, max_tokens=500, tools=ANTHROPIC_TOOLS, messages=[question]
        )  # type: ignore[arg-type]
        uses = [block for block in first.content if block.type == "tool_use"]
        results = [{"type": "tool_result", "tool_use_id": u.id, "content": "20C " * 50} for u in uses]
        conversation = [
            question,
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": results},
        ]
        second = client.beta.messages.create(
            model=LLAMA,
            max_tokens=500,
            tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
            messages=conversation,  # type: ignore[arg-type]
            context_management={"edits": [edit]},  # type: ignore[list-item]
            betas=["context-management-2025-06-27"],
        )
        counted = client.beta.messages.count_tokens(
            model=LLAMA,
            tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
            messages=conversation,  # type: ignore[arg-type]
            context_management={"edits": [edit]},  # type: ignore[list-item]
        )
    assert second.stop_reason == "end_turn"
    assert second.context_management is not None
    (applied,) = second.context_management.applied_edits
    assert (applied.type, applied.cleared_tool_uses) == ("clear_tool_uses_20250919", 1)  # type: ignore[union-attr]
    assert counted.context_management is not None
    assert (
        counted.input_tokens
        == counted.context_management.original_input_tokens - applied.cleared_input_tokens
    )


def test_count_tokens_with_the_anthropic_sdk(target: Target) -> None:
    messages: Any = [{"role": "user", "content": "Say hello"}]
    with target.anthropic() as client:
        plain = client.messages.count_tokens(model=LLAMA, messages=messages)
        with_tools = client.messages.count_tokens(model=LLAMA, messages=messages, tools=ANTHROPIC_TOOLS)  # type: ignore[arg-type]
        with pytest.raises(anthropic.BadRequestError) as refused:
            client.messages.count_tokens(model=LLAMA, messages=[])
    assert 0 < plain.input_tokens < with_tools.input_tokens
    assert isinstance(refused.value.body, dict)
    assert refused.value.body["error"]["type"] == "invalid_request_error"


def test_the_key_in_x_api_key_works_like_a_bearer_key(target: Target) -> None:
    body = {"model": LLAMA, "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    response = httpx.post(f"{target.base_url}/messages", json=body, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "message"
    wrong = httpx.post(
        f"{target.base_url}/messages",
        json=body,
        headers={**headers, "x-api-key": "sk-wrong-key-000000"},
        timeout=60,
    )
    assert wrong.status_code == 401


def test_anthropic_sdk_errors(target: Target) -> None:
    with target.anthropic() as client:
        with pytest.raises(anthropic.NotFoundError) as missing:
            client.messages.create(
                model="vendor.no-such-model", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
        assert isinstance(missing.value.body, dict)
        assert missing.value.body["error"]["type"] == "not_found_error"
        with pytest.raises(anthropic.BadRequestError) as refused:
            client.messages.create(
                model=LLAMA,
                max_tokens=10,
                messages=[{"role": "user", "content": "hi"}],
                extra_body={"container": "container_1"},
            )
        assert isinstance(refused.value.body, dict)
        assert refused.value.body["error"]["type"] == "invalid_request_error"
        with pytest.raises(anthropic.AuthenticationError):
            target.anthropic(key="sk-wrong-key-000000").messages.create(
                model=LLAMA, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )


def test_browsers_may_send_anthropics_headers(target: Target) -> None:
    preflight = httpx.options(
        f"{target.base_url}/messages",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key,anthropic-version,content-type",
        },
        timeout=30,
    )
    assert preflight.status_code in (200, 204)
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"x-api-key", "anthropic-version", "content-type"} <= allowed
