"""POST /v1/responses as Codex CLI 0.169.0 speaks it (tests/data/agents), in process over a scripted OCI:
the recorded request on a GENERIC, a COHERE and a reasoning model, namespace tools whose names round-trip,
the second turn built from the first one's output, and every answer and event checked against OpenAI's
schemas."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from oci_genai_gateway.core.routes import IGNORED_FIELDS_HEADER, OMITTED_TOOLS_HEADER
from tests.fakes import Events, ScriptedOci, gateway, generic_answer, oci_error, read_stream, send, text_event
from tests.openapi import validate
from tests.paths import REPO
from tests.unit.test_responses_route import events

ROUTE = "/v1/responses"
RECORDING = json.loads((REPO / "tests/data/agents/codex-0.169.0-responses.json").read_text())
USAGE = {"promptTokens": 900, "completionTokens": 20, "totalTokens": 1000}
CODEX_TOOLS = [
    "exec_command",
    "write_stdin",
    "request_user_input",
    "view_image",
    "multi_agent_v1__close_agent",
    "multi_agent_v1__resume_agent",
    "multi_agent_v1__send_input",
    "multi_agent_v1__spawn_agent",
    "multi_agent_v1__wait_agent",
    "get_goal",
    "create_goal",
    "update_goal",
]


def codex_body(**changes: Any) -> dict[str, Any]:
    """The recorded first request of `codex exec "Say hello"`, with `changes`."""
    return {**copy.deepcopy(RECORDING["body"]), **changes}


async def codex_turn(oci: ScriptedOci, body: dict[str, Any], **env: str) -> tuple[Any, list[dict[str, Any]]]:
    """One request as Codex sends it (its headers, a bearer key); the reply and its validated events."""
    gw, _ = gateway(oci, GATEWAY_API_KEYS="codex:sk-codex-000000000000", **env)
    headers = {**RECORDING["headers"], "authorization": "Bearer sk-codex-000000000000"}
    reply = await send(gw, "POST", ROUTE, json.dumps(body).encode(), headers)
    assert reply.status == 200, reply.body
    return reply, events(await read_stream(reply))


def call_event(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A GENERIC stream event with one whole tool call (xAI's style)."""
    call = {"type": "FUNCTION", "id": call_id, "name": name, "arguments": arguments}
    return {"index": 0, "message": {"role": "ASSISTANT", "toolCalls": [call]}}


def thinking(text: str) -> dict[str, Any]:
    """A GENERIC stream event carrying reasoning (xAI's `reasoningContent`, before the answer)."""
    return {"index": 0, "message": {"role": "ASSISTANT", "reasoningContent": text}}


async def test_the_recorded_first_request_runs_on_a_generic_model() -> None:
    stream = [text_event("Hello"), {"finishReason": "stop"}, {"usage": USAGE}]
    oci = ScriptedOci().enqueue(Events(stream, done=True))
    reply, seen = await codex_turn(oci, codex_body())
    # client_metadata is classified (ignored), the hosted web_search is left out and named.
    assert IGNORED_FIELDS_HEADER not in reply.headers
    assert reply.headers[OMITTED_TOOLS_HEADER] == "web_search"
    chat = oci.sent[0].body["chatRequest"]
    assert [t["name"] for t in chat["tools"]] == CODEX_TOOLS
    assert [m["role"] for m in chat["messages"]] == ["SYSTEM", "SYSTEM", "USER", "USER"]
    assert chat["messages"][3]["content"] == [{"type": "TEXT", "text": "Say hello"}]
    assert chat["toolChoice"] == {"type": "AUTO"}
    sent = json.dumps(oci.sent[0].body)
    for private in ("x-codex", "prompt_cache_key", RECORDING["body"]["prompt_cache_key"], "web_search"):
        assert private not in sent
    # The namespace's description reaches the model with each of its functions.
    spawn = next(t for t in chat["tools"] if t["name"] == "multi_agent_v1__spawn_agent")
    assert spawn["description"].startswith("Tools for spawning and managing sub-agents.")
    final = seen[-1]["response"]
    assert (final["status"], final["output"][0]["content"][0]["text"]) == ("completed", "Hello")
    assert [t["type"] for t in final["tools"]] == ["function"] * 4 + ["namespace"] + ["function"] * 3


