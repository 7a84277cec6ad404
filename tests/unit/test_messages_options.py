"""/v1/messages in process: thinking and output_config as OCI's reasoning effort, output_config.format as
structured output, system turns inside `messages`, mid-conversation tool changes, tool-result images,
and the 400s of malformed values (Anthropic's error body)."""

from __future__ import annotations

import json
from typing import Any

import anthropic.types
import pytest

from oci_genai_gateway.core.routes import OMITTED_TOOLS_HEADER
from tests.fakes import ScriptedOci, cohere_answer, gateway, generic_answer, send

ROUTE = "/v1/messages"
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
READ = {"name": "read", "input_schema": {"type": "object"}}
WRITE = {"name": "write", "input_schema": {"type": "object"}}


async def sent(model: str = "xai.grok-4", **fields: Any) -> dict[str, Any]:
    """OCI's chatRequest for a Messages body with `fields`."""
    oci = ScriptedOci().enqueue(cohere_answer("ok") if model.startswith("cohere.") else generic_answer("ok"))
    gw, _ = gateway(oci)
    base = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    reply = await send(gw, "POST", ROUTE, json.dumps({**base, **fields}).encode())
    assert reply.status == 200, reply.body
    anthropic.types.Message.model_validate(reply.body)
    chat: dict[str, Any] = oci.sent[0].body["chatRequest"]
    return chat


def system_turn(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "role": "system",
        "content": [{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}],
        **extra,
    }


@pytest.mark.parametrize(
    ("thinking", "config", "effort"),
    [
        ({"type": "adaptive"}, None, None),  # the model decides: its own default
        ({"type": "adaptive", "display": "omitted"}, {"effort": "low"}, "LOW"),
        ({"type": "between_tools"}, {"effort": "medium"}, "MEDIUM"),
        ({"type": "enabled", "budget_tokens": 2048}, None, "LOW"),
        ({"type": "enabled", "budget_tokens": 8000, "display": "summarized"}, None, "MEDIUM"),
        ({"type": "enabled", "budget_tokens": 8000}, {"effort": "max"}, "HIGH"),  # the effort wins
        ({"type": "disabled"}, {"effort": "high"}, None),  # no thinking asked: no effort sent
        (None, {"effort": "xhigh"}, "HIGH"),  # OCI's efforts stop at high
        (None, {"task_budget": {"type": "tokens", "total": 1000}}, None),
    ],
)
async def test_thinking_and_effort_become_one_reasoning_effort(
    thinking: dict[str, Any] | None, config: dict[str, Any] | None, effort: str | None
) -> None:
    fields = {name: value for name, value in (("thinking", thinking), ("output_config", config)) if value}
    assert (await sent(**fields)).get("reasoningEffort") == effort


async def test_a_system_turn_of_the_current_turn_sets_its_effort() -> None:
    messages = [
        {"role": "user", "content": "first"},
        system_turn("old", output_config={"effort": "max"}),  # applied to the first turn only
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "second"},
        system_turn("now", output_config={"effort": "low"}),
    ]
    chat = await sent(messages=messages, output_config={"effort": "high"})
    assert chat["reasoningEffort"] == "LOW"
    assert (await sent(messages=messages[:4], output_config={"effort": "high"}))["reasoningEffort"] == "HIGH"


async def test_system_turns_stay_in_place_and_clear_at_next_user_message_is_honoured() -> None:
    messages = [
        {"role": "user", "content": "first"},
        system_turn("shown once", clear_at="next_user_message"),
        system_turn("always"),
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "second"},
        {"role": "system", "content": "for this turn", "clear_at": "next_user_message"},
    ]
    chat = await sent(system="Be brief.", messages=messages)
    shown = [(m["role"], m["content"][0]["text"]) for m in chat["messages"]]
    assert shown == [
        ("SYSTEM", "Be brief."),
        ("USER", "first"),
        ("SYSTEM", "always"),
        ("ASSISTANT", "ok"),
        ("USER", "second"),
        ("SYSTEM", "for this turn"),
    ]


