"""Hostile client input (issue #11): bounded before any work, every refusal a 400 in OpenAI's envelope
naming the parameter, never a 500, never an OCI call, never a retry."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from oci_genai_gateway.adapters.http import render_json
from oci_genai_gateway.core.input import bounds as limits
from tests.fakes import ScriptedOci, gateway, generic_answer, send
from tests.fuzz.harness import KEY, asgi_client, fuzz_gateway
from tests.openapi import validate

CHAT = "/v1/chat/completions"
AUTH = {"authorization": f"Bearer {KEY}"}


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "xai.grok-4", "messages": [{"role": "user", "content": "hi"}], **extra}


def nested_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def doubling_defs(levels: int) -> dict[str, Any]:
    """A ~2 KB schema whose $defs each refer twice to the one before: 2^levels nodes once inlined."""
    defs: dict[str, Any] = {"d0": {"type": "string"}}
    for i in range(1, levels):
        ref = {"$ref": f"#/$defs/d{i - 1}"}
        defs[f"d{i}"] = {"type": "object", "properties": {"a": ref, "b": ref}}
    return {"type": "object", "$defs": defs, "properties": {"x": {"$ref": f"#/$defs/d{levels - 1}"}}}


def tool(parameters: Any) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": "f", "parameters": parameters}}]


async def refused(body: bytes, path: str = CHAT) -> dict[str, Any]:
    """Send `body` (OCI would answer nothing) with retries on; the 400's error, OCI never called."""
    oci = ScriptedOci()
    gw, _ = gateway(oci, GATEWAY_UPSTREAM_RETRIES="2")
    reply = await send(gw, "POST", path, body)
    assert reply.status == 400, reply.body
    assert reply.body is not None
    validate(reply.body, "ErrorResponse")
    assert oci.sent == [], "a request the client got wrong must never reach OCI (nor be retried)"
    error: dict[str, Any] = reply.body["error"]
    return error


async def test_a_2kb_tool_schema_whose_refs_expand_exponentially_is_refused_before_litellm_runs() -> None:
    # 24 levels: 2^24 nodes once inlined, which held the CPU for minutes (17 levels: ~4 s).
    body = json.dumps(chat(tools=tool(doubling_defs(24)))).encode()
    assert len(body) < 3000
    started = time.process_time()
    error = await refused(body)
    assert error["param"] == "tools[0].function.parameters"
    assert "20000 nodes" in error["message"]
    assert time.process_time() - started < 2, "the bound is checked by counting, not by expanding"


async def test_the_schema_budget_is_shared_by_every_tool_and_the_response_format() -> None:
    wide = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(2500)}}
    tools = [{"type": "function", "function": {"name": f"f{i}", "parameters": wide}} for i in range(3)]
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": wide}}
    error = await refused(json.dumps(chat(tools=tools, response_format=fmt)).encode())
    assert error["param"] == "response_format.json_schema.schema"


async def test_refs_that_nest_a_schema_deeper_than_the_limit_are_refused_naming_it() -> None:
    # Each def nests 21 levels around a reference to the one before: the body is 30 levels deep,
    # the schema LiteLLM would build from it more than 64.
    defs: dict[str, Any] = {"d0": {"type": "string"}}
    for i in range(1, 4):
        inner: Any = {"$ref": f"#/$defs/d{i - 1}"}
        for _ in range(20):
            inner = [inner]
        defs[f"d{i}"] = {"type": "array", "items": inner}
    schema = {"$defs": defs, "properties": {"x": {"$ref": "#/$defs/d3"}}}
    assert not limits.json_depth_exceeds(json.dumps(chat(tools=tool(schema))).encode())
    error = await refused(json.dumps(chat(tools=tool(schema))).encode())
    assert error["param"] == "tools[0].function.parameters"
    assert "deeper than 64" in error["message"]


@pytest.mark.parametrize("depth", [65, 900, 100_000])
async def test_a_body_nested_deeper_than_64_levels_is_refused_before_it_is_parsed(depth: int) -> None:
    deep = b"[" * depth + b"]" * depth
    body = json.dumps(chat(tools=tool({"type": "object"}))).encode().replace(b'"object"', deep, 1)
    error = await refused(body)
    assert "deeper than 64 levels" in error["message"]