async def test_the_recorded_first_request_runs_on_a_cohere_model() -> None:
    stream = [
        {"apiFormat": "COHERE", "text": "Hel"},
        {"apiFormat": "COHERE", "text": "Hello", "finishReason": "COMPLETE", "usage": USAGE},
    ]
    oci = ScriptedOci().enqueue(Events(stream))
    reply, seen = await codex_turn(oci, codex_body(model="cohere.command-r-08-2024"))
    assert reply.headers[OMITTED_TOOLS_HEADER] == "web_search"
    chat = oci.sent[0].body["chatRequest"]
    assert chat["apiFormat"] == "COHERE"
    assert [t["name"] for t in chat["tools"]] == CODEX_TOOLS
    assert chat["message"] == "Say hello"
    assert chat["preambleOverride"].startswith("You are a coding agent running in the Codex CLI")
    assert "toolChoice" not in chat  # COHERE's only behaviour is Codex's `auto`
    assert seen[-1]["response"]["output"][0]["content"][0]["text"] == "Hello"


async def test_a_cohere_call_of_a_namespaced_function_comes_back_with_its_namespace() -> None:
    call = {"name": "multi_agent_v1__close_agent", "parameters": {"target": "agent-1"}}
    stream = [
        {"apiFormat": "COHERE", "toolCalls": [call]},
        {"apiFormat": "COHERE", "text": "", "toolCalls": [call], "finishReason": "COMPLETE", "usage": USAGE},
    ]
    oci = ScriptedOci().enqueue(Events(stream))
    _, seen = await codex_turn(oci, codex_body(model="cohere.command-r-08-2024"))
    (item,) = seen[-1]["response"]["output"]
    assert (item["type"], item["name"], item["namespace"]) == (
        "function_call",
        "close_agent",
        "multi_agent_v1",
    )
    assert json.loads(item["arguments"]) == {"target": "agent-1"}


async def test_a_reasoning_model_turn_and_the_turn_codex_builds_from_it() -> None:
    # Turn 1 (xai.grok-3-mini): reasoning, then a call of a namespaced function.
    arguments = '{"message": "check the tests"}'
    stream = [
        thinking("The user wants "),
        thinking("a sub-agent."),
        call_event("call_1", "multi_agent_v1__spawn_agent", arguments),
        {"index": 0, "finishReason": "tool_calls"},
        {"usage": {**USAGE, "completionTokensDetails": {"reasoningTokens": 12}}},
    ]
    oci = ScriptedOci().enqueue(Events(stream))
    first = codex_body(model="xai.grok-3-mini")
    _, seen = await codex_turn(oci, first)
    assert [e["type"] for e in seen] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    done = [e["item"] for e in seen if e["type"] == "response.output_item.done"]
    thought, call = done
    # `reasoning.summary: auto` asked for a summary: OCI's reasoning text is it (it has no other).
    assert thought["summary"] == [{"type": "summary_text", "text": "The user wants a sub-agent."}]
    assert thought["encrypted_content"].startswith("ocigw.r1.")  # include: reasoning.encrypted_content
    assert (call["name"], call["namespace"], call["call_id"]) == ("spawn_agent", "multi_agent_v1", "call_1")
    assert seen[-1]["response"]["output"] == done
    assert seen[-1]["response"]["usage"]["output_tokens_details"] == {"reasoning_tokens": 12}

    # Turn 2: Codex sends the history back with the items of turn 1 (as its ResponseItem serializes
    # them: no id, the reasoning item without `content`), and the tool's output.
    history = [
        {k: v for k, v in thought.items() if k not in ("id", "status")},
        {k: v for k, v in call.items() if k not in ("id", "status")},
        {"type": "function_call_output", "call_id": "call_1", "output": "agent-1 started"},
    ]
    oci.enqueue(Events([text_event("Started agent-1."), {"finishReason": "stop"}, {"usage": USAGE}]))
    _, seen = await codex_turn(oci, {**first, "input": first["input"] + history})
    chat = oci.sent[1].body["chatRequest"]
    assert [m["role"] for m in chat["messages"]] == ["SYSTEM", "SYSTEM", "USER", "USER", "ASSISTANT", "TOOL"]
    (sent_call,) = chat["messages"][4]["toolCalls"]
    assert (sent_call["id"], sent_call["name"], sent_call["arguments"]) == (
        "call_1",
        "multi_agent_v1__spawn_agent",
        arguments,
    )
    assert chat["messages"][5]["toolCallId"] == "call_1"
    # The reasoning goes back with its turn, read from the item's encrypted_content (Codex kept no text).
    assert chat["messages"][4]["reasoningContent"] == "The user wants a sub-agent."
    assert seen[-1]["response"]["output"][0]["content"][0]["text"] == "Started agent-1."


