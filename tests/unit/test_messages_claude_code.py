"""Claude Code 2.1.328's first request (tests/data/agents/claude-code-2.1.328-messages.json) replayed
through /v1/messages over a scripted OCI, on a GENERIC, a COHERE and a reasoning model, streamed and not:
what OCI was sent (system texts in order, tools, reasoning effort) and what Claude Code gets back, each
answer parsed by the anthropic SDK's own beta types."""

from __future__ import annotations

import json
import logging
from typing import Any

import anthropic.types.beta as beta
import pydantic
import pytest

from oci_genai_gateway.core.routes import IGNORED_FIELDS_HEADER
from tests.fakes import (
    Events,
    Json,
    ScriptedOci,
    cohere_answer,
    gateway,
    generic_answer,
    oci_error,
    read_stream,
    send,
)
from tests.fakes import text_event as generic_event
from tests.paths import REPO

RECORDED: dict[str, Any] = json.loads(
    (REPO / "tests" / "data" / "agents" / "claude-code-2.1.328-messages.json").read_text()
)
BODY: dict[str, Any] = RECORDED["body"]
# The recorded client tools but the one Claude Code defers ("never call this tool"), in order.
OFFERED = [t["name"] for t in BODY["tools"] if not t.get("defer_loading")]
SYSTEM = "".join(block["text"] for block in BODY["system"])
USER = [block["text"] for block in BODY["messages"][0]["content"]]
ENVIRONMENT = BODY["messages"][1]["content"][0]["text"]  # the role: "system" turn after the user's
USAGE = {"promptTokens": 900, "completionTokens": 2, "totalTokens": 902}
STREAM_EVENT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(beta.BetaRawMessageStreamEvent)
GENERIC, COHERE, REASONING = "meta.llama-3.3-70b-instruct", "cohere.command-r-08-2024", "xai.grok-4"
# How OCI answers reasoningEffort on a Grok model that reasons without the dial (LiteLLM issue 31449).
NO_EFFORT = '{"code":"invalid-argument","error":"Model grok-4 does not support parameter reasoningEffort."}'


def answer(model: str, stream: bool) -> Json | Events:
    """OCI saying "Hello!" in the model's format."""
    if model.startswith("cohere."):
        if not stream:
            return cohere_answer("Hello!")
        final = {"apiFormat": "COHERE", "text": "Hello!", "finishReason": "COMPLETE", "usage": USAGE}
        return Events([{"apiFormat": "COHERE", "text": "Hello!"}, final])
    if not stream:
        return generic_answer("Hello!", usage=USAGE)
    return Events([generic_event("Hello!"), {"finishReason": "stop"}, {"usage": USAGE}])


async def replay(oci: ScriptedOci, model: str, stream: bool) -> tuple[Any, list[dict[str, Any]]]:
    """Claude Code's request for `model` through a gateway over `oci`: the reply and its events (if any)."""
    gw, _ = gateway(oci)
    body = json.dumps({**BODY, "model": model, "stream": stream}).encode()
    reply = await send(gw, "POST", RECORDED["path"], body, RECORDED["headers"])
    assert reply.status == 200, reply.body
    assert IGNORED_FIELDS_HEADER not in reply.headers  # every field Claude Code sends is classified
    if not stream:
        return reply, []
    seen = []
    for block in (await read_stream(reply)).decode().split("\n\n"):
        if block:
            name, data = block.split("\n")
            event = json.loads(data.removeprefix("data: "))
            assert event["type"] == name.removeprefix("event: ")
            if event["type"] != "ping":
                STREAM_EVENT.validate_python(event)
            seen.append(event)
    return reply, seen


def said(reply: Any, seen: list[dict[str, Any]]) -> tuple[str, Any]:
    """The text Claude Code reads and the answer's context_management, streamed or not."""
    if not seen:
        message = beta.BetaMessage.model_validate(reply.body)
        assert message.stop_reason == "end_turn"
        return "".join(b.text for b in message.content if b.type == "text"), message.context_management
    assert [e["type"] for e in seen][-2:] == ["message_delta", "message_stop"]
    delta = beta.BetaRawMessageDeltaEvent.model_validate(seen[-2])
    assert delta.delta.stop_reason == "end_turn"
    text = "".join(e["delta"]["text"] for e in seen if e["type"] == "content_block_delta")
    return text, delta.context_management


