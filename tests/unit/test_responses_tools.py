"""POST /v1/responses tools beyond functions: namespace names, custom (freeform) tools, the hosted-tool
policy (also chat's `web_search_options`), `allowed_tools`, tool results with images, and the fields a
client may add inside `text` and `reasoning`."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest

from oci_genai_gateway.core.apis.responses import reasoning
from oci_genai_gateway.core.apis.responses.tools import flat_name
from oci_genai_gateway.core.errors import ConfigError
from oci_genai_gateway.core.routes import IGNORED_FIELDS_HEADER, OMITTED_TOOLS_HEADER
from oci_genai_gateway.core.settings import HostedTools, Settings
from tests.fakes import Events, ScriptedOci, gateway, generic_answer, read_stream, send
from tests.openapi import validate
from tests.unit.test_responses_route import WEATHER, events

ROUTE = "/v1/responses"
USAGE = {"promptTokens": 9, "completionTokens": 6, "totalTokens": 15}
GRAMMAR = 'start: "*** Begin Patch" LF body "*** End Patch"'
APPLY_PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Edit files.",
    "format": {"type": "grammar", "syntax": "lark", "definition": GRAMMAR},
}
PATCH = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch"
FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def body(**extra: Any) -> bytes:
    return json.dumps({"model": "xai.grok-4", "input": "hi", **extra}).encode()


def namespace(name: str, *functions: str) -> dict[str, Any]:
    tools = [{"type": "function", "name": f, "parameters": {"type": "object"}} for f in functions]
    return {"type": "namespace", "name": name, "description": f"The {name} tools.", "tools": tools}


def test_namespaced_names_are_codexs_spelling_or_a_valid_stable_substitute() -> None:
    assert flat_name("multi_agent_v1", "close_agent") == "multi_agent_v1__close_agent"
    assert flat_name("mcp__github__", "search") == "mcp__github__search"  # Codex trims the joint
    long = flat_name("mcp__" + "a" * 60, "list_issues")
    dotted = flat_name("mcp.server", "read")
    taken = flat_name("a", "b", {"a__b"})
    for name in (long, dotted, taken):
        assert FUNCTION_NAME.match(name), name
    assert long == flat_name("mcp__" + "a" * 60, "list_issues")  # the same on every turn
    assert len({long, dotted, taken, "a__b"}) == 4


async def test_a_namespace_whose_names_are_too_long_still_round_trips() -> None:
    ns = "mcp__" + "very_long_server_name_" * 3
    flat = flat_name(ns, "list_issues")
    oci = ScriptedOci().enqueue(
        generic_answer(None, finish="tool_calls", tool_calls=[{"id": "c1", "name": flat, "arguments": "{}"}])
    )
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(tools=[namespace(ns, "list_issues"), WEATHER]))
    assert reply.body is not None
    validate(reply.body, "Response")
    assert [t["name"] for t in oci.sent[0].body["chatRequest"]["tools"]] == [flat, "get_weather"]
    (item,) = reply.body["output"]
    assert (item["name"], item["namespace"]) == ("list_issues", ns)
    # Sent back, the call maps to the same function, with or without the tools of this turn.
    oci.enqueue(generic_answer("done"), generic_answer("done"))
    call = {k: v for k, v in item.items() if k not in ("id", "status")}
    turn = ["hi", call, {"type": "function_call_output", "call_id": "c1", "output": "[]"}]
    items = [{"role": "user", "content": turn[0]}, *turn[1:]]
    for tools in ([namespace(ns, "list_issues")], []):
        reply = await send(gw, "POST", ROUTE, body(input=items, tools=tools))
        assert reply.status == 200, reply.body
        assert oci.sent[-1].body["chatRequest"]["messages"][1]["toolCalls"][0]["name"] == flat


async def test_a_call_of_a_namespaced_function_by_its_bare_name_finds_its_namespace() -> None:
    calls = [
        {"id": "c1", "name": "close_agent", "arguments": "{}"},
        {"id": "c2", "name": "nowhere", "arguments": "{}"},
    ]
    oci = ScriptedOci().enqueue(generic_answer(None, finish="tool_calls", tool_calls=calls))
    gw, _ = gateway(oci)
    undescribed = {k: v for k, v in namespace("multi_agent_v1", "close_agent").items() if k != "description"}
    reply = await send(gw, "POST", ROUTE, body(tools=[undescribed]))
    assert reply.body is not None
    validate(reply.body, "Response")  # the restated namespace has OpenAI's required description
    assert [(i["name"], i.get("namespace")) for i in reply.body["output"]] == [
        ("close_agent", "multi_agent_v1"),
        ("nowhere", None),  # a name the model made up stands for itself: the client says so
    ]


async def test_a_custom_tool_is_a_function_of_one_string_and_its_call_a_custom_tool_call() -> None:
    arguments = json.dumps({"input": PATCH})
    answer = generic_answer(
        None, finish="tool_calls", tool_calls=[{"id": "c1", "name": "apply_patch", "arguments": arguments}]
    )
    oci = ScriptedOci().enqueue(answer)
    gw, _ = gateway(oci)
    reply = await send(
        gw, "POST", ROUTE, body(tools=[APPLY_PATCH], tool_choice={"type": "custom", "name": "apply_patch"})
    )
    assert reply.body is not None
    validate(reply.body, "Response")
    (item,) = reply.body["output"]
    assert {k: item[k] for k in ("type", "call_id", "name", "input")} == {
        "type": "custom_tool_call",
        "call_id": "c1",
        "name": "apply_patch",
        "input": PATCH,
    }
    assert reply.body["tools"] == [APPLY_PATCH]
    chat = oci.sent[0].body["chatRequest"]
    (tool,) = chat["tools"]
    assert tool["parameters"]["properties"] == {
        "input": {"type": "string", "description": "The tool's input, as free text."}
    }
    assert tool["description"] == f"Edit files.\n\nThe input must follow this lark grammar:\n{GRAMMAR}"
    assert chat["toolChoice"] == {"type": "FUNCTION", "name": "apply_patch"}

    # The next turn sends the call and its output back: a tool call of that function and its result.
    oci.enqueue(generic_answer("Patched."))
    items = [
        {"role": "user", "content": "add a.txt"},
        {k: v for k, v in item.items() if k != "id"},
        {"type": "custom_tool_call_output", "call_id": "c1", "output": "Done!"},
    ]
    reply = await send(gw, "POST", ROUTE, body(input=items, tools=[APPLY_PATCH]))
    assert reply.status == 200, reply.body
    messages = oci.sent[1].body["chatRequest"]["messages"]
    (call,) = messages[1]["toolCalls"]
    assert (call["name"], json.loads(call["arguments"])) == ("apply_patch", {"input": PATCH})
    assert (messages[2]["role"], messages[2]["content"][0]["text"]) == ("TOOL", "Done!")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (json.dumps({"patch": PATCH}), PATCH),  # the one argument under another name
        (PATCH, PATCH),  # bare text
        (json.dumps({"input": PATCH, "n": 1}), PATCH),
        (json.dumps({"a": "x", "b": "y"}), json.dumps({"a": "x", "b": "y"})),
    ],
)
async def test_a_streamed_custom_tool_call_ends_with_its_whole_input(arguments: str, expected: str) -> None:
    def piece(**call: Any) -> dict[str, Any]:
        return {"index": 0, "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", **call}]}}

    half = len(arguments) // 2
    stream = [
        piece(id="c1", name="apply_patch", arguments=arguments[:half]),
        piece(arguments=arguments[half:]),
        {"finishReason": "tool_calls"},
        {"usage": USAGE},
    ]
    oci = ScriptedOci().enqueue(Events(stream, done=True))
    gw, _ = gateway(oci)
    reply = await send(
        gw,
        "POST",
        ROUTE,
        body(model="meta.llama-3.3-70b-instruct", stream=True, tools=[namespace("x", "y"), APPLY_PATCH]),
    )
    seen = events(await read_stream(reply))
    assert [e["type"] for e in seen][2:] == [
        "response.output_item.added",
        "response.custom_tool_call_input.delta",
        "response.custom_tool_call_input.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert seen[2]["item"]["input"] == ""
    assert seen[3]["delta"] == seen[4]["input"] == expected
    assert seen[-1]["response"]["output"] == [seen[5]["item"]]
    assert seen[5]["item"]["input"] == expected


async def test_a_namespaced_custom_tool_keeps_its_namespace() -> None:
    ns = {"type": "namespace", "name": "editor", "description": "Editing.", "tools": [APPLY_PATCH]}
    call = {"id": "c1", "name": "editor__apply_patch", "arguments": json.dumps({"input": PATCH})}
    oci = ScriptedOci().enqueue(generic_answer(None, finish="tool_calls", tool_calls=[call]))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(tools=[ns]))
    assert reply.body is not None
    validate(reply.body, "Response")
    (item,) = reply.body["output"]
    assert (item["type"], item["name"], item["namespace"], item["input"]) == (
        "custom_tool_call",
        "apply_patch",
        "editor",
        PATCH,
    )


HOSTED = [
    {"type": "web_search", "external_web_access": False},
    {"type": "file_search", "vector_store_ids": ["vs_1"]},
    {"type": "code_interpreter", "container": {"type": "auto"}},
    {"type": "image_generation"},
    {"type": "mcp", "server_label": "deepwiki", "server_url": "https://mcp.deepwiki.com/mcp"},
    {"type": "computer_use_preview", "display_width": 1024, "display_height": 768, "environment": "linux"},
    {"type": "local_shell"},
]


async def test_hosted_tools_are_left_out_and_named_in_a_header_and_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "oci_genai_gateway.core.routes")
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    reply = await send(
        gw, "POST", ROUTE, body(tools=[*HOSTED, WEATHER], tool_choice={"type": "web_search_preview"})
    )
    assert reply.status == 200, reply.body
    assert reply.body is not None
    validate(reply.body, "Response")
    names = ",".join([*(t["type"] for t in HOSTED), "web_search_preview"])
    assert reply.headers[OMITTED_TOOLS_HEADER] == names
    assert [r.tools for r in caplog.records if getattr(r, "event", "") == "tools_omitted"] == [
        names.split(",")
    ]  # type: ignore[attr-defined]
    chat = oci.sent[0].body["chatRequest"]
    assert [t["name"] for t in chat["tools"]] == ["get_weather"]
    assert chat["toolChoice"] == {"type": "AUTO"}  # the hosted tool asked for is left out too
    assert (reply.body["tools"], reply.body["tool_choice"]) == ([WEATHER], "auto")


async def test_only_hosted_tools_means_no_tools() -> None:
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(tools=HOSTED[:1], tool_choice="auto"))
    assert reply.status == 200, reply.body
    assert "tools" not in oci.sent[0].body["chatRequest"]
    assert "toolChoice" not in oci.sent[0].body["chatRequest"]


@pytest.mark.parametrize(
    ("route", "payload", "param"),
    [
        (ROUTE, {"input": "hi", "tools": [WEATHER, HOSTED[0]]}, "tools[1].type"),
        (ROUTE, {"input": "hi", "tool_choice": {"type": "file_search"}}, "tool_choice"),
        (
            "/v1/chat/completions",
            {"messages": [{"role": "user", "content": "hi"}], "web_search_options": {}},
            "web_search_options",
        ),
    ],
)
async def test_a_deployment_may_refuse_hosted_tools_instead(
    route: str, payload: dict[str, Any], param: str
) -> None:
    oci = ScriptedOci()
    gw, _ = gateway(oci, GATEWAY_HOSTED_TOOLS="refuse")
    reply = await send(gw, "POST", route, json.dumps({"model": "xai.grok-4", **payload}).encode())
    assert reply.status == 400
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")
    assert reply.body["error"]["param"] == param
    assert "GATEWAY_HOSTED_TOOLS=refuse" in reply.body["error"]["message"]
    assert oci.sent == []


async def test_chats_web_search_options_follow_the_same_policy() -> None:
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    chat = {"model": "xai.grok-4", "messages": [{"role": "user", "content": "hi"}], "web_search_options": {}}
    reply = await send(gw, "POST", "/v1/chat/completions", json.dumps(chat).encode())
    assert reply.status == 200, reply.body
    assert reply.headers[OMITTED_TOOLS_HEADER] == "web_search"
    assert "web" not in json.dumps(oci.sent[0].body)


async def test_allowed_tools_offer_the_model_only_those() -> None:
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    choice = {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "function", "name": "close_agent"}, {"type": "web_search"}],
    }
    tools = [WEATHER, namespace("multi_agent_v1", "close_agent", "spawn_agent"), APPLY_PATCH]
    reply = await send(gw, "POST", ROUTE, body(tools=tools, tool_choice=choice))
    assert reply.body is not None
    validate(reply.body, "Response")
    chat = oci.sent[0].body["chatRequest"]
    assert [t["name"] for t in chat["tools"]] == ["multi_agent_v1__close_agent"]
    assert chat["toolChoice"] == {"type": "REQUIRED"}
    assert reply.body["tool_choice"] == choice


async def test_images_a_tool_returns_reach_the_model_after_the_tool_results() -> None:
    # Codex's view_image answers with an input_image part.
    oci = ScriptedOci().enqueue(generic_answer("A red dot."))
    gw, _ = gateway(oci)
    image = "data:image/png;base64,iVBORw0KGgo="
    items = [
        {"role": "user", "content": "look at a.png"},
        {"type": "function_call", "call_id": "c1", "name": "view_image", "arguments": '{"path":"a.png"}'},
        {"type": "function_call", "call_id": "c2", "name": "get_weather", "arguments": "{}"},
        {
            "type": "function_call_output",
            "call_id": "c1",
            "output": [{"type": "input_image", "image_url": image}],
        },
        {"type": "function_call_output", "call_id": "c2", "output": "sunny"},
    ]
    reply = await send(gw, "POST", ROUTE, body(input=items))
    assert reply.status == 200, reply.body
    messages = oci.sent[0].body["chatRequest"]["messages"]
    assert [m["role"] for m in messages] == ["USER", "ASSISTANT", "TOOL", "TOOL", "USER"]
    assert messages[2]["content"][0]["text"] == "(the tool returned 1 image(s), shown next)"
    assert [p["type"] for p in messages[4]["content"]] == ["TEXT", "IMAGE"]


async def test_fields_a_client_adds_inside_text_and_reasoning_are_ignored_and_named() -> None:
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    extra = {
        "text": {"verbosity": "low", "tone": "dry"},
        "reasoning": {"summary": "auto", "mode": "pro", "budget": 9},
    }
    reply = await send(gw, "POST", ROUTE, body(**extra))
    assert reply.status == 200, reply.body
    assert reply.body is not None
    validate(reply.body, "Response")
    assert reply.headers[IGNORED_FIELDS_HEADER] == "text.tone,reasoning.budget"
    assert reply.body["text"] == {"format": {"type": "text"}, "verbosity": "low"}


def test_encrypted_content_holds_the_reasoning_and_the_model_and_nothing_else() -> None:
    sealed = reasoning.seal("xai.grok-3-mini", "Thinking é ∑.")
    assert reasoning.unseal(sealed) == reasoning.Sealed("xai.grok-3-mini", "Thinking é ∑.")
    for foreign in ("gAAAAABo-openai", "ocigw.r1.", "ocigw.r1.W10", "ocigw.r1.%%%"):
        assert reasoning.unseal(foreign) is None


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"tools": [{"type": "namespace", "name": "ns", "description": "d", "tools": []}]}, "tools[0].tools"),
        (
            {"tools": [{"type": "namespace", "name": "ns", "description": "d", "tools": [{"type": "mcp"}]}]},
            "tools[0].tools[0].type",
        ),
        ({"tools": [{"name": "no_type"}]}, "tools[0].type"),
        ({"tools": [{"type": "custom"}]}, "tools[0].name"),
        ({"tools": [{**APPLY_PATCH, "format": {"type": "regex"}}]}, "tools[0].format"),
        ({"tool_choice": {"type": "allowed_tools", "mode": "sometimes", "tools": []}}, "tool_choice"),
        ({"tool_choice": {"type": "function"}}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": "required", "input": "x"}, None),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"text": {"verbosity": "loud"}}, "text.verbosity"),
        (
            {"input": [{"type": "custom_tool_call_output", "call_id": "c9", "output": "x"}]},
            "input[0].call_id",
        ),
        ({"input": [{"type": "custom_tool_call", "call_id": "c1", "name": "t"}]}, "input[0]"),
        ({"input": [{"type": "reasoning", "summary": "x"}]}, "input[0].summary"),
        (
            {"input": [{"type": "reasoning", "summary": [], "encrypted_content": 5}]},
            "input[0].encrypted_content",
        ),
        (
            {
                "input": [
                    {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}", "namespace": 3}
                ]
            },
            "input[0].namespace",
        ),
    ],
)
async def test_bad_tools_and_items_are_a_400_naming_the_parameter(
    extra: dict[str, Any], param: str | None
) -> None:
    oci = ScriptedOci().enqueue(generic_answer("ok"))
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", ROUTE, body(**extra))
    if param is None:  # the control: a valid request of the same shape
        assert reply.status == 200, reply.body
        return
    assert reply.status == 400, reply.body
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")
    assert reply.body["error"]["param"] == param


def test_the_hosted_tool_setting_is_omit_or_refuse() -> None:
    env = {"GATEWAY_REGION": "us-chicago-1", "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..x"}
    assert Settings.from_env(env).hosted_tools is HostedTools.OMIT
    assert Settings.from_env({**env, "GATEWAY_HOSTED_TOOLS": " Refuse"}).hosted_tools is HostedTools.REFUSE
    with pytest.raises(ConfigError, match="GATEWAY_HOSTED_TOOLS"):
        Settings.from_env({**env, "GATEWAY_HOSTED_TOOLS": "sometimes"})