async def test_output_config_format_is_ocis_json_schema() -> None:
    for fields in (
        {"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}},
        {"output_format": {"type": "json_schema", "schema": SCHEMA}},
    ):  # the older beta's name
        chat = await sent(**fields)
        assert chat["responseFormat"]["type"] == "JSON_SCHEMA"
        assert chat["responseFormat"]["jsonSchema"]["schema"] == SCHEMA
    cohere = await sent(
        "cohere.command-a-03-2025", output_config={"format": {"type": "json_schema", "schema": SCHEMA}}
    )
    assert cohere["responseFormat"]["schema"] == SCHEMA


async def test_tool_changes_in_system_turns_add_and_withdraw_tools() -> None:
    deferred = {**WRITE, "defer_loading": True, "input_examples": [{"path": "/a"}]}
    messages = [
        {"role": "user", "content": "go"},
        {
            "role": "system",
            "content": [
                {"type": "tool_addition", "tool": {"type": "tool_reference", "name": "write"}},
                {"type": "tool_removal", "tool": {"type": "tool_reference", "name": "read"}},
                {
                    "type": "tool_addition",
                    "tool": {
                        "type": "tool_definition",
                        "definition": {"name": "grep", "input_schema": {"type": "object"}},
                    },
                },
            ],
        },
    ]
    chat = await sent(messages=messages, tools=[READ, deferred])
    assert [t["name"] for t in chat["tools"]] == ["write", "grep"]
    assert chat["tools"][0]["description"] == 'Example input: {"path": "/a"}'.join(["\n", ""])
    assert [m["role"] for m in chat["messages"]] == ["USER"]  # a turn of tool changes only shows no text


async def test_images_of_a_tool_result_reach_the_model_in_the_user_turn_after_it() -> None:
    picture = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
    messages = [
        {"role": "user", "content": "Look."},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "read", "input": {}}]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "content": [{"type": "text", "text": "a.png"}, picture],
                }
            ],
        },
    ]
    chat = await sent(messages=messages, tools=[READ])
    tool, user = chat["messages"][-2:]
    assert (tool["role"], tool["content"][0]["text"]) == ("TOOL", "a.png")
    assert [p["type"] for p in user["content"]] == ["TEXT", "IMAGE"]
    assert user["content"][0]["text"] == "Images from tool result t1:"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"thinking": {"type": "adaptive", "display": "loud"}}, "thinking"),
        ({"thinking": {"type": "sometimes"}}, "thinking"),
        # Found by the fuzz: a list where a string belongs was a 500 (a set cannot be asked about it).
        ({"thinking": {"type": "adaptive", "display": ["omitted"]}}, "thinking"),
        ({"messages": [system_turn("x", clear_at=["never"])]}, "messages[0].clear_at"),
        (
            {"messages": [{"role": "assistant", "content": [{"type": ["thinking"]}]}]},
            "messages[0].content[0]",
        ),
        ({"output_config": {"effort": "extreme"}}, "output_config.effort"),
        ({"output_config": {"format": {"type": "json_schema"}}}, "output_config.format"),
        ({"output_format": {"type": "json_object"}}, "output_format"),
        ({"messages": [system_turn("x", clear_at="later")]}, "messages[0].clear_at"),
        ({"messages": [system_turn("x", output_config={"effort": "huge"})]}, "messages[0].output_config"),
        ({"messages": [{"role": "system"}]}, "messages[0].content"),
        (
            {
                "messages": [
                    {
                        "role": "system",
                        "content": [
                            {"type": "tool_addition", "tool": {"type": "tool_reference", "name": "nope"}}
                        ],
                    }
                ]
            },
            "messages[0].content[0]",
        ),
        (
            {
                "messages": [
                    {
                        "role": "system",
                        "content": [
                            {
                                "type": "tool_addition",
                                "tool": {"type": "mcp_tool_reference", "name": "a", "server_name": "s"},
                            }
                        ],
                    }
                ]
            },
            "MCP",
        ),
        ({"tools": [{**READ, "defer_loading": "yes"}]}, "tools[0].defer_loading"),
        ({"tools": [{**READ, "input_examples": ["x"]}]}, "tools[0].input_examples"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "document"}]}
                        ],
                    }
                ]
            },
            "messages[0].content[0].content[0]",
        ),
    ],
)
async def test_malformed_values_are_anthropic_400s_naming_them(fields: dict[str, Any], named: str) -> None:
    oci = ScriptedOci()
    gw, _ = gateway(oci)
    base = {"model": "xai.grok-4", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    reply = await send(gw, "POST", ROUTE, json.dumps({**base, **fields}).encode())
    assert reply.status == 400
    anthropic.types.ErrorResponse.model_validate(reply.body)
    assert named in reply.body["error"]["message"]
    assert oci.sent == []


async def test_nested_fields_claude_code_adds_are_accepted() -> None:
    tool = {**READ, "cache_control": {"type": "ephemeral"}, "strict": True, "eager_input_streaming": True}
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}, "citations": None}
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "t1", "name": "read", "input": {}, "caller": {"type": "direct"}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "content": "ok",
                    "cache_control": {"type": "ephemeral"},
                }
            ],
        },
    ]
    chat = await sent(messages=messages, tools=[tool], metadata={"user_id": '{"device_id": "d"}'}, top_k=5)
    assert [t["name"] for t in chat["tools"]] == ["read"]
    assert "topK" not in chat  # top_k: accepted, no effect (GENERIC has no top_k)


async def test_anthropics_server_tools_follow_the_hosted_tool_policy() -> None:
    search = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
    finder = {"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"}
    deferred = {**WRITE, "defer_loading": True}
    fields = {
        "model": "xai.grok-4",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Search the web for OCI."}],
        "tools": [READ, search, finder, deferred],
        "tool_choice": {"type": "tool", "name": "web_search"},
    }
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, json.dumps(fields).encode())
    assert reply.status == 200
    assert reply.headers[OMITTED_TOOLS_HEADER] == "web_search_20250305,tool_search_tool_regex_20251119"
    chat = oci.sent[0].body["chatRequest"]
    # Left out; the forced choice of one becomes the model's own; with Anthropic's tool search left
    # out, nothing would load a deferred tool, so every one is offered.
    assert [t["name"] for t in chat["tools"]] == ["read", "write"]
    assert "toolChoice" not in chat
    refusing, _ = gateway(ScriptedOci(), GATEWAY_HOSTED_TOOLS="refuse")
    refused = await send(refusing, "POST", ROUTE, json.dumps(fields).encode())
    assert refused.status == 400
    anthropic.types.ErrorResponse.model_validate(refused.body)
    assert "'tools[1]'" in refused.body["error"]["message"]