def texts(message: dict[str, Any]) -> str:
    return "".join(part["text"] for part in message["content"])


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "not streamed"])
@pytest.mark.parametrize("model", [GENERIC, REASONING])
async def test_on_a_generic_model_the_system_turn_stays_after_the_users_and_effort_is_sent(
    model: str, stream: bool
) -> None:
    oci = ScriptedOci().enqueue(answer(model, stream))
    reply, seen = await replay(oci, model, stream)
    text, edits = said(reply, seen)
    assert text == "Hello!"
    # clear_thinking_20251015 with keep "all": honoured, nothing to clear (no thinking was ever returned).
    assert edits is not None
    assert edits.applied_edits == []
    chat = oci.sent[0].body["chatRequest"]
    assert [m["role"] for m in chat["messages"]] == ["SYSTEM", "USER", "SYSTEM"]
    system, user, environment = chat["messages"]
    assert (texts(system), [p["text"] for p in user["content"]], texts(environment)) == (
        SYSTEM,
        USER,
        ENVIRONMENT,
    )
    assert [t["name"] for t in chat["tools"]] == OFFERED
    assert chat["tools"][0]["parameters"] == BODY["tools"][0]["input_schema"]
    # output_config.effort "high" (with thinking adaptive) is OCI's reasoning effort; metadata is dropped.
    assert (chat["reasoningEffort"], chat["maxTokens"]) == ("HIGH", 32000)
    assert "user_id" not in json.dumps(oci.sent[0].body)


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "not streamed"])
async def test_on_a_cohere_model_every_system_text_is_the_preamble_in_order_and_no_effort_is_sent(
    stream: bool,
) -> None:
    oci = ScriptedOci().enqueue(answer(COHERE, stream))
    reply, seen = await replay(oci, COHERE, stream)
    assert said(reply, seen)[0] == "Hello!"
    chat = oci.sent[0].body["chatRequest"]
    assert chat["apiFormat"] == "COHERE"
    # LiteLLM's COHERE transform joins the system messages in order (OCI's COHERE has one preamble).
    assert chat["preambleOverride"] == f"{SYSTEM}\n{ENVIRONMENT}"
    assert chat["message"] == "".join(USER)
    assert "reasoningEffort" not in chat  # COHERE has no effort: the hint is left out, not refused
    assert [t["name"] for t in chat["tools"]] == OFFERED


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "not streamed"])
async def test_a_model_that_refuses_the_effort_is_asked_again_without_it_and_remembered(
    stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "oci_genai_gateway.core.upstream.quirks")
    refused = oci_error(400, NO_EFFORT)
    oci = ScriptedOci().enqueue(refused, answer(REASONING, stream), answer(REASONING, stream))
    gw, _ = gateway(oci)
    body = json.dumps({**BODY, "model": REASONING, "stream": stream}).encode()
    for _ in range(2):
        reply = await send(gw, "POST", RECORDED["path"], body, RECORDED["headers"])
        assert reply.status == 200
        if stream:
            await read_stream(reply)
    efforts = [sent.body["chatRequest"].get("reasoningEffort") for sent in oci.sent]
    assert efforts == ["HIGH", None, None]  # the second request goes without at once
    quirks = [r for r in caplog.records if getattr(r, "event", "") == "model_quirk"]
    assert [(r.model, r.quirk) for r in quirks] == [(REASONING, "no_reasoning_effort")]  # type: ignore[attr-defined]


async def test_the_chat_route_still_hears_ocis_400_for_an_effort_it_asked_for() -> None:
    # Chat's reasoning_effort is the client's explicit parameter, not a hint: OCI's refusal is its answer.
    oci = ScriptedOci().enqueue(oci_error(400, NO_EFFORT))
    gw, _ = gateway(oci)
    body = {"model": REASONING, "reasoning_effort": "high", "messages": [{"role": "user", "content": "hi"}]}
    reply = await send(gw, "POST", "/v1/chat/completions", json.dumps(body).encode())
    assert reply.status == 400
    assert len(oci.sent) == 1


async def test_a_deferred_tool_is_offered_once_a_tool_reference_loads_it() -> None:
    conversation = [
        *BODY["messages"],
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "ToolSearch", "input": {"query": "x"}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "tool_reference", "tool_name": "DeferredToolPlaceholder"}],
                }
            ],
        },
    ]
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    body = {**BODY, "model": GENERIC, "stream": False, "messages": conversation}
    assert (await send(gw, "POST", "/v1/messages", json.dumps(body).encode())).status == 200
    chat = oci.sent[0].body["chatRequest"]
    assert [t["name"] for t in chat["tools"]] == [t["name"] for t in BODY["tools"]]  # in `tools`' order
    tool = chat["messages"][-1]
    assert (tool["role"], texts(tool)) == ("TOOL", "Tool loaded: DeferredToolPlaceholder\n")


async def test_the_anthropic_headers_and_the_beta_query_change_nothing() -> None:
    oci = ScriptedOci().enqueue(generic_answer("a"), generic_answer("b"))
    gw, _ = gateway(oci)
    body = json.dumps({**BODY, "model": GENERIC, "stream": False}).encode()
    with_headers = await send(gw, "POST", "/v1/messages?beta=true", body, RECORDED["headers"])
    without = await send(gw, "POST", "/v1/messages", body)
    assert (with_headers.status, without.status) == (200, 200)
    assert oci.sent[0].body == oci.sent[1].body
    assert not any(name.lower().startswith("anthropic") for name in oci.sent[0].headers)