async def test_64_levels_are_fine() -> None:
    assert not limits.json_depth_exceeds(b'{"a":' + b"[" * 63 + b"]" * 63 + b"}")
    assert limits.json_depth_exceeds(b'{"a":' + b"[" * 64 + b"]" * 64 + b"}")
    # Brackets inside strings, escaped quotes and backslashes do not count.
    assert not limits.json_depth_exceeds(json.dumps({"a": '\\"[' * 100 + "{" * 100}).encode())


def responses(**extra: Any) -> dict[str, Any]:
    return {"model": "xai.grok-4", "input": "hi", **extra}


def messages(**extra: Any) -> dict[str, Any]:
    return {"model": "xai.grok-4", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}], **extra}


# Found by the fuzz suite once it covered /v1/responses and /v1/messages: a 500 (a list where a
# string was compared against a set), or a 200 whose restated `reasoning` broke OpenAI's schema.
@pytest.mark.parametrize(
    ("body", "param"),
    [
        (responses(input=[{"role": [], "content": "x"}]), "input[0].role"),
        (responses(reasoning={"effort": []}), "reasoning.effort"),
        (responses(reasoning={"effort": "low", "summary": "anything"}), "reasoning.summary"),
        (responses(reasoning={"generate_summary": {}}), "reasoning.generate_summary"),
        (responses(reasoning={"context": "everything"}), "reasoning.context"),
        (responses(metadata=True), "metadata"),
        (responses(metadata={"k": 1}), "metadata"),
        (responses(truncation="sometimes"), "truncation"),
    ],
)
async def test_responses_wrong_types_and_values_are_400s_naming_the_parameter(
    body: dict[str, Any], param: str
) -> None:
    assert (await refused(json.dumps(body).encode(), "/v1/responses"))["param"] == param


async def test_messages_image_media_type_of_the_wrong_type_is_anthropics_400() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": ["image/png"], "data": "iVBO"}}
    body = messages(messages=[{"role": "user", "content": [image]}])
    oci = ScriptedOci()
    gw, _ = gateway(oci)
    reply = await send(gw, "POST", "/v1/messages", json.dumps(body).encode())
    assert reply.status == 400
    assert reply.body is not None
    assert reply.body["type"] == "error"
    assert reply.body["error"]["type"] == "invalid_request_error"
    assert "messages[0].content[0].source" in reply.body["error"]["message"]
    assert oci.sent == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        # Each of these was a TypeError or AttributeError, answered as a 500 internal_error.
        (chat(messages=[{"role": [], "content": "x"}]), "messages[0].role"),
        (chat(messages=[{"role": {}, "content": "x"}]), "messages[0].role"),
        (chat(reasoning_effort=[]), "reasoning_effort"),
        (chat(reasoning_effort={}), "reasoning_effort"),
        (chat(tool_choice={"type": "function", "function": "x"}), "tool_choice"),
        (chat(tool_choice={"type": "function", "function": []}), "tool_choice"),
        (
            chat(tools=[{"type": "function", "function": {"name": "f", "description": []}}]),
            "tools[0].function.description",
        ),
        (
            chat(
                model="cohere.command-a-03-2025",
                messages=[
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": "x"}]},
                ],
            ),
            "messages[1].tool_calls[0].function.name",
        ),
    ],
)
async def test_wrong_types_that_were_500s_are_400s_naming_the_parameter(
    body: dict[str, Any], param: str
) -> None:
    assert (await refused(json.dumps(body).encode()))["param"] == param


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (chat(messages=[{"role": "user", "content": "x"}] * (limits.MAX_MESSAGES + 1)), "messages"),
        (
            chat(messages=[{"role": "user", "content": [{"type": "text", "text": "x"}] * 257}]),
            "messages[0].content",
        ),
        (chat(tools=[{"type": "function", "function": {"name": f"f{i}"}} for i in range(129)]), "tools"),
        (chat(tools=[{"type": "function", "function": {"name": "f" * 65}}]), "tools[0].function.name"),
        (chat(stop=["x" * 257]), "stop"),
        (chat(metadata={f"k{i}": "v" for i in range(17)}), "metadata"),
        (chat(metadata={"k": "v" * 513}), "metadata"),
        (chat(metadata={"k": {"nested": 1}}), "metadata"),
        (chat(logit_bias={"a": 1}), "logit_bias"),
        (chat(max_tokens=2**64), "max_tokens"),
        (chat(user=["u"]), "user"),
        (chat(stream=True, stream_options={"include_usage": "yes"}), "stream_options.include_usage"),
        (
            chat(response_format={"type": "json_schema", "json_schema": {"name": "x", "strict": "yes"}}),
            "response_format.json_schema.strict",
        ),
        (
            chat(
                messages=[
                    {
                        "role": "assistant",
                        "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {}}}],
                    }
                ]
            ),
            "messages[0].tool_calls[0].function.arguments",
        ),
        ({"model": "cohere.embed-v4.0", "input": "x", "dimensions": 2**40}, "dimensions"),
        ({"model": "cohere.embed-v4.0", "input": "x", "user": {}}, "user"),
    ],
)
async def test_bounds_and_types_are_400s_naming_the_parameter(body: dict[str, Any], param: str) -> None:
    path = "/v1/embeddings" if "input" in body else CHAT
    assert (await refused(json.dumps(body).encode(), path))["param"] == param