async def test_without_a_summary_the_reasoning_is_the_items_reasoning_text() -> None:
    stream = [thinking("Two and two."), text_event("4"), {"finishReason": "stop"}, {"usage": USAGE}]
    oci = ScriptedOci().enqueue(Events(stream))
    body = {"model": "xai.grok-3-mini", "input": "2+2?", "stream": True}
    _, seen = await codex_turn(oci, body)
    kinds = [e["type"] for e in seen]
    assert "response.reasoning_text.delta" in kinds
    assert "response.reasoning_summary_part.added" not in kinds
    thought, message = seen[-1]["response"]["output"]
    assert thought["content"] == [{"type": "reasoning_text", "text": "Two and two."}]
    assert (thought["summary"], "encrypted_content" in thought) == ([], False)
    assert message["content"][0]["text"] == "4"


@pytest.mark.parametrize("summary", [None, "detailed"])
async def test_a_reasoning_answer_has_a_reasoning_item_before_the_message(summary: str | None) -> None:
    oci = ScriptedOci().enqueue(generic_answer("4", reasoning="Two and two."))
    gw, _ = gateway(oci)
    body = {
        "model": "xai.grok-3-mini",
        "input": "2+2?",
        "reasoning": {"effort": "xhigh", "summary": summary},
        "include": ["reasoning.encrypted_content"],
    }
    reply = await send(gw, "POST", ROUTE, json.dumps(body).encode())
    assert reply.body is not None
    validate(reply.body, "Response")
    thought, message = reply.body["output"]
    part = {"type": "summary_text" if summary else "reasoning_text", "text": "Two and two."}
    assert thought["summary" if summary else "content"] == [part]
    assert message["content"][0]["text"] == "4"
    assert oci.sent[0].body["chatRequest"]["reasoningEffort"] == "HIGH"  # OCI's most, for xhigh


async def test_reasoning_items_from_anywhere_are_accepted_and_not_sent_on() -> None:
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    items = [
        {"role": "user", "content": "hi"},
        # OpenAI's own (a conversation moved here), a damaged one of ours, and one without content.
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAAABo-openai-opaque"},
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "x"}],
            "encrypted_content": "ocigw.r1.!",
        },
        {"type": "reasoning", "summary": [], "encrypted_content": None},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]
    reply = await send(gw, "POST", ROUTE, json.dumps({"model": "xai.grok-4", "input": items}).encode())
    assert reply.status == 200, reply.body
    assert [m["role"] for m in oci.sent[0].body["chatRequest"]["messages"]] == ["USER", "ASSISTANT", "USER"]


async def test_an_effort_the_model_refuses_is_dropped_once_and_then_never_sent() -> None:
    # Codex sends the effort its profile sets; OCI answers 400 to `reasoningEffort` on grok-4
    # (https://github.com/BerriAI/litellm/issues/31449): the turn still runs, and the next asks without it.
    refusal = '{"code":"invalid-argument","error":"Model grok-4 does not support parameter reasoningEffort."}'
    done = [text_event("Hello"), {"index": 0, "finishReason": "stop"}]
    oci = ScriptedOci().enqueue(oci_error(400, refusal), Events(done), Events(done))
    gw, _ = gateway(oci)
    body = json.dumps(codex_body(model="xai.grok-4", reasoning={"effort": "high"})).encode()
    for _ in range(2):
        reply = await send(gw, "POST", ROUTE, body)
        assert reply.status == 200, reply.body
        await read_stream(reply)
    efforts = [sent.body["chatRequest"].get("reasoningEffort") for sent in oci.sent]
    assert efforts == ["HIGH", None, None]