async def test_an_unknown_parameter_is_ignored_and_never_echoed_at_length() -> None:
    gw, _ = gateway(ScriptedOci().enqueue(generic_answer()))
    reply = await send(gw, "POST", "/v1/chat/completions", json.dumps(chat(**{"x" * 10_000: 1})).encode())
    assert reply.status == 200
    assert reply.headers["X-Gateway-Ignored-Fields"] == "..."  # ignored, and its name not repeated


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"\\ud800": 1}', "lone UTF-16 surrogate"),
        (
            b'{"model": "xai.grok-4", "messages": [{"role": "user", "content": "\\udc00 x"}]}',
            "lone UTF-16 surrogate",
        ),
        (b'{"\xed\xa0\x80": 1}', "not valid UTF-8"),
        (b'{"a": "\xff"}', "not valid UTF-8"),
        (b'{"model": NaN}', "not valid JSON"),
        (b'{"n": 1' + b"0" * 5000 + b"}", "not valid JSON"),
    ],
)
async def test_a_body_that_is_not_json_text_is_a_400_envelope_over_http(body: bytes, says: str) -> None:
    """Through the ASGI app in process: a lone surrogate used to escape the catch-all as a plain-text 500."""
    gw, oci = fuzz_gateway()
    async with asgi_client(gw) as client:
        reply = await client.post(CHAT, content=body, headers=AUTH)
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"] == "application/json"
    validate(reply.json(), "ErrorResponse")
    assert says in reply.json()["error"]["message"]
    assert oci.sent == []


async def test_a_surrogate_pair_escape_is_a_character_not_an_error() -> None:
    gw, oci = fuzz_gateway()
    body = b'{"model": "xai.grok-4", "messages": [{"role": "user", "content": "\\ud83d\\ude00"}]}'
    async with asgi_client(gw) as client:
        reply = await client.post(CHAT, content=body, headers=AUTH)
    assert reply.status_code == 200
    assert oci.sent[0].body["chatRequest"]["messages"][0]["content"][0]["text"] == "\U0001f600"


def test_the_renderer_cannot_fail_on_a_lone_surrogate_from_anywhere() -> None:
    rendered = render_json({"error": {"message": "upstream said \ud800"}})
    assert json.loads(rendered) == {"error": {"message": "upstream said \ud800"}}
    rendered.decode("ascii")  # escaped as JSON allows: \ud800


def test_the_renderer_answers_an_envelope_for_a_body_it_cannot_encode() -> None:
    assert json.loads(render_json({"x": object()}))["error"]["code"] == "internal_error"


async def test_an_oversized_body_is_a_413_envelope_over_http() -> None:
    gw, _ = fuzz_gateway(GATEWAY_MAX_BODY_BYTES="1024")
    async with asgi_client(gw) as client:
        reply = await client.post(CHAT, content=b"{" + b" " * 2048 + b"}", headers=AUTH)
    assert reply.status_code == 413
    validate(reply.json(), "ErrorResponse")


@pytest.mark.parametrize(
    "body", [b"[" * 100_000 + b"]" * 100_000, b'{"model":' * 5000 + b'"x"' + b"}" * 5000]
)
async def test_a_plain_models_invoke_with_a_deeply_nested_body_is_refused_not_a_502(body: bytes) -> None:
    """The fdk answered 502: plain_invoke_path's json.loads raised RecursionError (found by bench/fuzz.py)."""
    from tests.fuzz.runner import FunctionDoor

    door = FunctionDoor()
    assert await door.send(("GET", "/v1/models", {}, body), plain=True) == 400
